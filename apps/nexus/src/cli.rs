//! The `nexus` command line: serve (default), worker, migrate, seed, create-admin, config,
//! reindex.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use nexus_catalog::Reindexer;
use nexus_content::PostReindexer;
use nexus_kernel::{Email, PersonName};
use nexus_sea_catalog::SeaProductRepository;
use nexus_sea_content::SeaPostRepository;

use crate::settings::{ConfigErrors, Settings};
use crate::startup::{Application, StartupError, compose, connect};

/// Customer Nexus Hub: CRM, approvals, marketplace and content in one service.
///
/// Configuration comes from defaults, an optional TOML file (`--config` or `NEXUS_CONFIG`) and
/// the environment (and `.env`); with none it runs on an embedded SQLite database under ./data.
#[derive(Debug, Parser)]
#[command(name = "nexus", version, about)]
pub struct Cli {
    /// TOML config file; the environment wins over it [default: `NEXUS_CONFIG`, else none].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the background job worker alone (no HTTP); SIGTERM lets the delivery in hand
    /// finish within `SHUTDOWN_GRACE_SECS` and hands the rest of its batch back.
    Worker,
    /// Fill a realistic demo store: staff of every role, 200 customers, enquiries and
    /// responses in every state, 20 products with files, paid and refunded orders with
    /// invoices and credit notes, 6 pages, reviews, feedback and a month of page metrics.
    /// Idempotent (what exists is skipped); refused in production.
    Seed,
    /// Create an administrator account.
    CreateAdmin {
        /// Sign-in e-mail of the new administrator.
        #[arg(long)]
        email: String,
        /// Password (at least 8 characters, not the e-mail).
        #[arg(long, env = "NEXUS_NEW_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Given name.
        #[arg(long, default_value = "Nexus")]
        first_name: String,
        /// Family name.
        #[arg(long, default_value = "Administrator")]
        last_name: String,
    },
    /// Print the effective configuration as TOML, secrets redacted; exit 2 listing every
    /// problem when it is invalid.
    Config,
    /// Rebuild the Meilisearch indexes from the database: clear the product index, then
    /// send every PUBLISHED product in batches of 500, printing `indexed <n>/<total>` after
    /// each; then the same for the posts index (batches of 100, `posts indexed <n>/<total>`).
    ///
    /// Without `MEILI_URL` there is nothing to rebuild and it exits 0: the database search
    /// is kept in step by the database itself in the same transaction as every write
    /// (PostgreSQL's generated `search_vector` column and its indexes, SQLite's FTS5 table
    /// maintained by triggers), so it cannot lag.
    Reindex,
    /// Check a running instance on this machine and exit 0 when it is healthy, 1 when not:
    /// for container health checks in an image without curl or wget.
    ///
    /// By default it asks the API on `HOST`/`PORT` for `GET /health/ready` (200 once the
    /// database answers). With `--live` it asks `/health/live` instead (the process serves
    /// at all); with `--worker` it checks the heartbeat a `nexus worker` writes into
    /// `DATA_DIR` every 5 s (fresh if under 30 s old).
    Healthcheck {
        /// Ask `/health/live` instead of `/health/ready`.
        #[arg(long, conflicts_with = "worker")]
        live: bool,
        /// Check the heartbeat of `nexus worker` instead of the HTTP API.
        #[arg(long)]
        worker: bool,
        /// Longest wait for the answer, in seconds.
        #[arg(long, default_value_t = 5)]
        timeout_secs: u64,
    },
}

/// Exit status of any command when the configuration is invalid.
pub const INVALID_CONFIGURATION: u8 = 2;

/// Reports an invalid configuration and gives the exit status: `nexus config` writes every
/// problem to stderr; other commands log each one.
#[must_use]
pub fn report_invalid(cli: &Cli, errors: &ConfigErrors) -> ExitCode {
    if matches!(cli.command, Some(Command::Config)) {
        // The listing is the command's output, not a log line.
        let _ = writeln!(std::io::stderr().lock(), "invalid configuration: {errors}");
    } else {
        crate::telemetry::init(crate::settings::LogFormat::Pretty);
        for problem in errors.problems() {
            tracing::error!(
                key = problem.key,
                "invalid configuration: {}",
                problem.reason
            );
        }
    }
    ExitCode::from(INVALID_CONFIGURATION)
}

/// A command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Start-up failed.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// Serving failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    /// A command's input or outcome was refused.
    #[error("{0}")]
    Refused(String),
    /// `nexus healthcheck` found the instance unhealthy (the reason is its output).
    #[error("unhealthy")]
    Unhealthy,
}

