//! The job worker loop: inside `nexus serve` by default, or alone as `nexus worker`.

use std::sync::Arc;
use std::time::Duration;

use nexus_notifications::JobRunner;
use tokio::sync::watch;

/// Runs batches until `shutdown` turns true. The batch in hand always finishes, so a
/// stopping worker never abandons a job half-done (its lease would expire and another
/// worker would redo it).
pub async fn run(runner: Arc<JobRunner>, poll: Duration, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(?runner, "job worker started");
    loop {
        if *shutdown.borrow() {
            break;
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

/// Resolves on SIGINT or SIGTERM.
pub async fn termination() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
