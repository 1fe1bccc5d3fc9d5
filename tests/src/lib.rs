//! Black-box test harness: starts the real `nexus` application on a random port with a fresh
//! database, and gives tests a small HTTP client with helpers for the API contract.
//!
//! The database is a temporary SQLite file, or, when `TEST_DATABASE_URL` names a PostgreSQL
//! maintenance database, a `test_<uuid>` database created for the one test and dropped with
//! its [`TestApp`]. Stale `test_*` databases left by crashed runs are swept once per process.

mod accounts;
mod app;
mod commerce;
mod crm;
mod database;
mod gateway;
mod http;
mod mail;
mod oauth;
mod search;
#[cfg(unix)]
pub mod servers;
mod totp;

pub use accounts::*;
pub use app::*;
pub use commerce::*;
pub use crm::*;
use database::*;
pub use gateway::*;
pub use http::*;
pub use mail::*;
pub use oauth::*;
pub use search::*;
pub use totp::*;
