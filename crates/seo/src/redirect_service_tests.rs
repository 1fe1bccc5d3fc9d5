//! Unit tests of `RedirectService` over mocked ports.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use nexus_kernel::{Actor, FixedClock, Role, UserId};
use nexus_outbox::EventEnvelope;

use super::*;
use crate::permissions::ALL;
use crate::ports::{MockRedirectRepository, MockRedirectStore, MockRedirectUnitOfWork};
use crate::ports::{RedirectStore, RedirectTx};
use crate::redirects::RedirectError;

fn editor() -> Actor {
    Actor::new(UserId::new(), Role::Editor, ALL)
}

fn stored(from: &str, to: &str, version: i64) -> RedirectRule {
    RedirectRule {
        id: Uuid::now_v7(),
        rule: Redirect::new(from, RedirectKind::Permanent, Some(to)).expect("a valid rule"),
        note: None,
        version,
        created_at: Utc::now(),
        created_by: None,
        updated_at: Utc::now(),
        updated_by: None,
    }
}

struct Tx {
    store: Arc<MockRedirectStore>,
    events: Vec<EventEnvelope>,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl RedirectTx for Tx {
    fn redirects(&self) -> &dyn RedirectStore {
        &*self.store
    }
    fn record(&mut self, event: EventEnvelope) {
        self.events.push(event);
    }
    async fn commit(self: Box<Self>) -> Result<(), SeoError> {
        let mut log = self.log.lock().expect("lock");
        log.extend(self.events.into_iter().map(|e| e.name));
        log.push("commit".to_owned());
        Ok(())
    }
}

/// A service whose units of work use `store` and log their events and commits.
fn over(
    repo: MockRedirectRepository,
    store: MockRedirectStore,
) -> (RedirectService, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(store);
    let mut uow = MockRedirectUnitOfWork::new();
    let l = log.clone();
    uow.expect_begin().returning(move || {
        Ok(Box::new(Tx {
            store: store.clone(),
            events: Vec::new(),
            log: l.clone(),
        }))
    });
    (
        RedirectService::new(
            Arc::new(repo),
            Arc::new(uow),
            Arc::new(FixedClock::default()),
            vec!["/api/".to_owned(), "/health".to_owned()],
        ),
        log,
    )
}

fn new_rule(from: &str, to: &str) -> NewRedirectRule {
    NewRedirectRule {
        source: from.to_owned(),
        kind: RedirectKind::Permanent,
        target: Some(to.to_owned()),
        note: Some("  moved  ".to_owned()),
    }
}

#[tokio::test]
async fn a_new_rule_is_stored_with_its_audit_entry_and_event_in_one_unit_of_work() {
    let mut store = MockRedirectStore::new();
    store
        .expect_all()
        .returning(|_| Ok(vec![stored("/b", "/c", 1)]));
    store
        .expect_insert()
        .withf(|r| r.rule.from() == "/a" && r.version == 1 && r.note.as_deref() == Some("moved"))
        .times(1)
        .returning(|_| Ok(()));
    store
        .expect_insert_audit()
        .withf(|a| a.action == "created")
        .times(1)
        .returning(|_| Ok(()));
    let (service, log) = over(MockRedirectRepository::new(), store);

    let saved = service
        .create(&editor(), new_rule("/a/", "/b"))
        .await
        .expect("created");

    assert_eq!(saved.rule.from(), "/a");
    assert_eq!(
        *log.lock().expect("lock"),
        ["seo.redirect_changed", "commit"]
    );
}

#[tokio::test]
async fn a_rule_closing_a_loop_is_refused_with_the_cycle_and_nothing_is_written() {
    let mut store = MockRedirectStore::new();
    store
        .expect_all()
        .returning(|_| Ok(vec![stored("/b", "/c", 1), stored("/c", "/a", 1)]));
    store.expect_insert().never();
    store.expect_insert_audit().never();
    let (service, log) = over(MockRedirectRepository::new(), store);

    let err = service
        .create(&editor(), new_rule("/a", "/b"))
        .await
        .expect_err("a loop");

    assert!(
        matches!(&err, SeoError::Redirect(RedirectError::Loop(cycle)) if cycle == &["/a", "/b", "/c", "/a"])
    );
    assert!(log.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_taken_source_and_a_full_table_are_refused() {
    let mut store = MockRedirectStore::new();
    store
        .expect_all()
        .returning(|_| Ok(vec![stored("/a", "/z", 1)]));
    store.expect_insert().never();
    let (service, _) = over(MockRedirectRepository::new(), store);
    assert!(matches!(
        service.create(&editor(), new_rule("/a", "/b")).await,
        Err(SeoError::SourceTaken)
    ));

    let mut store = MockRedirectStore::new();
    store.expect_all().returning(|limit| {
        Ok((0..limit)
            .map(|i| stored(&format!("/r{i}"), "/z", 1))
            .collect())
    });
    store.expect_insert().never();
    let (service, _) = over(MockRedirectRepository::new(), store);
    assert!(matches!(
        service.create(&editor(), new_rule("/a", "/b")).await,
        Err(SeoError::TooManyRedirects { max: 10_000 })
    ));
}

#[tokio::test]
async fn bad_input_reserved_sources_and_callers_without_the_permission_are_refused() {
    let (service, _) = over(MockRedirectRepository::new(), MockRedirectStore::new());
    assert!(matches!(
        service.create(&editor(), new_rule("/api/v1/x", "/b")).await,
        Err(SeoError::ReservedSource(_))
    ));
    assert!(matches!(
        service.create(&editor(), new_rule("/healthz", "/b")).await,
        Err(SeoError::ReservedSource(_))
    ));
    assert!(matches!(
        service.create(&editor(), new_rule("/a", "ftp://x")).await,
        Err(SeoError::Redirect(RedirectError::InvalidTarget))
    ));
    let cso = Actor::new(UserId::new(), Role::Cso, &[]);
    assert!(matches!(
        service.create(&cso, new_rule("/a", "/b")).await,
        Err(SeoError::Forbidden)
    ));
}

#[tokio::test]
async fn an_update_with_a_stale_version_is_a_conflict() {
    let current = stored("/a", "/b", 3);
    let id = current.id;
    let mut repo = MockRedirectRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(current.clone())));
    let mut store = MockRedirectStore::new();
    store.expect_update().never();
    let (service, log) = over(repo, store);

    let result = service
        .update(&editor(), id, 2, RedirectRuleChange::default())
        .await;

    assert!(matches!(result, Err(SeoError::Conflict)));
    assert!(log.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_update_is_checked_without_the_rule_it_changes_and_gone_drops_the_target() {
    let current = stored("/a", "/b", 1);
    let id = current.id;
    let in_tx = current.clone();
    let mut repo = MockRedirectRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(current.clone())));
    let mut store = MockRedirectStore::new();
    store
        .expect_all()
        .returning(move |_| Ok(vec![in_tx.clone(), stored("/b", "/c", 1)]));
    store
        .expect_update()
        .withf(|r, expected| {
            *expected == 1 && r.version == 2 && r.rule.to().is_none() && r.rule.from() == "/b-old"
        })
        .times(1)
        .returning(|_, _| Ok(()));
    store
        .expect_insert_audit()
        .withf(|a| {
            a.action == "updated" && a.changes["fields"] == json!(["source", "kind", "target"])
        })
        .times(1)
        .returning(|_| Ok(()));
    let (service, log) = over(repo, store);

    let saved = service
        .update(
            &editor(),
            id,
            1,
            RedirectRuleChange {
                source: Some("/b-old".to_owned()),
                kind: Some(RedirectKind::Gone),
                ..RedirectRuleChange::default()
            },
        )
        .await
        .expect("updated");

    assert_eq!(saved.rule.kind(), RedirectKind::Gone);
    assert_eq!(
        *log.lock().expect("lock"),
        ["seo.redirect_changed", "commit"]
    );
}

#[tokio::test]
async fn a_delete_takes_the_version_read_and_leaves_an_audit_entry() {
    let current = stored("/a", "/b", 4);
    let id = current.id;
    let mut repo = MockRedirectRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(current.clone())));
    let mut store = MockRedirectStore::new();
    store
        .expect_delete()
        .withf(move |i, v| *i == id && *v == 4)
        .times(1)
        .returning(|_, _| Ok(()));
    store
        .expect_insert_audit()
        .withf(|a| a.action == "deleted" && a.changes["source"] == "/a")
        .times(1)
        .returning(|_| Ok(()));
    let (service, log) = over(repo, store);

    assert!(matches!(
        service.delete(&editor(), id, 3).await,
        Err(SeoError::Conflict)
    ));
    service.delete(&editor(), id, 4).await.expect("deleted");
    assert_eq!(
        *log.lock().expect("lock"),
        ["seo.redirect_changed", "commit"]
    );
}
