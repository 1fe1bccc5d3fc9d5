//! The worker loop (event deliveries to their subscribers): inside `nexus serve` by default, or alone
//! as `nexus worker`.

use std::sync::Arc;
use std::time::Duration;

use nexus_outbox::DeliveryRunner;
use tokio::sync::watch;

/// What a worker runs on each turn of its loop: the deliveries of outbox events to their
/// subscribers.
#[derive(Clone)]
pub struct Runners {
    /// Event deliveries (each within its event's request id).
    pub deliveries: Arc<DeliveryRunner>,
}

/// Runs batches of event deliveries until `shutdown` turns true. The batch in hand always
/// finishes, so a stopping worker never abandons a delivery half-done (its lease would
/// expire and another worker would redo it). It sleeps for `poll` only when there was
/// nothing to do. Timed work (an unpaid order's expiry) is a delayed
/// delivery, so there is no periodic housekeeping.
pub async fn run(runners: Runners, poll: Duration, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(deliveries = ?runners.deliveries, "worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let deliveries_idle = match runners.deliveries.run_once().await {
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
