#![doc = include_str!("../README.md")]

mod model;
pub mod permissions;
mod ports;
mod service;

pub use model::{AuditCursor, AuditEntry, AuditError, AuditFilter, AuditPage};
pub use ports::AuditLog;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockAuditLog;
pub use service::AuditService;
