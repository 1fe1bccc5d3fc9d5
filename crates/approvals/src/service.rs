use std::sync::Arc;

use crate::ResponseId;
use nexus_customers::CustomerId;
use nexus_customers::{CustomerService, CustomersError};
use nexus_kernel::{
    Actor, AuditRecord, Clock, Page, PageRequest, Permission, Unexpected, UserId, summarize_values,
};
use nexus_outbox::EventEnvelope;
use serde_json::{Value, json};

use crate::permissions;
use crate::{
    ApprovalDeadlineApproaching, ApprovalDeadlinePassed, ApprovalsError, ApprovalsUnitOfWork,
    DeadlinePolicy, DeadlineStage, EnquiryLookup, NewResponse, Response, ResponseApproved,
    ResponseEvent, ResponseQuery, ResponseRepository, ResponseSent, ResponseStatus, ReviewNotes,
    Transition, UpdateResponse,
};

/// How many responses one deadline sweep acts on per stage; the rest wait for the next turn.
const SWEEP_BATCH: u64 = 100;

/// What one deadline sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadlineSweep {
    /// Responses whose approvers are now being warned.
    pub warned: usize,
    /// Responses now escalated to ADMIN.
    pub escalated: usize,
}

/// The approval workflow's rules: who drafts, revises, submits, approves, rejects and sees
/// which responses, and the four-eyes rule.
///
/// Checks run in a fixed order, so that a caller learns nothing they may not know:
/// 1. the role may use responses at all (`Forbidden` for CUSTOMER accounts);
/// 2. the response exists and the actor may see it (`NotFound` otherwise);
/// 3. the role holds the action's permission (`Forbidden`), the actor is the author for
///    `update`/`submit` (`NotAuthor`), and is not the author for `approve`/`reject`
///    (`SelfApproval`);
/// 4. the response's status allows the action (`InvalidTransition`);
/// 5. the caller's version is current (`Conflict`), and the repository's guarded write
///    succeeds (`Conflict` when another change won the race).
///
/// Every write is one unit of work: the response, its history entry, the enquiry it
/// answers and the events that follow (`ResponseApproved`, `ResponseSent`) commit together.
pub struct ApprovalService {
    responses: Arc<dyn ResponseRepository>,
    uow: Arc<dyn ApprovalsUnitOfWork>,
    enquiries: Arc<dyn EnquiryLookup>,
    customers: Arc<CustomerService>,
    clock: Arc<dyn Clock>,
    deadlines: Option<DeadlinePolicy>,
}

/// Which responses an actor may see.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Every response (MANAGER, ADMIN).
    All,
    /// Responses the user wrote or whose customer is assigned to them (CSO).
    Own(UserId),
}

