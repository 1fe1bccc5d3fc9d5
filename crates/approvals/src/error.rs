use crate::ResponseId;
use nexus_customers::CustomerId;
use nexus_kernel::Unexpected;

use crate::ResponseStatus;

/// Everything that can go wrong with responses and their approval.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalsError {
    /// No such response, or not one the caller may see (its existence never leaks).
    #[error("response {0} not found")]
    NotFound(ResponseId),
    /// The caller's role may not do this at all.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// Only the author of a response may revise or submit it.
    #[error("only the author of a response may change or submit it")]
    NotAuthor,
    /// Four eyes: nobody approves or rejects a response they wrote.
    #[error("an author cannot approve or reject their own response")]
    SelfApproval,
    /// A rejection must say what to fix. The service cannot receive a rejection without
    /// notes (`ReviewNotes` is required by type); callers that build one from optional
    /// input, such as an HTTP handler, return this when it is missing.
    #[error("a rejection needs review notes")]
    NotesRequired,
    /// The response's current status does not allow this action.
    #[error("cannot {action} a response that is {from}")]
    InvalidTransition {
        /// The response's current status.
        from: ResponseStatus,
        /// What was attempted (`edit`, `submit`, `approve`, `reject`, `mark as sent`).
        action: &'static str,
    },
    /// The response changed since the caller read it, or another change won the race.
    #[error("the response was changed by someone else")]
    Conflict,
    /// No such customer, or not one the caller may see.
    #[error("customer {0} not found")]
    CustomerNotFound(CustomerId),
    /// The enquiry does not exist or belongs to another customer.
    #[error("the enquiry does not belong to this customer")]
    EnquiryMismatch,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
