#![doc = include_str!("../README.md")]

pub mod db;
mod error;
mod jobs;
mod support;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{DbError, is_unique_violation, unexpected};
pub use jobs::insert_jobs;
pub use sea_orm::{DatabaseConnection, DbBackend};
pub use support::{begin_read, begin_write, contains_pattern, invalid_row};
