//! Unit tests of the `index_product` subscriber and the full rebuild against mocked ports.

use std::sync::{Arc, Mutex};

use crate::ProductId;
use chrono::{DateTime, Utc};
use nexus_kernel::{Clock, Currency, FixedClock, Money, Unexpected, UserId};
use nexus_outbox::{
    DEFAULT_MAX_ATTEMPTS, Delivery, DeliveryError, DeliveryId, DeliveryState, DomainEvent,
    EventEnvelope, Subscriber,
};

use super::{IndexProduct, ReindexProgress, Reindexer};
use crate::events::{ProductCreated, ProductDeleted, ProductUpdated};
use crate::{
    CatalogError, Category, MockProductIndex, MockProductRepository, Product, ProductDescription,
    ProductStatus, ProductTitle, Slug, Tags,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn product(id: ProductId, status: ProductStatus) -> Product {
    Product {
        id,
        slug: Slug::parse(&format!("p-{}", id.as_uuid().simple())).expect("slug"),
        title: ProductTitle::parse("Invoice template").expect("title"),
        description: ProductDescription::empty(),
        price: Money::new(100, Currency::INR).expect("money"),
        category: Category::parse("templates").expect("category"),
        tags: Tags::default(),
        status,
        asset: None,
        preview_image_url: None,
        cover: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        published_at: None,
        version: 1,
    }
}

fn delivery_of(event: EventEnvelope) -> Delivery {
    Delivery {
        id: DeliveryId::new(),
        event,
        subscriber: IndexProduct::NAME.to_owned(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        run_at: now(),
        locked_by: Some("worker".to_owned()),
        locked_until: None,
        last_error: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn delivery<E: DomainEvent>(event: &E) -> Delivery {
    delivery_of(EventEnvelope::new(event, now()).expect("encodes"))
}

fn subscriber(repo: MockProductRepository, index: MockProductIndex) -> IndexProduct {
    IndexProduct::new(Arc::new(repo), Arc::new(index))
}

fn serving(product: Option<Product>) -> MockProductRepository {
    let mut repo = MockProductRepository::new();
    repo.expect_find().returning(move |_| Ok(product.clone()));
    repo
}

#[test]
fn the_subscriber_keeps_its_job_kind_name_and_wants_every_product_event() {
    let s = subscriber(MockProductRepository::new(), MockProductIndex::new());

    assert_eq!(s.name(), "index_product");
    let events: Vec<&str> = s.subscriptions().iter().map(|s| s.event).collect();
    assert_eq!(
        events,
        [
            ProductCreated::NAME,
            ProductUpdated::NAME,
            ProductDeleted::NAME
        ]
    );
    assert!(s.subscriptions().iter().all(|s| s.delay.is_zero()));
}

#[tokio::test]
async fn a_published_product_is_upserted_with_its_current_state_even_when_delivered_twice() {
    let id = ProductId::new();
    let current = product(id, ProductStatus::Published);
    let sent = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&sent);
    let mut index = MockProductIndex::new();
    index.expect_upsert().times(2).returning(move |products| {
        sink.lock().expect("lock").extend_from_slice(products);
        Ok(())
    });
    index.expect_remove().never();
    let s = subscriber(serving(Some(current.clone())), index);
    let d = delivery(&ProductUpdated { product_id: id });

    s.deliver(&d).await.expect("first delivery");
    s.deliver(&d).await.expect("second delivery");

    // The same document twice: replacing it is the same effect as writing it once.
    assert_eq!(*sent.lock().expect("lock"), vec![current.clone(), current]);
}

#[tokio::test]
async fn a_product_that_is_not_published_or_is_gone_is_removed() {
    let id = ProductId::new();
    for (found, event) in [
        (
            Some(product(id, ProductStatus::Draft)),
            delivery(&ProductCreated { product_id: id }),
        ),
        (
            Some(product(id, ProductStatus::Archived)),
            delivery(&ProductUpdated { product_id: id }),
        ),
        (None, delivery(&ProductUpdated { product_id: id })),
        (None, delivery(&ProductDeleted { product_id: id })),
    ] {
        let mut index = MockProductIndex::new();
        index.expect_upsert().never();
        index
            .expect_remove()
            .withf(move |wanted| *wanted == id)
            .times(1)
            .returning(|_| Ok(()));

        let result = subscriber(serving(found), index).deliver(&event).await;

        assert_eq!(result, Ok(()));
    }
}

#[tokio::test]
async fn a_late_delivery_of_an_older_event_writes_the_current_state() {
    // The product was created, then deleted; the creation is delivered last.
    let id = ProductId::new();
    let mut index = MockProductIndex::new();
    index.expect_upsert().never();
    index.expect_remove().times(1).returning(|_| Ok(()));

    let result = subscriber(serving(None), index)
        .deliver(&delivery(&ProductCreated { product_id: id }))
        .await;

    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn an_unreachable_index_or_database_is_retryable() {
    let id = ProductId::new();
    let mut index = MockProductIndex::new();
    index
        .expect_upsert()
        .returning(|_| Err(CatalogError::Unexpected(Unexpected::msg("no answer"))));
    let down = subscriber(serving(Some(product(id, ProductStatus::Published))), index);
    let d = delivery(&ProductUpdated { product_id: id });
    assert!(matches!(
        down.deliver(&d).await,
        Err(DeliveryError::Retryable(_))
    ));

    let mut repo = MockProductRepository::new();
    repo.expect_find()
        .returning(|_| Err(CatalogError::Unexpected(Unexpected::msg("database down"))));
    let mut index = MockProductIndex::new();
    index.expect_upsert().never();
    index.expect_remove().never();
    assert!(matches!(
        subscriber(repo, index).deliver(&d).await,
        Err(DeliveryError::Retryable(_))
    ));
}

#[tokio::test]
async fn an_event_it_cannot_read_is_permanent() {
    let mut envelope = EventEnvelope::new(
        &ProductUpdated {
            product_id: ProductId::new(),
        },
        now(),
    )
    .expect("encodes");
    envelope.payload = serde_json::json!({"productId": "not a uuid"});
    let mut other = envelope.clone();
    other.name = "catalog.something_else".to_owned();
    let s = subscriber(MockProductRepository::new(), MockProductIndex::new());

    for d in [delivery_of(envelope), delivery_of(other)] {
        assert!(matches!(
            s.deliver(&d).await,
            Err(DeliveryError::Permanent(_))
        ));
    }
}

/// A repository holding `count` PUBLISHED products, walked by id like the real one.
fn catalog_of(count: usize) -> (MockProductRepository, Vec<Product>) {
    let mut all: Vec<Product> = (0..count)
        .map(|_| product(ProductId::new(), ProductStatus::Published))
        .collect();
    all.sort_by_key(|p| p.id.as_uuid());
    let walk = all.clone();
    let mut repo = MockProductRepository::new();
    repo.expect_count_published()
        .times(1)
        .returning(move || Ok(count as u64));
    repo.expect_published_after()
        .returning(move |after, limit| {
            Ok(walk
                .iter()
                .filter(|p| after.is_none_or(|a| p.id.as_uuid() > a.as_uuid()))
                .take(limit as usize)
                .cloned()
                .collect())
        });
    (repo, all)
}

#[tokio::test]
async fn a_rebuild_clears_the_index_then_sends_every_published_product_in_batches() {
    let (repo, all) = catalog_of(1_234);
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut index = MockProductIndex::new();
    let log = Arc::clone(&calls);
    index.expect_clear().times(1).returning(move || {
        log.lock().expect("lock").push("clear".to_owned());
        Ok(())
    });
    let log = Arc::clone(&calls);
    let sink = Arc::clone(&sent);
    index.expect_upsert().times(3).returning(move |batch| {
        log.lock()
            .expect("lock")
            .push(format!("upsert {}", batch.len()));
        sink.lock().expect("lock").extend_from_slice(batch);
        Ok(())
    });
    let mut seen = Vec::new();

    let indexed = Reindexer::new(Arc::new(repo), Arc::new(index))
        .rebuild(&mut |p| seen.push(p))
        .await
        .expect("rebuilds");

    assert_eq!(indexed, 1_234);
    assert_eq!(
        *calls.lock().expect("lock"),
        ["clear", "upsert 500", "upsert 500", "upsert 234"]
    );
    assert_eq!(*sent.lock().expect("lock"), all);
    let at = |indexed| ReindexProgress {
        indexed,
        total: 1_234,
    };
    assert_eq!(seen, [at(500), at(1_000), at(1_234)]);
}

#[tokio::test]
async fn an_empty_catalog_leaves_an_empty_index() {
    let (repo, _) = catalog_of(0);
    let mut index = MockProductIndex::new();
    index.expect_clear().times(1).returning(|| Ok(()));
    index.expect_upsert().never();
    let mut seen = Vec::new();

    let indexed = Reindexer::new(Arc::new(repo), Arc::new(index))
        .rebuild(&mut |p| seen.push(p))
        .await;

    assert!(matches!(indexed, Ok(0)));
    assert!(seen.is_empty());
}

#[tokio::test]
async fn an_unreachable_index_stops_the_rebuild_with_an_error() {
    let (repo, _) = catalog_of(3);
    let mut index = MockProductIndex::new();
    index
        .expect_clear()
        .returning(|| Err(CatalogError::Unexpected(Unexpected::msg("no answer"))));
    index.expect_upsert().never();

    let result = Reindexer::new(Arc::new(repo), Arc::new(index))
        .rebuild(&mut |_| {})
        .await;

    assert!(matches!(result, Err(CatalogError::Unexpected(_))));
}
