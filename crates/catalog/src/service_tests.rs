//! Unit tests of `ProductService` against mocked ports. A mock without an expectation
//! panics when called, so every test also proves which ports were left alone.

use std::sync::{Arc, Mutex};

use crate::ProductId;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{
    Actor, Clock, Currency, FixedClock, Money, Page, PageRequest, Role, Unexpected, UserId,
};
use uuid::Uuid;

use nexus_outbox::DomainEvent;

use crate::events::{ProductCreated, ProductDeleted, ProductUpdated};
use crate::testing::UnitLog;
use crate::{
    AssetError, AssetKey, CatalogConfig, CatalogError, Category, FileName, MockAssetStore,
    MockProductRepository, MockProductSearch, MockProductStore, MockSalesLedger, NewProduct,
    Product, ProductAsset, ProductDescription, ProductFilter, ProductQuery, ProductRef,
    ProductService, ProductStatus, ProductTitle, SignedLink, Slug, StagedFile, StoredObject, Tags,
    UpdateProduct,
};

const MAX_BYTES: u64 = 1_000;
const MAX_PRICE: i64 = 1_000_000;

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn manager() -> Actor {
    crate::permissions::actor(UserId::new(), Role::Manager)
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid money")
}

fn slug(raw: &str) -> Slug {
    Slug::parse(raw).expect("valid slug")
}

fn file_name(raw: &str) -> FileName {
    FileName::parse(raw).expect("valid file name")
}

/// A staged file of `size` bytes (it exists only as a description: the store is a mock).
fn staged(size: u64) -> StagedFile {
    StagedFile {
        path: std::path::PathBuf::from("/staging/upload"),
        size,
        sha256_hex: "cd".repeat(32),
    }
}

fn key(raw: &str) -> AssetKey {
    AssetKey::parse(raw).expect("valid key")
}

fn asset_of(id: ProductId) -> ProductAsset {
    ProductAsset {
        key: key(&format!("products/{id}/{}-old.pdf", Uuid::now_v7())),
        file_name: file_name("old.pdf"),
        content_type: "application/pdf".to_owned(),
        size: 10,
        sha256_hex: "ab".repeat(32),
    }
}

/// A product in `status`, with a file when `with_asset`, at version 3.
fn product(status: ProductStatus, with_asset: bool) -> Product {
    let id = ProductId::new();
    let created = now() - Duration::days(3);
    Product {
        id,
        slug: slug("invoice-template"),
        title: ProductTitle::parse("Invoice template").expect("title"),
        description: ProductDescription::parse("A tidy GST invoice.").expect("description"),
        price: inr(49_900),
        category: Category::parse("Templates").expect("category"),
        tags: Tags::parse(&["gst"]).expect("tags"),
        status,
        asset: with_asset.then(|| asset_of(id)),
        preview_image_url: None,
        cover: None,
        created_by: UserId::new(),
        created_at: created,
        updated_at: created,
        published_at: (status != ProductStatus::Draft).then_some(created),
        version: 3,
    }
}

fn new_product() -> NewProduct {
    NewProduct {
        slug: slug("receipt-pack"),
        title: ProductTitle::parse("Receipt pack").expect("title"),
        description: ProductDescription::empty(),
        price: inr(0),
        category: Category::parse("templates").expect("category"),
        tags: Tags::default(),
        preview_image_url: None,
    }
}

/// The ports of one test; every mock starts without expectations.
#[derive(Default)]
struct Ports {
    repo: MockProductRepository,
    store: MockProductStore,
    log: UnitLog,
    search: MockProductSearch,
    sales: MockSalesLedger,
    assets: MockAssetStore,
}

impl Ports {
    /// Ports whose repository serves `product` from `find`.
    fn serving(product: &Product) -> Self {
        let mut ports = Self::default();
        let stored = product.clone();
        let id = product.id;
        ports
            .repo
            .expect_find()
            .withf(move |wanted| *wanted == id)
            .returning(move |_| Ok(Some(stored.clone())));
        ports
    }

    /// Expects one guarded update from `from_version` and captures what was saved.
    fn expect_saved(&mut self, from_version: i64) -> Arc<Mutex<Option<Product>>> {
        let saved = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&saved);
        self.store
            .expect_update()
            .withf(move |_, expected| *expected == from_version)
            .times(1)
            .returning(move |p, _| {
                *sink.lock().expect("lock") = Some(p.clone());
                Ok(())
            });
        saved
    }

    /// What the service's units of work commit.
    fn log(&self) -> UnitLog {
        self.log.clone()
    }

    fn service(self) -> ProductService {
        ProductService::new(
            Arc::new(self.repo),
            Arc::new(self.log.unit_of_work(self.store)),
            Arc::new(self.search),
            Arc::new(self.sales),
            Arc::new(self.assets),
            Arc::new(FixedClock::default()),
            config(),
        )
    }
}

