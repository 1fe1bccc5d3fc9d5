use nexus_kernel::Unexpected;

/// Everything that can go wrong with feedback and reviews.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// No such feedback, review or customer, or not one the caller may see.
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this at all.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// Only a buyer who owns the product may review it.
    #[error("only a buyer who owns this product may review it")]
    NotOwner,
    /// The record changed since the caller read it (or a racing first review won).
    #[error("it was changed by someone else")]
    Conflict,
    /// Replacing a review needs the version read.
    #[error("send the version of the review you read")]
    VersionRequired,
    /// The status does not allow this moderation.
    #[error("cannot {action} what is {from}")]
    InvalidTransition {
        /// The current status.
        from: &'static str,
        /// What was attempted (`publish`, `hide`).
        action: &'static str,
    },
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
