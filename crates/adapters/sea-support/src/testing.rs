//! Fresh, migrated databases for the adapter tests of every `nexus-sea-*` crate (feature
//! `test-support`, for dev-dependencies only).
//!
//! Every test body runs once per backend from [`backends`]: SQLite always (a temporary
//! file), PostgreSQL when `TEST_DATABASE_URL` names a maintenance database (a
//! `test_<uuid v7>` database is created over it and dropped afterwards). With `CI=true`
//! a missing or unreachable PostgreSQL fails the test instead of being skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use crate::db;

/// Databases older than this whose name says `test_<uuid v7>` are leftovers of crashed
/// runs and are dropped.
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// One fresh, migrated database and what it takes to clean it up.
pub struct TestDb {
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub backend: &'static str,
    /// A pool on the fresh database.
    pub db: DatabaseConnection,
    // Dropped after `db` (fields drop in order): the pool closes before the database goes.
    /// Removing the directory removes the SQLite file.
    _sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<DropDatabase>,
}

impl TestDb {
    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.backend == "postgres"
    }

    /// A pool of one connection on the same database, opened now: it sees the database as
    /// it is, where a pooled SQLite connection may still read from an older snapshot after
    /// schema changes made through another connection.
    ///
    /// # Panics
    /// When the database cannot be opened.
    pub async fn single_connection(&self) -> DatabaseConnection {
        match &self._sqlite_dir {
            Some(dir) => {
                let url = format!("sqlite://{}", dir.path().join("nexus.db").display());
                db::connect(&url, 1).await.expect("reopen SQLite")
            }
            None => self.db.clone(),
        }
    }
}

/// Every backend to run a test on, each a fresh database migrated by `M` (the real
/// migrator, `nexus_migration::Migrator`, which adapter crates take as a dev-dependency).
pub async fn backends<M: MigratorTrait>() -> Vec<TestDb> {
    let mut dbs = vec![sqlite::<M>().await];
    dbs.extend(postgres::<M>().await);
    dbs
}

/// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset outside CI.
///
/// # Panics
/// When CI runs without a usable PostgreSQL, or a configured one is unreachable.
pub async fn postgres<M: MigratorTrait>() -> Option<TestDb> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Ok(maintenance_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            !in_ci,
            "CI=true but TEST_DATABASE_URL is unset: CI must never skip PostgreSQL"
        );
        return None;
    };
    let admin = Database::connect(maintenance(&maintenance_url))
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
    sweep_stale_databases(&admin).await;
    let name = format!("test_{}", Uuid::now_v7().simple());
    create_migrated_postgres::<M>(&admin, &maintenance_url, &name)
        .await
        .expect("create a migrated test database");
    admin.close().await.ok();
    let cleanup = DropDatabase {
        maintenance_url: maintenance_url.clone(),
        name: name.clone(),
    };
    let db = db::connect(&with_database(&maintenance_url, &name), 8)
        .await
        .expect("connect to the test database");
    Some(TestDb {
        backend: "postgres",
        db,
        _sqlite_dir: None,
        _postgres: Some(cleanup),
    })
}

/// The prefix of the template databases [`create_migrated_postgres`] keeps.
const TEMPLATE_PREFIX: &str = "nexus_template_";