fn config() -> CatalogConfig {
    CatalogConfig {
        max_asset_bytes: MAX_BYTES,
        allowed_content_types: vec!["application/pdf".to_owned(), "Application/ZIP".to_owned()],
        currencies: vec![Currency::INR, Currency::parse("USD").expect("valid")],
        max_price_minor: MAX_PRICE,
    }
}

fn saved(slot: &Arc<Mutex<Option<Product>>>) -> Product {
    slot.lock()
        .expect("lock")
        .clone()
        .expect("a product was saved")
}

/// Asserts that exactly one unit committed, with exactly `event` about `id`.
fn assert_committed_once(log: &UnitLog, event: &str, id: ProductId) {
    assert_eq!(log.commits(), 1, "one unit of work committed");
    assert_eq!(log.product_events(), vec![(event.to_owned(), Some(id))]);
}

/// Asserts that no unit committed, so no event was written.
fn assert_nothing_committed(log: &UnitLog) {
    assert_eq!(log.commits(), 0, "no unit of work committed");
    assert!(log.events().is_empty());
}

fn stored(key: &AssetKey, size: u64, content_type: &str) -> StoredObject {
    StoredObject {
        key: key.clone(),
        size,
        content_type: content_type.to_owned(),
        sha256_hex: "cd".repeat(32),
    }
}

fn link() -> SignedLink {
    SignedLink {
        url: "https://s3.example.com/upload?sig=x".to_owned(),
        expires_at: now() + ProductService::UPLOAD_LINK_TTL,
    }
}

// ---- who may manage the catalog -------------------------------------------------------

#[tokio::test]
async fn officers_and_customers_are_forbidden_from_every_management_operation() {
    for role in [Role::Cso, Role::Customer] {
        let actor = crate::permissions::actor(UserId::new(), role);
        let service = Ports::default().service();
        let id = ProductId::new();
        let upload_key = key(&format!("products/{id}/{}-a.pdf", Uuid::now_v7()));

        let results = [
            service.create(&actor, new_product()).await.map(|_| ()),
            service
                .update(&actor, id, 1, UpdateProduct::default())
                .await
                .map(|_| ()),
            service.publish(&actor, id).await.map(|_| ()),
            service.archive(&actor, id).await.map(|_| ()),
            service.unpublish(&actor, id).await.map(|_| ()),
            service.delete(&actor, id).await,
            service.get_admin(&actor, id).await.map(|_| ()),
            service
                .list_admin(&actor, ProductFilter::default(), PageRequest::default())
                .await
                .map(|_| ()),
            service.authorize_asset_upload(&actor, id).await.map(|_| ()),
            service
                .attach_asset(
                    &actor,
                    id,
                    file_name("a.pdf"),
                    "application/pdf",
                    &staged(1),
                )
                .await
                .map(|_| ()),
            service
                .upload_link(&actor, id, file_name("a.pdf"), "application/pdf")
                .await
                .map(|_| ()),
            service
                .confirm_upload(&actor, id, &upload_key)
                .await
                .map(|_| ()),
        ];

        for (i, result) in results.into_iter().enumerate() {
            assert!(
                matches!(result, Err(CatalogError::Forbidden)),
                "{role} call {i}"
            );
        }
    }
}

#[tokio::test]
async fn managers_and_administrators_create_draft_products() {
    for role in [Role::Manager, Role::Admin] {
        let actor = crate::permissions::actor(UserId::new(), role);
        let mut ports = Ports::default();
        ports.store.expect_insert().times(1).returning(|_| Ok(()));
        let log = ports.log();
        let service = ports.service();

        let created = service
            .create(&actor, new_product())
            .await
            .expect("creates");

        assert_eq!(created.status, ProductStatus::Draft, "{role}");
        assert_eq!(created.version, 1);
        assert_eq!(created.created_by, actor.user_id());
        assert_eq!((created.created_at, created.updated_at), (now(), now()));
        assert!(created.asset.is_none() && created.published_at.is_none());
        assert_committed_once(&log, ProductCreated::NAME, created.id);
    }
}

#[tokio::test]
async fn a_taken_slug_is_reported() {
    let mut ports = Ports::default();
    ports
        .store
        .expect_insert()
        .returning(|_| Err(CatalogError::SlugTaken));
    let log = ports.log();

    let result = ports.service().create(&manager(), new_product()).await;

    assert!(matches!(result, Err(CatalogError::SlugTaken)));
    assert_nothing_committed(&log);
}

