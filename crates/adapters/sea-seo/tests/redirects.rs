//! The redirect adapters on every backend (SQLite always, PostgreSQL with
//! `TEST_DATABASE_URL`), on databases migrated by the real migrator.

use std::sync::Arc;

use chrono::Utc;
use nexus_kernel::{FixedClock, PageRequest};
use nexus_migration::Migrator;
use nexus_outbox::{Routes, RoutesHandle};
use nexus_sea_seo::{SeaRedirectRepository, SeaRedirectUnitOfWork};
use nexus_sea_support::Transactions;
use nexus_sea_support::testing::backends;
use nexus_seo::{
    Redirect, RedirectAudit, RedirectKind, RedirectRepository, RedirectRule, RedirectUnitOfWork,
    SeoError,
};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

fn rule(from: &str, kind: RedirectKind, to: Option<&str>) -> RedirectRule {
    RedirectRule {
        id: Uuid::now_v7(),
        rule: Redirect::new(from, kind, to).expect("a valid rule"),
        note: Some("why".to_owned()),
        version: 1,
        created_at: Utc::now(),
        created_by: Some(Uuid::now_v7()),
        updated_at: Utc::now(),
        updated_by: None,
    }
}

fn audit(id: Uuid, action: &str) -> RedirectAudit {
    RedirectAudit {
        id: Uuid::now_v7(),
        at: Utc::now(),
        actor: Uuid::now_v7(),
        rule_id: id,
        action: action.to_owned(),
        changes: serde_json::json!({ "fields": [] }),
    }
}

#[tokio::test]
async fn rules_are_written_with_versions_listed_filtered_and_audited() {
    for test_db in backends::<Migrator>().await {
        let backend = test_db.backend;
        let reads = SeaRedirectRepository::new(test_db.db.clone());
        let uow = SeaRedirectUnitOfWork::new(Transactions::new(
            test_db.db.clone(),
            RoutesHandle::installed(Arc::new(Routes::default())),
            Arc::new(FixedClock::default()),
        ));
        let a = rule(
            "/Old-Guide",
            RedirectKind::Permanent,
            Some("/guide?from=old"),
        );
        let b = rule("/gone", RedirectKind::Gone, None);
        let tx = uow.begin().await.expect("begin");
        tx.redirects().insert(&a).await.expect("insert a");
        tx.redirects().insert(&b).await.expect("insert b");
        tx.redirects()
            .insert_audit(&audit(a.id, "created"))
            .await
            .expect("audit");
        tx.commit().await.expect("commit");

        let found = reads.find(a.id).await.expect("find").expect("stored");
        assert_eq!(found.rule, a.rule, "{backend}");
        assert_eq!(found.note.as_deref(), Some("why"), "{backend}");
        let all = reads.all(10).await.expect("all");
        assert_eq!(
            all.iter().map(|r| r.rule.from()).collect::<Vec<_>>(),
            ["/Old-Guide", "/gone"],
            "{backend}"
        );
        assert_eq!(reads.all(1).await.expect("bounded").len(), 1, "{backend}");
        let hits = reads
            .list(Some("GUIDE".to_owned()), PageRequest::default())
            .await
            .expect("list");
        assert_eq!(hits.total, 1, "{backend}");
        let none = reads
            .list(Some("%".to_owned()), PageRequest::default())
            .await
            .expect("list");
        assert_eq!(none.total, 0, "{backend}");

        // The same source again is refused.
        let tx = uow.begin().await.expect("begin");
        let twin = rule("/gone", RedirectKind::Temporary, Some("/x"));
        assert!(
            matches!(
                tx.redirects().insert(&twin).await,
                Err(SeoError::SourceTaken)
            ),
            "{backend}"
        );
        drop(tx);

        // A stale version is a conflict; the current one saves.
        let mut changed = found.clone();
        changed.version = 2;
        changed.rule =
            Redirect::new("/old-guide", RedirectKind::Temporary, Some("/g")).expect("rule");
        let tx = uow.begin().await.expect("begin");
        assert!(
            matches!(
                tx.redirects().update(&changed, 5).await,
                Err(SeoError::Conflict)
            ),
            "{backend}"
        );
        tx.redirects().update(&changed, 1).await.expect("update");
        assert!(
            matches!(
                tx.redirects().delete(b.id, 2).await,
                Err(SeoError::Conflict)
            ),
            "{backend}"
        );
        tx.redirects().delete(b.id, 1).await.expect("delete");
        tx.commit().await.expect("commit");
        let saved = reads.find(a.id).await.expect("find").expect("stored");
        assert_eq!(
            (saved.version, saved.rule.from()),
            (2, "/old-guide"),
            "{backend}"
        );
        assert_eq!(saved.created_by, a.created_by, "{backend}");
        assert!(reads.find(b.id).await.expect("find").is_none(), "{backend}");

        let row = test_db
            .db
            .query_one_raw(Statement::from_string(
                test_db.db.get_database_backend(),
                "SELECT entity_kind, action FROM content_audit",
            ))
            .await
            .expect("audit row")
            .expect("one");
        assert_eq!(
            row.try_get::<String>("", "entity_kind").expect("kind"),
            "redirect_rule",
            "{backend}"
        );
    }
}
