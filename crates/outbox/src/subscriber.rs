//! Subscribers: follow-up work registered in the composition root.

use async_trait::async_trait;
use chrono::Duration;

use crate::{DecodeError, Delivery, DomainEvent};

/// One event a subscriber wants, and how long after the event it should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// [`DomainEvent::NAME`] of the event.
    pub event: &'static str,
    /// Delay between the event and the delivery (order expiry runs `ttl` after the order
    /// was placed); zero for "as soon as possible".
    pub delay: Duration,
}

impl Subscription {
    /// Subscribes to `E`, delivered as soon as possible.
    #[must_use]
    pub fn to<E: DomainEvent>() -> Self {
        Self {
            event: E::NAME,
            delay: Duration::zero(),
        }
    }

    /// The same subscription, delivered `delay` after the event.
    #[must_use]
    pub const fn after(self, delay: Duration) -> Self {
        Self {
            event: self.event,
            delay,
        }
    }
}

/// Why a subscriber could not finish a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth another attempt later (server down, timeout, database busy): retried with
    /// backoff until the attempt budget is spent, then dead-lettered.
    #[error("{0}")]
    Retryable(String),
    /// Another attempt would fail the same way: dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<DecodeError> for DeliveryError {
    fn from(err: DecodeError) -> Self {
        Self::Permanent(err.to_string())
    }
}

/// Follow-up work that runs when events it subscribes to are written: send a mail,
/// render an invoice, index for search.
///
/// # Idempotency contract
///
/// A delivery runs **at least once**: again after a retryable failure, and again when its
/// worker dies or loses its lease before recording the result. [`Delivery::id`] is one per
/// (event, subscriber) and never changes across those attempts: a subscriber whose effect
/// must happen once records it keyed by that id (a unique key in its own table, the
/// `Idempotency-Key` of an API it calls, the message id of a mail) and treats "already
/// done" as success.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Subscriber: Send + Sync {
    /// Stable name (`"notifications.send_welcome"`): the delivery's kind in storage and the
    /// admin API. Renaming it orphans the pending deliveries of the old name.
    fn name(&self) -> &'static str;

    /// The events this subscriber wants.
    fn subscriptions(&self) -> Vec<Subscription>;

    /// Does the work for one delivery. `delivery.attempts` already counts this attempt.
    ///
    /// # Errors
    /// `Retryable` for a failure that may pass, `Permanent` for one that will not.
    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError>;
}
