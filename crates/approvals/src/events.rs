//! The approvals' domain events, written to the outbox by the unit of work that makes the
//! change they describe.

use crate::ResponseId;
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
