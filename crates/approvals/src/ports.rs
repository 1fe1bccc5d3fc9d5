use async_trait::async_trait;
use nexus_kernel::{CustomerId, EnquiryId, Page, PageRequest, ResponseId};
use nexus_notifications::NewJob;

use crate::{ApprovalsError, Response, ResponseEvent, ResponseQuery};

/// Stores responses and their append-only history. Implementations must be safe to share
/// across requests. Every write is one transaction: a response never changes without its
/// event, and an approval never exists without its send job.
///
/// Unless a method says otherwise, implementations return only `Unexpected` for failures;
/// a stored row that breaks the workflow's invariants (`Response::from_parts`) is
/// `Unexpected` too, never silently accepted.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ResponseRepository: Send + Sync {
    /// Inserts a new response and its creation event, in one transaction.
    ///
    /// # Errors
    /// `Conflict` if a response with this id already exists.
    async fn insert(
        &self,
        response: &Response,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError>;

    /// Loads a response; `Ok(None)` when there is none.
    async fn find(&self, id: ResponseId) -> Result<Option<Response>, ApprovalsError>;

    /// In one transaction: saves every mutable field of `response` (whose `version` is
    /// already the new one) if the stored version is still `expected_version`, appends
    /// `event`, and enqueues `job` if given. Nothing is written unless all of it is.
    ///
    /// The version guard is what makes two reviewers deciding at once safe: exactly one
    /// of them wins, the other gets `Conflict`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone.
    async fn save<'a>(
        &self,
        response: &Response,
        expected_version: i64,
        event: &ResponseEvent,
        job: Option<&'a NewJob>,
    ) -> Result<(), ApprovalsError>;

    /// Like `save` without a job, for the transition to SENT; in the same transaction it
    /// also marks the response's enquiry (if any) ANSWERED when that enquiry is OPEN (an
    /// enquiry that is already ANSWERED or CLOSED is left alone).
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone.
    async fn mark_sent(
        &self,
        response: &Response,
        expected_version: i64,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError>;

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
