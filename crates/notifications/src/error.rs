use nexus_kernel::Unexpected;

/// What can go wrong rendering mail.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Worth retrying: connection refused, timeout, 4xx reply.
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// Retrying will not help: 5xx reply, invalid address.
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}
