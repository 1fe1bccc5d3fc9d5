//! The worker loop (event deliveries to their subscribers): inside `nexus serve` by default, or alone
//! as `nexus worker`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nexus_outbox::DeliveryRunner;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a worker runs on each turn of its loop: the deliveries of outbox events to their
/// subscribers.
#[derive(Clone)]
pub struct Runners {
    /// Event deliveries (each within its event's request id).
    pub deliveries: Arc<DeliveryRunner>,
    /// The periodic roll-up of raw page metrics.
    pub metrics_rollup: MetricsRollup,
    /// Scheduled publication and unpublication of CMS pages, at most once per poll period.
    pub pages: Arc<nexus_content::PageService>,
    /// Scheduled publication of blog posts, on the same turn as the pages.
    pub posts: Arc<nexus_content::PostService>,
    /// The approval deadline sweep (warnings and escalations), on the same turn.
    pub approvals: Arc<nexus_approvals::ApprovalService>,
}

/// Rolls raw page metrics up every `every` (`METRICS_ROLLUP_SECS`). Safe in any number of
/// workers at once: each roll-up claims its own rows.
#[derive(Clone)]
pub struct MetricsRollup {
    /// The service that rolls up.
    pub analytics: Arc<nexus_analytics::AnalyticsService>,
    /// How often.
    pub every: Duration,
}

impl MetricsRollup {
    /// Runs one roll-up, logging a failure (the rows stay for the next one).
    pub async fn run_once(&self) {
        if let Err(err) = self.analytics.roll_up().await {
            tracing::error!(error = %err, "worker could not roll up page metrics");
        }
    }
}

/// Runs batches of event deliveries until `shutdown` turns true. Once it does, the delivery
/// in hand finishes and the rest of the batch is released at once for another worker
/// ([`DeliveryRunner::run_once_until`]); [`stop`] bounds that by the grace period. It sleeps
/// for `poll` only when there was nothing to do. Timed work (an unpaid order's expiry) is a
/// delayed delivery; the periodic tasks are the page-metrics roll-up ([`MetricsRollup`],
/// every `METRICS_ROLLUP_SECS`) and the scheduler (`run_page_schedule`: pages, posts and
/// approval deadlines, at most once per `poll`), checked on every turn.
pub async fn run(runners: Runners, poll: Duration, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(deliveries = ?runners.deliveries, "worker started");
    let mut next_rollup = tokio::time::Instant::now() + runners.metrics_rollup.every;
    let mut pages_due_at = tokio::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        if tokio::time::Instant::now() >= next_rollup {
            runners.metrics_rollup.run_once().await;
            next_rollup = tokio::time::Instant::now() + runners.metrics_rollup.every;
        }
        if tokio::time::Instant::now() >= pages_due_at {
            pages_due_at = tokio::time::Instant::now() + poll;
            run_page_schedule(&runners).await;
        }
        let stopping = || *shutdown.borrow();
        let deliveries_idle = match runners.deliveries.run_once_until(&stopping).await {
            Ok(claimed) => claimed == 0,
            Err(err) => {
                tracing::error!(error = %err, "worker could not run event deliveries");
                true
            }
        };
        if deliveries_idle {
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!("worker stopped");
}

/// One turn of the scheduler: publishes and unpublishes the pages whose time came,
/// publishes the blog posts whose time came, and sweeps approval deadlines (the service
/// logs what it warned and escalated).
/// Safe with many workers (each page write is guarded by the version read, so one worker
/// wins each page); a failure is logged and tried again on the next turn.
async fn run_page_schedule(runners: &Runners) {
    match runners.pages.run_schedule().await {
        Ok(run) if run.published + run.unpublished + run.skipped > 0 => tracing::info!(
            published = run.published,
            unpublished = run.unpublished,
            skipped = run.skipped,
            "scheduled page changes"
        ),
        Ok(_) => {}
        Err(err) => tracing::error!(error = %err, "worker could not run the page schedule"),
    }
    match runners.posts.run_schedule().await {
        Ok(0) => {}
        Ok(published) => tracing::info!(published, "scheduled posts published"),
        Err(err) => tracing::error!(error = %err, "worker could not run the post schedule"),
    }
    if let Err(err) = runners.approvals.run_deadlines().await {
        tracing::error!(error = %err, "worker could not sweep approval deadlines");
    }
}

/// Waits up to `grace` for a worker [`run`] task told to stop to finish the delivery in
/// hand. When the grace period runs out first, the task is cut off and what it held is
/// handed back at once ([`DeliveryRunner::release_unfinished`]): the interrupted delivery
/// runs again elsewhere (subscribers are idempotent), and none waits for its lease to end.
pub async fn stop(mut task: JoinHandle<()>, runners: &Runners, grace: Duration) {
    if tokio::time::timeout(grace, &mut task).await.is_ok() {
        return;
    }
    task.abort();
    // Waits for the abort, so nothing of the run is left to record a result after this.
    let _ = task.await;
    match runners.deliveries.release_unfinished().await {
        Ok(n) => tracing::warn!(
            handed_back = n,
            grace_secs = grace.as_secs(),
            "grace period over: the worker stopped in the middle of its batch and handed it back"
        ),
        Err(err) => tracing::error!(
            error = %err,
            "grace period over: could not hand back every delivery; they run again once their lease ends"
        ),
    }
}

/// How often `nexus worker` writes its heartbeat file.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// How old a heartbeat may be for `nexus healthcheck --worker` to count the worker alive.
pub const HEARTBEAT_STALE_AFTER: Duration = Duration::from_secs(30);

/// The heartbeat file of `nexus worker` in `data_dir`.
#[must_use]
pub fn heartbeat_file(data_dir: &Path) -> PathBuf {
    data_dir.join("worker-heartbeat")
}

/// Writes the current time (Unix seconds) to `path` every [`HEARTBEAT_EVERY`], so that a
/// container health check can tell a live worker, which serves no HTTP, from a stuck one.
pub async fn heartbeat(path: PathBuf) {
    let mut ticks = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        ticks.tick().await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Err(e) = tokio::fs::write(&path, now.to_string()).await {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the worker heartbeat");
        }
    }
}

/// Whether the heartbeat in `path` is younger than [`HEARTBEAT_STALE_AFTER`].
///
/// # Errors
/// Why it is not: missing, unreadable, or stale.
pub fn check_heartbeat(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("no worker heartbeat at {}: {e}", path.display()))?;
    let beat: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("unreadable worker heartbeat in {}", path.display()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let age = now.saturating_sub(beat);
    if age > HEARTBEAT_STALE_AFTER.as_secs() {
        return Err(format!("the worker's last heartbeat is {age} s old"));
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are registered when this is called, not when
/// it is first awaited, so call it before starting work that a signal must not kill outright.
pub fn termination() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
