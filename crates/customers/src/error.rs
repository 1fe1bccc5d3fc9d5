use crate::CustomerId;
use nexus_kernel::Unexpected;

/// Everything that can go wrong in the customer CRM.
#[derive(Debug, thiserror::Error)]
pub enum CustomersError {
    /// No such customer, or not one the caller may see.
    #[error("customer {0} not found")]
    NotFound(CustomerId),
    /// The caller's role may not do this at all.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// Another customer already has this e-mail address.
    #[error("a customer with this e-mail already exists")]
    EmailTaken,
    /// The customer changed since the caller read it.
    #[error("the customer was changed by someone else")]
    Conflict,
    /// No such enquiry, or not one the caller may see.
    #[error("enquiry {0} not found")]
    EnquiryNotFound(crate::EnquiryId),
    /// The enquiry cannot move from its status to the requested one.
    #[error("an enquiry that is {from} cannot become {to}")]
    InvalidEnquiryTransition {
        /// Current status.
        from: crate::EnquiryStatus,
        /// Requested status.
        to: crate::EnquiryStatus,
    },
    /// The account has not proved it owns its e-mail address, so nothing keyed on that
    /// address (enquiries sent from it) may be shown to it.
    #[error("verify your e-mail address first")]
    EmailUnverified,
    /// No active staff member exists to route an enquiry to.
    #[error("no staff member is available to take enquiries")]
    NoStaffAvailable,
    /// The customer has a history (responses sent or drafted, enquiries) that must stay
    /// auditable, so the customer cannot be deleted; mark them `INACTIVE` or `CHURNED`.
    #[error("the customer has responses or enquiries on record and cannot be deleted")]
    HasHistory,
    /// The requested assignee is not an active staff member.
    #[error("customers can only be assigned to active staff")]
    InvalidAssignee,
    /// The account to link does not exist or is not a CUSTOMER account.
    #[error("only an existing customer account can be linked to a customer")]
    InvalidAccount,
    /// The account is already linked to another customer.
    #[error("this account is already linked to another customer")]
    AccountLinked,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
