//! Runs due deliveries: claims a batch, hands each to its subscriber, then completes,
//! reschedules or dead-letters it.
//!
//! The domain has no async runtime, so the runner has no loop of its own: the app calls
//! [`DeliveryRunner::run_once`] on its schedule.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::Clock;
use tracing::Instrument;

use crate::{
    Delivery, DeliveryError, DeliveryId, DeliveryStore, OutboxError, RetryPolicy,
    SubscriberRegistry,
};

/// `last_error` of a delivery whose worker stopped in the middle of it.
const INTERRUPTED: &str = "interrupted: the worker stopped before this attempt ended";

/// Longest failure message written to `last_error`; longer ones are cut.
const MAX_ERROR_LEN: usize = 1_000;

/// A subscriber's work for one delivery, as a boxed future.
pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Wraps each delivery's work in the ambient context it needs, such as the request id of
/// the event in a task-local, so that events a subscriber writes carry it on. The outbox
/// adapter provides the task-local one; the domain has no runtime to hold it.
pub trait DeliveryContext: Send + Sync {
    /// `work` run within `delivery`'s context.
    fn scope<'a>(&self, delivery: &Delivery, work: DeliveryFuture<'a>) -> DeliveryFuture<'a>;
}

/// A [`DeliveryContext`] that adds nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThroughContext;

impl DeliveryContext for PassThroughContext {
    fn scope<'a>(&self, _delivery: &Delivery, work: DeliveryFuture<'a>) -> DeliveryFuture<'a> {
        work
    }
}

/// How a [`DeliveryRunner`] claims and retries deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRunnerConfig {
    /// Names this worker in storage (`locked_by`); unique per running process.
    pub worker_id: String,
    /// How long a claimed delivery stays locked; must cover a whole batch of slow
    /// subscribers. When it ends, another worker claims the delivery again.
    pub lease: Duration,
    /// Most deliveries claimed by one [`DeliveryRunner::run_once`].
    pub batch: u32,
    /// Attempts after which a failing delivery is dead-lettered, whatever budget it was
    /// written with (the smaller of the two applies).
    pub max_attempts: u32,
    /// Delays between attempts.
    pub retry: RetryPolicy,
}

/// Claims due deliveries and runs them with their subscribers.
pub struct DeliveryRunner {
    store: Arc<dyn DeliveryStore>,
    registry: Arc<SubscriberRegistry>,
    clock: Arc<dyn Clock>,
    context: Arc<dyn DeliveryContext>,
    config: DeliveryRunnerConfig,
    /// Deliveries claimed whose result is not recorded yet, and whether each has started:
    /// what [`DeliveryRunner::release_unfinished`] hands back when a run was dropped.
    unfinished: Mutex<HashMap<DeliveryId, bool>>,
}

impl fmt::Debug for DeliveryRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryRunner")
            .field("config", &self.config)
            .field("subscribers", &self.registry.names())
            .finish_non_exhaustive()
    }
}

/// What happens to a delivery after its attempt.
enum Outcome {
    Done,
    RetryAt(DateTime<Utc>, String),
    Dead(String),
}

impl DeliveryRunner {
    /// A runner over `store` delivering to the subscribers of `registry`.
    #[must_use]
    pub fn new(
        store: Arc<dyn DeliveryStore>,
        registry: Arc<SubscriberRegistry>,
        clock: Arc<dyn Clock>,
        config: DeliveryRunnerConfig,
    ) -> Self {
        Self {
            store,
            registry,
            clock,
            context: Arc::new(PassThroughContext),
            config,
            unfinished: Mutex::default(),
        }
    }

    /// The same runner, running each delivery within `context`.
    #[must_use]
    pub fn with_context(mut self, context: Arc<dyn DeliveryContext>) -> Self {
        self.context = context;
        self
    }

