//! `SeaFindingsStore` on every backend (SQLite always, PostgreSQL with `TEST_DATABASE_URL`),
//! on databases migrated by the real migrator.

use chrono::{DateTime, Utc};
use nexus_kernel::PageRequest;
use nexus_migration::Migrator;
use nexus_sea_seo::SeaFindingsStore;
use nexus_sea_support::testing::backends;
use nexus_seo::{Finding, FindingsStore, RuleId, Severity, StoredAudit, SubjectKind};
use uuid::Uuid;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("instant")
}

fn stored(kind: SubjectKind, path: &str, title: &str, score: u32, when: i64) -> StoredAudit {
    StoredAudit {
        kind,
        id: Uuid::now_v7(),
        path: path.to_owned(),
        slug: path.trim_start_matches('/').to_owned(),
        title: title.to_owned(),
        title_key: nexus_seo::normalized(title),
        description_key: Some("same words".to_owned()),
        score,
        findings: vec![
            Finding {
                rule: RuleId::TitleLength,
                severity: Severity::Warning,
                message: "short".to_owned(),
            },
            Finding {
                rule: RuleId::CanonicalMissing,
                severity: Severity::Notice,
                message: "none".to_owned(),
            },
        ],
        audited_at: at(when),
    }
}

#[tokio::test]
async fn audits_are_upserted_counted_listed_worst_first_and_dropped() {
    for test_db in backends::<Migrator>().await {
        let backend = test_db.backend;
        let store = SeaFindingsStore::new(test_db.db.clone());
        let totals = store.totals().await.expect("totals");
        assert_eq!(totals.items, 0, "{backend}");

        let a = stored(SubjectKind::Product, "/products/a", "Guide", 91, 0);
        let mut b = stored(SubjectKind::Page, "/b", "guide ", 50, 0);
        let c = stored(SubjectKind::Page, "/c", "Other", 70, 10);
        for audit in [&a, &b, &c] {
            store.save(audit).await.expect("saved");
        }
        // Saving again replaces.
        b.score = 40;
        store.save(&b).await.expect("replaced");
        let found = store
            .find(SubjectKind::Page, b.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(found, b, "{backend}");
        assert!(
            store
                .find(SubjectKind::Product, b.id)
                .await
                .expect("read")
                .is_none()
        );

        assert_eq!(
            store
                .count_titles("guide", SubjectKind::Product, a.id)
                .await
                .expect("count"),
            1,
            "{backend}: the other guide"
        );
        assert_eq!(
            store
                .count_descriptions("same words", SubjectKind::Page, c.id)
                .await
                .expect("count"),
            2
        );
        let sharing = store
            .sharing_text(&["guide".to_owned()], &[], 10)
            .await
            .expect("sharing");
        assert_eq!(sharing.len(), 2, "{backend}");
        let paths = store
            .existing_paths(&["/b".to_owned(), "/nowhere".to_owned()])
            .await
            .expect("paths");
        assert_eq!(paths, ["/b"]);

        let totals = store.totals().await.expect("totals");
        assert_eq!(totals.items, 3, "{backend}");
        assert_eq!(totals.score_sum, 91 + 40 + 70);
        assert_eq!(totals.warnings, 3);
        assert_eq!(totals.notices, 3);
        assert_eq!(totals.errors, 0);

        let page = store
            .worst_first(PageRequest::new(Some(1), Some(2)))
            .await
            .expect("page");
        assert_eq!(page.total, 3);
        let scores: Vec<u32> = page.items.iter().map(|i| i.score).collect();
        assert_eq!(scores, [40, 70], "{backend}");

        assert_eq!(store.remove_audited_before(at(5)).await.expect("stale"), 2);
        let removed = store
            .remove(SubjectKind::Page, c.id)
            .await
            .expect("removed");
        assert_eq!(removed.map(|r| r.id), Some(c.id));
        assert!(
            store
                .remove(SubjectKind::Page, c.id)
                .await
                .expect("again")
                .is_none()
        );
        assert_eq!(store.totals().await.expect("totals").items, 0);
    }
}
