//! The administrators' view of background work while it moves from the job queue to
//! outbox subscribers: the SQL job store lists jobs and event deliveries together (the
//! `background_work` view, a delivery's kind being its subscriber's name), and a retry
//! goes to whichever of the two holds the id.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{JobId, Page, PageRequest, Unexpected};
use nexus_notifications::{
    Job, JobFilter, JobKind, JobState, JobStore, NewJob, NotificationsError,
};
use nexus_outbox::{Delivery, DeliveryId, DeliveryStore, OutboxError};

/// A [`JobStore`] whose `retry` also reaches event deliveries.
pub struct BackgroundWork {
    jobs: Arc<dyn JobStore>,
    deliveries: Arc<dyn DeliveryStore>,
}

impl BackgroundWork {
    /// Jobs from `jobs`, deliveries from `deliveries`.
    #[must_use]
    pub fn new(jobs: Arc<dyn JobStore>, deliveries: Arc<dyn DeliveryStore>) -> Self {
        Self { jobs, deliveries }
    }
}

/// A delivery shown as a job: its kind is its subscriber's name.
fn as_job(delivery: Delivery) -> Result<Job, NotificationsError> {
    let kind: JobKind = delivery.subscriber.parse().map_err(|_| {
        Unexpected::msg(format!(
            "delivery {} is for subscriber {}, which has no job kind",
            delivery.id, delivery.subscriber
        ))
    })?;
    let state: JobState = delivery
        .state
        .as_str()
        .parse()
        .map_err(|_| Unexpected::msg(format!("delivery state {}", delivery.state)))?;
    Ok(Job {
        id: JobId::from_uuid(delivery.id.as_uuid()),
        payload: None,
        kind,
        state,
        attempts: delivery.attempts,
        max_attempts: delivery.max_attempts,
        run_at: delivery.run_at,
        locked_by: delivery.locked_by,
        locked_until: delivery.locked_until,
        last_error: delivery.last_error,
        created_at: delivery.created_at,
        updated_at: delivery.updated_at,
    })
}

#[async_trait]
impl JobStore for BackgroundWork {
    async fn enqueue(&self, job: &NewJob) -> Result<(), NotificationsError> {
        self.jobs.enqueue(job).await
    }

    async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, NotificationsError> {
        self.jobs.claim(worker, now, lease, limit).await
    }

    async fn complete(
        &self,
        id: JobId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, NotificationsError> {
        self.jobs.complete(id, worker, now).await
    }

    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, NotificationsError> {
        self.jobs.fail(id, worker, error, retry_at, now).await
    }

    async fn find(&self, id: JobId) -> Result<Option<Job>, NotificationsError> {
        self.jobs.find(id).await
    }

    async fn list(
        &self,
        filter: JobFilter,
        page: PageRequest,
    ) -> Result<Page<Job>, NotificationsError> {
        self.jobs.list(filter, page).await
    }

    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, NotificationsError> {
        match self.jobs.retry(id, now).await {
            Err(NotificationsError::NotFound(_)) => {}
            other => return other,
        }
        match self
            .deliveries
            .retry(DeliveryId::from_uuid(id.as_uuid()), now)
            .await
        {
            Ok(delivery) => as_job(delivery),
            Err(OutboxError::NotFound(_)) => Err(NotificationsError::NotFound(id)),
            Err(OutboxError::InvalidState(state)) => Err(NotificationsError::InvalidState(state)),
            Err(OutboxError::Unexpected(e)) => Err(NotificationsError::Unexpected(e)),
        }
    }
}
