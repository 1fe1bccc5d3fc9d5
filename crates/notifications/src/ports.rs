use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{JobId, Page, PageRequest};

use crate::{
    EmailMessage, EmailTemplate, Job, JobKind, JobState, MailError, NewJob, NotificationsError,
    RenderedEmail,
};

/// Which jobs to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only this state.
    pub state: Option<JobState>,
    /// Only this kind.
    pub kind: Option<JobKind>,
}

/// The durable job table. Jobs caused by a state change are written by that change's own
/// repository in the same transaction; this port enqueues standalone jobs and runs the queue.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Enqueues a job on its own.
    async fn enqueue(&self, job: &NewJob) -> Result<(), NotificationsError>;

    /// Claims up to `limit` due jobs for `worker`: PENDING with `run_at <= now`, or RUNNING
    /// whose lease ended before `now` (its worker died). Each claimed job becomes RUNNING,
    /// locked by `worker` until `now + lease`, with `attempts` incremented. Two workers never
    /// claim the same job (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, NotificationsError>;

    /// Marks a job DONE if `worker` still holds it; `false` when the lease was lost. Clears
    /// a sensitive payload.
    async fn complete(
        &self,
        id: JobId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, NotificationsError>;

    /// Records a failure if `worker` still holds the job: back to PENDING at `retry_at`, or
    /// DEAD when `retry_at` is `None` (clearing a sensitive payload). `false` when the lease
    /// was lost.
    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, NotificationsError>;

    /// One job; `Ok(None)` when there is none. While follow-up work moves onto the event
    /// outbox, the SQL store also finds event deliveries here (kind = subscriber name).
    async fn find(&self, id: JobId) -> Result<Option<Job>, NotificationsError>;

    /// One page of jobs, newest first (with event deliveries in the SQL store, as `find`).
    async fn list(
        &self,
        filter: JobFilter,
        page: PageRequest,
    ) -> Result<Page<Job>, NotificationsError>;

    /// Puts a DEAD job back to PENDING now with a fresh attempt budget.
    ///
    /// # Errors
    /// `InvalidState` when the job is not DEAD; `NotFound`.
    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, NotificationsError>;
}

/// Delivers e-mail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message. `Ok` means the mail server accepted it.
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError>;
}

/// Turns a template and its data into subject, text and HTML (HTML values escaped).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EmailRenderer: Send + Sync {
    /// Renders a message.
    ///
    /// # Errors
    /// `Unexpected` when a template is broken.
    fn render(&self, template: &EmailTemplate) -> Result<RenderedEmail, NotificationsError>;
}