impl ApprovalService {
    /// Builds the service from its ports: `responses` reads, `uow` writes. `customers`
    /// decides which customers an actor may see, so that the scoping rule is written once.
    #[must_use]
    pub fn new(
        responses: Arc<dyn ResponseRepository>,
        uow: Arc<dyn ApprovalsUnitOfWork>,
        enquiries: Arc<dyn EnquiryLookup>,
        customers: Arc<CustomerService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            responses,
            uow,
            enquiries,
            customers,
            clock,
            deadlines: None,
        }
    }

    /// Gives every submission a deadline by `policy` ([`Self::run_deadlines`] acts on them).
    #[must_use]
    pub const fn with_deadlines(mut self, policy: DeadlinePolicy) -> Self {
        self.deadlines = Some(policy);
        self
    }

    /// The deadline policy, when submissions get deadlines.
    #[must_use]
    pub const fn deadlines(&self) -> Option<&DeadlinePolicy> {
        self.deadlines.as_ref()
    }

    /// Drafts a response to a customer the actor may see, optionally answering one of that
    /// customer's enquiries.
    ///
    /// # Errors
    /// `Forbidden` without `ResponsesDraft`; `CustomerNotFound` when the customer is absent
    /// or out of the actor's scope; `EnquiryMismatch` when the enquiry is absent or another
    /// customer's; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %input.customer_id))]
    pub async fn draft(
        &self,
        actor: &Actor,
        input: NewResponse,
    ) -> Result<Response, ApprovalsError> {
        require(actor, permissions::RESPONSES_DRAFT)?;
        if !self.customer_visible(actor, input.customer_id).await? {
            return Err(ApprovalsError::CustomerNotFound(input.customer_id));
        }
        if let Some(enquiry_id) = input.enquiry_id {
            let owner = self.enquiries.customer_of(enquiry_id).await?;
            if owner != Some(input.customer_id) {
                return Err(ApprovalsError::EnquiryMismatch);
            }
        }
        let Transition { response, event } =
            Response::draft(actor.user_id(), input, self.clock.now());
        let mut tx = self.uow.begin().await?;
        tx.responses().insert(&response, &event).await?;
        tx.audit(AuditRecord::new(
            Some(actor),
            "responses.created",
            "response",
            response.id(),
            summarize_values(None, &audit_view(&response)),
            event.at,
        ));
        tx.commit().await?;
        tracing::info!(response_id = %response.id(), "response drafted");
        Ok(response)
    }

    /// Revises a DRAFT or REJECTED response (a rejected one becomes a DRAFT again). When
    /// `expected_version` is given, the response must still be at that version.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `NotAuthor`, `InvalidTransition`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), response_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: ResponseId,
        expected_version: Option<i64>,
        change: UpdateResponse,
    ) -> Result<Response, ApprovalsError> {
        let response = self.load_visible(actor, id).await?;
        require(actor, permissions::RESPONSES_DRAFT)?;
        let transition = response.edit(actor.user_id(), change, self.clock.now())?;
        if expected_version.is_some_and(|v| v != response.version()) {
            return Err(ApprovalsError::Conflict);
        }
        self.commit(actor, "responses.updated", &response, transition, None)
            .await
    }

    /// Submits the actor's own DRAFT for approval.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `NotAuthor`, `InvalidTransition`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), response_id = %id))]
    pub async fn submit(&self, actor: &Actor, id: ResponseId) -> Result<Response, ApprovalsError> {
        let response = self.load_visible(actor, id).await?;
        require(actor, permissions::RESPONSES_DRAFT)?;
        let at = self.clock.now();
        let mut transition = response.submit(actor.user_id(), at)?;
        if let Some(policy) = &self.deadlines {
            transition.response.set_deadline(policy.schedule(at));
        }
        self.commit(actor, "responses.submitted", &response, transition, None)
            .await
    }

    /// One turn of the deadline sweep (the worker runs it): every pending response whose
    /// deadline passed is escalated (`ApprovalDeadlinePassed`, which tells ADMIN), and every
    /// one whose warning time came is flagged (`ApprovalDeadlineApproaching`, which warns its
    /// approvers), each once per submission, up to a batch per stage. Each stage is one
    /// unit of work: the mark and its event commit together, and two workers sweeping at
    /// once record each event once (the store's guarded mark).
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn run_deadlines(&self) -> Result<DeadlineSweep, ApprovalsError> {
        let now = self.clock.now();
        let mut sweep = DeadlineSweep::default();
        if self.deadlines.is_none() {
            return Ok(sweep);
        }
        for stage in [DeadlineStage::Escalation, DeadlineStage::Warning] {
            let mut tx = self.uow.begin().await?;
            let due = tx.responses().due(stage, now, SWEEP_BATCH).await?;
            let mut marked = 0;
            for item in due {
                if !tx
                    .responses()
                    .mark_stage(item.response_id, stage, now)
                    .await?
                {
                    continue;
                }
                let (response_id, due_at) = (item.response_id, item.deadline.due_at);
                let event = match stage {
                    DeadlineStage::Warning => EventEnvelope::new(
                        &ApprovalDeadlineApproaching {
                            response_id,
                            due_at,
                        },
                        now,
                    )?,
                    DeadlineStage::Escalation => EventEnvelope::new(
                        &ApprovalDeadlinePassed {
                            response_id,
                            due_at,
                        },
                        now,
                    )?,
                };
                tx.record(event);
                marked += 1;
            }
            tx.commit().await?;
            match stage {
                DeadlineStage::Warning => sweep.warned = marked,
                DeadlineStage::Escalation => sweep.escalated = marked,
            }
        }
        if sweep != DeadlineSweep::default() {
            tracing::info!(
                warned = sweep.warned,
                escalated = sweep.escalated,
                "approval deadlines swept"
            );
        }
        Ok(sweep)
    }

    /// Approves someone else's pending response; `ResponseApproved` (which e-mails it) is
    /// recorded in the same unit of work.
    ///
    /// # Errors
    /// `Forbidden` without `ResponsesReview`, `NotFound`, `SelfApproval`,
    /// `InvalidTransition`, `Conflict` (another reviewer decided first), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), response_id = %id))]
    pub async fn approve(
        &self,
        actor: &Actor,
        id: ResponseId,
        notes: Option<ReviewNotes>,
    ) -> Result<Response, ApprovalsError> {
        let response = self.load_visible(actor, id).await?;
        require(actor, permissions::RESPONSES_REVIEW)?;
        let transition = response.approve(actor.user_id(), notes, self.clock.now())?;
        let approved = ResponseApproved { response_id: id };
        let event = EventEnvelope::new(&approved, transition.event.at)?;
        self.commit(
            actor,
            "approvals.approved",
            &response,
            transition,
            Some(event),
        )
        .await
    }

    /// Sends someone else's pending response back to its author with notes.
    ///
    /// # Errors
    /// `Forbidden` without `ResponsesReview`, `NotFound`, `SelfApproval`,
    /// `InvalidTransition`, `Conflict` (another reviewer decided first), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), response_id = %id))]
    pub async fn reject(
        &self,
        actor: &Actor,
        id: ResponseId,
        notes: ReviewNotes,
    ) -> Result<Response, ApprovalsError> {
        let response = self.load_visible(actor, id).await?;
        require(actor, permissions::RESPONSES_REVIEW)?;
        let transition = response.reject(actor.user_id(), notes, self.clock.now())?;
        self.commit(actor, "approvals.rejected", &response, transition, None)
            .await
    }

    /// Records that the mail server accepted an approved response, and marks its OPEN
    /// enquiry ANSWERED, recording `ResponseSent`: one unit of work. Called by the mail
    /// subscriber, not by a user. Idempotent: a response that is already SENT (a repeated
    /// delivery, or a worker whose lease ran out while another finished) is returned
    /// unchanged.
    ///
    /// # Errors
    /// `NotFound`, `InvalidTransition` unless APPROVED or SENT, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(response_id = %id))]
    pub async fn mark_sent(&self, id: ResponseId) -> Result<Response, ApprovalsError> {
        let response = self.find(id).await?;
        if response.status() == ResponseStatus::Sent {
            return Ok(response);
        }
        let Transition {
            response: sent,
            event,
        } = response.mark_sent(self.clock.now())?;
        match self.write_sent(&sent, response.version(), &event).await {
            Ok(()) => {
                tracing::info!("response sent");
                Ok(sent)
            }
            Err(ApprovalsError::Conflict) => match self.responses.find(id).await? {
                Some(now) if now.status() == ResponseStatus::Sent => Ok(now),
                _ => Err(ApprovalsError::Conflict),
            },
            Err(e) => Err(e),
        }
    }

    /// One unit of work: the response becomes SENT, the enquiry it answers becomes
    /// ANSWERED if it is still OPEN (the enquiry's rule: an answered or closed enquiry is
    /// left as it is), and `ResponseSent` is recorded.
    async fn write_sent(
        &self,
        sent: &Response,
        expected_version: i64,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError> {
        let mut tx = self.uow.begin().await?;
        tx.responses().save(sent, expected_version, event).await?;
        if let Some(enquiry_id) = sent.enquiry_id() {
            tx.enquiries().mark_answered(enquiry_id, event.at).await?;
        }
        tx.record(EventEnvelope::new(
            &ResponseSent {
                response_id: sent.id(),
                enquiry_id: sent.enquiry_id(),
            },
            event.at,
        )?);
        tx.commit().await
    }

    /// Loads a response for the mail subscriber, without any actor check.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(response_id = %id))]
    pub async fn for_sending(&self, id: ResponseId) -> Result<Response, ApprovalsError> {
        self.find(id).await
    }

    /// One response the actor may see.
    ///
    /// # Errors
    /// `Forbidden` for CUSTOMER accounts, `NotFound` when absent or out of scope,
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), response_id = %id))]
    pub async fn get(&self, actor: &Actor, id: ResponseId) -> Result<Response, ApprovalsError> {
        self.load_visible(actor, id).await
    }

    /// The history of a response the actor may see, oldest first.
    ///
    /// # Errors
    /// `Forbidden` for CUSTOMER accounts, `NotFound` when absent or out of scope,
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), response_id = %id))]
    pub async fn history(
        &self,
        actor: &Actor,
        id: ResponseId,
    ) -> Result<Vec<ResponseEvent>, ApprovalsError> {
        self.load_visible(actor, id).await?;
        self.responses.history(id).await
    }

    /// One page of the responses the actor may see; the query's `visible_to` is replaced
    /// by the actor's scope.
    ///
    /// # Errors
    /// `Forbidden` for CUSTOMER accounts, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn list(
        &self,
        actor: &Actor,
        mut query: ResponseQuery,
        page: PageRequest,
    ) -> Result<Page<Response>, ApprovalsError> {
        query.visible_to = match scope(actor)? {
            Scope::All => None,
            Scope::Own(me) => Some(me),
        };
        self.responses.list(&query, page).await
    }

    async fn find(&self, id: ResponseId) -> Result<Response, ApprovalsError> {
        self.responses
            .find(id)
            .await?
            .ok_or(ApprovalsError::NotFound(id))
    }

    async fn load_visible(
        &self,
        actor: &Actor,
        id: ResponseId,
    ) -> Result<Response, ApprovalsError> {
        let scope = scope(actor)?;
        let response = self.find(id).await?;
        let visible = match scope {
            Scope::All => true,
            Scope::Own(me) => {
                response.author_id() == me
                    || self.customer_visible(actor, response.customer_id()).await?
            }
        };
        if visible {
            Ok(response)
        } else {
            Err(ApprovalsError::NotFound(id))
        }
    }

    /// Whether the actor may see the customer, by the customer CRM's own rule.
    async fn customer_visible(
        &self,
        actor: &Actor,
        id: CustomerId,
    ) -> Result<bool, ApprovalsError> {
        match self.customers.get(actor, id).await {
            Ok(_) => Ok(true),
            Err(CustomersError::NotFound(_) | CustomersError::Forbidden) => Ok(false),
            Err(CustomersError::Unexpected(e)) => Err(e.into()),
            Err(other) => {
                Err(Unexpected::new("checking whether a customer is visible", other).into())
            }
        }
    }

    /// Saves a transition in one unit of work, with the domain event it causes, if any.
    async fn commit(
        &self,
        actor: &Actor,
        action: &str,
        before: &Response,
        transition: Transition,
        follows: Option<EventEnvelope>,
    ) -> Result<Response, ApprovalsError> {
        let Transition { response, event } = transition;
        let mut tx = self.uow.begin().await?;
        tx.responses()
            .save(&response, before.version(), &event)
            .await?;
        tx.audit(AuditRecord::new(
            Some(actor),
            action,
            "response",
            response.id(),
            summarize_values(Some(&audit_view(before)), &audit_view(&response)),
            event.at,
        ));
        if let Some(follows) = follows {
            tx.record(follows);
        }
        tx.commit().await?;
        tracing::info!(from = %before.status(), to = %response.status(), "response changed");
        Ok(response)
    }
}

/// What the audit log shows of a response: its state, subject and the review notes, and
/// only the length of its content.
fn audit_view(response: &Response) -> Value {
    json!({
        "status": response.status().as_str(),
        "subject": response.subject().as_str(),
        "contentChars": response.content().as_str().chars().count(),
        "customerId": response.customer_id().to_string(),
        "decisionNotes": response.decision_notes().map(|n| n.as_str()),
    })
}

/// Which responses the actor may see. Reviewing without reading everything would be an
/// odd role, but it still sees its own scope rather than nothing.
fn scope(actor: &Actor) -> Result<Scope, ApprovalsError> {
    if actor.can(permissions::RESPONSES_READ_ALL) {
        Ok(Scope::All)
    } else if actor.can(permissions::RESPONSES_DRAFT) || actor.can(permissions::RESPONSES_REVIEW) {
        Ok(Scope::Own(actor.user_id()))
    } else {
        Err(ApprovalsError::Forbidden)
    }
}

fn require(actor: &Actor, permission: Permission) -> Result<(), ApprovalsError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(ApprovalsError::Forbidden)
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "deadline_tests.rs"]
mod deadline_tests;
