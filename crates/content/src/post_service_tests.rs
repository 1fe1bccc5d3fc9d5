//! Unit tests of `PostService` over mocked ports: permissions, versions and transitions
//! checked before any unit of work, what one unit of work writes, the scheduler, covers in
//! the object store, and the public list through the search port.

use std::sync::Arc;

use chrono::Duration;
use nexus_catalog::MockAssetStore;
use nexus_kernel::{Clock, FixedClock, Page as ListPage, PageRequest, Role, UserId};

use crate::permissions::actor;
use crate::test_support::{Log, Tx, assets, entries};
use crate::{
    ContentError, MockContentUnitOfWork, MockMarkdownRenderer, MockPageStore, MockPostRepository,
    MockPostSearch, MockPostStore, MockTeamRepository, MockTeamStore, PageStatus, Post, PostFilter,
    PostId, PostService, TeamMemberId, TeamPhoto,
};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn post(status: PageStatus, version: i64, cover: Option<&str>) -> Post {
    let now = FixedClock::default().now();
    Post {
        id: PostId::new(),
        slug: "hello-world".to_owned(),
        title: "Hello world".to_owned(),
        body: "Some *words*.".to_owned(),
        excerpt: String::new(),
        tags: vec!["news".to_owned()],
        author_id: TeamMemberId::new(),
        cover: cover.map(|key| TeamPhoto {
            key: key.to_owned(),
            content_type: "image/png".to_owned(),
            size: 12,
        }),
        status,
        publish_at: None,
        published_at: None,
        version,
        created_by: UserId::new(),
        created_at: now,
        updated_at: now,
    }
}

/// Posts found by id and, for the scheduler, `due` as the posts due now.
fn repo(posts: Vec<Post>, due: Vec<Post>) -> MockPostRepository {
    let mut repo = MockPostRepository::new();
    repo.expect_find()
        .returning(move |id| Ok(posts.iter().find(|p| p.id == id).cloned()));
    repo.expect_due().returning(move |_, _| Ok(due.clone()));
    repo.expect_find_by_slug().returning(|_| Ok(None));
    repo.expect_find_by_old_slug().returning(|_| Ok(None));
    repo
}

/// Units of work that log each post write (`update v1->v2 PUBLISHED`), audit entry, event
/// and commit; `stale` makes every update a lost race.
fn uow(log: &Log, stale: bool) -> MockContentUnitOfWork {
    let mut uow = MockContentUnitOfWork::new();
    let log = log.clone();
    uow.expect_begin().returning(move || {
        let mut posts = MockPostStore::new();
        let l = log.clone();
        posts.expect_update().returning(move |p, expected| {
            if stale {
                return Err(ContentError::Conflict);
            }
            l.lock().expect("lock").push(format!(
                "update v{expected}->v{} {}",
                p.version,
                p.status.as_str()
            ));
            Ok(())
        });
        let l = log.clone();
        posts.expect_delete().returning(move |_, expected| {
            l.lock().expect("lock").push(format!("delete v{expected}"));
            Ok(())
        });
        let mut pages = MockPageStore::new();
        let l = log.clone();
        pages.expect_insert_audit().returning(move |entry| {
            let by = if entry.actor.is_some() {
                "user"
            } else {
                "scheduler"
            };
            l.lock()
                .expect("lock")
                .push(format!("audit:{} by {by}", entry.action));
            Ok(())
        });
        Ok(Box::new(Tx::new(
            Arc::new(pages),
            MockTeamStore::new(),
            posts,
            log.clone(),
        )))
    });
    uow
}