    /// Claims up to `batch` due deliveries and runs each with its subscriber, one after
    /// another:
    ///
    /// - success: the delivery is completed;
    /// - [`DeliveryError::Retryable`] or a panic: back to PENDING after the policy's delay,
    ///   or dead-lettered when this was its last attempt;
    /// - [`DeliveryError::Permanent`] (an undecodable payload included) or no subscriber of
    ///   that name: dead-lettered at once.
    ///
    /// A result the store refuses because the lease was lost is logged, not an error.
    /// Returns how many deliveries were claimed.
    ///
    /// # Errors
    /// The store's error when claiming fails; when recording a result fails, the rest of
    /// the batch still runs and the first such error is returned at the end (the
    /// unrecorded delivery is claimed again once its lease ends).
    pub async fn run_once(&self) -> Result<usize, OutboxError> {
        self.run_once_until(&|| false).await
    }

    /// [`DeliveryRunner::run_once`] for a worker that may be told to stop: `stopping` is
    /// asked before each delivery, and once it says yes the deliveries of the batch not yet
    /// started are released (PENDING again, due now, their attempt not counted) for another
    /// worker, instead of waiting for their lease to end. The delivery in hand finishes.
    ///
    /// # Errors
    /// As [`DeliveryRunner::run_once`]; a failure to release is returned too (the delivery
    /// is claimed again once its lease ends).
    pub async fn run_once_until(
        &self,
        stopping: &(dyn Fn() -> bool + Sync),
    ) -> Result<usize, OutboxError> {
        let now = self.clock.now();
        let deliveries = self
            .store
            .claim(
                &self.config.worker_id,
                now,
                self.config.lease,
                self.config.batch,
            )
            .await?;
        if !deliveries.is_empty() {
            tracing::debug!(worker = %self.config.worker_id, claimed = deliveries.len(), "claimed deliveries");
        }
        self.unfinished_mut()
            .extend(deliveries.iter().map(|d| (d.id, false)));
        let mut first_error = None;
        for (index, delivery) in deliveries.iter().enumerate() {
            if stopping() {
                let rest = deliveries.get(index..).unwrap_or_default();
                if let Err(err) = self.release(rest).await {
                    first_error.get_or_insert(err);
                }
                break;
            }
            self.unfinished_mut().insert(delivery.id, true);
            let span = tracing::info_span!(
                "delivery",
                request_id = delivery.event.request_id.as_deref().unwrap_or(""),
                event = %delivery.event.name,
                event_id = %delivery.event.id,
                subscriber = %delivery.subscriber,
                delivery_id = %delivery.id,
                attempt = delivery.attempts,
            );
            if let Err(err) = self.run_delivery(delivery).instrument(span).await {
                first_error.get_or_insert(err);
            }
            self.unfinished_mut().remove(&delivery.id);
        }
        first_error.map_or(Ok(deliveries.len()), Err)
    }

