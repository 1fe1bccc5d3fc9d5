//! What the audit log needs from storage.

use async_trait::async_trait;

use crate::{AuditCursor, AuditEntry, AuditError, AuditFilter};

/// Reads the stored audit log. Writing is each context's unit of work's job.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Up to `limit` entries matching `filter`, strictly older than `after` in
    /// `(occurred_at, id)` order, newest first.
    /// Implementations return only `Unexpected` for failures.
    async fn list(
        &self,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AuditError>;
}
