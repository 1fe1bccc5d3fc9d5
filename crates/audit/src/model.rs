//! Entries as read back, the filters of a list and its keyset cursor.

use chrono::{DateTime, Utc};
use nexus_kernel::{Unexpected, UserId};
use serde_json::Value;
use uuid::Uuid;

/// Everything that can go wrong reading the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The caller may not read the audit log.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

/// One stored record of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its id.
    pub id: Uuid,
    /// When the action happened.
    pub occurred_at: DateTime<Utc>,
    /// Who acted; `None` for the system.
    pub actor_id: Option<UserId>,
    /// Their role at the time (`ADMIN`...); `None` for the system.
    pub actor_role: Option<String>,
    /// `<context>.<verb>`.
    pub action: String,
    /// The kind of record acted on.
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// What changed; never a secret.
    pub summary: Value,
    /// The request that did it (its `X-Request-Id`).
    pub request_id: Option<String>,
}

impl AuditEntry {
    /// The cursor that continues after this entry.
    #[must_use]
    pub const fn cursor(&self) -> AuditCursor {
        AuditCursor {
            at: self.occurred_at,
            id: self.id,
        }
    }
}

/// Where a page continues: strictly older than `(at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    /// The time of the last entry read.
    pub at: DateTime<Utc>,
    /// Its id (ties on time are ordered by id).
    pub id: Uuid,
}

/// Which entries to list; every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor's.
    pub actor: Option<UserId>,
    /// Only on this kind of record.
    pub target_kind: Option<String>,
    /// Only on the record with this id.
    pub target_id: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only before this time.
    pub to: Option<DateTime<Utc>>,
}

/// One page of entries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<AuditCursor>,
}
