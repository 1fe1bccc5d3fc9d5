//! Opening and checking the database (the app runs the migrations).

use std::error::Error as StdError;
use std::time::Duration;

use nexus_kernel::Unexpected;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseConnectionType, DbErr, RuntimeErr,
    SqlxError,
};

/// How long a SQLite writer waits for another writer's lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`connect`] lets a caller wait for a pooled connection (sqlx's own default).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a connection pool of at most `max_connections` to a `postgres://` or `sqlite:` URL,
/// waiting up to [`DEFAULT_ACQUIRE_TIMEOUT`] for a connection; see [`connect_with`].
///
/// # Errors
/// `Unexpected` when the URL is malformed or the database cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, Unexpected> {
    connect_with(url, max_connections, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// Opens a connection pool of at most `max_connections` to a `postgres://` or `sqlite:` URL.
///
/// A caller waits at most `acquire_timeout` for a connection, then gets an error that
/// [`is_unavailable`] recognises: while the database is down, sqlx keeps retrying a refused
/// connection until that deadline, so this bounds how long a request hangs in an outage.
/// Pooled connections are checked before use, so the pool recovers by itself once the
/// database is back.
///
/// For SQLite the file is created if missing (its directory must exist), foreign keys are
/// enforced, the journal is in WAL mode (readers do not block the writer) and a writer
/// waits up to 5 s for a lock instead of failing at once.
///
/// # Errors
/// `Unexpected` when the URL is malformed or the database cannot be reached.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, Unexpected> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Statement logging would log every query at INFO; the app traces requests instead.
    options
        .max_connections(max_connections.max(1))
        .acquire_timeout(acquire_timeout)
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

/// Checks that the database answers, for readiness probes.
///
/// # Errors
/// `Unexpected` when it does not.
pub async fn ping(db: &DatabaseConnection) -> Result<(), Unexpected> {
    db.ping()
        .await
        .map_err(Unexpected::with("pinging the database"))
}

/// How the connection pool behind a [`DatabaseConnection`] is used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (in use or idle).
    pub open: u32,
    /// Open connections waiting in the pool for a caller.
    pub idle: u32,
    /// The most the pool opens; a caller finding all of them in use waits for one, up to
    /// the acquire timeout.
    pub max: u32,
}

impl PoolStats {
    /// Connections handed out to callers.
    #[must_use]
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// The state of `db`'s sqlx pool, for metrics; `None` for a connection that is not a
/// PostgreSQL or SQLite pool (only [`connect_with`] builds connections here, so never in
/// the app). sqlx does not say how many callers wait for a connection.
#[must_use]
pub fn pool_stats(db: &DatabaseConnection) -> Option<PoolStats> {
    // The accessors panic on another kind of connection, hence the checks first.
    match &db.inner {
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            let pool = db.get_postgres_connection_pool();
            Some(stats(
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            let pool = db.get_sqlite_connection_pool();
            Some(stats(
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        _ => None,
    }
}

fn stats(open: u32, idle: usize, max: u32) -> PoolStats {
    PoolStats {
        open,
        idle: u32::try_from(idle).unwrap_or(u32::MAX),
        max,
    }
}

/// Whether `err` (one error, not its sources: callers walk the chain) says the database could
/// not be reached or went away, rather than that a statement failed: no connection from the
/// pool in time, a refused or broken connection, or a server shutting down or starting up
/// (SQLSTATE class `08`, `57P01`..`57P03`, `53300` too many connections).
///
/// Such a failure is worth retrying later; nothing of the failed statement was committed
/// unless the connection broke after `COMMIT` was sent, in which case all of it was.
#[must_use]
pub fn is_unavailable(err: &(dyn StdError + 'static)) -> bool {
    if let Some(db) = err.downcast_ref::<DbErr>() {
        return match db {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            // `RuntimeErr` hides the sqlx error from `source()`, so it is opened here.
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
                sqlx_unavailable(e)
            }
            _ => false,
        };
    }
    err.downcast_ref::<SqlxError>()
        .is_some_and(sqlx_unavailable)
}

fn sqlx_unavailable(err: &SqlxError) -> bool {
    match err {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::ConnAcquireErr;

    use super::*;

    fn query_err(err: SqlxError) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn lost_connections_and_an_exhausted_pool_are_unavailable() {
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(RuntimeErr::SqlxError(Arc::new(SqlxError::Io(refused())))),
            query_err(SqlxError::Io(refused())),
            query_err(SqlxError::PoolTimedOut),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(SqlxError::PoolClosed))),
        ] {
            assert!(is_unavailable(&err), "{err}");
        }
        assert!(is_unavailable(&SqlxError::Io(refused())));
    }

    #[test]
    fn failed_statements_are_not_unavailable() {
        for err in [
            query_err(SqlxError::RowNotFound),
            query_err(SqlxError::ColumnNotFound("x".to_owned())),
            DbErr::Custom("bad row".to_owned()),
            DbErr::RecordNotUpdated,
        ] {
            assert!(!is_unavailable(&err), "{err}");
        }
        assert!(!is_unavailable(&std::io::Error::other(
            "not a database error"
        )));
    }

    #[tokio::test]
    async fn a_refused_connection_is_reported_unavailable_within_the_acquire_timeout() {
        // Port 1 on loopback: nothing listens there, so every connection is refused.
        let err = connect_with(
            "postgres://postgres@127.0.0.1:1/none",
            1,
            Duration::from_millis(300),
        )
        .await
        .expect_err("nothing listens on port 1");

        let source = err.source().expect("the DbErr is kept as the source");
        assert!(is_unavailable(source), "{err}: {source}");
    }
}
