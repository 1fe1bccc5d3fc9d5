//! Runs due jobs: claims a batch, hands each job to the handler for its kind, then completes,
//! reschedules or dead-letters it.
//!
//! The domain has no async runtime, so the runner has no loop of its own: the app calls
//! [`JobRunner::run_once`] on its own schedule (and again at once while batches come back
//! full).

use std::any::Any;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::Clock;
use tracing::Instrument;

use crate::{Job, JobKind, JobPayload, JobStore, MailError, NotificationsError, RetryPolicy};

/// Longest failure message written to a job's `last_error`; longer ones are cut.
const MAX_ERROR_LEN: usize = 1_000;

/// Why a handler could not finish a job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later (mail server down, timeout, database busy).
    #[error("{0}")]
    Retryable(String),
    /// Another attempt would fail the same way (the response no longer exists, the address
    /// was refused): the job is dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<MailError> for JobError {
    fn from(err: MailError) -> Self {
        match err {
            MailError::Transient(_) => Self::Retryable(err.to_string()),
            MailError::Permanent(_) => Self::Permanent(err.to_string()),
        }
    }
}

/// Does the work of one kind of job. Handlers must be idempotent: a job runs at least once,
/// and again if its worker dies or loses its lease before recording the result.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// The kind of job this handler runs.
    fn kind(&self) -> JobKind;

    /// Runs `job`, whose payload is `payload`. `job.attempts` already counts this attempt.
    ///
    /// # Errors
    /// `Retryable` for a failure that may pass (the job is retried with backoff until its
    /// attempt budget is spent), `Permanent` for one that will not (dead-lettered at once).
    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError>;
}

/// How a [`JobRunner`] claims and retries jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// Names this worker in the job table (`locked_by`); unique per running process.
    pub worker_id: String,
    /// How long a claimed job stays locked. Jobs of a batch run one after another, so it
    /// must cover a whole batch of slow handlers; a job whose lease ends is claimed again
    /// by another worker and its first result is ignored.
    pub lease: Duration,
    /// Most jobs claimed by one [`JobRunner::run_once`].
    pub batch: u32,
    /// Attempts after which a failing job is dead-lettered, whatever budget it was
    /// written with (the smaller of the two applies).
    pub max_attempts: u32,
    /// Delays between attempts.
    pub retry: RetryPolicy,
}

/// Claims due jobs and runs them with their handlers.
pub struct JobRunner {
    store: Arc<dyn JobStore>,
    handlers: HashMap<JobKind, Arc<dyn JobHandler>>,
    clock: Arc<dyn Clock>,
    config: RunnerConfig,
}

impl fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<&str> = self.handlers.keys().map(JobKind::as_str).collect();
        kinds.sort_unstable();
        f.debug_struct("JobRunner")
            .field("config", &self.config)
            .field("handlers", &kinds)
            .finish_non_exhaustive()
    }
}

/// What happens to a job after its attempt.
enum Outcome {
    Done,
    RetryAt(DateTime<Utc>, String),
    Dead(String),
}

impl JobRunner {
    /// A runner over `store` dispatching to `handlers` by their [`JobHandler::kind`]. When
    /// two handlers claim the same kind, the first one wins (and a warning is logged).
    #[must_use]
    pub fn new(
        store: Arc<dyn JobStore>,
        handlers: Vec<Arc<dyn JobHandler>>,
        clock: Arc<dyn Clock>,
        config: RunnerConfig,
    ) -> Self {
        let mut by_kind: HashMap<JobKind, Arc<dyn JobHandler>> = HashMap::new();
        for handler in handlers {
            let kind = handler.kind();
            match by_kind.entry(kind) {
                Entry::Vacant(slot) => {
                    slot.insert(handler);
                }
                Entry::Occupied(_) => {
                    tracing::warn!(
                        kind = kind.as_str(),
                        "a second handler for this job kind is ignored"
                    );
                }
            }
        }
        Self {
            store,
            handlers: by_kind,
            clock,
            config,
        }
    }

