//! The approvals' domain events, written to the outbox by the unit of work that makes the
//! change they describe.

use crate::ResponseId;
use chrono::{DateTime, Utc};
use nexus_customers::EnquiryId;
use nexus_outbox::DomainEvent;
use serde::{Deserialize, Serialize};

/// A reviewer approved a response: it is ready to be e-mailed to its customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseApproved {
    /// The response.
    pub response_id: ResponseId,
}

impl DomainEvent for ResponseApproved {
    const NAME: &'static str = "approvals.response_approved";
    const VERSION: u32 = 1;
}

/// The mail server accepted an approved response: it is SENT, and the enquiry it answers
/// (if any, and if it was OPEN) is ANSWERED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseSent {
    /// The response.
    pub response_id: ResponseId,
    /// The enquiry it answers, if any.
    pub enquiry_id: Option<EnquiryId>,
}

impl DomainEvent for ResponseSent {
    const NAME: &'static str = "approvals.response_sent";
    const VERSION: u32 = 1;
}

/// A response waiting for approval reached its warning time: its approvers are told it
/// is due soon. Recorded once per submission, by the worker's deadline sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDeadlineApproaching {
    /// The response.
    pub response_id: ResponseId,
    /// When it is due.
    pub due_at: DateTime<Utc>,
}

impl DomainEvent for ApprovalDeadlineApproaching {
    const NAME: &'static str = "approvals.deadline_approaching";
    const VERSION: u32 = 1;
}

/// A response is still waiting for approval after its deadline: ADMIN is told. Recorded
/// once per submission, by the worker's deadline sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDeadlinePassed {
    /// The response.
    pub response_id: ResponseId,
    /// When it was due.
    pub due_at: DateTime<Utc>,
}

impl DomainEvent for ApprovalDeadlinePassed {
    const NAME: &'static str = "approvals.deadline_passed";
    const VERSION: u32 = 1;
}