    /// Hands back what a dropped run left claimed, for a worker that stops before its batch
    /// ended (its grace period ran out): a delivery that had started is recorded as an
    /// interrupted attempt, due again now; the ones not started are released with their
    /// attempt not counted. Either way another worker takes them at once instead of after
    /// the lease. Returns how many were handed back.
    ///
    /// # Errors
    /// The store's first error; the others are still tried (what fails is claimed again
    /// once its lease ends).
    pub async fn release_unfinished(&self) -> Result<usize, OutboxError> {
        let unfinished: Vec<(DeliveryId, bool)> = self.unfinished_mut().drain().collect();
        let now = self.clock.now();
        let worker = self.config.worker_id.as_str();
        let mut first_error = None;
        let mut handed_back = 0;
        for (id, started) in unfinished {
            let result = if started {
                tracing::warn!(delivery_id = %id, "stopping in the middle of a delivery; it runs again");
                self.store
                    .fail(id, worker, INTERRUPTED, Some(now), now)
                    .await
            } else {
                self.store.release(id, worker, now).await
            };
            match result {
                Ok(true) => handed_back += 1,
                Ok(false) => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(handed_back), Err)
    }

    /// Releases claimed deliveries that will not run now.
    async fn release(&self, deliveries: &[Delivery]) -> Result<(), OutboxError> {
        let now = self.clock.now();
        let mut first_error = None;
        for delivery in deliveries {
            match self
                .store
                .release(delivery.id, &self.config.worker_id, now)
                .await
            {
                Ok(_) => {
                    self.unfinished_mut().remove(&delivery.id);
                }
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        if !deliveries.is_empty() {
            tracing::info!(
                released = deliveries.len(),
                "stopping: released the deliveries not started"
            );
        }
        first_error.map_or(Ok(()), Err)
    }

    fn unfinished_mut(&self) -> std::sync::MutexGuard<'_, HashMap<DeliveryId, bool>> {
        // The map holds plain ids: a panic elsewhere cannot leave it inconsistent.
        self.unfinished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn run_delivery(&self, delivery: &Delivery) -> Result<(), OutboxError> {
        let outcome = self.attempt(delivery).await;
        let now = self.clock.now();
        let worker = self.config.worker_id.as_str();
        let recorded = match &outcome {
            Outcome::Done => {
                tracing::info!("delivered");
                self.store.complete(delivery.id, worker, now).await
            }
            Outcome::RetryAt(at, error) => {
                tracing::warn!(retry_at = %at, error = %error, "delivery failed; will retry");
                self.store
                    .fail(delivery.id, worker, error, Some(*at), now)
                    .await
            }
            Outcome::Dead(error) => {
                tracing::error!(error = %error, "delivery failed; dead-lettered");
                self.store.fail(delivery.id, worker, error, None, now).await
            }
        };
        match recorded {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(
                    "lease lost before the result was recorded; another worker owns the delivery now"
                );
                Ok(())
            }
            Err(err) => {
                tracing::error!(error = %err, "could not record the delivery's result");
                Err(err)
            }
        }
    }

    /// Runs the subscriber, turning every way it can end into an outcome.
    async fn attempt(&self, delivery: &Delivery) -> Outcome {
        let Some(subscriber) = self.registry.get(&delivery.subscriber) else {
            return Outcome::Dead(format!(
                "no subscriber named {} is registered",
                delivery.subscriber
            ));
        };
        // A panic may happen while the subscriber builds its future or while it is
        // polled; both are caught so one bad delivery cannot stop the worker.
        let result = match catch_unwind(AssertUnwindSafe(|| {
            self.context.scope(delivery, subscriber.deliver(delivery))
        })) {
            Ok(future) => CatchUnwind(future).await,
            Err(panic) => Err(panic),
        };
        match result {
            Ok(Ok(())) => Outcome::Done,
            Ok(Err(DeliveryError::Retryable(error))) => {
                self.retry_or_dead(delivery, truncate(error))
            }
            Ok(Err(DeliveryError::Permanent(error))) => Outcome::Dead(truncate(error)),
            Err(panic) => self.retry_or_dead(
                delivery,
                truncate(format!(
                    "the subscriber panicked: {}",
                    panic_message(&*panic)
                )),
            ),
        }
    }

    fn retry_or_dead(&self, delivery: &Delivery, error: String) -> Outcome {
        if delivery.attempts >= delivery.max_attempts.min(self.config.max_attempts) {
            return Outcome::Dead(error);
        }
        let seed = RetryPolicy::jitter_seed(delivery.id.as_uuid(), delivery.attempts);
        let delay = self.config.retry.next_delay(delivery.attempts, seed);
        let at = self
            .clock
            .now()
            .checked_add_signed(delay)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Outcome::RetryAt(at, error)
    }
}

/// Polls a boxed future, turning a panic into `Err` with the panic's payload.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        // The future is never polled again after a panic (we return `Ready`), so any broken
        // state it leaves behind cannot be observed: asserting unwind safety is sound.
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The text of a panic, when it has one.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// Cuts `message` to at most `MAX_ERROR_LEN` bytes on a character boundary.
fn truncate(mut message: String) -> String {
    if message.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
