use nexus_kernel::{JobId, Unexpected};

/// Everything that can go wrong with jobs and mail.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    /// No such job.
    #[error("job {0} not found")]
    NotFound(JobId),
    /// The caller may not do this.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// The job is not in a state that allows this (for example retrying a job that is not DEAD).
    #[error("job is {0}, so this is not possible")]
    InvalidState(&'static str),
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
