use std::sync::Arc;

use mockall::predicate::eq;
use nexus_kernel::{Actor, FixedClock, PageRequest, Role, UserId};
use uuid::Uuid;

use super::*;
use crate::ports::{MockFindingsStore, MockScanQueue, MockSeoSource};
use crate::rules::RuleId;

fn subject(id: Uuid, title: &str) -> SeoSubject {
    SeoSubject {
        kind: SubjectKind::Product,
        id,
        path: format!("/products/p-{}", id.simple()),
        slug: format!("p-{}", id.simple()),
        title: title.to_owned(),
        meta_title: None,
        meta_description: None,
        canonical: None,
        text: String::new(),
        images: Vec::new(),
        links: vec!["/products".to_owned(), "/gone".to_owned()],
    }
}

fn service(store: MockFindingsStore, source: MockSeoSource, queue: MockScanQueue) -> SeoService {
    SeoService::new(
        Arc::new(store),
        vec![Arc::new(source)],
        Arc::new(queue),
        Arc::new(FixedClock::default()),
        vec!["/".to_owned(), "/products".to_owned()],
    )
}

fn product_source() -> MockSeoSource {
    let mut source = MockSeoSource::new();
    source.expect_kind().return_const(SubjectKind::Product);
    source
}

#[tokio::test]
async fn a_changed_item_is_audited_against_the_stored_site_and_its_twins_again() {
    let id = Uuid::now_v7();
    let twin = Uuid::now_v7();
    let title = "A complete guide to planning small business budgets";
    let mut source = product_source();
    source
        .expect_published()
        .returning(move |i| Ok(Some(subject(i, title))));
    let mut store = MockFindingsStore::new();
    store.expect_find().returning(|_, _| Ok(None));
    // The fixed path is known; only the other one is looked up.
    store
        .expect_existing_paths()
        .withf(|paths| paths == ["/gone".to_owned()])
        .returning(|_| Ok(Vec::new()));
    store.expect_count_titles().returning(|_, _, _| Ok(1));
    let saved = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = saved.clone();
    store.expect_save().returning(move |a| {
        log.lock().expect("lock").push(a.clone());
        Ok(())
    });
    store.expect_sharing_text().returning(move |_, _, _| {
        Ok(vec![
            (SubjectKind::Product, id),
            (SubjectKind::Product, twin),
        ])
    });
    let seo = service(store, source, MockScanQueue::new());

    seo.refresh(SubjectKind::Product, id)
        .await
        .expect("refreshed");

    let saved = saved.lock().expect("lock");
    assert_eq!(saved.len(), 2, "the item, then its twin (not itself twice)");
    assert_eq!(saved[0].id, id);
    assert_eq!(saved[1].id, twin);
    let rules: Vec<RuleId> = saved[0].findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&RuleId::DuplicateTitle));
    assert!(rules.contains(&RuleId::BrokenInternalLink));
    assert!(!rules.contains(&RuleId::TitleLength));
}

#[tokio::test]
async fn an_item_no_longer_public_loses_its_audit() {
    let id = Uuid::now_v7();
    let mut source = product_source();
    source.expect_published().returning(|_| Ok(None));
    let mut store = MockFindingsStore::new();
    let before = StoredAudit::of(
        &subject(id, "Guide"),
        audit(&subject(id, "Guide"), &SiteContext::default()),
        chrono::Utc::now(),
    );
    store
        .expect_find()
        .return_once(move |_, _| Ok(Some(before)));
    store
        .expect_remove()
        .with(eq(SubjectKind::Product), eq(id))
        .times(1)
        .returning(|_, _| Ok(None));
    store
        .expect_sharing_text()
        .withf(|titles, _, _| titles == ["guide".to_owned()])
        .returning(|_, _, _| Ok(Vec::new()));
    store.expect_save().never();
    let seo = service(store, source, MockScanQueue::new());

    seo.refresh(SubjectKind::Product, id)
        .await
        .expect("refreshed");
}

#[tokio::test]
async fn only_the_seo_roles_read_the_report_or_ask_for_a_scan() {
    let mut queue = MockScanQueue::new();
    queue.expect_enqueue().never();
    let mut store = MockFindingsStore::new();
    store.expect_totals().never();
    let seo = service(store, product_source(), queue);
    let cso = Actor::new(UserId::new(), Role::Cso, &[]);

    let report = seo.report(&cso, PageRequest::new(None, None)).await;
    let scan = seo.request_scan(&cso).await;

    assert!(matches!(report, Err(SeoError::Forbidden)));
    assert!(matches!(scan, Err(SeoError::Forbidden)));
}

#[tokio::test]
async fn a_scan_walks_every_batch_twice_then_drops_what_it_did_not_see() {
    let mut source = product_source();
    source.expect_published_after().returning(|after, _| {
        Ok(if after.is_none() {
            vec![subject(Uuid::now_v7(), "Guide")]
        } else {
            Vec::new()
        })
    });
    let mut store = MockFindingsStore::new();
    store.expect_existing_paths().returning(|_| Ok(Vec::new()));
    store.expect_count_titles().returning(|_, _, _| Ok(0));
    store.expect_save().times(2).returning(|_| Ok(()));
    store
        .expect_remove_audited_before()
        .times(1)
        .returning(|_| Ok(3));
    let seo = service(store, source, MockScanQueue::new());

    assert_eq!(seo.scan().await.expect("scanned"), 1);
}