fn service(
    repo: MockPostRepository,
    search: MockPostSearch,
    uow: MockContentUnitOfWork,
    assets: MockAssetStore,
) -> PostService {
    let mut team = MockTeamRepository::new();
    team.expect_find_many().returning(|_| Ok(Vec::new()));
    team.expect_find().returning(|_| Ok(None));
    let mut renderer = MockMarkdownRenderer::new();
    renderer
        .expect_render()
        .returning(|markdown| crate::RenderedBody {
            html: format!("<p>{markdown}</p>"),
            text: markdown.to_owned(),
            words: markdown.split_whitespace().count(),
        });
    PostService::new(
        Arc::new(repo),
        Arc::new(search),
        Arc::new(team),
        Arc::new(uow),
        Arc::new(renderer),
        Arc::new(assets),
        Arc::new(FixedClock::default()),
    )
}

fn editor() -> nexus_kernel::Actor {
    actor(UserId::new(), Role::Editor)
}

#[tokio::test]
async fn others_than_content_staff_are_refused_before_anything_is_read() {
    let svc = service(
        MockPostRepository::new(),
        MockPostSearch::new(),
        MockContentUnitOfWork::new(),
        MockAssetStore::new(),
    );
    for role in [Role::Cso, Role::Customer] {
        let who = actor(UserId::new(), role);
        let id = PostId::new();
        assert!(matches!(
            svc.publish(&who, id, 1).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.unpublish(&who, id, 1).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.delete(&who, id, Some(1)).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.set_cover(&who, id, None, PNG.to_vec()).await,
            Err(ContentError::Forbidden)
        ));
    }
}

#[tokio::test]
async fn stale_versions_and_wrong_states_are_refused_before_any_unit_of_work() {
    let log = Log::default();
    let draft = post(PageStatus::Draft, 3, None);
    let live = post(PageStatus::Published, 5, None);
    let svc = service(
        repo(vec![draft.clone(), live.clone()], Vec::new()),
        MockPostSearch::new(),
        MockContentUnitOfWork::new(),
        MockAssetStore::new(),
    );
    let ed = editor();
    assert!(matches!(
        svc.publish(&ed, draft.id, 2).await,
        Err(ContentError::Conflict)
    ));
    assert!(matches!(
        svc.unpublish(&ed, draft.id, 3).await,
        Err(ContentError::InvalidTransition { .. })
    ));
    assert!(matches!(
        svc.delete(&ed, live.id, Some(5)).await,
        Err(ContentError::InvalidTransition { .. })
    ));
    let later = FixedClock::default().now() + Duration::days(1);
    assert!(matches!(
        svc.schedule(&ed, live.id, 5, later).await,
        Err(ContentError::InvalidTransition { .. })
    ));
    let past = FixedClock::default().now() - Duration::minutes(1);
    assert!(matches!(
        svc.schedule(&ed, draft.id, 3, past).await,
        Err(ContentError::Invalid(_))
    ));
    assert!(entries(&log).is_empty());
}

#[tokio::test]
async fn publishing_writes_the_post_its_audit_entry_and_its_event_in_one_commit() {
    let log = Log::default();
    let draft = post(PageStatus::Draft, 1, None);
    let svc = service(
        repo(vec![draft.clone()], Vec::new()),
        MockPostSearch::new(),
        uow(&log, false),
        MockAssetStore::new(),
    );
    let live = svc
        .publish(&editor(), draft.id, 1)
        .await
        .expect("published");
    assert_eq!(live.status, PageStatus::Published);
    assert_eq!(live.version, 2);
    assert_eq!(live.published_at, Some(FixedClock::default().now()));
    assert_eq!(
        entries(&log),
        [
            "update v1->v2 PUBLISHED",
            "audit:published by user",
            "content.post_changed",
            "commit"
        ]
    );
}