/// Runs the parsed command.
///
/// # Errors
/// `CliError` describing what failed.
pub async fn run(cli: Cli, settings: Settings) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Worker => {
            let db = connect(&settings, settings.database.migrate_on_start).await?;
            let state = compose(&settings, db).await?;
            // Handlers first: a signal arriving while the worker starts must stop it cleanly.
            let stop_signal = crate::worker::termination();
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let poll = std::time::Duration::from_millis(settings.worker.poll_ms);
            let worker = tokio::spawn(crate::worker::run(state.runner.clone(), poll, stopped));
            let heartbeat = tokio::spawn(crate::worker::heartbeat(crate::worker::heartbeat_file(
                &settings.data_dir,
            )));
            stop_signal.await;
            let grace = std::time::Duration::from_secs(settings.shutdown_grace_secs);
            tracing::info!(
                grace_secs = grace.as_secs(),
                "stopping: finishing the delivery in hand"
            );
            let _ = stop.send(true);
            crate::worker::stop(worker, &state.runner, grace).await;
            heartbeat.abort();
            tracing::info!("stopped");
        }
        Command::Healthcheck {
            live,
            worker,
            timeout_secs,
        } => {
            let timeout = std::time::Duration::from_secs(timeout_secs);
            let outcome = if worker {
                crate::worker::check_heartbeat(&crate::worker::heartbeat_file(&settings.data_dir))
                    .map(|()| "worker alive".to_owned())
            } else {
                let path = if live {
                    "/health/live"
                } else {
                    "/health/ready"
                };
                crate::healthcheck::probe(&settings.http.host, settings.http.port, path, timeout)
                    .await
            };
            let mut out = std::io::stdout().lock();
            // The verdict is the command's output, not a log line.
            match outcome {
                Ok(verdict) => writeln!(out, "healthy: {verdict}")?,
                Err(reason) => {
                    writeln!(out, "unhealthy: {reason}")?;
                    return Err(CliError::Unhealthy);
                }
            }
        }
        Command::Migrate => {
            connect(&settings, true).await?;
            tracing::info!("migrations applied");
        }
        Command::Seed => crate::seed::run(&settings).await?,
        Command::Reindex => reindex(&settings).await?,
        Command::Config => {
            // The listing is the command's output, not a log line.
            std::io::stdout()
                .lock()
                .write_all(settings.to_toml().as_bytes())?;
        }
        Command::CreateAdmin {
            email,
            password,
            first_name,
            last_name,
        } => {
            let db = connect(&settings, true).await?;
            let state = compose(&settings, db).await?;
            let email =
                Email::parse(&email).map_err(|e| CliError::Refused(format!("--email: {e}")))?;
            let first = PersonName::parse(&first_name)
                .map_err(|e| CliError::Refused(format!("--first-name: {e}")))?;
            let last = PersonName::parse(&last_name)
                .map_err(|e| CliError::Refused(format!("--last-name: {e}")))?;
            let user = state
                .identity
                .create_admin(email, &password, first, last)
                .await
                .map_err(|e| CliError::Refused(e.to_string()))?;
            tracing::info!(user_id = %user.id, email = %user.email, "administrator created");
        }
    }
    Ok(())
}

/// Rebuilds the Meilisearch indexes (products, then posts), printing progress; a no-op
/// without Meilisearch.
async fn reindex(settings: &Settings) -> Result<(), CliError> {
    let mut out = std::io::stdout();
    let Some(index) = crate::startup::product_index(settings).await? else {
        // The command's output, not a log line.
        writeln!(
            out,
            "no search index to rebuild: without MEILI_URL the database search is kept in step by the database"
        )?;
        return Ok(());
    };
    let db = connect(settings, settings.database.migrate_on_start).await?;
    let reindexer = Reindexer::new(Arc::new(SeaProductRepository::new(db.clone())), index);
    let mut failed_write = None;
    let indexed = reindexer
        .rebuild(&mut |p| {
            if let Err(e) = writeln!(out, "indexed {}/{}", p.indexed, p.total) {
                failed_write.get_or_insert(e);
            }
        })
        .await
        .map_err(|e| CliError::Refused(format!("reindex: {e}")))?;
    if let Some(e) = failed_write {
        return Err(e.into());
    }
    writeln!(out, "search index rebuilt: {indexed} published products")?;
    if let Some(posts_index) = crate::startup::post_index(settings).await? {
        let reindexer = PostReindexer::new(Arc::new(SeaPostRepository::new(db)), posts_index);
        let mut failed_write = None;
        let indexed = reindexer
            .rebuild(&mut |p| {
                if let Err(e) = writeln!(out, "posts indexed {}/{}", p.indexed, p.total) {
                    failed_write.get_or_insert(e);
                }
            })
            .await
            .map_err(|e| CliError::Refused(format!("reindex posts: {e}")))?;
        if let Some(e) = failed_write {
            return Err(e.into());
        }
        writeln!(out, "post search index rebuilt: {indexed} published posts")?;
    }
    Ok(())
}

/// The password every demo account gets; documented in the README.
pub const DEMO_PASSWORD: &str = "demo-password-123";
