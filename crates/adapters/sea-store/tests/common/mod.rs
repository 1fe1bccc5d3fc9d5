//! Fresh, migrated databases for the adapter tests, and fixtures.
//!
//! Every test body runs once per backend from [`backends`]: SQLite always (a temporary
//! file), PostgreSQL when `TEST_DATABASE_URL` names a maintenance database (a
//! `test_<uuid v7>` database is created over it and dropped afterwards). With `CI=true`
//! a missing or unreachable PostgreSQL fails the test instead of being skipped.

#![allow(
    dead_code,
    reason = "each test binary uses its own subset of these helpers"
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use nexus_customers::{
    Customer, CustomerRepository, CustomerStatus, EnquirerName, Enquiry, EnquiryMessage,
    EnquiryStatus, EnquirySubject, Tags,
};
use nexus_identity::{PasswordHash, User, UserRepository};
use nexus_kernel::{CustomerId, Email, EnquiryId, JobId, PersonName, Role, UserId};
use nexus_notifications::{JobPayload, NewJob};
use nexus_sea_store::entities::job as job_row;
use nexus_sea_store::{DatabaseConnection, SeaCustomerRepository, SeaUserRepository, db};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DbBackend, EntityTrait, PaginatorTrait, Statement,
};
use uuid::Uuid;

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
}

/// Every backend to run a test on, each a fresh database migrated by the real migrator.
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

/// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset outside CI.
///
/// # Panics
/// When CI runs without a usable PostgreSQL, or a configured one is unreachable.
pub async fn postgres() -> Option<TestDb> {
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
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create a test database");
    admin.close().await.ok();
    let cleanup = DropDatabase {
        maintenance_url: maintenance_url.clone(),
        name: name.clone(),
    };
    let db = db::connect(&with_database(&maintenance_url, &name), 8)
        .await
        .expect("connect to the test database");
    db::migrate(&db).await.expect("migrate PostgreSQL");
    Some(TestDb {
        backend: "postgres",
        db,
        _sqlite_dir: None,
        _postgres: Some(cleanup),
    })
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    // No `mode=rwc`: `connect` must create the file by itself.
    let url = format!("sqlite://{}", dir.path().join("nexus.db").display());
    let db = db::connect(&url, 4).await.expect("open SQLite");
    db::migrate(&db).await.expect("migrate SQLite");
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

/// 2026-01-01T00:00:00Z plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("valid instant")
}

/// A parsed e-mail address.
pub fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid e-mail")
}

/// A parsed person name.
pub fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).expect("valid name")
}

/// An active, verified account, created at `at(created)`.
pub fn user(address: &str, role: Role, created: i64) -> User {
    User {
        id: UserId::new(),
        email: email(address),
        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".to_owned()),
        role,
        first_name: name("Test"),
        last_name: name("User"),
        is_active: true,
        email_verified: true,
        version: 1,
        created_at: at(created),
        updated_at: at(created),
    }
}

/// Inserts a staff member and returns their id (customers need a real creator).
pub async fn staff(db: &DatabaseConnection, role: Role) -> UserId {
    let member = user(
        &format!("{}@staff.example.com", Uuid::now_v7().simple()),
        role,
        0,
    );
    SeaUserRepository::new(db.clone())
        .insert(&member, &[])
        .await
        .expect("insert staff member");
    member.id
}

/// A LEAD customer with no phone, company or tags, created and updated at `at(created)`.
pub fn customer(address: &str, created_by: UserId, created: i64) -> Customer {
    Customer {
        id: CustomerId::new(),
        first_name: name("Pat"),
        last_name: name("Doe"),
        email: email(address),
        phone: None,
        company: None,
        status: CustomerStatus::Lead,
        tags: Tags::default(),
        assigned_to: None,
        created_by,
        created_at: at(created),
        updated_at: at(created),
        version: 1,
    }
}

/// Inserts a LEAD customer with this address (and a manager who created it).
pub async fn inserted_customer(db: &DatabaseConnection, address: &str) -> Customer {
    let creator = staff(db, Role::Manager).await;
    let c = customer(address, creator, 0);
    SeaCustomerRepository::new(db.clone())
        .insert(&c)
        .await
        .expect("insert customer");
    c
}

/// An OPEN, unassigned enquiry from `customer`, created and updated at `at(created)`.
pub fn enquiry(customer: &Customer, subject: &str, created: i64) -> Enquiry {
    Enquiry {
        id: EnquiryId::new(),
        customer_id: customer.id,
        name: EnquirerName::parse("Pat Doe").expect("valid name"),
        email: customer.email.clone(),
        subject: EnquirySubject::parse(subject).expect("valid subject"),
        message: EnquiryMessage::parse("How much is it?\nThanks.").expect("valid message"),
        product_id: None,
        status: EnquiryStatus::Open,
        assigned_to: None,
        created_at: at(created),
        updated_at: at(created),
        version: 1,
    }
}

/// A welcome job for `user`, due at `at(run_at)`, with three attempts.
pub fn welcome_job(user: UserId, run_at: i64) -> NewJob {
    NewJob {
        id: JobId::new(),
        payload: JobPayload::SendWelcome { user_id: user },
        run_at: at(run_at),
        max_attempts: 3,
    }
}

/// A job sending a one-time code (a sensitive payload), due at `at(run_at)`.
pub fn otp_job(user: UserId, address: &str, code: &str, run_at: i64) -> NewJob {
    NewJob {
        id: JobId::new(),
        payload: JobPayload::SendOtp {
            user_id: user,
            email: email(address),
            code: code.to_owned(),
            purpose: "LOGIN".to_owned(),
            expires_in_minutes: 10,
        },
        run_at: at(run_at),
        max_attempts: 3,
    }
}

/// How many rows the `jobs` table holds.
pub async fn job_count(db: &DatabaseConnection) -> u64 {
    job_row::Entity::find().count(db).await.expect("count jobs")
}
