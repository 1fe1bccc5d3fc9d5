//! The fresh database of each test: a temporary SQLite file, or a `test_<uuid>` PostgreSQL
//! database (a copy of a migrated template, see
//! `nexus_sea_support::testing::create_migrated_postgres`) swept when stale.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::*;

/// Per-test databases older than this are considered left over by a crashed run.
/// A run of the suite is far shorter, so a concurrent run's databases are never swept.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(30 * 60);

/// The database of one test: a SQLite file in the test's data directory, or a PostgreSQL
/// database dropped when this value is.
pub(crate) struct TestDatabase {
    pub(crate) url: String,
    pub(crate) _postgres: Option<PostgresDatabase>,
}

pub(crate) struct PostgresDatabase {
    pub(crate) maintenance_url: String,
    pub(crate) name: String,
}

impl TestDatabase {
    pub(crate) async fn create(data_dir: &std::path::Path) -> Self {
        let Ok(maintenance_url) = std::env::var(TEST_DATABASE_URL) else {
            return Self {
                url: format!("sqlite://{}/nexus.db?mode=rwc", data_dir.display()),
                _postgres: None,
            };
        };
        let maintenance = connect_maintenance(&maintenance_url).await;
        sweep_stale_databases_once(&maintenance_url).await;

        // A v7 id embeds its creation time, which lets the sweep spare a concurrent run.
        let name = format!("test_{}", Uuid::now_v7().simple());
        // Already migrated (a copy of a template the real migrator built), so the app's own
        // migration at start finds nothing to do; the SQLite runs still migrate from empty.
        nexus_sea_support::testing::create_migrated_postgres::<nexus_migration::Migrator>(
            &maintenance,
            &maintenance_url,
            &name,
        )
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = maintenance.close().await;

        let mut url = Url::parse(&maintenance_url)
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL} is not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        Self {
            url: url.to_string(),
            _postgres: Some(PostgresDatabase {
                maintenance_url,
                name,
            }),
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let url = self.maintenance_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its
        // own runtime does the work. Best effort: the sweep removes anything left behind.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let mut options = ConnectOptions::new(url);
                options.max_connections(1).sqlx_logging(false);
                if let Ok(db) = Database::connect(options).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

pub(crate) async fn connect_maintenance(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    match Database::connect(options).await {
        Ok(db) => db,
        // Never fall back to SQLite when PostgreSQL was asked for: in CI that would report a
        // green PostgreSQL run that never happened, and locally it would hide a stopped server.
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            panic!("{TEST_DATABASE_URL} is set but unreachable (CI={ci}): {e}")
        }
    }
}

pub(crate) static SWEPT: OnceCell<()> = OnceCell::const_new();

pub(crate) async fn sweep_stale_databases_once(maintenance_url: &str) {
    SWEPT
        .get_or_init(|| async {
            let db = connect_maintenance(maintenance_url).await;
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    r"SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'",
                ))
                .await
                .unwrap_or_default();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            for row in rows {
                let Ok(name) = row.try_get_by_index::<String>(0) else {
                    continue;
                };
                if is_stale(&name, now) {
                    let _ = db
                        .execute_unprepared(&format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .await;
                }
            }
            let _ = db.close().await;
        })
        .await;
}

/// Whether `name` is a `test_<uuid v7>` database created more than [`STALE_AFTER`] ago.
/// Names that are not ours are never touched.
pub(crate) fn is_stale(name: &str, now: Duration) -> bool {
    let Some(created) = name
        .strip_prefix("test_")
        .and_then(|id| Uuid::parse_str(id).ok())
        .filter(|id| id.get_version_num() == 7)
        .and_then(|id| id.get_timestamp())
    else {
        return false;
    };
    let (secs, _) = created.to_unix();
    now.as_secs().saturating_sub(secs) > STALE_AFTER.as_secs()
}
