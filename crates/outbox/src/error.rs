use nexus_kernel::Unexpected;

use crate::DeliveryId;

/// Everything that can go wrong with the outbox's deliveries.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// No such delivery.
    #[error("delivery {0} not found")]
    NotFound(DeliveryId),
    /// The actor may not manage background work.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// The delivery is not in a state that allows this (retrying one that is not DEAD).
    #[error("delivery is {0}, so this is not possible")]
    InvalidState(&'static str),
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
