use crate::ResponseId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_customers::{CustomerId, EnquiryId};
use nexus_kernel::{Page, PageRequest};
use nexus_outbox::EventEnvelope;

use nexus_kernel::{Email, Role, UserId};

use crate::{ApprovalsError, DeadlineStage, DueResponse, Response, ResponseEvent, ResponseQuery};

/// Reads responses and their append-only history outside a unit of work. Implementations
/// must be safe to share across requests. Writes go through [`ApprovalsTx::responses`].
///
/// Unless a method says otherwise, implementations return only `Unexpected` for failures;
/// a stored row that breaks the workflow's invariants (`Response::from_parts`) is
/// `Unexpected` too, never silently accepted.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ResponseRepository: Send + Sync {
    /// Loads a response; `Ok(None)` when there is none.
    async fn find(&self, id: ResponseId) -> Result<Option<Response>, ApprovalsError>;

    /// One page of responses matching every filter of `query`, newest first (ties broken
    /// by id), with the exact total. `visible_to = Some(u)` means: written by `u` OR to a
    /// customer currently assigned to `u`.
    async fn list(
        &self,
        query: &ResponseQuery,
        page: PageRequest,
    ) -> Result<Page<Response>, ApprovalsError>;

    /// The response's events, oldest first (by `at`, ties broken by the time-ordered event
    /// id); empty when there is no such response.
    async fn history(&self, id: ResponseId) -> Result<Vec<ResponseEvent>, ApprovalsError>;
}

/// Answers which customer an enquiry belongs to, so that a response cannot answer another
/// customer's enquiry.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EnquiryLookup: Send + Sync {
    /// The customer of enquiry `id`; `Ok(None)` when there is no such enquiry.
    /// Implementations return only `Unexpected` for failures.
    async fn customer_of(&self, id: EnquiryId) -> Result<Option<CustomerId>, ApprovalsError>;
}

/// Writes responses and their history inside one unit of work ([`ApprovalsTx`]): it
/// stores the response aggregate only.
///
/// Implementations return only the variants named below and `Unexpected`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// Inserts a new response and its creation event.
    ///
    /// # Errors
    /// `Conflict` if a response with this id already exists.
    async fn insert(
        &self,
        response: &Response,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError>;

    /// Saves every mutable field of `response` (whose `version` is already the new one) if
    /// the stored version is still `expected_version`, and appends `event`.
    ///
    /// The version guard is what makes two reviewers deciding at once safe: exactly one
    /// of them wins, the other gets `Conflict` (and drops its unit of work).
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone.
    async fn save(
        &self,
        response: &Response,
        expected_version: i64,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError>;

    /// Up to `limit` responses still PENDING_APPROVAL whose deadline reached `stage` at
    /// `now` and was not acted on yet, earliest first: for `Warning`, `warn_at <= now <
    /// due_at` and not warned; for `Escalation`, `due_at <= now` and not escalated.
    async fn due(
        &self,
        stage: DeadlineStage,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DueResponse>, ApprovalsError>;

    /// Marks `stage` done for the response's current submission, if it is still pending
    /// and the stage was not done yet: a guarded write, so that of two workers racing on
    /// one response exactly one gets `true`. Never changes the response's version.
    async fn mark_stage(
        &self,
        id: crate::ResponseId,
        stage: DeadlineStage,
        at: DateTime<Utc>,
    ) -> Result<bool, ApprovalsError>;
}

/// A staff member to tell about a deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffContact {
    /// The user.
    pub user_id: UserId,
    /// Their sign-in address.
    pub email: Email,
    /// Their given name, for the greeting.
    pub first_name: String,
}

/// Finds the staff to tell when a deadline approaches or passes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StaffContacts: Send + Sync {
    /// Every active user holding one of `roles`, in a stable order. Implementations return
    /// only `Unexpected` for failures.
    async fn active_with_roles(&self, roles: &[Role]) -> Result<Vec<StaffContact>, ApprovalsError>;
}

/// The enquiry side of sending a response, inside one unit of work ([`ApprovalsTx`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EnquiryAnswers: Send + Sync {
    /// Marks enquiry `id` ANSWERED at `at` if it is OPEN; an enquiry that is already
    /// ANSWERED or CLOSED (or gone) is left alone. Returns whether it changed.
    /// Implementations return only `Unexpected` for failures.
    async fn mark_answered(&self, id: EnquiryId, at: DateTime<Utc>)
    -> Result<bool, ApprovalsError>;
}

/// Opens units of work over the approvals' records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApprovalsUnitOfWork: Send + Sync {
    /// Starts a unit of work.
    ///
    /// # Errors
    /// `Unexpected` when it cannot be started (the database is unreachable, say).
    async fn begin(&self) -> Result<Box<dyn ApprovalsTx>, ApprovalsError>;
}

/// One open unit of work: the repositories bound to its transaction and the events it
/// records. Dropped without `commit`, nothing of it happened.
#[async_trait]
pub trait ApprovalsTx: Send {
    /// Responses, bound to this unit of work.
    fn responses(&self) -> &dyn ResponseStore;

    /// Enquiries, as far as sending a response answers them.
    fn enquiries(&self) -> &dyn EnquiryAnswers;

    /// Records `event`, written to the outbox with the changes when the unit commits.
    fn record(&mut self, event: EventEnvelope);

    /// Records `record`, written to the audit log with the changes when the unit commits.
    fn audit(&mut self, record: nexus_kernel::AuditRecord);

    /// Writes every change and recorded event together, or nothing.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails.
    async fn commit(self: Box<Self>) -> Result<(), ApprovalsError>;
}