#[tokio::test]
async fn the_scheduler_publishes_due_posts_and_skips_one_another_worker_took() {
    let log = Log::default();
    let due = vec![
        post(PageStatus::Scheduled, 2, None),
        post(PageStatus::Scheduled, 4, None),
    ];
    let svc = service(
        repo(Vec::new(), due.clone()),
        MockPostSearch::new(),
        uow(&log, false),
        MockAssetStore::new(),
    );
    assert_eq!(svc.run_schedule().await.expect("ran"), 2);
    let log_entries = entries(&log);
    assert_eq!(
        log_entries
            .iter()
            .filter(|e| *e == "audit:published by scheduler")
            .count(),
        2,
        "{log_entries:?}"
    );

    // With every write a lost race, nothing counts as published and nothing fails.
    let lost = Log::default();
    let svc = service(
        repo(Vec::new(), due),
        MockPostSearch::new(),
        uow(&lost, true),
        MockAssetStore::new(),
    );
    assert_eq!(svc.run_schedule().await.expect("ran"), 0);
    assert!(entries(&lost).is_empty());
}

#[tokio::test]
async fn a_new_cover_replaces_the_old_one_which_is_deleted_after_the_commit() {
    let log = Log::default();
    let p = post(PageStatus::Published, 2, Some("content/posts/old.png"));
    let svc = service(
        repo(vec![p.clone()], Vec::new()),
        MockPostSearch::new(),
        uow(&log, false),
        assets(&log),
    );
    let saved = svc
        .set_cover(&editor(), p.id, Some(2), PNG.to_vec())
        .await
        .expect("saved");
    let cover = saved.cover.expect("a cover");
    assert!(
        cover
            .key
            .starts_with(&format!("content/posts/{}/cover-", p.id))
    );
    let log = entries(&log);
    assert_eq!(log.first(), Some(&format!("put {}", cover.key)));
    assert_eq!(log[log.len() - 2], "commit");
    assert_eq!(log[log.len() - 1], "delete content/posts/old.png");
}

#[tokio::test]
async fn a_cover_whose_save_fails_is_deleted_and_the_old_one_kept() {
    let log = Log::default();
    let p = post(PageStatus::Draft, 2, Some("content/posts/old.png"));
    let svc = service(
        repo(vec![p.clone()], Vec::new()),
        MockPostSearch::new(),
        uow(&log, true),
        assets(&log),
    );
    let result = svc.set_cover(&editor(), p.id, Some(2), PNG.to_vec()).await;
    assert!(matches!(result, Err(ContentError::Conflict)), "{result:?}");
    let log = entries(&log);
    assert_eq!(log.len(), 2, "{log:?}");
    let stored = log[0].strip_prefix("put ").expect("stored first");
    assert_eq!(log[1], format!("delete {stored}"));
}

#[tokio::test]
async fn deleting_a_draft_deletes_its_cover_after_the_commit() {
    let log = Log::default();
    let p = post(PageStatus::Draft, 6, Some("content/posts/c.png"));
    let svc = service(
        repo(vec![p.clone()], Vec::new()),
        MockPostSearch::new(),
        uow(&log, false),
        assets(&log),
    );
    svc.delete(&editor(), p.id, Some(6)).await.expect("deleted");
    assert_eq!(
        entries(&log),
        [
            "delete v6",
            "audit:deleted by user",
            "content.post_changed",
            "commit",
            "delete content/posts/c.png",
        ]
    );
}

#[tokio::test]
async fn the_public_list_is_what_the_search_port_answers() {
    let found = post(PageStatus::Published, 1, None);
    let mut search = MockPostSearch::new();
    let answer = found.clone();
    search
        .expect_search()
        .withf(|query, page| {
            query.q.as_deref() == Some("hello")
                && query.tag.as_deref() == Some("news")
                && page.page() == 2
        })
        .times(1)
        .returning(move |_, page| {
            Ok(ListPage {
                items: vec![answer.clone()],
                total: 11,
                request: page,
            })
        });
    let svc = service(
        MockPostRepository::new(),
        search,
        MockContentUnitOfWork::new(),
        MockAssetStore::new(),
    );
    let filter = PostFilter {
        q: Some("hello".to_owned()),
        tag: Some("news".to_owned()),
        ..PostFilter::default()
    };
    let page = svc
        .public_list(filter, PageRequest::new(Some(2), Some(10)))
        .await
        .expect("listed");
    assert_eq!(page.total, 11);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].post.id, found.id);
}
