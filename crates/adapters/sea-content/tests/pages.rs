//! `SeaPageRepository` and `SeaContentUnitOfWork` on every backend (SQLite always,
//! PostgreSQL with `TEST_DATABASE_URL`), on databases migrated by the real migrator.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use nexus_content::{
    AuditEntry, AuditEntryId, AuditFilter, ContentError, ContentUnitOfWork, Locale, Page,
    PageContent, PageFilter, PageId, PageInput, PageRepository, PageSlug, PageStatus, PageVersion,
    Published,
};
use nexus_identity::{PasswordHash, User, UserRepository};
use nexus_kernel::{Email, FixedClock, PageRequest, PersonName, Role, UserId};
use nexus_migration::Migrator;
use nexus_outbox::{Routes, RoutesHandle};
use nexus_sea_content::{SeaContentUnitOfWork, SeaPageRepository};
use nexus_sea_support::testing::{TestDb, backends};
use nexus_sea_support::{DatabaseConnection, Transactions};
use serde_json::json;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("instant")
}

async fn staff(db: &DatabaseConnection) -> UserId {
    let user = User {
        id: UserId::new(),
        email: Email::parse(&format!(
            "{}@staff.example.com",
            uuid::Uuid::now_v7().simple()
        ))
        .expect("email"),
        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".to_owned()),
        role: Role::Editor,
        first_name: PersonName::parse("Ed").expect("name"),
        last_name: PersonName::parse("Itor").expect("name"),
        is_active: true,
        email_verified: true,
        version: 1,
        created_at: at(0),
        updated_at: at(0),
    };
    nexus_sea_identity::SeaUserRepository::new(db.clone())
        .insert(&user)
        .await
        .expect("insert staff");
    user.id
}

fn content(key: &str, slug: &str, title: &str) -> PageContent {
    PageInput {
        key: key.to_owned(),
        slug: slug.to_owned(),
        title: title.to_owned(),
        blocks: vec![json!({"type": "richText", "text": "Hello"})],
        ..PageInput::default()
    }
    .into_content()
    .expect("valid")
}

fn page(author: UserId, key: &str, slug: &str, updated: i64) -> Page {
    Page {
        id: PageId::new(),
        draft: content(key, slug, &format!("Title of {key}")),
        status: PageStatus::Draft,
        publish_at: None,
        unpublish_at: None,
        published: None,
        version: 1,
        created_by: author,
        created_at: at(0),
        updated_at: at(updated),
    }
}

struct Store {
    reads: SeaPageRepository,
    uow: SeaContentUnitOfWork,
}

fn store(db: &DatabaseConnection) -> Store {
    Store {
        reads: SeaPageRepository::new(db.clone()),
        uow: SeaContentUnitOfWork::new(Transactions::new(
            db.clone(),
            RoutesHandle::installed(Arc::new(Routes::default())),
            Arc::new(FixedClock::default()),
        )),
    }
}

impl Store {
    async fn insert(&self, p: &Page) -> Result<(), ContentError> {
        let tx = self.uow.begin().await?;
        tx.pages().insert(p).await?;
        tx.pages()
            .insert_version(&PageVersion {
                page_id: p.id,
                number: p.version,
                content: p.draft.clone(),
                author: Some(p.created_by),
                created_at: p.updated_at,
            })
            .await?;
        tx.commit().await
    }

    async fn update(&self, p: &Page, expected: i64) -> Result<(), ContentError> {
        let tx = self.uow.begin().await?;
        tx.pages().update(p, expected).await?;
        tx.commit().await
    }
}

async fn each_backend() -> Vec<TestDb> {
    backends::<Migrator>().await
}