    /// Claims up to `batch` due jobs and runs each with its handler, one after another:
    ///
    /// - success: the job is completed;
    /// - [`JobError::Retryable`] or a handler panic: the job goes back to PENDING after the
    ///   policy's delay, or is dead-lettered when this was its last attempt;
    /// - [`JobError::Permanent`], no handler for the kind, or a cleared payload: the job is
    ///   dead-lettered at once.
    ///
    /// A result the store refuses because the lease was lost is logged, not an error.
    /// Returns how many jobs were claimed; fewer than `batch` means the queue is drained
    /// for now.
    ///
    /// # Errors
    /// The store's error when claiming fails; when recording a job's result fails, the rest
    /// of the batch still runs and the first such error is returned at the end (the
    /// unrecorded job is claimed again once its lease ends).
    pub async fn run_once(&self) -> Result<usize, NotificationsError> {
        let now = self.clock.now();
        let jobs = self
            .store
            .claim(
                &self.config.worker_id,
                now,
                self.config.lease,
                self.config.batch,
            )
            .await?;
        if !jobs.is_empty() {
            tracing::debug!(worker = %self.config.worker_id, claimed = jobs.len(), "claimed jobs");
        }
        let mut first_error = None;
        for job in &jobs {
            let span = tracing::info_span!(
                "job",
                job_id = %job.id,
                kind = job.kind.as_str(),
                attempt = job.attempts,
                max_attempts = job.max_attempts,
            );
            if let Err(err) = self.run_job(job).instrument(span).await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(jobs.len()), Err)
    }

    async fn run_job(&self, job: &Job) -> Result<(), NotificationsError> {
        let outcome = self.attempt(job).await;
        let now = self.clock.now();
        let worker = self.config.worker_id.as_str();
        let recorded = match &outcome {
            Outcome::Done => {
                tracing::info!("job done");
                self.store.complete(job.id, worker, now).await
            }
            Outcome::RetryAt(at, error) => {
                tracing::warn!(retry_at = %at, error = %error, "job failed; will retry");
                self.store.fail(job.id, worker, error, Some(*at), now).await
            }
            Outcome::Dead(error) => {
                tracing::error!(error = %error, "job failed; dead-lettered");
                self.store.fail(job.id, worker, error, None, now).await
            }
        };
        match recorded {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(
                    "lease lost before the result was recorded; another worker owns the job now"
                );
                Ok(())
            }
            Err(err) => {
                tracing::error!(error = %err, "could not record the job's result");
                Err(err)
            }
        }
    }

    /// Runs the handler, turning every way it can end into an outcome.
    async fn attempt(&self, job: &Job) -> Outcome {
        let Some(payload) = &job.payload else {
            return Outcome::Dead(
                "the payload was cleared, so there is nothing left to run".to_owned(),
            );
        };
        if payload.kind() != job.kind {
            return Outcome::Dead(format!(
                "the stored kind {} does not match the payload's kind {}",
                job.kind.as_str(),
                payload.kind().as_str()
            ));
        }
        let Some(handler) = self.handlers.get(&job.kind) else {
            return Outcome::Dead(format!(
                "no handler is registered for job kind {}",
                job.kind.as_str()
            ));
        };
        // A panic may happen while the handler builds its future or while it is polled;
        // both are caught so one bad job cannot stop the worker.
        let result = match catch_unwind(AssertUnwindSafe(|| handler.handle(job, payload))) {
            Ok(future) => CatchUnwind(future).await,
            Err(panic) => Err(panic),
        };
        match result {
            Ok(Ok(())) => Outcome::Done,
            Ok(Err(JobError::Retryable(error))) => self.retry_or_dead(job, truncate(error)),
            Ok(Err(JobError::Permanent(error))) => Outcome::Dead(truncate(error)),
            Err(panic) => self.retry_or_dead(
                job,
                truncate(format!("the handler panicked: {}", panic_message(&*panic))),
            ),
        }
    }

    fn retry_or_dead(&self, job: &Job, error: String) -> Outcome {
        if job.attempts >= job.max_attempts.min(self.config.max_attempts) {
            return Outcome::Dead(error);
        }
        let seed = RetryPolicy::jitter_seed(job.id.as_uuid(), job.attempts);
        let delay = self.config.retry.next_delay(job.attempts, seed);
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
