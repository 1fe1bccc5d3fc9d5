//! Listing the audit log.

use std::sync::Arc;

use nexus_kernel::Actor;

use crate::permissions::AUDIT_READ;
use crate::{AuditCursor, AuditError, AuditFilter, AuditLog, AuditPage};

/// Reads the audit log for administrators.
#[derive(Clone)]
pub struct AuditService {
    log: Arc<dyn AuditLog>,
}

impl std::fmt::Debug for AuditService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditService").finish_non_exhaustive()
    }
}

impl AuditService {
    /// Page size when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// Largest page.
    pub const MAX_LIMIT: u32 = 100;

    /// A service over `log`.
    #[must_use]
    pub fn new(log: Arc<dyn AuditLog>) -> Self {
        Self { log }
    }

    /// One page of entries matching `filter`, newest first, continuing after `after`;
    /// `limit` defaults to [`Self::DEFAULT_LIMIT`] and is clamped to 1..=[`Self::MAX_LIMIT`].
    ///
    /// # Errors
    /// `Forbidden` without `audit.read`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn list(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        limit: Option<u32>,
    ) -> Result<AuditPage, AuditError> {
        if !actor.can(AUDIT_READ) {
            return Err(AuditError::Forbidden);
        }
        let limit = limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT);
        let mut entries = self.log.list(filter, after, limit + 1).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let next = if more {
            entries.last().map(crate::AuditEntry::cursor)
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use nexus_kernel::{Role, UserId};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::{AuditEntry, MockAuditLog};

    fn entry(minutes_ago: i64) -> AuditEntry {
        AuditEntry {
            id: Uuid::now_v7(),
            occurred_at: Utc::now() - Duration::minutes(minutes_ago),
            actor_id: Some(UserId::new()),
            actor_role: Some("ADMIN".to_owned()),
            action: "users.role_changed".to_owned(),
            target_kind: "user".to_owned(),
            target_id: UserId::new().to_string(),
            summary: json!({"fields": ["role"]}),
            request_id: None,
        }
    }

    #[tokio::test]
    async fn only_those_granted_audit_read_may_list() {
        let mut log = MockAuditLog::new();
        log.expect_list().never();
        let service = AuditService::new(Arc::new(log));
        let manager = Actor::new(UserId::new(), Role::Manager, &[]);

        let result = service
            .list(&manager, &AuditFilter::default(), None, None)
            .await;

        assert!(matches!(result, Err(AuditError::Forbidden)));
    }

    #[tokio::test]
    async fn a_full_page_has_the_cursor_of_its_last_entry() {
        let entries = vec![entry(1), entry(2), entry(3)];
        let second = entries[1].clone();
        let mut log = MockAuditLog::new();
        log.expect_list()
            .withf(|_, after, limit| after.is_none() && *limit == 3)
            .times(1)
            .returning(move |_, _, _| Ok(entries.clone()));
        let service = AuditService::new(Arc::new(log));
        let admin = Actor::new(UserId::new(), Role::Admin, &[AUDIT_READ]);

        let page = service
            .list(&admin, &AuditFilter::default(), None, Some(2))
            .await
            .expect("a page");

        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.next, Some(second.cursor()));
    }

    #[tokio::test]
    async fn the_last_page_has_no_cursor_and_limits_are_clamped() {
        let mut log = MockAuditLog::new();
        log.expect_list()
            .withf(|_, _, limit| *limit == AuditService::MAX_LIMIT + 1)
            .times(1)
            .returning(|_, _, _| Ok(vec![entry(1)]));
        let service = AuditService::new(Arc::new(log));
        let admin = Actor::new(UserId::new(), Role::Admin, &[AUDIT_READ]);

        let page = service
            .list(&admin, &AuditFilter::default(), None, Some(10_000))
            .await
            .expect("a page");

        assert_eq!(page.entries.len(), 1);
        assert_eq!(page.next, None);
    }
}
