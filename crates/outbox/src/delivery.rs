//! Deliveries (one event to one subscriber) and the port that stores them.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Page, PageRequest};

use crate::{DeliveryId, EventEnvelope, OutboxError};

/// Attempts a delivery is written with; the runner's own budget caps it further.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Waiting for `run_at`.
    Pending,
    /// Claimed by a worker until its lease ends.
    Running,
    /// Delivered.
    Done,
    /// Failed for good (dead letter); an administrator may send it round again.
    Dead,
}

/// A stored state that is not one of [`DeliveryState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown delivery state {0:?}")]
pub struct UnknownDeliveryState(pub String);

impl DeliveryState {
    /// `PENDING`, `RUNNING`, `DONE` or `DEAD`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Done => "DONE",
            Self::Dead => "DEAD",
        }
    }

    /// Whether nothing more will happen without an administrator.
    #[must_use]
    pub const fn has_ended(self) -> bool {
        matches!(self, Self::Done | Self::Dead)
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryState {
    type Err = UnknownDeliveryState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PENDING" => Ok(Self::Pending),
            "RUNNING" => Ok(Self::Running),
            "DONE" => Ok(Self::Done),
            "DEAD" => Ok(Self::Dead),
            other => Err(UnknownDeliveryState(other.to_owned())),
        }
    }
}

/// One event on its way to one subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// One per (event, subscriber), stable across retries: the idempotency key.
    pub id: DeliveryId,
    /// The event.
    pub event: EventEnvelope,
    /// [`crate::Subscriber::name`].
    pub subscriber: String,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts started (this one included while RUNNING).
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// The worker holding the lease, while RUNNING.
    pub locked_by: Option<String>,
    /// End of the lease, while RUNNING.
    pub locked_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this state.
    pub state: Option<DeliveryState>,
    /// Only this subscriber.
    pub subscriber: Option<String>,
}

/// How many deliveries are in one open or dead state, and the earliest `run_at` among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogEntry {
    /// PENDING, RUNNING or DEAD.
    pub state: DeliveryState,
    /// Deliveries in that state.
    pub count: u64,
    /// The earliest `run_at` of those deliveries (`None` when there are none). For PENDING
    /// it may lie in the future (a delayed delivery): then nothing of that state is overdue.
    pub oldest_due: Option<DateTime<Utc>>,
}

impl BacklogEntry {
    /// The states a backlog reports, in this order. DONE is history, not backlog: it grows
    /// without bound and is never counted.
    pub const STATES: [DeliveryState; 3] = [
        DeliveryState::Pending,
        DeliveryState::Running,
        DeliveryState::Dead,
    ];

    /// How long the oldest delivery of this state has been due at `now`; zero when none
    /// is due yet or there is none.
    #[must_use]
    pub fn oldest_age(&self, now: DateTime<Utc>) -> Duration {
        self.oldest_due
            .map_or_else(Duration::zero, |due| (now - due).max(Duration::zero()))
    }
}

/// The durable deliveries. They are created with their event, inside the transaction of
/// the change (each context's adapter does that); this port runs and administers them.
///
/// Whenever a delivery ends (DONE or DEAD) and it was the last open delivery of a
/// sensitive event, the implementation clears that event's stored payload.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims up to `limit` due deliveries for `worker`: PENDING with `run_at <= now`, or
    /// RUNNING whose lease ended before `now` (its worker died). Each becomes RUNNING,
    /// locked by `worker` until `now + lease`, with `attempts` incremented. Two workers
    /// never claim the same delivery. Returned in the order they became due.
    async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, OutboxError>;

    /// Marks a delivery DONE if `worker` still holds it; `false` when the lease was lost.
    async fn complete(
        &self,
        id: DeliveryId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError>;

    /// Records a failure if `worker` still holds the delivery: back to PENDING at
    /// `retry_at`, or DEAD when `retry_at` is `None`. `false` when the lease was lost.
    async fn fail(
        &self,
        id: DeliveryId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError>;

    /// Hands back a delivery `worker` claimed but is not going to run because it is stopping:
    /// if `worker` still holds it, it becomes PENDING due at `now`, unlocked, with the
    /// attempt its claim counted taken back (it never ran). `false` when the lease was lost.
    async fn release(
        &self,
        id: DeliveryId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError>;

    /// One delivery; `Ok(None)` when there is none.
    async fn find(&self, id: DeliveryId) -> Result<Option<Delivery>, OutboxError>;

    /// One page of deliveries, newest first.
    async fn list(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<Delivery>, OutboxError>;

    /// The backlog for monitoring: one [`BacklogEntry`] per state of
    /// [`BacklogEntry::STATES`], in that order, with count 0 for an empty state. Computed
    /// by the store (an indexed count), never by loading the deliveries.
    async fn backlog(&self) -> Result<Vec<BacklogEntry>, OutboxError>;

    /// Puts a DEAD delivery back to PENDING now with a fresh attempt budget.
    ///
    /// # Errors
    /// `InvalidState` when it is not DEAD; `NotFound`.
    async fn retry(&self, id: DeliveryId, now: DateTime<Utc>) -> Result<Delivery, OutboxError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_age_counts_only_time_overdue() {
        let now = Utc::now();
        let entry = |oldest_due| BacklogEntry {
            state: DeliveryState::Pending,
            count: 1,
            oldest_due,
        };

        assert_eq!(
            entry(Some(now - Duration::seconds(90))).oldest_age(now),
            Duration::seconds(90)
        );
        assert_eq!(
            entry(Some(now + Duration::minutes(5))).oldest_age(now),
            Duration::zero(),
            "a delayed delivery is not overdue"
        );
        assert_eq!(entry(None).oldest_age(now), Duration::zero());
    }
}