#[tokio::test]
async fn a_page_round_trips_with_its_published_snapshot_and_is_found_where_it_is_public() {
    for t in each_backend().await {
        let s = store(&t.db);
        let author = staff(&t.db).await;
        let mut p = page(author, "about", "about", 1);
        s.insert(&p).await.expect("inserted");
        p.published = Some(Published {
            content: p.draft.clone(),
            version: 2,
            at: at(5),
        });
        p.status = PageStatus::Published;
        p.draft = content("about", "about-us", "Edited");
        p.version = 2;
        s.update(&p, 1).await.expect("updated");

        let loaded = s.reads.find(p.id).await.expect("read").expect("found");
        let public = s
            .reads
            .find_published(&PageSlug::parse("about").expect("slug"), &Locale::english())
            .await
            .expect("read");
        let at_draft_slug = s
            .reads
            .find_published(
                &PageSlug::parse("about-us").expect("slug"),
                &Locale::english(),
            )
            .await
            .expect("read");

        assert_eq!(loaded, p, "{}", t.backend);
        assert_eq!(public.map(|x| x.id), Some(p.id), "{}", t.backend);
        assert!(at_draft_slug.is_none(), "{}", t.backend);
    }
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_taken_keys_and_slugs_are_named() {
    for t in each_backend().await {
        let s = store(&t.db);
        let author = staff(&t.db).await;
        let mut p = page(author, "home", "home", 1);
        s.insert(&p).await.expect("inserted");
        p.version = 2;
        s.update(&p, 1).await.expect("first writer");
        let second = s.update(&p, 1).await;
        let same_key = s.insert(&page(author, "home", "other", 1)).await;
        let same_slug = s.insert(&page(author, "other", "home", 1)).await;

        assert!(
            matches!(second, Err(ContentError::Conflict)),
            "{}",
            t.backend
        );
        assert!(
            matches!(same_key, Err(ContentError::KeyTaken)),
            "{}",
            t.backend
        );
        assert!(
            matches!(same_slug, Err(ContentError::SlugTaken)),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn lists_filter_and_paginate_with_exact_totals() {
    for t in each_backend().await {
        let s = store(&t.db);
        let author = staff(&t.db).await;
        for i in 0..5 {
            s.insert(&page(author, &format!("page-{i}"), &format!("p{i}"), i))
                .await
                .expect("inserted");
        }
        let mut scheduled = page(author, "launch", "launch", 10);
        scheduled.status = PageStatus::Scheduled;
        scheduled.publish_at = Some(at(100));
        s.insert(&scheduled).await.expect("inserted");

        let first = s
            .reads
            .list(&PageFilter::default(), PageRequest::new(Some(1), Some(4)))
            .await
            .expect("list");
        let q = s
            .reads
            .list(
                &PageFilter {
                    q: Some("TITLE OF PAGE-3".to_owned()),
                    ..PageFilter::default()
                },
                PageRequest::default(),
            )
            .await
            .expect("list");
        let by_status = s
            .reads
            .list(
                &PageFilter {
                    status: Some(PageStatus::Scheduled),
                    ..PageFilter::default()
                },
                PageRequest::default(),
            )
            .await
            .expect("list");
        let due_before = s.reads.due(at(99), 10).await.expect("due");
        let due_after = s.reads.due(at(100), 10).await.expect("due");

        assert_eq!((first.total, first.items.len()), (6, 4), "{}", t.backend);
        assert_eq!(first.items[0].id, scheduled.id, "{}", t.backend);
        assert_eq!(q.items.len(), 1, "{}", t.backend);
        assert_eq!(q.items[0].draft.key.as_str(), "page-3", "{}", t.backend);
        assert_eq!(by_status.total, 1, "{}", t.backend);
        assert!(due_before.is_empty(), "{}", t.backend);
        assert_eq!(due_after.len(), 1, "{}", t.backend);
    }
}

#[tokio::test]
async fn versions_and_audit_entries_are_stored_and_listed_newest_first() {
    for t in each_backend().await {
        let s = store(&t.db);
        let author = staff(&t.db).await;
        let p = page(author, "faq", "faq", 1);
        s.insert(&p).await.expect("inserted");
        let tx = s.uow.begin().await.expect("begin");
        tx.pages()
            .insert_version(&PageVersion {
                page_id: p.id,
                number: 2,
                content: content("faq", "faq", "Second"),
                author: None,
                created_at: at(2),
            })
            .await
            .expect("version");
        let duplicate = tx
            .pages()
            .insert_version(&PageVersion {
                page_id: p.id,
                number: 2,
                content: content("faq", "faq", "Again"),
                author: None,
                created_at: at(2),
            })
            .await;
        assert!(
            matches!(duplicate, Err(ContentError::Conflict)),
            "{}",
            t.backend
        );
        drop(tx);
        let tx = s.uow.begin().await.expect("begin");
        for (i, action) in ["created", "updated"].iter().enumerate() {
            tx.pages()
                .insert_audit(&AuditEntry {
                    id: AuditEntryId::new(),
                    at: at(i64::try_from(i).expect("small")),
                    actor: Some(author),
                    entity_kind: "page".to_owned(),
                    entity_id: p.id.as_uuid(),
                    action: (*action).to_owned(),
                    changes: json!({"fields": ["title"]}),
                })
                .await
                .expect("audit");
        }
        tx.commit().await.expect("commit");

        let versions = s
            .reads
            .versions(p.id, PageRequest::default())
            .await
            .expect("versions");
        let audit = s
            .reads
            .audit(
                &AuditFilter {
                    entity_kind: Some("page".to_owned()),
                    entity_id: Some(p.id.as_uuid()),
                },
                PageRequest::default(),
            )
            .await
            .expect("audit");
        let other = s
            .reads
            .audit(
                &AuditFilter {
                    entity_kind: None,
                    entity_id: Some(uuid::Uuid::now_v7()),
                },
                PageRequest::default(),
            )
            .await
            .expect("audit");

        // The rolled-back unit left no version 2.
        assert_eq!(versions.total, 1, "{}", t.backend);
        assert_eq!(versions.items[0].number, 1, "{}", t.backend);
        let actions: Vec<&str> = audit.items.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["updated", "created"], "{}", t.backend);
        assert_eq!(
            audit.items[0].changes,
            json!({"fields": ["title"]}),
            "{}",
            t.backend
        );
        assert_eq!(other.total, 0, "{}", t.backend);
        let _ = Duration::zero();
    }
}
