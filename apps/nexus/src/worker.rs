//! The worker loop (jobs and event deliveries): inside `nexus serve` by default, or alone
//! as `nexus worker`.

use std::sync::Arc;
use std::time::Duration;

use nexus_notifications::JobRunner;
use nexus_orders::OrderService;
use nexus_outbox::DeliveryRunner;
use tokio::sync::watch;

/// What a worker runs on each turn of its loop: the job queue, and the deliveries of
/// outbox events to their subscribers.
#[derive(Clone)]
pub struct Runners {
    /// Background jobs.
    pub jobs: Arc<JobRunner>,
    /// Event deliveries (each within its event's request id).
    pub deliveries: Arc<DeliveryRunner>,
}

/// Periodic housekeeping done by workers: expiring unpaid orders.
#[derive(Clone)]
pub struct Maintenance {
    /// The orders area.
    pub orders: Arc<OrderService>,
    /// Unpaid orders older than this expire.
    pub order_max_age: chrono::Duration,
}

/// How often housekeeping runs.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

impl Maintenance {
    async fn run(&self) {
        match self.orders.expire_stale(self.order_max_age, 500).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "unpaid orders expired"),
            Err(err) => tracing::error!(error = %err, "expiring unpaid orders failed"),
        }
    }
}

/// Runs batches of jobs and of event deliveries until `shutdown` turns true, and
/// housekeeping once a minute. The batches in hand always finish, so a stopping worker
/// never abandons a job or a delivery half-done (its lease would expire and another worker
/// would redo it). It sleeps for `poll` only when neither had anything to do. Several workers may do the housekeeping
/// at once: each change is version-guarded, so one wins and the others skip it.
pub async fn run(
    runners: Runners,
    poll: Duration,
    maintenance: Option<Maintenance>,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(jobs = ?runners.jobs, deliveries = ?runners.deliveries, "job worker started");
    let mut last_maintenance: Option<std::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Some(m) = &maintenance
            && last_maintenance.is_none_or(|at| at.elapsed() >= MAINTENANCE_EVERY)
        {
            last_maintenance = Some(std::time::Instant::now());
            m.run().await;
        }
        let jobs_idle = match runners.jobs.run_once().await {
            Ok(claimed) => claimed == 0,
            Err(err) => {
                tracing::error!(error = %err, "job worker could not claim jobs");
                true
            }
        };
        let deliveries_idle = match runners.deliveries.run_once().await {
            Ok(claimed) => claimed == 0,
            Err(err) => {
                tracing::error!(error = %err, "worker could not run event deliveries");
                true
            }
        };
        if jobs_idle && deliveries_idle {
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!("job worker stopped");
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
