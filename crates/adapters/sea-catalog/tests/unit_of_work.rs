//! `SeaCatalogUnitOfWork` on every backend: a committed unit writes the product rows, its
//! events to `outbox_events` and one `index_product` delivery per event to
//! `event_deliveries`; a unit dropped without commit writes nothing.

mod common;

use std::sync::Arc;

use common::{Products, at};
use nexus_catalog::ProductId;
use nexus_catalog::events::{ProductCreated, ProductDeleted, ProductUpdated};
use nexus_catalog::{
    CatalogError, CatalogUnitOfWork, Category, IndexProduct, MockProductIndex, Product,
    ProductDescription, ProductRepository, ProductStatus, ProductTitle, Slug, Tags,
};
use nexus_kernel::{Currency, Money, Role, UserId};
use nexus_outbox::{DomainEvent, EventEnvelope, SubscriberRegistry};
use nexus_sea_support::DatabaseConnection;
use nexus_sea_support::testing::count_rows;
use sea_orm::{ConnectionTrait, Statement};

fn product(slug: &str, creator: UserId) -> Product {
    Product {
        id: ProductId::new(),
        slug: Slug::parse(slug).expect("valid slug"),
        title: ProductTitle::parse("Invoice template").expect("valid title"),
        description: ProductDescription::empty(),
        price: Money::new(10_000, Currency::INR).expect("valid money"),
        category: Category::parse("templates").expect("valid category"),
        tags: Tags::default(),
        status: ProductStatus::Draft,
        asset: None,
        preview_image_url: None,
        cover: None,
        created_by: creator,
        created_at: at(0),
        updated_at: at(0),
        published_at: None,
        version: 1,
    }
}

/// The repository and units of work with the app's catalog route: every product event is
/// delivered to `index_product`.
async fn setup(db: &DatabaseConnection) -> (Products, UserId) {
    let creator = common::staff(db, Role::Manager).await;
    let mut registry = SubscriberRegistry::new();
    registry
        .register(Arc::new(IndexProduct::new(
            Arc::new(nexus_sea_catalog::SeaProductRepository::new(db.clone())),
            Arc::new(MockProductIndex::new()),
        )))
        .expect("one subscriber");
    let routes = (*registry.shared_routes()).clone();
    (Products::new(db, routes), creator)
}

fn event<E: DomainEvent>(e: &E) -> EventEnvelope {
    EventEnvelope::new(e, at(1)).expect("encodes")
}

/// `(name, subscriber, state)` of every delivery, by event name.
async fn deliveries(db: &DatabaseConnection) -> Vec<(String, String, String)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT e.name, d.subscriber, d.state FROM event_deliveries d \
             JOIN outbox_events e ON e.id = d.event_id ORDER BY e.name"
                .to_owned(),
        ))
        .await
        .expect("read deliveries");
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "name").expect("name"),
                r.try_get("", "subscriber").expect("subscriber"),
                r.try_get("", "state").expect("state"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_committed_write_leaves_its_row_its_event_and_an_index_product_delivery() {
    for t in common::backends().await {
        let (products, creator) = setup(&t.db).await;
        let mut p = product("receipt-pack", creator);

        let mut tx = products.uow.begin().await.expect("begin");
        tx.products().insert(&p).await.expect("insert");
        tx.record(event(&ProductCreated { product_id: p.id }));
        tx.commit().await.expect("commit");
        p.version = 2;
        p.status = ProductStatus::Archived;
        let mut tx = products.uow.begin().await.expect("begin");
        tx.products().update(&p, 1).await.expect("update");
        tx.record(event(&ProductUpdated { product_id: p.id }));
        tx.commit().await.expect("commit");

        let stored = products.find(p.id).await.expect("find");
        assert_eq!(
            stored.map(|s| s.status),
            Some(ProductStatus::Archived),
            "{}",
            t.backend
        );
        assert_eq!(count_rows(&t.db, "outbox_events").await, 2, "{}", t.backend);
        let pending = |name: &str| {
            (
                name.to_owned(),
                "index_product".to_owned(),
                "PENDING".to_owned(),
            )
        };
        assert_eq!(
            deliveries(&t.db).await,
            [pending(ProductCreated::NAME), pending(ProductUpdated::NAME)],
            "{}",
            t.backend
        );

        let mut tx = products.uow.begin().await.expect("begin");
        assert!(tx.products().delete(p.id).await.expect("delete"));
        tx.record(event(&ProductDeleted { product_id: p.id }));
        tx.commit().await.expect("commit");

        assert!(
            products.find(p.id).await.expect("find").is_none(),
            "{}",
            t.backend
        );
        assert_eq!(
            count_rows(&t.db, "event_deliveries").await,
            3,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_unit_dropped_without_commit_writes_nothing() {
    for t in common::backends().await {
        let (products, creator) = setup(&t.db).await;
        let p = product("receipt-pack", creator);

        {
            let mut tx = products.uow.begin().await.expect("begin");
            tx.products().insert(&p).await.expect("insert");
            tx.record(event(&ProductCreated { product_id: p.id }));
        }

        assert!(
            products.find(p.id).await.expect("find").is_none(),
            "{}",
            t.backend
        );
        assert_eq!(count_rows(&t.db, "products").await, 0, "{}", t.backend);
        assert_eq!(count_rows(&t.db, "outbox_events").await, 0, "{}", t.backend);
        assert_eq!(
            count_rows(&t.db, "event_deliveries").await,
            0,
            "{}",
            t.backend
        );
        // The write lock is released: the next unit goes through.
        products.insert(&p).await.expect("insert afterwards");
    }
}

#[tokio::test]
async fn a_refused_write_inside_a_unit_is_reported_and_the_unit_leaves_nothing() {
    for t in common::backends().await {
        let (products, creator) = setup(&t.db).await;
        products
            .insert(&product("receipt-pack", creator))
            .await
            .expect("first");
        let clash = product("receipt-pack", creator);

        let mut tx = products.uow.begin().await.expect("begin");
        let result = tx.products().insert(&clash).await;
        tx.record(event(&ProductCreated {
            product_id: clash.id,
        }));
        drop(tx);

        assert!(
            matches!(result, Err(CatalogError::SlugTaken)),
            "{}",
            t.backend
        );
        assert_eq!(count_rows(&t.db, "products").await, 1, "{}", t.backend);
        assert_eq!(count_rows(&t.db, "outbox_events").await, 0, "{}", t.backend);
    }
}

#[tokio::test]
async fn the_reindex_walk_reads_published_products_by_id_in_batches() {
    for t in common::backends().await {
        let (products, creator) = setup(&t.db).await;
        let mut all = Vec::new();
        for i in 0..5 {
            let mut p = product(&format!("p{i}"), creator);
            if i != 2 {
                p.status = ProductStatus::Published;
                p.published_at = Some(at(0));
            }
            products.insert(&p).await.expect("insert");
            if i != 2 {
                all.push(p.id);
            }
        }
        all.sort_by_key(ProductId::as_uuid);

        let first = products.published_after(None, 3).await.expect("first");
        let last = products
            .published_after(first.last().map(|p| p.id), 3)
            .await
            .expect("rest");

        let walked: Vec<ProductId> = first.iter().chain(&last).map(|p| p.id).collect();
        assert_eq!(walked, all, "{}", t.backend);
        assert_eq!(
            products.count_published().await.expect("count"),
            4,
            "{}",
            t.backend
        );
    }
}
