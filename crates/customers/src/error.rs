use nexus_kernel::{CustomerId, Unexpected};

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
    /// The requested assignee is not an active staff member.
    #[error("customers can only be assigned to active staff")]
    InvalidAssignee,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
