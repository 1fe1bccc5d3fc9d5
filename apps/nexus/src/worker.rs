//! The job worker loop: inside `nexus serve` by default, or alone as `nexus worker`.

use std::sync::Arc;
use std::time::Duration;

use nexus_notifications::JobRunner;
use nexus_orders::OrderService;
use tokio::sync::watch;

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

/// Runs batches until `shutdown` turns true, and housekeeping once a minute. The batch in
/// hand always finishes, so a stopping worker never abandons a job half-done (its lease
/// would expire and another worker would redo it). Several workers may do the housekeeping
/// at once: each change is version-guarded, so one wins and the others skip it.
pub async fn run(
    runner: Arc<JobRunner>,
    poll: Duration,
    maintenance: Option<Maintenance>,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(?runner, "job worker started");
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
        let idle = match runner.run_once().await {
            Ok(claimed) => claimed == 0,
            Err(err) => {
                tracing::error!(error = %err, "job worker could not claim jobs");
                true
            }
        };
        if idle {
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
