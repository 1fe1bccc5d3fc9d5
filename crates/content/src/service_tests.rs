//! Unit tests of `PageService` over mocked ports.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Clock, FixedClock, Role, UserId};
use serde_json::json;

use crate::permissions::actor;
use crate::test_support::Tx;
use crate::{
    ContentError, MockContentUnitOfWork, MockPageRepository, MockPageStore, Page, PageChange,
    PageId, PageInput, PageService, PageStatus, PageVersion, PreviewSigner,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

struct Hmacish;
impl PreviewSigner for Hmacish {
    fn sign(&self, message: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ("test-key", message).hash(&mut h);
        format!("{:x}", h.finish())
    }
    fn verify(&self, message: &str, signature: &str) -> bool {
        self.sign(message) == signature
    }
}

/// A service whose units of work use `store` and log their events and commits.
fn service(
    repo: MockPageRepository,
    store: MockPageStore,
) -> (PageService, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(store);
    let mut uow = MockContentUnitOfWork::new();
    let l = log.clone();
    uow.expect_begin().returning(move || {
        Ok(Box::new(Tx::new(
            store.clone(),
            crate::MockTeamStore::new(),
            crate::MockPostStore::new(),
            l.clone(),
        )))
    });
    (
        PageService::new(
            Arc::new(repo),
            Arc::new(uow),
            Arc::new(Hmacish),
            Arc::new(FixedClock::default()),
            Duration::minutes(15),
        ),
        log,
    )
}

fn input() -> PageInput {
    PageInput {
        key: "about".to_owned(),
        slug: "about".to_owned(),
        title: "About us".to_owned(),
        blocks: vec![json!({"type": "richText", "text": "Hello"})],
        ..PageInput::default()
    }
}

fn page(status: PageStatus, version: i64) -> Page {
    Page {
        id: PageId::new(),
        draft: input().into_content().expect("valid"),
        status,
        publish_at: None,
        unpublish_at: None,
        published: None,
        version,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
    }
}

fn found(p: &Page) -> MockPageRepository {
    let p = p.clone();
    let mut repo = MockPageRepository::new();
    repo.expect_find().returning(move |_| Ok(Some(p.clone())));
    repo
}

fn writes() -> MockPageStore {
    let mut store = MockPageStore::new();
    store.expect_update().returning(|_, _| Ok(()));
    store.expect_insert().returning(|_| Ok(()));
    store.expect_insert_version().returning(|_| Ok(()));
    store.expect_insert_audit().returning(|_| Ok(()));
    store
}

#[tokio::test]
async fn an_editor_creates_a_draft_with_version_one_its_version_row_and_audit_entry() {
    let mut store = MockPageStore::new();
    store.expect_insert().times(1).returning(|_| Ok(()));
    store
        .expect_insert_version()
        .withf(|v| v.number == 1)
        .times(1)
        .returning(|_| Ok(()));
    store
        .expect_insert_audit()
        .withf(|a| a.action == "created" && a.entity_kind == "page")
        .times(1)
        .returning(|_| Ok(()));
    let (svc, log) = service(MockPageRepository::new(), store);

    let created = svc
        .create(&actor(UserId::new(), Role::Editor), input())
        .await
        .expect("created");

    assert_eq!((created.status, created.version), (PageStatus::Draft, 1));
    assert_eq!(
        *log.lock().expect("lock"),
        ["content.page_updated", "commit"]
    );
}

#[tokio::test]
async fn a_cso_or_customer_may_not_touch_pages() {
    for role in [Role::Cso, Role::Customer] {
        let (svc, log) = service(MockPageRepository::new(), MockPageStore::new());
        let who = actor(UserId::new(), role);
        assert!(matches!(
            svc.create(&who, input()).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.publish(&who, PageId::new(), 1).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.audit(&who, Default::default(), Default::default())
                .await,
            Err(ContentError::Forbidden)
        ));
        assert!(log.lock().expect("lock").is_empty());
    }
}

#[tokio::test]
async fn bad_blocks_are_refused_with_their_paths_before_any_write() {
    let (svc, log) = service(MockPageRepository::new(), MockPageStore::new());
    let mut bad = input();
    bad.blocks = vec![
        json!({"type": "richText", "text": "ok"}),
        json!({"type": "faq", "items": [{"question": "", "answer": "a"}]}),
    ];

    let result = svc.create(&actor(UserId::new(), Role::Editor), bad).await;

    let Err(ContentError::Invalid(issues)) = result else {
        panic!("accepted: {result:?}");
    };
    assert_eq!(issues[0].field, "blocks[1].items[0].question");
    assert!(log.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_writes_nothing() {
    let p = page(PageStatus::Draft, 3);
    let (svc, log) = service(found(&p), MockPageStore::new());
    let editor = actor(UserId::new(), Role::Editor);

    let update = svc
        .update(
            &editor,
            p.id,
            2,
            PageChange {
                title: Some("X".into()),
                ..PageChange::default()
            },
        )
        .await;
    let publish = svc.publish(&editor, p.id, 2).await;

    assert!(matches!(update, Err(ContentError::Conflict)));
    assert!(matches!(publish, Err(ContentError::Conflict)));
    assert!(log.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn editing_a_published_page_keeps_the_public_snapshot() {
    let editor = actor(UserId::new(), Role::Editor);
    let p = page(PageStatus::Draft, 1);
    let (svc, _) = service(found(&p), writes());
    let published = svc.publish(&editor, p.id, 1).await.expect("published");
    let (svc, log) = service(found(&published), writes());

    let edited = svc
        .update(
            &editor,
            published.id,
            published.version,
            PageChange {
                title: Some("New title".into()),
                ..PageChange::default()
            },
        )
        .await
        .expect("updated");

    assert_eq!(edited.draft.title.as_str(), "New title");
    let snapshot = edited.published.expect("still published");
    assert_eq!(snapshot.content.title.as_str(), "About us");
    assert_eq!(edited.status, PageStatus::Published);
    assert_eq!(
        *log.lock().expect("lock"),
        ["content.page_updated", "commit"]
    );
}

#[tokio::test]
async fn publishing_copies_the_draft_and_records_page_published() {
    let p = page(PageStatus::Draft, 1);
    let (svc, log) = service(found(&p), writes());

    let published = svc
        .publish(&actor(UserId::new(), Role::Editor), p.id, 1)
        .await
        .expect("published");

    assert_eq!(published.status, PageStatus::Published);
    assert_eq!(published.version, 2);
    let snapshot = published.published.expect("snapshot");
    assert_eq!((snapshot.version, snapshot.content), (2, p.draft));
    assert_eq!(
        *log.lock().expect("lock"),
        ["content.page_published", "commit"]
    );
}

#[tokio::test]
async fn scheduling_wants_future_times_in_order_and_a_page_that_can_take_them() {
    let p = page(PageStatus::Draft, 1);
    let (svc, log) = service(found(&p), writes());
    let editor = actor(UserId::new(), Role::Editor);
    let later = now() + Duration::hours(1);

    let past = svc
        .schedule(&editor, p.id, 1, Some(now() - Duration::seconds(1)), None)
        .await;
    let none = svc.schedule(&editor, p.id, 1, None, None).await;
    let reversed = svc
        .schedule(&editor, p.id, 1, Some(later), Some(later))
        .await;
    let end_of_a_draft = svc.schedule(&editor, p.id, 1, None, Some(later)).await;
    let ok = svc
        .schedule(
            &editor,
            p.id,
            1,
            Some(later),
            Some(later + Duration::hours(1)),
        )
        .await
        .expect("scheduled");

    assert!(matches!(past, Err(ContentError::Invalid(ref i)) if i[0].field == "publishAt"));
    assert!(matches!(none, Err(ContentError::Invalid(_))));
    assert!(matches!(reversed, Err(ContentError::Invalid(ref i)) if i[0].field == "unpublishAt"));
    assert!(matches!(
        end_of_a_draft,
        Err(ContentError::InvalidTransition { .. })
    ));
    assert_eq!(
        (ok.status, ok.publish_at),
        (PageStatus::Scheduled, Some(later))
    );
    assert_eq!(
        *log.lock().expect("lock"),
        ["content.page_updated", "commit"]
    );
}

#[tokio::test]
async fn the_scheduler_publishes_due_pages_and_skips_those_another_worker_took() {
    let mut due = page(PageStatus::Scheduled, 2);
    due.publish_at = Some(now() - Duration::seconds(1));
    let mut taken = page(PageStatus::Scheduled, 4);
    taken.publish_at = Some(now() - Duration::seconds(5));
    let taken_id = taken.id;
    let mut repo = MockPageRepository::new();
    let both = vec![taken.clone(), due.clone()];
    repo.expect_due().returning(move |_, _| Ok(both.clone()));
    let mut store = MockPageStore::new();
    store.expect_update().returning(move |p, _| {
        if p.id == taken_id {
            Err(ContentError::Conflict)
        } else {
            Ok(())
        }
    });
    store.expect_insert_version().returning(|_| Ok(()));
    store
        .expect_insert_audit()
        .withf(|a| a.actor.is_none() && a.action == "published")
        .returning(|_| Ok(()));
    let (svc, log) = service(repo, store);

    let run = svc.run_schedule().await.expect("ran");

    assert_eq!((run.published, run.unpublished, run.skipped), (1, 0, 1));
    assert_eq!(
        *log.lock().expect("lock"),
        ["content.page_published", "commit"]
    );
}

#[tokio::test]
async fn restore_makes_a_new_version_equal_to_the_old_one() {
    let mut p = page(PageStatus::Draft, 5);
    p.draft.title = crate::PageTitle::parse("Changed since").expect("valid");
    let old = input().into_content().expect("valid");
    let mut repo = found(&p);
    let v = PageVersion {
        page_id: p.id,
        number: 1,
        content: old.clone(),
        author: None,
        created_at: now(),
    };
    repo.expect_version()
        .returning(move |_, _| Ok(Some(v.clone())));
    let mut store = writes();
    store.checkpoint();
    store
        .expect_update()
        .withf(|_, expected| *expected == 5)
        .returning(|_, _| Ok(()));
    store
        .expect_insert_version()
        .withf(|v| v.number == 6)
        .returning(|_| Ok(()));
    store
        .expect_insert_audit()
        .withf(|a| a.action == "restored" && a.changes["restoredFrom"] == 1)
        .returning(|_| Ok(()));
    let (svc, _) = service(repo, store);

    let restored = svc
        .restore(&actor(UserId::new(), Role::Editor), p.id, 1, 5)
        .await
        .expect("restored");

    assert_eq!((restored.version, restored.draft), (6, old));
}

#[tokio::test]
async fn a_preview_token_shows_its_version_until_it_expires_and_not_when_tampered() {
    let p = page(PageStatus::Draft, 1);
    let mut repo = found(&p);
    let content = p.draft.clone();
    let id = p.id;
    repo.expect_version().returning(move |_, n| {
        Ok(Some(PageVersion {
            page_id: id,
            number: n,
            content: content.clone(),
            author: None,
            created_at: now(),
        }))
    });
    let (svc, _) = service(repo, MockPageStore::new());

    let link = svc
        .preview_link(&actor(UserId::new(), Role::Editor), p.id)
        .await
        .expect("link");
    let shown = svc.preview(&link.token).await.expect("shown");
    let tampered = svc.preview(&link.token.replacen(".1.", ".2.", 1)).await;

    assert_eq!(shown.version, 1);
    assert_eq!(link.claims.expires_at, now() + Duration::minutes(15));
    assert!(matches!(tampered, Err(ContentError::NotFound)));

    let expired = crate::PreviewClaims {
        expires_at: now() - Duration::seconds(1),
        ..link.claims
    }
    .token(&Hmacish);
    assert!(matches!(
        svc.preview(&expired).await,
        Err(ContentError::PreviewExpired)
    ));
}

#[tokio::test]
async fn a_public_page_cannot_be_deleted_before_it_is_unpublished() {
    let p = page(PageStatus::Published, 2);
    let (svc, log) = service(found(&p), MockPageStore::new());

    let result = svc.delete(&actor(UserId::new(), Role::Editor), p.id).await;

    assert!(matches!(
        result,
        Err(ContentError::InvalidTransition { .. })
    ));
    assert!(log.lock().expect("lock").is_empty());
}
