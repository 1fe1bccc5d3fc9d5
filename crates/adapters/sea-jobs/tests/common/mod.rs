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
use nexus_kernel::{Email, JobId, UserId};
use nexus_migration::Migrator;
use nexus_notifications::{JobPayload, NewJob};
pub use nexus_sea_support::testing::TestDb;

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