/// FNV-1a over the names of `M`'s migrations: the same on every run and toolchain, so
/// every test process of a run finds the same template.
fn migrations_key<M: MigratorTrait>() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in M::migrations() {
        for byte in migration.name().bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Creates database `name` on the server `admin` (a one-connection pool on its
/// maintenance database, `maintenance_url`) as a copy of a template that `M` migrated,
/// instead of running every migration for every test: `CREATE DATABASE ... TEMPLATE` copies
/// the migrated schema in a fraction of the time.
///
/// The template, `nexus_template_<key>` where the key hashes the names of `M`'s
/// migrations, is built once by the first test that needs it (the others wait on a
/// session advisory lock, so it is built once per run even across test processes), by the
/// real migrator, and renamed into place only when complete. It is kept for later runs and
/// rebuilt whenever a migration is added; templates of other migration sets are dropped
/// when one is built. A migration edited in place after its template was built is not
/// seen: drop the template (`DROP DATABASE nexus_template_...`) and it is rebuilt.
///
/// # Errors
/// When a statement, the connection or a migration fails.
pub async fn create_migrated_postgres<M: MigratorTrait>(
    admin: &DatabaseConnection,
    maintenance_url: &str,
    name: &str,
) -> Result<(), DbErr> {
    let key = migrations_key::<M>();
    let template = format!("{TEMPLATE_PREFIX}{key:016x}");
    let lock = i64::from_ne_bytes(key.to_ne_bytes());
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_lock({lock})"))
        .await?;
    let built = build_template::<M>(admin, maintenance_url, &template).await;
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({lock})"))
        .await?;
    built?;
    admin
        .execute_unprepared(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .await?;
    Ok(())
}

/// Builds `template` unless it exists; the caller holds its advisory lock.
async fn build_template<M: MigratorTrait>(
    admin: &DatabaseConnection,
    maintenance_url: &str,
    template: &str,
) -> Result<(), DbErr> {
    let existing = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT datname FROM pg_database WHERE datname LIKE '{}%'",
                TEMPLATE_PREFIX.replace('_', "\\_")
            ),
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get::<String>("", "datname").ok())
        .collect::<Vec<_>>();
    if existing.iter().any(|n| n == template) {
        return Ok(());
    }
    // Another migration set's templates, and a half-built one of a crashed run.
    for other in &existing {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{other}\" WITH (FORCE)"))
            .await?;
    }
    let building = format!("{template}_building");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{building}\""))
        .await?;
    let db = db::connect(&with_database(maintenance_url, &building), 1)
        .await
        .map_err(|e| DbErr::Custom(format!("connect to the template being built: {e}")))?;
    M::up(&db, None).await?;
    db.close().await?;
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
        ))
        .await?;
    Ok(())
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite<M: MigratorTrait>() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    // No `mode=rwc`: `connect` must create the file by itself.
    let url = format!("sqlite://{}", dir.path().join("nexus.db").display());
    let db = db::connect(&url, 4).await.expect("open SQLite");
    M::up(&db, None).await.expect("migrate SQLite");
    TestDb {
        backend: "sqlite",
        db,
        _sqlite_dir: Some(dir),
        _postgres: None,
    }
}

/// Options for one short-lived administrative connection that fails fast when the server
/// is down (the pool default waits 30 s).
fn maintenance(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    options
}

/// `url` pointing at database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, params) = match url.split_once('?') {
        Some((base, params)) => (base, format!("?{params}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!(
        "{}/{name}{params}",
        &base[..authority_start.max(authority_end)]
    )
}

/// Drops `test_<uuid v7>` databases created more than an hour ago, once per process.
/// Best effort: a failure here never fails a test.
async fn sweep_stale_databases(admin: &DatabaseConnection) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            r"SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'",
        ))
        .await
    else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = name
            .strip_prefix("test_")
            .and_then(|id| Uuid::try_parse(id).ok())
            .filter(|id| id.get_version_num() == 7)
            .and_then(|id| id.get_timestamp())
            .map(|ts| Duration::from_secs(ts.to_unix().0));
        if created.is_some_and(|created| now.saturating_sub(created) > STALE_AFTER) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// Drops a PostgreSQL test database when the test ends, even by panic.
struct DropDatabase {
    maintenance_url: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let url = self.maintenance_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop cannot await, and the test's runtime may be unwinding: use a thread with
        // its own runtime. WITH (FORCE) ends connections the test pool still holds.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(maintenance(&url)).await {
                    let _ = admin.execute_unprepared(&sql).await;
                    admin.close().await.ok();
                }
            });
        })
        .join();
    }
}

/// How many rows `table` holds.
///
/// # Panics
/// When the count fails.
pub async fn count_rows(db: &DatabaseConnection, table: &str) -> u64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count rows")
        .expect("a count row");
    let n: i64 = row.try_get("", "n").expect("a count");
    u64::try_from(n).expect("a count is never negative")
}
