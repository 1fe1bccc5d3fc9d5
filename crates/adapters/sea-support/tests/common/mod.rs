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

use nexus_migration::Migrator;
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