#[tokio::test]
async fn prices_outside_the_store_currencies_or_above_the_ceiling_are_refused_before_any_write() {
    let gbp = Money::new(100, Currency::parse("GBP").expect("valid")).expect("valid");
    let usd = Money::new(100, Currency::parse("USD").expect("valid")).expect("valid");
    for (price, accepted) in [
        (gbp, false),
        (inr(MAX_PRICE + 1), false),
        (inr(i64::MAX), false),
        (inr(MAX_PRICE), true),
        (usd, true),
    ] {
        let mut ports = Ports::default();
        if accepted {
            ports.store.expect_insert().times(1).returning(|_| Ok(()));
        } else {
            ports.store.expect_insert().never();
        }
        let log = ports.log();
        let input = NewProduct {
            price,
            ..new_product()
        };

        let result = ports.service().create(&manager(), input).await;

        match result {
            Ok(p) => assert!(accepted, "{price:?} was accepted: {p:?}"),
            Err(CatalogError::CurrencyNotAccepted { accepted: list }) => {
                assert!(!accepted, "{price:?}");
                assert_eq!(list, "INR, USD");
            }
            Err(CatalogError::PriceTooHigh { max }) => {
                assert!(!accepted, "{price:?}");
                assert_eq!(max, MAX_PRICE);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert_eq!(log.commits(), usize::from(accepted), "{price:?}");
    }
}

#[tokio::test]
async fn an_update_to_a_price_above_the_ceiling_is_refused_and_writes_nothing() {
    let current = product(ProductStatus::Draft, false);
    let mut ports = Ports::serving(&current);
    ports.store.expect_update().never();
    let log = ports.log();
    let change = UpdateProduct {
        price: Some(inr(MAX_PRICE + 1)),
        ..UpdateProduct::default()
    };

    let result = ports
        .service()
        .update(&manager(), current.id, 3, change)
        .await;

    assert!(matches!(result, Err(CatalogError::PriceTooHigh { .. })));
    assert_nothing_committed(&log);
}

#[test]
fn the_store_currency_is_the_first_accepted_one() {
    let service = Ports::default().service();
    assert_eq!(service.store_currency(), Currency::INR);
}

// ---- editing --------------------------------------------------------------------------

#[tokio::test]
async fn an_update_applies_the_change_and_bumps_the_version() {
    let current = product(ProductStatus::Published, true);
    let mut ports = Ports::serving(&current);
    let slot = ports.expect_saved(3);
    let log = ports.log();
    let change = UpdateProduct {
        title: Some(ProductTitle::parse("GST invoice template").expect("title")),
        price: Some(inr(0)),
        ..UpdateProduct::default()
    };

    let updated = ports
        .service()
        .update(&manager(), current.id, 3, change)
        .await
        .expect("updates");

    assert_eq!(updated.title.as_str(), "GST invoice template");
    assert_eq!(updated.price, inr(0));
    assert_eq!(updated.slug, current.slug);
    assert_eq!((updated.version, updated.updated_at), (4, now()));
    assert_eq!(saved(&slot), updated);
    assert_committed_once(&log, ProductUpdated::NAME, updated.id);
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_writes_nothing() {
    let current = product(ProductStatus::Draft, false);
    let ports = Ports::serving(&current);
    let log = ports.log();
    let service = ports.service();

    let result = service
        .update(&manager(), current.id, 2, UpdateProduct::default())
        .await;

    assert!(matches!(result, Err(CatalogError::Conflict)));
    assert_nothing_committed(&log);
}

#[tokio::test]
async fn an_archived_product_cannot_be_edited() {
    let current = product(ProductStatus::Archived, true);
    let service = Ports::serving(&current).service();

    let result = service
        .update(&manager(), current.id, 3, UpdateProduct::default())
        .await;

    assert!(matches!(
        result,
        Err(CatalogError::InvalidTransition {
            from: ProductStatus::Archived,
            action: "edit"
        })
    ));
}

#[tokio::test]
async fn a_missing_product_is_not_found() {
    let mut ports = Ports::default();
    ports.repo.expect_find().returning(|_| Ok(None));
    let service = ports.service();
    let id = ProductId::new();

    let results = [
        service.get_admin(&manager(), id).await.map(|_| ()),
        service
            .update(&manager(), id, 1, UpdateProduct::default())
            .await
            .map(|_| ()),
        service.publish(&manager(), id).await.map(|_| ()),
        service.delete(&manager(), id).await,
        service.asset_of(id).await.map(|_| ()),
    ];

    for (i, result) in results.into_iter().enumerate() {
        assert!(matches!(result, Err(CatalogError::NotFound)), "call {i}");
    }
}

// ---- publishing -----------------------------------------------------------------------

#[tokio::test]
async fn publishing_needs_a_file() {
    let draft = product(ProductStatus::Draft, false);
    let service = Ports::serving(&draft).service();

    let result = service.publish(&manager(), draft.id).await;

    assert!(matches!(result, Err(CatalogError::AssetMissing)));
}

#[tokio::test]
async fn a_draft_with_a_file_is_published_even_when_free() {
    let mut draft = product(ProductStatus::Draft, true);
    draft.price = inr(0);
    let mut ports = Ports::serving(&draft);
    let slot = ports.expect_saved(3);
    let log = ports.log();

    let published = ports
        .service()
        .publish(&manager(), draft.id)
        .await
        .expect("publishes");

    assert_eq!(published.status, ProductStatus::Published);
    assert_eq!(published.published_at, Some(now()));
    assert_eq!(saved(&slot).version, 4);
    assert_committed_once(&log, ProductUpdated::NAME, published.id);
}

#[tokio::test]
async fn an_archived_product_can_be_published_again() {
    let archived = product(ProductStatus::Archived, true);
    let mut ports = Ports::serving(&archived);
    ports.expect_saved(3);

    let published = ports.service().publish(&manager(), archived.id).await;

    assert!(matches!(published, Ok(p) if p.status == ProductStatus::Published));
}

#[tokio::test]
async fn publishing_twice_is_an_invalid_transition() {
    let live = product(ProductStatus::Published, true);
    let service = Ports::serving(&live).service();

    let result = service.publish(&manager(), live.id).await;

    assert!(matches!(
        result,
        Err(CatalogError::InvalidTransition {
            from: ProductStatus::Published,
            action: "publish"
        })
    ));
}

#[tokio::test]
async fn drafts_and_published_products_can_be_archived_once() {
    for status in [ProductStatus::Draft, ProductStatus::Published] {
        let current = product(status, true);
        let mut ports = Ports::serving(&current);
        ports.expect_saved(3);
        let log = ports.log();

        let archived = ports.service().archive(&manager(), current.id).await;

        assert!(
            matches!(archived, Ok(p) if p.status == ProductStatus::Archived),
            "{status}"
        );
        assert_committed_once(&log, ProductUpdated::NAME, current.id);
    }
    let archived = product(ProductStatus::Archived, true);
    let result = Ports::serving(&archived)
        .service()
        .archive(&manager(), archived.id)
        .await;
    assert!(matches!(
        result,
        Err(CatalogError::InvalidTransition {
            from: ProductStatus::Archived,
            ..
        })
    ));
}

#[tokio::test]
async fn a_published_product_that_never_sold_goes_back_to_draft() {
    let live = product(ProductStatus::Published, true);
    let mut ports = Ports::serving(&live);
    let id = live.id;
    ports
        .sales
        .expect_has_sales()
        .withf(move |p| *p == id)
        .returning(|_| Ok(false));
    let slot = ports.expect_saved(3);
    let log = ports.log();

    let draft = ports
        .service()
        .unpublish(&manager(), live.id)
        .await
        .expect("unpublishes");

    assert_eq!(draft.status, ProductStatus::Draft);
    assert_eq!(draft.published_at, None);
    assert_eq!(saved(&slot).status, ProductStatus::Draft);
    assert_committed_once(&log, ProductUpdated::NAME, draft.id);
}

#[tokio::test]
async fn a_sold_product_cannot_be_unpublished() {
    let live = product(ProductStatus::Published, true);
    let mut ports = Ports::serving(&live);
    ports.sales.expect_has_sales().returning(|_| Ok(true));
    ports.store.expect_update().never();
    let log = ports.log();

    let result = ports.service().unpublish(&manager(), live.id).await;

    assert!(matches!(result, Err(CatalogError::ProductSold)));
    assert_nothing_committed(&log);
}

#[tokio::test]
async fn only_a_published_product_can_be_unpublished() {
    for status in [ProductStatus::Draft, ProductStatus::Archived] {
        let current = product(status, true);
        let service = Ports::serving(&current).service();

        let result = service.unpublish(&manager(), current.id).await;

        assert!(
            matches!(result, Err(CatalogError::InvalidTransition { from, action: "unpublish" }) if from == status),
            "{status}"
        );
    }
}

// ---- deleting -------------------------------------------------------------------------

#[tokio::test]
async fn a_sold_product_is_never_deleted() {
    let live = product(ProductStatus::Archived, true);
    let mut ports = Ports::serving(&live);
    ports.sales.expect_has_sales().returning(|_| Ok(true));
    ports.store.expect_delete().never();
    let log = ports.log();

    let result = ports.service().delete(&manager(), live.id).await;

    assert!(matches!(result, Err(CatalogError::ProductSold)));
    assert_nothing_committed(&log);
}

#[tokio::test]
async fn deleting_an_unsold_product_also_deletes_its_file() {
    let current = product(ProductStatus::Published, true);
    let file = current.asset.clone().expect("has a file").key;
    let mut ports = Ports::serving(&current);
    ports.sales.expect_has_sales().returning(|_| Ok(false));
    let id = current.id;
    ports
        .store
        .expect_delete()
        .withf(move |p| *p == id)
        .times(1)
        .returning(|_| Ok(true));
    ports
        .assets
        .expect_delete()
        .withf(move |k| *k == file)
        .times(1)
        .returning(|_| Ok(()));
    let log = ports.log();

    let result = ports.service().delete(&manager(), current.id).await;

    assert!(result.is_ok());
    assert_committed_once(&log, ProductDeleted::NAME, id);
}

#[tokio::test]
async fn a_file_that_cannot_be_removed_does_not_fail_the_delete() {
    let current = product(ProductStatus::Draft, true);
    let mut ports = Ports::serving(&current);
    ports.sales.expect_has_sales().returning(|_| Ok(false));
    ports.store.expect_delete().returning(|_| Ok(true));
    ports
        .assets
        .expect_delete()
        .times(1)
        .returning(|_| Err(AssetError::Unexpected(Unexpected::msg("store down"))));
    let log = ports.log();

    let result = ports.service().delete(&manager(), current.id).await;

    assert!(result.is_ok());
    assert_committed_once(&log, ProductDeleted::NAME, current.id);
}

#[tokio::test]
async fn a_product_deleted_meanwhile_is_not_found() {
    let current = product(ProductStatus::Draft, false);
    let mut ports = Ports::serving(&current);
    ports.sales.expect_has_sales().returning(|_| Ok(false));
    ports.store.expect_delete().returning(|_| Ok(false));
    ports.assets.expect_delete().never();
    let log = ports.log();

    let result = ports.service().delete(&manager(), current.id).await;

    assert!(matches!(result, Err(CatalogError::NotFound)));
    assert_nothing_committed(&log);
}

// ---- events for what follows a write ------------------------------------------------

#[tokio::test]
async fn a_failed_write_rolls_its_unit_back_and_records_nothing() {
    let draft = product(ProductStatus::Draft, true);
    let mut ports = Ports::serving(&draft);
    ports
        .store
        .expect_update()
        .times(1)
        .returning(|_, _| Err(CatalogError::Conflict));
    let log = ports.log();

    let result = ports.service().publish(&manager(), draft.id).await;

    assert!(matches!(result, Err(CatalogError::Conflict)));
    assert_nothing_committed(&log);
}

#[tokio::test]
async fn a_unit_that_cannot_begin_is_unexpected_and_writes_nothing() {
    let draft = product(ProductStatus::Draft, true);
    let mut ports = Ports::serving(&draft);
    ports.store.expect_update().never();
    let mut uow = crate::MockCatalogUnitOfWork::new();
    uow.expect_begin()
        .times(1)
        .returning(|| Err(CatalogError::Unexpected(Unexpected::msg("database down"))));
    let service = ProductService::new(
        Arc::new(ports.repo),
        Arc::new(uow),
        Arc::new(ports.search),
        Arc::new(ports.sales),
        Arc::new(ports.assets),
        Arc::new(FixedClock::default()),
        config(),
    );

    let result = service.publish(&manager(), draft.id).await;

    assert!(matches!(result, Err(CatalogError::Unexpected(_))));
}

#[tokio::test]
async fn each_write_records_one_event_in_its_own_unit() {
    let draft = product(ProductStatus::Draft, true);
    let mut ports = Ports::serving(&draft);
    ports.expect_saved(3);
    ports.sales.expect_has_sales().returning(|_| Ok(false));
    ports.store.expect_delete().times(1).returning(|_| Ok(true));
    ports.assets.expect_delete().returning(|_| Ok(()));
    let log = ports.log();
    let service = ports.service();

    service
        .publish(&manager(), draft.id)
        .await
        .expect("publishes");
    service.delete(&manager(), draft.id).await.expect("deletes");

    assert_eq!(log.commits(), 2);
    assert_eq!(
        log.product_events(),
        vec![
            (ProductUpdated::NAME.to_owned(), Some(draft.id)),
            (ProductDeleted::NAME.to_owned(), Some(draft.id)),
        ]
    );
    assert!(
        log.events()
            .iter()
            .all(|e| e.occurred_at == now() && !e.sensitive)
    );
}

// ---- what the public sees -------------------------------------------------------------

#[tokio::test]
async fn the_public_sees_only_published_products() {
    for (status, visible) in [
        (ProductStatus::Draft, false),
        (ProductStatus::Published, true),
        (ProductStatus::Archived, false),
    ] {
        let current = product(status, true);
        let service = Ports::serving(&current).service();

        let result = service.get_public(&ProductRef::Id(current.id)).await;

        assert_eq!(result.is_ok(), visible, "{status}");
        if !visible {
            assert!(matches!(result, Err(CatalogError::NotFound)), "{status}");
        }
    }
}

#[tokio::test]
async fn the_public_finds_a_product_by_slug() {
    let live = product(ProductStatus::Published, true);
    let mut ports = Ports::default();
    let stored = live.clone();
    ports
        .repo
        .expect_find_by_slug()
        .withf(|s| s.as_str() == "invoice-template")
        .returning(move |_| Ok(Some(stored.clone())));
    let reference = ProductRef::parse("invoice-template").expect("a slug");

    let found = ports.service().get_public(&reference).await;

    assert!(matches!(found, Ok(p) if p.id == live.id));
}

#[tokio::test]
async fn the_public_catalog_is_answered_by_the_search_port() {
    let mut ports = Ports::default();
    let query = ProductQuery {
        category: Some(Category::parse("templates").expect("category")),
        ..ProductQuery::default()
    };
    let expected = query.clone();
    ports
        .search
        .expect_search()
        .withf(move |q, page| *q == expected && page.page() == 2)
        .times(1)
        .returning(|_, page| {
            Ok(Page {
                items: vec![],
                total: 0,
                request: page,
            })
        });

    let page = ports
        .service()
        .list_public(query, PageRequest::new(Some(2), None))
        .await;

    assert!(page.is_ok());
}

#[tokio::test]
async fn managers_list_products_in_every_status() {
    let mut ports = Ports::default();
    ports
        .repo
        .expect_list_admin()
        .withf(|f, _| f.status == Some(ProductStatus::Draft))
        .times(1)
        .returning(|_, page| {
            Ok(Page {
                items: vec![product(ProductStatus::Draft, false)],
                total: 1,
                request: page,
            })
        });
    let filter = ProductFilter {
        status: Some(ProductStatus::Draft),
        ..ProductFilter::default()
    };

    let page = ports
        .service()
        .list_admin(&manager(), filter, PageRequest::default())
        .await
        .expect("lists");

    assert_eq!(page.total, 1);
}

// ---- files ----------------------------------------------------------------------------

#[tokio::test]
async fn an_upload_is_refused_to_a_customer_before_the_product_is_even_loaded() {
    let mut ports = Ports::default();
    ports.repo.expect_find().never();
    ports.assets.expect_put_file().never();
    let customer = crate::permissions::actor(UserId::new(), Role::Customer);

    let result = ports
        .service()
        .authorize_asset_upload(&customer, ProductId::new())
        .await;

    assert!(matches!(result, Err(CatalogError::Forbidden)));
}

#[tokio::test]
async fn an_upload_to_a_missing_or_archived_product_is_refused_before_any_byte() {
    let archived = product(ProductStatus::Archived, true);
    let mut empty = Ports::default();
    empty.repo.expect_find().returning(|_| Ok(None));

    let missing = empty
        .service()
        .authorize_asset_upload(&manager(), ProductId::new())
        .await;
    let retired = Ports::serving(&archived)
        .service()
        .authorize_asset_upload(&manager(), archived.id)
        .await;

    assert!(
        matches!(missing, Err(CatalogError::NotFound)),
        "{missing:?}"
    );
    assert!(
        matches!(retired, Err(CatalogError::InvalidTransition { .. })),
        "{retired:?}"
    );
}

#[tokio::test]
async fn an_attached_file_is_stored_under_the_product_and_replaces_the_old_one() {
    let current = product(ProductStatus::Published, true);
    let old_key = current.asset.clone().expect("has a file").key;
    let mut ports = Ports::serving(&current);
    let prefix = format!("products/{}/", current.id);
    let put_prefix = prefix.clone();
    ports
        .assets
        .expect_put_file()
        .withf(move |k, file, ct| {
            let name = k.as_str().strip_prefix(&put_prefix).unwrap_or_default();
            name.len() > 37
                && Uuid::try_parse(&name[..36]).is_ok_and(|u| u.get_version_num() == 7)
                && &name[36..] == "-Q1-report.pdf"
                && file.size == 3
                && ct == "application/pdf"
        })
        .times(1)
        .returning(|k, _, _| Ok(stored(k, 3, "application/pdf")));
    ports
        .assets
        .expect_delete()
        .withf(move |k| *k == old_key)
        .times(1)
        .returning(|_| Ok(()));
    let slot = ports.expect_saved(3);
    let log = ports.log();

    let updated = ports
        .service()
        .attach_asset(
            &manager(),
            current.id,
            file_name("Q1 report.pdf"),
            "Application/PDF; charset=binary",
            &staged(3),
        )
        .await
        .expect("attaches");

    let asset = updated.asset.clone().expect("a file");
    assert!(asset.key.as_str().starts_with(&prefix));
    assert_eq!(asset.file_name.as_str(), "Q1 report.pdf");
    assert_eq!(asset.content_type, "application/pdf");
    assert_eq!(
        (asset.size, asset.sha256_hex.as_str()),
        (3, "cd".repeat(32).as_str())
    );
    assert_eq!(saved(&slot), updated);
    assert_committed_once(&log, ProductUpdated::NAME, updated.id);
    assert_eq!(updated.version, 4);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_before_storing() {
    let current = product(ProductStatus::Draft, false);
    let service = Ports::serving(&current).service();
    let too_big = staged(MAX_BYTES + 1);

    let result = service
        .attach_asset(
            &manager(),
            current.id,
            file_name("a.pdf"),
            "application/pdf",
            &too_big,
        )
        .await;

    assert!(matches!(
        result,
        Err(CatalogError::AssetTooLarge { max: MAX_BYTES })
    ));
}

#[tokio::test]
async fn a_file_of_a_type_not_allowed_is_refused() {
    let current = product(ProductStatus::Draft, false);
    let service = Ports::serving(&current).service();

    for content_type in ["text/html", "", "application/pdfx"] {
        let result = service
            .attach_asset(
                &manager(),
                current.id,
                file_name("a.html"),
                content_type,
                &staged(1),
            )
            .await;

        assert!(
            matches!(result, Err(CatalogError::ContentTypeNotAllowed)),
            "{content_type:?}"
        );
    }
}

#[tokio::test]
async fn a_file_cannot_be_attached_to_an_archived_product() {
    let current = product(ProductStatus::Archived, true);
    let service = Ports::serving(&current).service();

    let result = service
        .attach_asset(
            &manager(),
            current.id,
            file_name("a.zip"),
            "application/zip",
            &staged(1),
        )
        .await;

    assert!(matches!(
        result,
        Err(CatalogError::InvalidTransition {
            from: ProductStatus::Archived,
            ..
        })
    ));
}

#[tokio::test]
async fn a_file_whose_product_changed_meanwhile_is_removed_again() {
    let current = product(ProductStatus::Draft, false);
    let mut ports = Ports::serving(&current);
    let put_key = Arc::new(Mutex::new(None));
    let put_sink = Arc::clone(&put_key);
    ports.assets.expect_put_file().returning(move |k, _, ct| {
        *put_sink.lock().expect("lock") = Some(k.clone());
        Ok(stored(k, 1, ct))
    });
    ports
        .store
        .expect_update()
        .returning(|_, _| Err(CatalogError::Conflict));
    let log = ports.log();
    let deleted = Arc::new(Mutex::new(None));
    let delete_sink = Arc::clone(&deleted);
    ports.assets.expect_delete().times(1).returning(move |k| {
        *delete_sink.lock().expect("lock") = Some(k.clone());
        Ok(())
    });

    let result = ports
        .service()
        .attach_asset(
            &manager(),
            current.id,
            file_name("a.zip"),
            "application/zip",
            &staged(1),
        )
        .await;

    assert!(matches!(result, Err(CatalogError::Conflict)));
    assert_nothing_committed(&log);
    assert_eq!(
        *deleted.lock().expect("lock"),
        *put_key.lock().expect("lock")
    );
}

#[tokio::test]
async fn a_store_failure_is_unexpected_not_a_client_error() {
    let current = product(ProductStatus::Draft, false);
    let mut ports = Ports::serving(&current);
    ports
        .assets
        .expect_put_file()
        .returning(|_, _, _| Err(AssetError::Unexpected(Unexpected::msg("bucket gone"))));

    let result = ports
        .service()
        .attach_asset(
            &manager(),
            current.id,
            file_name("a.zip"),
            "application/zip",
            &staged(1),
        )
        .await;

    assert!(matches!(result, Err(CatalogError::Unexpected(_))));
}

#[tokio::test]
async fn an_upload_link_is_a_presigned_put_under_the_product() {
    let current = product(ProductStatus::Draft, false);
    let mut ports = Ports::serving(&current);
    ports
        .assets
        .expect_upload_link()
        .withf(|_, ct, ttl, at| {
            ct == "application/zip" && *ttl == ProductService::UPLOAD_LINK_TTL && *at == now()
        })
        .times(1)
        .returning(|_, _, _, _| Ok(Some(link())));

    let ticket = ports
        .service()
        .upload_link(
            &manager(),
            current.id,
            file_name("bundle.zip"),
            "application/zip",
        )
        .await
        .expect("a ticket");

    assert!(
        ticket
            .key
            .as_str()
            .starts_with(&format!("products/{}/", current.id))
    );
    assert!(ticket.key.as_str().ends_with("-bundle.zip"));
    assert_eq!(ticket.link, link());
}

#[tokio::test]
async fn a_store_without_direct_uploads_says_so() {
    let current = product(ProductStatus::Draft, false);
    let mut ports = Ports::serving(&current);
    ports
        .assets
        .expect_upload_link()
        .returning(|_, _, _, _| Ok(None));

    let result = ports
        .service()
        .upload_link(
            &manager(),
            current.id,
            file_name("a.pdf"),
            "application/pdf",
        )
        .await;

    assert!(matches!(result, Err(CatalogError::UploadLinkUnsupported)));
}

#[tokio::test]
async fn a_confirmed_upload_is_recorded_with_what_the_store_holds() {
    let current = product(ProductStatus::Draft, false);
    let upload = key(&format!(
        "products/{}/{}-bundle.zip",
        current.id,
        Uuid::now_v7()
    ));
    let mut ports = Ports::serving(&current);
    let expected_key = upload.clone();
    ports
        .assets
        .expect_head()
        .withf(move |k| *k == expected_key)
        .returning(|k| Ok(Some(stored(k, 700, "application/zip"))));
    ports.expect_saved(3);
    let log = ports.log();

    let updated = ports
        .service()
        .confirm_upload(&manager(), current.id, &upload)
        .await
        .expect("confirms");

    assert_committed_once(&log, ProductUpdated::NAME, updated.id);
    let asset = updated.asset.expect("a file");
    assert_eq!(asset.key, upload);
    assert_eq!(asset.file_name.as_str(), "bundle.zip");
    assert_eq!(
        (asset.size, asset.content_type.as_str()),
        (700, "application/zip")
    );
}

#[tokio::test]
async fn a_key_of_another_product_or_shape_cannot_be_confirmed() {
    let current = product(ProductStatus::Draft, false);
    let service = Ports::serving(&current).service();
    let keys = [
        format!("products/{}/{}-a.pdf", ProductId::new(), Uuid::now_v7()),
        format!("products/{}/a.pdf", current.id),
        format!("products/{}/{}-a/b.pdf", current.id, Uuid::now_v7()),
        format!("elsewhere/{}/{}-a.pdf", current.id, Uuid::now_v7()),
    ];

    for raw in keys {
        let result = service
            .confirm_upload(&manager(), current.id, &key(&raw))
            .await;

        assert!(
            matches!(result, Err(CatalogError::Asset(AssetError::NotFound))),
            "{raw}"
        );
    }
}

#[tokio::test]
async fn confirming_before_uploading_finds_nothing() {
    let current = product(ProductStatus::Draft, false);
    let upload = key(&format!("products/{}/{}-a.pdf", current.id, Uuid::now_v7()));
    let mut ports = Ports::serving(&current);
    ports.assets.expect_head().returning(|_| Ok(None));

    let result = ports
        .service()
        .confirm_upload(&manager(), current.id, &upload)
        .await;

    assert!(matches!(
        result,
        Err(CatalogError::Asset(AssetError::NotFound))
    ));
}

#[tokio::test]
async fn an_uploaded_file_that_breaks_the_limits_is_deleted() {
    for (size, content_type, too_large) in [
        (MAX_BYTES + 1, "application/pdf", true),
        (10, "text/html", false),
    ] {
        let current = product(ProductStatus::Draft, false);
        let upload = key(&format!("products/{}/{}-a.pdf", current.id, Uuid::now_v7()));
        let mut ports = Ports::serving(&current);
        ports
            .assets
            .expect_head()
            .returning(move |k| Ok(Some(stored(k, size, content_type))));
        let expected_key = upload.clone();
        ports
            .assets
            .expect_delete()
            .withf(move |k| *k == expected_key)
            .times(1)
            .returning(|_| Ok(()));

        let result = ports
            .service()
            .confirm_upload(&manager(), current.id, &upload)
            .await;

        if too_large {
            assert!(matches!(
                result,
                Err(CatalogError::AssetTooLarge { max: MAX_BYTES })
            ));
        } else {
            assert!(matches!(result, Err(CatalogError::ContentTypeNotAllowed)));
        }
    }
}

#[tokio::test]
async fn other_areas_find_a_product_in_any_status() {
    for status in ProductStatus::ALL {
        let current = product(status, false);
        let service = Ports::serving(&current).service();

        let found = service.find_any(current.id).await;

        assert!(matches!(found, Ok(Some(p)) if p == current), "{status}");
    }
}

#[tokio::test]
async fn downloads_get_the_file_of_a_product_in_any_status() {
    for status in ProductStatus::ALL {
        let current = product(status, true);
        let service = Ports::serving(&current).service();

        let asset = service.asset_of(current.id).await;

        assert!(
            matches!(asset, Ok(a) if Some(&a) == current.asset.as_ref()),
            "{status}"
        );
    }
    let bare = product(ProductStatus::Draft, false);
    let result = Ports::serving(&bare).service().asset_of(bare.id).await;
    assert!(matches!(result, Err(CatalogError::AssetMissing)));
}
