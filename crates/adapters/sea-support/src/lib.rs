#![doc = include_str!("../README.md")]

mod audit;
pub mod db;
mod error;
pub mod outbox;
mod support;
#[cfg(feature = "test-support")]
pub mod testing;
mod uow;

pub use audit::{actor_with_role, append_audit};
pub use error::{DbError, is_unique_violation, unexpected};
pub use outbox::{TaskLocalRequestId, append_events, current_request_id, scope_request_id};
pub use sea_orm::{DatabaseConnection, DbBackend};
pub use support::{begin_read, begin_write, contains_pattern, invalid_row};
pub use uow::{EventTransaction, Transactions};
