//! Fresh, migrated databases on every backend (see `nexus_sea_support::testing`) and
//! fixtures for this crate's tests.
//!
//! Every test body runs once per backend from [`backends`]: SQLite always (a temporary
//! file), PostgreSQL when `TEST_DATABASE_URL` names a maintenance database (a
//! `test_<uuid v7>` database is created over it and dropped afterwards). With `CI=true`
//! a missing or unreachable PostgreSQL fails the test instead of being skipped.

#![allow(
    dead_code,
    reason = "each test binary uses its own subset of these helpers"
)]

use chrono::{DateTime, Utc};
use nexus_kernel::{Email, JobId};
use nexus_migration::Migrator;
use nexus_notifications::{JobPayload, NewJob};
pub use nexus_sea_support::testing::TestDb;
use uuid::Uuid;

/// Every backend to run a test on, each a fresh database migrated by the real migrator.
pub async fn backends() -> Vec<TestDb> {
    nexus_sea_support::testing::backends::<Migrator>().await
}

/// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset outside CI.
pub async fn postgres() -> Option<TestDb> {
    nexus_sea_support::testing::postgres::<Migrator>().await
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    nexus_sea_support::testing::sqlite::<Migrator>().await
}

/// 2026-01-01T00:00:00Z plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("valid instant")
}

/// A parsed e-mail address.
pub fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid e-mail")
}

/// An invoice job for order `order`, due at `at(run_at)`, with three attempts.
pub fn invoice_job(order: Uuid, run_at: i64) -> NewJob {
    NewJob {
        id: JobId::new(),
        payload: JobPayload::GenerateInvoice { order_id: order },
        run_at: at(run_at),
        max_attempts: 3,
    }
}

/// A credit-note job (a second kind, for filters), due at `at(run_at)`.
pub fn credit_note_job(order: Uuid, refund: &str, run_at: i64) -> NewJob {
    NewJob {
        id: JobId::new(),
        payload: JobPayload::GenerateCreditNote {
            order_id: order,
            refund_id: refund.to_owned(),
        },
        run_at: at(run_at),
        max_attempts: 3,
    }
}
