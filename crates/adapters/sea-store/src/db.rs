//! Opening, migrating and checking the database.

use std::time::Duration;

use nexus_kernel::Unexpected;
use nexus_migration::Migrator;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

/// How long a SQLite writer waits for another writer's lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection pool of at most `max_connections` to a `postgres://` or `sqlite:` URL.
///
/// For SQLite the file is created if missing (its directory must exist), foreign keys are
/// enforced, the journal is in WAL mode (readers do not block the writer) and a writer
/// waits up to 5 s for a lock instead of failing at once.
///
/// # Errors
/// `Unexpected` when the URL is malformed or the database cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, Unexpected> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Statement logging would log every query at INFO; the app traces requests instead.
    options
        .max_connections(max_connections.max(1))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL is durable across application crashes in WAL mode and much
                // faster than FULL; only an OS crash can lose the last transactions.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    }
    Database::connect(options)
        .await
        .map_err(Unexpected::with("connecting to the database"))
}

/// Applies every pending migration of [`nexus_migration::Migrator`].
///
/// # Errors
/// `Unexpected` when a migration fails (it is rolled back where the backend allows).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), Unexpected> {
    Migrator::up(db, None)
        .await
        .map_err(Unexpected::with("migrating the database"))
}

/// Checks that the database answers, for readiness probes.
///
/// # Errors
/// `Unexpected` when it does not.
pub async fn ping(db: &DatabaseConnection) -> Result<(), Unexpected> {
    db.ping()
        .await
        .map_err(Unexpected::with("pinging the database"))
}
