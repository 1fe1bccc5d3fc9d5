//! `SeaOrderRepository` (with `ProcessedEvents`), the unit of work `SeaOrdersUnitOfWork`,
//! the catalog's `SeaSalesLedger` over its orders, `SeaEntitlementRepository`,
//! `SeaProductCatalog` and `SeaBuyerDirectory` on every backend: storage, lists, all-or-
//! nothing units of work with their outbox events, gap-free invoice numbers under
//! concurrent payments, and rows that break the model's rules.

mod common;

use common::{TestDb, at};
use nexus_catalog::{
    AssetKey, CatalogUnitOfWork, Category, FileName, Product, ProductAsset, ProductDescription,
    ProductStatus, ProductTitle, SalesLedger, Slug, Tags,
};
use nexus_identity::UserRepository;
use std::sync::Arc;

use nexus_catalog::ProductId;
use nexus_kernel::{Currency, FixedClock, Money, PageRequest, Role, UserId};
use nexus_orders::{
    BuyerDirectory, EntitlementRepository, GatewayEventId, GatewayKind, InvoiceNumber, Order,
    OrderChange, OrderId, OrderLine, OrderQuery, OrderRefund, OrderRepository, OrderStatus,
    OrderTransition, OrdersError, OrdersUnitOfWork, ProcessedEvents, ProductCatalog, RefundReason,
    write_change,
};
use nexus_outbox::{
    Delivery, DeliveryError, DomainEvent, EventEnvelope, RoutesHandle, Subscriber,
    SubscriberRegistry, Subscription,
};
use nexus_sea_catalog::{SeaCatalogUnitOfWork, SeaSalesLedger};
use nexus_sea_identity::SeaUserRepository;
use nexus_sea_orders::entities::{invoice_counter, order as order_row};
use nexus_sea_orders::{
    SeaBuyerDirectory, SeaEntitlementRepository, SeaOrderRepository, SeaOrdersUnitOfWork,
    SeaProductCatalog,
};
use nexus_sea_support::{DatabaseConnection, Transactions};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Catalog units of work on `db`, without subscribers (these tests write no events).
fn catalog_units(db: &DatabaseConnection) -> SeaCatalogUnitOfWork {
    SeaCatalogUnitOfWork::new(nexus_sea_support::Transactions::new(
        db.clone(),
        nexus_outbox::RoutesHandle::new(),
        std::sync::Arc::new(nexus_kernel::FixedClock::default()),
    ))
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid money")
}

/// A subscriber of every orders event, so that each recorded event gets one delivery.
struct Everything;

#[async_trait::async_trait]
impl Subscriber for Everything {
    fn name(&self) -> &'static str {
        "everything"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<nexus_orders::OrderPlaced>(),
            Subscription::to::<nexus_orders::OrderPaid>(),
            Subscription::to::<nexus_orders::OrderRefunded>(),
            Subscription::to::<nexus_orders::PaymentUnapplied>(),
            Subscription::to::<nexus_orders::UnappliedPaymentRefunded>(),
        ]
    }

    async fn deliver(&self, _: &Delivery) -> Result<(), DeliveryError> {
        Ok(())
    }
}

/// The repositories under test on one database, and a manager who creates products.
struct Fixture {
    db: DatabaseConnection,
    orders: SeaOrderRepository,
    uow: SeaOrdersUnitOfWork,
    entitlements: SeaEntitlementRepository,
    creator: UserId,
}

async fn fixture(t: &TestDb) -> Fixture {
    let mut registry = SubscriberRegistry::new();
    registry
        .register(Arc::new(Everything))
        .expect("one subscriber");
    let transactions = Transactions::new(
        t.db.clone(),
        RoutesHandle::installed(registry.shared_routes()),
        Arc::new(FixedClock::default()),
    );
    Fixture {
        db: t.db.clone(),
        orders: SeaOrderRepository::new(t.db.clone()),
        uow: SeaOrdersUnitOfWork::new(transactions),
        entitlements: SeaEntitlementRepository::new(t.db.clone()),
        creator: common::staff(&t.db, Role::Manager).await,
    }
}

/// Writes `change` of an order stored at `expected` (with webhook `event`) in one unit of
/// work, as the service does; the invoice number a payment allocated.
async fn write(
    uow: &SeaOrdersUnitOfWork,
    change: OrderChange,
    expected: i64,
    event: Option<&str>,
) -> Result<Option<InvoiceNumber>, OrdersError> {
    let paid = change.transition == OrderTransition::Paid;
    let event = event.map(event_id);
    let mut tx = uow.begin().await?;
    let stored = write_change(&mut *tx, expected, change, event.as_ref()).await?;
    tx.commit().await?;
    Ok(if paid {
        stored.invoice_number().cloned()
    } else {
        None
    })
}

impl Fixture {
    /// Inserts `order` in a unit of work (with `orders.order_placed`, as checkout does).
    async fn insert(&self, order: &Order) -> Result<(), OrdersError> {
        let mut tx = self.uow.begin().await?;
        tx.orders().insert(order).await?;
        tx.record(
            EventEnvelope::new(
                &nexus_orders::OrderPlaced {
                    order_id: order.id(),
                    user_id: order.user_id(),
                },
                order.created_at(),
            )
            .expect("event"),
        );
        tx.commit().await
    }

    /// Writes `change` of an order stored at `expected` in one unit of work.
    async fn write(
        &self,
        change: &OrderChange,
        expected: i64,
        event: Option<&str>,
    ) -> Result<Option<InvoiceNumber>, OrdersError> {
        write(&self.uow, change.clone(), expected, event).await
    }

    /// Inserts a storefront account named "Ada Lovelace" and returns its id.
    async fn buyer(&self) -> UserId {
        let mut user = common::user(
            &format!("{}@buyer.example.com", Uuid::now_v7().simple()),
            Role::Customer,
            0,
        );
        user.first_name = common::name("Ada");
        user.last_name = common::name("Lovelace");
        SeaUserRepository::new(self.db.clone())
            .insert(&user)
            .await
            .expect("insert buyer");
        user.id
    }

    /// Inserts a product in `status` (with a file unless DRAFT) at `price` minor units.
    async fn product_in(&self, status: ProductStatus, price: i64) -> Product {
        let id = ProductId::new();
        let with_file = status != ProductStatus::Draft;
        let product = Product {
            id,
            slug: Slug::parse(&format!("p-{}", Uuid::now_v7().simple())).expect("valid slug"),
            title: ProductTitle::parse("Invoice template").expect("valid title"),
            description: ProductDescription::empty(),
            price: inr(price),
            category: Category::parse("templates").expect("valid category"),
            tags: Tags::default(),
            status,
            asset: with_file.then(|| ProductAsset {
                key: AssetKey::parse(&format!(
                    "products/{id}/0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b-file.pdf"
                ))
                .expect("valid key"),
                file_name: FileName::parse("Invoice template.pdf").expect("valid name"),
                content_type: "application/pdf".to_owned(),
                size: 1_000,
                sha256_hex: "ab".repeat(32),
            }),
            preview_image_url: None,
            cover: None,
            created_by: self.creator,
            created_at: at(0),
            updated_at: at(0),
            published_at: with_file.then(|| at(0)),
            version: 1,
        };
        let tx = catalog_units(&self.db).begin().await.expect("begin");
        tx.products()
            .insert(&product)
            .await
            .expect("insert product");
        tx.commit().await.expect("commit product");
        product
    }

    /// A PUBLISHED product at `price` minor units; returns its id.
    async fn product(&self, price: i64) -> ProductId {
        self.product_in(ProductStatus::Published, price).await.id
    }

    /// A PENDING_PAYMENT order of `user` for `products` (100.00 INR each), placed at
    /// `at(created)`, inserted, and attached to a gateway order in a second save.
    async fn placed(&self, user: UserId, products: &[ProductId], created: i64) -> Order {
        let lines = products
            .iter()
            .map(|p| OrderLine {
                product_id: *p,
                title: format!("Product {p}"),
                unit_price: inr(10_000),
            })
            .collect();
        let order =
            Order::place(user, lines, GatewayKind::Razorpay, at(created)).expect("place order");
        self.insert(&order).await.expect("insert order");
        let attached = order
            .attach_gateway_order(
                &format!("order_{}", order.id().as_uuid().simple()),
                at(created),
            )
            .expect("attach gateway order");
        let change = OrderChange {
            order: attached.clone(),
            transition: OrderTransition::Updated,
        };
        self.write(&change, order.version(), None)
            .await
            .expect("save gateway order");
        attached
    }

    /// Pays `order` at `paid` seconds (optionally for webhook `event`) and saves it.
    async fn pay(
        &self,
        order: &Order,
        paid: i64,
        event: Option<&str>,
    ) -> Result<Option<InvoiceNumber>, OrdersError> {
        let change = order
            .pay(&format!("pay_{}", order.id().as_uuid().simple()), at(paid))
            .expect("payable");
        self.write(&change, order.version(), event).await
    }

    async fn reload(&self, id: OrderId) -> Order {
        self.orders
            .find(id)
            .await
            .expect("find")
            .expect("order exists")
    }

    async fn owns(&self, user: UserId, product: ProductId) -> bool {
        self.entitlements.owns(user, product).await.expect("owns")
    }

    /// The last invoice number issued in `year`, 0 when none.
    async fn counter(&self, year: i32) -> i64 {
        invoice_counter::Entity::find_by_id(year)
            .one(&self.db)
            .await
            .expect("read counter")
            .map_or(0, |row| row.last)
    }
}

fn event_id(raw: &str) -> GatewayEventId {
    GatewayEventId::parse(raw).expect("valid event id")
}

fn number(year: i32, sequence: u64) -> InvoiceNumber {
    InvoiceNumber::new(year, sequence).expect("valid invoice number")
}

fn refund(id: &str, minor: i64, by: Option<UserId>, when: i64) -> OrderRefund {
    OrderRefund {
        refund_id: id.to_owned(),
        amount: inr(minor),
        reason: by.map(|_| RefundReason::parse("Asked by the buyer").expect("valid reason")),
        refunded_by: by,
        at: at(when),
    }
}

fn ids(orders: &[Order]) -> Vec<OrderId> {
    orders.iter().map(Order::id).collect()
}

// ---- storage and lists ----------------------------------------------------------------

#[tokio::test]
async fn an_order_reads_back_as_it_was_stored_by_id_gateway_order_and_payment() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (a, b, c) = (
            fx.product(100).await,
            fx.product(200).await,
            fx.product(300).await,
        );
        // Lines come back in checkout order, not in product id order.
        let order = fx.placed(buyer, &[c, a, b], 10).await;

        let by_id = fx.orders.find(order.id()).await.expect("find");
        let gateway_order = order.gateway_order_id().expect("attached").to_owned();
        let by_gateway = fx
            .orders
            .find_by_gateway_order(&gateway_order)
            .await
            .expect("find by gateway order");
        fx.pay(&order, 20, None).await.expect("pay");
        let paid = fx.reload(order.id()).await;
        let by_payment = fx
            .orders
            .find_by_payment(paid.payment_id().expect("paid"))
            .await
            .expect("find by payment");

        assert_eq!(by_id.as_ref(), Some(&order), "{}", t.backend);
        assert_eq!(by_gateway.as_ref(), Some(&order), "{}", t.backend);
        assert_eq!(by_payment.as_ref(), Some(&paid), "{}", t.backend);
        let products: Vec<ProductId> = paid.lines().iter().map(|l| l.product_id).collect();
        assert_eq!(products, [c, a, b], "{}", t.backend);
        assert_eq!(paid.status(), OrderStatus::Paid, "{}", t.backend);
        assert_eq!(paid.paid_at(), Some(at(20)), "{}", t.backend);
        assert!(
            fx.orders
                .find(OrderId::new())
                .await
                .expect("find")
                .is_none()
        );
        assert!(
            fx.orders
                .find_by_gateway_order("order_unknown")
                .await
                .expect("find")
                .is_none()
        );
        assert!(
            fx.orders
                .find_by_payment("pay_unknown")
                .await
                .expect("find")
                .is_none()
        );
    }
}

#[tokio::test]
async fn inserting_an_order_twice_is_a_conflict() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let order = Order::place(
            buyer,
            vec![OrderLine {
                product_id: product,
                title: "Once".to_owned(),
                unit_price: inr(100),
            }],
            GatewayKind::Development,
            at(0),
        )
        .expect("place");
        fx.insert(&order).await.expect("first insert");

        let again = fx.insert(&order).await;

        assert!(
            matches!(again, Err(OrdersError::Conflict)),
            "{}: {again:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn lists_are_newest_first_scoped_by_buyer_and_status_with_exact_totals() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let (ada, bob) = (fx.buyer().await, fx.buyer().await);
        let product = fx.product(100).await;
        let ada_old = fx.placed(ada, &[product], 10).await;
        let ada_paid = fx.placed(ada, &[product], 20).await;
        fx.pay(&ada_paid, 25, None).await.expect("pay");
        // Two orders of the same instant: the larger (later v7) id comes first.
        let tie_a = fx.placed(ada, &[product], 30).await;
        let tie_b = fx.placed(ada, &[product], 30).await;
        let (first_tie, second_tie) = if tie_a.id() > tie_b.id() {
            (tie_a.id(), tie_b.id())
        } else {
            (tie_b.id(), tie_a.id())
        };
        let bobs = fx.placed(bob, &[product], 40).await;
        let list = |user_id, status, page, limit| {
            let orders = fx.orders.clone();
            async move {
                orders
                    .list(
                        &OrderQuery { user_id, status },
                        PageRequest::new(Some(page), Some(limit)),
                    )
                    .await
                    .expect("list")
            }
        };

        let everything = list(None, None, 1, 100).await;
        let adas_first_page = list(Some(ada), None, 1, 3).await;
        let adas_second_page = list(Some(ada), None, 2, 3).await;
        let adas_paid = list(Some(ada), Some(OrderStatus::Paid), 1, 10).await;
        let pending = list(None, Some(OrderStatus::PendingPayment), 1, 10).await;
        let bobs_paid = list(Some(bob), Some(OrderStatus::Paid), 1, 10).await;

        assert_eq!(
            ids(&everything.items),
            [
                bobs.id(),
                first_tie,
                second_tie,
                ada_paid.id(),
                ada_old.id()
            ],
            "{}",
            t.backend
        );
        assert_eq!(everything.total, 5);
        assert_eq!(
            ids(&adas_first_page.items),
            [first_tie, second_tie, ada_paid.id()],
            "{}",
            t.backend
        );
        assert_eq!(adas_first_page.total, 4);
        assert_eq!(ids(&adas_second_page.items), [ada_old.id()]);
        assert_eq!(adas_second_page.total, 4);
        assert_eq!(ids(&adas_paid.items), [ada_paid.id()]);
        assert_eq!(adas_paid.total, 1);
        // Listed orders are whole: lines and the invoice number come along.
        assert_eq!(adas_paid.items[0], fx.reload(ada_paid.id()).await);
        assert_eq!(pending.total, 4);
        assert!(bobs_paid.items.is_empty());
        assert_eq!(bobs_paid.total, 0);
    }
}

#[tokio::test]
async fn an_expiry_after_a_payment_is_a_conflict_and_the_paid_order_is_untouched() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (expiring, bought) = (fx.product(100).await, fx.product(100).await);
        let unpaid = fx.placed(buyer, &[expiring], 10).await;
        let paid_late = fx.placed(buyer, &[bought], 20).await;
        // What `OrderService::expire_unpaid` does, with the payment of the second order
        // committed between its read and its save.
        fx.pay(&paid_late, 50, Some("evt_paid")).await.expect("pay");
        let paid_before = fx.reload(paid_late.id()).await;

        let mut results = Vec::new();
        for order in [&unpaid, &paid_late] {
            let change = order.expire(at(70)).expect("expirable");
            results.push(fx.write(&change, order.version(), None).await);
        }

        assert!(
            matches!(results[0], Ok(None)),
            "{}: {:?}",
            t.backend,
            results[0]
        );
        assert!(
            matches!(results[1], Err(OrdersError::Conflict)),
            "{}: {:?}",
            t.backend,
            results[1]
        );
        let expired = fx.reload(unpaid.id()).await;
        assert_eq!(expired.status(), OrderStatus::Expired, "{}", t.backend);
        assert_eq!(expired.version(), unpaid.version() + 1);
        assert_eq!(expired.updated_at(), at(70));
        assert_eq!(expired.paid_at(), None);
        assert!(!fx.owns(buyer, expiring).await, "{}", t.backend);
        assert_eq!(
            fx.reload(paid_late.id()).await,
            paid_before,
            "{}",
            t.backend
        );
        assert_eq!(paid_before.status(), OrderStatus::Paid);
        assert!(fx.owns(buyer, bought).await, "{}", t.backend);
    }
}

// ---- units of work and the outbox ------------------------------------------------------

#[tokio::test]
async fn a_committed_unit_of_work_writes_its_rows_its_events_and_their_deliveries() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let before = common::outbox(&fx.db).await;

        let order = fx.placed(buyer, &[product], 10).await;
        fx.pay(&order, 20, Some("evt_paid")).await.expect("pay");

        // orders.order_placed and orders.order_paid, each with one delivery.
        assert_eq!(
            common::outbox(&fx.db).await,
            (before.0 + 2, before.1 + 2),
            "{}",
            t.backend
        );
        assert_eq!(fx.reload(order.id()).await.status(), OrderStatus::Paid);
        let names = common::event_names(&fx.db).await;
        assert_eq!(
            names,
            [
                nexus_orders::OrderPlaced::NAME,
                nexus_orders::OrderPaid::NAME
            ],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_unit_of_work_dropped_without_commit_writes_nothing() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let order = fx.placed(buyer, &[product], 10).await;
        let before = common::outbox(&fx.db).await;
        let change = order.pay("pay_dropped", at(20)).expect("payable");

        {
            let mut tx = fx.uow.begin().await.expect("begin");
            write_change(
                &mut *tx,
                order.version(),
                change,
                Some(&event_id("evt_dropped")),
            )
            .await
            .expect("written");
            let payment = nexus_orders::UnappliedPayment {
                id: Uuid::now_v7(),
                order_id: order.id(),
                user_id: buyer,
                payment_id: "pay_other".into(),
                amount: inr(10_000),
                reason: nexus_orders::UnappliedReason::PaidByAnotherPayment,
                refund_id: None,
                at: at(20),
            };
            assert!(
                tx.unapplied_payments()
                    .insert(&payment)
                    .await
                    .expect("insert")
            );
            // Dropped here, never committed.
        }

        assert_eq!(fx.reload(order.id()).await, order, "{}", t.backend);
        assert!(!fx.owns(buyer, product).await, "{}", t.backend);
        assert_eq!(fx.counter(2026).await, 0, "{}", t.backend);
        assert!(
            !fx.orders
                .seen(&event_id("evt_dropped"))
                .await
                .expect("seen")
        );
        assert_eq!(common::outbox(&fx.db).await, before, "{}", t.backend);
        assert_eq!(
            common::count(&fx.db, "unapplied_payments").await,
            0,
            "{}",
            t.backend
        );
    }
}

// ---- save: all or nothing ------------------------------------------------------------

#[tokio::test]
async fn paying_grants_the_products_allocates_a_number_records_the_event_and_order_paid() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (a, b) = (fx.product(100).await, fx.product(200).await);
        let order = fx.placed(buyer, &[a, b], 10).await;
        let outbox_before = common::outbox(&fx.db).await;

        let allocated = fx.pay(&order, 20, Some("evt_paid")).await.expect("pay");

        assert_eq!(allocated, Some(number(2026, 1)), "{}", t.backend);
        let stored = fx.reload(order.id()).await;
        assert_eq!(stored.invoice_number(), Some(&number(2026, 1)));
        assert_eq!(stored.version(), order.version() + 1);
        assert!(
            fx.owns(buyer, a).await && fx.owns(buyer, b).await,
            "{}",
            t.backend
        );
        assert!(fx.orders.seen(&event_id("evt_paid")).await.expect("seen"));
        // orders.order_paid, and its delivery.
        assert_eq!(
            common::outbox(&fx.db).await,
            (outbox_before.0 + 1, outbox_before.1 + 1)
        );
        let library = fx
            .entitlements
            .list(buyer, PageRequest::default())
            .await
            .expect("library");
        assert_eq!(library.total, 2);
        assert!(
            library
                .items
                .iter()
                .all(|e| e.order_id == order.id() && e.granted_at == at(20))
        );
    }
}

#[tokio::test]
async fn a_stale_save_is_a_conflict_and_writes_nothing() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let order = fx.placed(buyer, &[product], 10).await;
        let outbox_before = common::outbox(&fx.db).await;
        let change = order.pay("pay_stale", at(20)).expect("payable");

        let result = fx
            .write(&change, order.version() - 1, Some("evt_stale"))
            .await;

        assert!(
            matches!(result, Err(OrdersError::Conflict)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(fx.reload(order.id()).await, order, "{}", t.backend);
        assert!(!fx.owns(buyer, product).await);
        assert_eq!(common::outbox(&fx.db).await, outbox_before);
        assert!(!fx.orders.seen(&event_id("evt_stale")).await.expect("seen"));
        assert_eq!(fx.counter(2026).await, 0);
        // A save of an order that does not exist is a conflict too.
        let ghost = Order::place(buyer, order.lines().to_vec(), GatewayKind::Razorpay, at(0))
            .expect("place");
        let ghost_change = ghost.cancel(at(1)).expect("cancel");
        let ghost_save = fx.write(&ghost_change, 1, None).await;
        assert!(matches!(ghost_save, Err(OrdersError::Conflict)));
    }
}

#[tokio::test]
async fn a_payment_whose_event_was_already_processed_writes_nothing_and_keeps_its_number() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let duplicate = fx.placed(buyer, &[product], 10).await;
        let next = fx.placed(buyer, &[product], 11).await;
        assert!(
            fx.orders
                .record(&event_id("evt_dup"), at(5))
                .await
                .expect("record")
        );
        let outbox_before = common::outbox(&fx.db).await;

        // The event is recorded after the number is allocated: the rollback must give
        // the number back.
        let result = fx.pay(&duplicate, 20, Some("evt_dup")).await;
        let next_number = fx.pay(&next, 21, Some("evt_next")).await.expect("pay next");

        assert!(
            matches!(result, Err(OrdersError::Conflict)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(fx.reload(duplicate.id()).await, duplicate, "{}", t.backend);
        assert_eq!(next_number, Some(number(2026, 1)), "{}", t.backend);
        assert_eq!(fx.counter(2026).await, 1);
        let library = fx
            .entitlements
            .list(buyer, PageRequest::default())
            .await
            .expect("library");
        // Only the second order's grant.
        assert_eq!(library.total, 1);
        assert_eq!(library.items[0].order_id, next.id());
        // Only the second payment's orders.order_paid.
        assert_eq!(
            common::outbox(&fx.db).await,
            (outbox_before.0 + 1, outbox_before.1 + 1)
        );
    }
}

#[tokio::test]
async fn concurrent_payments_get_every_invoice_number_once_without_gaps() {
    const ORDERS: usize = 20;
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let mut orders = Vec::with_capacity(ORDERS);
        for i in 0..ORDERS {
            // One product each: a product is paid for once per buyer.
            let product = fx.product(100).await;
            orders.push(
                fx.placed(buyer, &[product], i64::try_from(i).expect("small"))
                    .await,
            );
        }

        // Each payment on its own task, so each takes its own pooled connection.
        let tasks: Vec<_> = orders
            .iter()
            .enumerate()
            .map(|(i, order)| {
                let uow = fx.uow.clone();
                let order = order.clone();
                tokio::spawn(async move {
                    let change = order.pay(&format!("pay_{i}"), at(100)).expect("payable");
                    write(&uow, change, order.version(), Some(&format!("evt_{i}"))).await
                })
            })
            .collect();
        let mut numbers = Vec::with_capacity(ORDERS);
        for task in tasks {
            let allocated = task.await.expect("task").expect("pay");
            numbers.push(allocated.expect("a number"));
        }

        numbers.sort_by_key(|n| n.as_str().to_owned());
        let expected: Vec<InvoiceNumber> = (1..=20).map(|n| number(2026, n)).collect();
        assert_eq!(numbers, expected, "{}", t.backend);
        assert_eq!(fx.counter(2026).await, 20);
        // What each order stored is what its save returned.
        let mut stored: Vec<InvoiceNumber> = Vec::with_capacity(ORDERS);
        for order in &orders {
            stored.push(
                fx.reload(order.id())
                    .await
                    .invoice_number()
                    .expect("numbered")
                    .clone(),
            );
        }
        stored.sort_by_key(|n| n.as_str().to_owned());
        assert_eq!(stored, expected, "{}", t.backend);
    }
}

#[tokio::test]
async fn each_year_is_numbered_from_one() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let this_year = fx.placed(buyer, &[fx.product(100).await], 0).await;
        let next_year = fx.placed(buyer, &[fx.product(100).await], 0).await;
        let one_year = 365 * 24 * 60 * 60;

        let first = fx.pay(&this_year, 10, None).await.expect("pay");
        let second = fx.pay(&next_year, one_year + 10, None).await.expect("pay");

        assert_eq!(first, Some(number(2026, 1)), "{}", t.backend);
        assert_eq!(second, Some(number(2027, 1)), "{}", t.backend);
    }
}

#[tokio::test]
async fn the_invoice_key_is_set_alone_and_survives_later_saves() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(10_000).await;
        let order = fx.placed(buyer, &[product], 10).await;
        fx.pay(&order, 20, None).await.expect("pay");
        let paid = fx.reload(order.id()).await;
        let key = nexus_orders::invoice_key(paid.invoice_number().expect("numbered"))
            .expect("invoice key");

        fx.orders
            .set_invoice_key(paid.id(), &key)
            .await
            .expect("set key");
        // A refund saved from the copy read before the key was set.
        let change = paid
            .record_refund(refund("rfnd_1", 10_000, None, 30))
            .expect("refundable");
        fx.write(&change, paid.version(), None)
            .await
            .expect("save refund");
        let stored = fx.reload(order.id()).await;

        assert_eq!(stored.invoice_key(), Some(&key), "{}", t.backend);
        assert_eq!(stored.invoice_number(), paid.invoice_number());
        assert_eq!(
            stored.version(),
            paid.version() + 1,
            "the key bumps no version"
        );
        let missing = fx.orders.set_invoice_key(OrderId::new(), &key).await;
        assert!(matches!(missing, Err(OrdersError::NotFound)), "{missing:?}");
    }
}

// ---- refunds and entitlements ---------------------------------------------------------

#[tokio::test]
async fn refunds_add_up_and_only_a_full_refund_takes_back_what_the_order_granted() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let admin = common::staff(&fx.db, Role::Admin).await;
        let (a, b) = (fx.product(100).await, fx.product(100).await);
        let order = fx.placed(buyer, &[a, b], 10).await;
        fx.pay(&order, 20, None).await.expect("pay");
        let paid = fx.reload(order.id()).await;

        let partial = paid
            .record_refund(refund("rfnd_a", 5_000, Some(admin), 30))
            .expect("refundable");
        fx.write(&partial, paid.version(), None)
            .await
            .expect("partial refund");
        let after_partial = fx.reload(order.id()).await;
        let rest = after_partial
            .record_refund(refund("rfnd_b", 15_000, None, 40))
            .expect("refundable");
        fx.write(&rest, after_partial.version(), None)
            .await
            .expect("full refund");
        let refunded = fx.reload(order.id()).await;

        assert_eq!(after_partial, partial.order, "{}", t.backend);
        assert_eq!(after_partial.status(), OrderStatus::PartiallyRefunded);
        assert_eq!(after_partial.refunded(), inr(5_000));
        assert_eq!(refunded, rest.order, "{}", t.backend);
        assert_eq!(refunded.status(), OrderStatus::Refunded);
        assert_eq!(refunded.refunded(), inr(20_000));
        let refund_ids: Vec<&str> = refunded
            .refunds()
            .iter()
            .map(|r| r.refund_id.as_str())
            .collect();
        assert_eq!(refund_ids, ["rfnd_a", "rfnd_b"]);
        assert_eq!(refunded.refunds()[0].refunded_by, Some(admin));
        assert!(
            !fx.owns(buyer, a).await && !fx.owns(buyer, b).await,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_refund_already_counted_on_another_order_is_a_conflict() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (first, second) = (
            fx.placed(buyer, &[fx.product(100).await], 10).await,
            fx.placed(buyer, &[fx.product(100).await], 11).await,
        );
        fx.pay(&first, 20, None).await.expect("pay");
        fx.pay(&second, 21, None).await.expect("pay");
        let (first, second) = (fx.reload(first.id()).await, fx.reload(second.id()).await);
        let counted = first
            .record_refund(refund("rfnd_same", 100, None, 30))
            .expect("refundable");
        fx.write(&counted, first.version(), None)
            .await
            .expect("refund first");

        let again = second
            .record_refund(refund("rfnd_same", 100, None, 31))
            .expect("refundable");
        let result = fx.write(&again, second.version(), None).await;

        assert!(
            matches!(result, Err(OrdersError::Conflict)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(fx.reload(second.id()).await, second, "{}", t.backend);
    }
}

#[tokio::test]
async fn a_payment_for_a_product_already_owned_is_refused_whole() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (kept, extra) = (fx.product(100).await, fx.product(100).await);
        let first = fx.placed(buyer, &[kept], 10).await;
        let second = fx.placed(buyer, &[kept, extra], 11).await;
        fx.pay(&first, 20, None).await.expect("pay first");
        let outbox_before = common::outbox(&fx.db).await;

        let result = fx.pay(&second, 30, Some("evt_second")).await;

        assert!(
            matches!(result, Err(OrdersError::AlreadyOwned(p)) if p == kept),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(fx.reload(second.id()).await, second, "{}", t.backend);
        assert!(!fx.owns(buyer, extra).await, "{}", t.backend);
        assert_eq!(
            fx.counter(2026).await,
            1,
            "the number went back: {}",
            t.backend
        );
        assert_eq!(common::outbox(&fx.db).await, outbox_before);
        assert!(!fx.orders.seen(&event_id("evt_second")).await.expect("seen"));
    }
}

#[tokio::test]
async fn a_full_refund_leaves_a_product_that_another_paid_order_still_pays_for() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (kept, extra) = (fx.product(100).await, fx.product(100).await);
        let first = fx.placed(buyer, &[kept], 10).await;
        let second = fx.placed(buyer, &[kept, extra], 11).await;
        fx.pay(&first, 20, None).await.expect("pay first");
        // Two paid orders for one product, as older versions could make: the second one
        // paid without granting.
        let change = OrderChange {
            order: second.pay("pay_legacy", at(30)).expect("payable").order,
            transition: OrderTransition::Updated,
        };
        fx.write(&change, second.version(), None)
            .await
            .expect("legacy payment");
        let first = fx.reload(first.id()).await;

        let refund = first
            .record_refund(refund("rfnd_all", 10_000, None, 40))
            .expect("refundable");
        fx.write(&refund, first.version(), None)
            .await
            .expect("full refund");

        let library = fx
            .entitlements
            .list(buyer, PageRequest::default())
            .await
            .expect("library");
        let entries: Vec<_> = library
            .items
            .iter()
            .map(|e| (e.product_id, e.order_id))
            .collect();
        assert_eq!(entries, [(kept, second.id())], "{}", t.backend);
    }
}

#[tokio::test]
async fn one_unpaid_order_per_buyer_and_cart_and_one_record_per_unapplied_payment() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let lines = vec![OrderLine {
            product_id: product,
            title: "P".into(),
            unit_price: inr(10_000),
        }];
        let key = nexus_orders::checkout_fingerprint(&lines);
        let place = |gid: &str| {
            Order::place(buyer, lines.clone(), GatewayKind::Razorpay, at(10))
                .expect("place")
                .with_checkout_key(key.clone())
                .attach_gateway_order(gid, at(10))
                .expect("attach")
        };
        let first = place("order_one");
        fx.insert(&first).await.expect("first");

        let second = fx.insert(&place("order_two")).await;

        assert!(
            matches!(second, Err(OrdersError::Conflict)),
            "{}: {second:?}",
            t.backend
        );
        let found = fx
            .orders
            .find_pending_checkout(buyer, &key)
            .await
            .expect("find");
        assert_eq!(found.map(|o| o.id()), Some(first.id()), "{}", t.backend);
        assert_eq!(fx.orders.count_pending(buyer).await.expect("count"), 1);

        let expired = first.expire(at(20)).expect("expirable");
        fx.write(&expired, first.version(), None)
            .await
            .expect("expire");
        fx.insert(&place("order_three"))
            .await
            .expect("a closed order frees the cart");

        let payment = nexus_orders::UnappliedPayment {
            id: Uuid::now_v7(),
            order_id: first.id(),
            user_id: buyer,
            payment_id: "pay_late".into(),
            amount: inr(10_000),
            reason: nexus_orders::UnappliedReason::OrderClosed,
            refund_id: None,
            at: at(30),
        };
        let outbox_before = common::outbox(&fx.db).await;
        let record = |payment: nexus_orders::UnappliedPayment, event: &'static str| {
            let uow = fx.uow.clone();
            async move {
                let mut tx = uow.begin().await?;
                tx.gateway_events().record(&event_id(event), at(30)).await?;
                let new = tx.unapplied_payments().insert(&payment).await?;
                if new {
                    tx.record(
                        EventEnvelope::new(
                            &nexus_orders::PaymentUnapplied {
                                unapplied_id: payment.id,
                                order_id: payment.order_id,
                            },
                            at(30),
                        )
                        .expect("event"),
                    );
                }
                tx.commit().await?;
                Ok::<bool, OrdersError>(new)
            }
        };
        let new = record(payment.clone(), "evt_a").await.expect("record");
        let twin = nexus_orders::UnappliedPayment {
            id: Uuid::now_v7(),
            ..payment.clone()
        };
        let again = record(twin.clone(), "evt_b").await.expect("record again");
        let replayed = record(twin, "evt_b").await;

        assert!(new && !again, "{}", t.backend);
        assert!(matches!(replayed, Err(OrdersError::Conflict)));
        assert_eq!(
            common::outbox(&fx.db).await,
            (outbox_before.0 + 1, outbox_before.1 + 1)
        );
        let stored = fx
            .orders
            .find_unapplied(payment.id)
            .await
            .expect("find")
            .expect("stored");
        assert_eq!(stored, payment, "{}", t.backend);
        let mark = |refund_id: &'static str, when: i64| {
            let uow = fx.uow.clone();
            async move {
                let tx = uow.begin().await?;
                let marked = tx
                    .unapplied_payments()
                    .mark_refunded(payment.id, refund_id, at(when))
                    .await?;
                tx.commit().await?;
                Ok::<bool, OrdersError>(marked)
            }
        };
        assert!(mark("rfnd_1", 40).await.expect("mark"));
        assert!(!mark("rfnd_2", 41).await.expect("mark again"));
        let refunded = fx.orders.find_unapplied(payment.id).await.expect("find");
        assert_eq!(
            refunded.and_then(|p| p.refund_id).as_deref(),
            Some("rfnd_1")
        );
    }
}

#[tokio::test]
async fn a_library_pages_newest_first_with_ties_by_product_id_and_an_exact_total() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let (buyer, other) = (fx.buyer().await, fx.buyer().await);
        let mut products = Vec::new();
        for _ in 0..3 {
            products.push(fx.product(100).await);
        }
        let order = fx.placed(buyer, &products, 10).await;
        fx.pay(&order, 20, None).await.expect("pay");
        let later_product = fx.product(100).await;
        let later = fx.placed(buyer, &[later_product], 30).await;
        fx.pay(&later, 40, None).await.expect("pay");
        let others = fx.placed(other, &[later_product], 50).await;
        fx.pay(&others, 60, None).await.expect("pay");

        let first = fx
            .entitlements
            .list(buyer, PageRequest::new(Some(1), Some(2)))
            .await
            .expect("page 1");
        let second = fx
            .entitlements
            .list(buyer, PageRequest::new(Some(2), Some(2)))
            .await
            .expect("page 2");

        products.sort_by_key(|p| std::cmp::Reverse(p.as_uuid()));
        let listed: Vec<ProductId> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|e| e.product_id)
            .collect();
        assert_eq!(
            listed,
            [later_product, products[0], products[1], products[2]],
            "{}",
            t.backend
        );
        assert_eq!((first.total, second.total), (4, 4));
    }
}

// ---- processed events ---------------------------------------------------------------

#[tokio::test]
async fn an_event_is_recorded_once() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let id = event_id("evt_once");

        let before = fx.orders.seen(&id).await.expect("seen");
        let first = fx.orders.record(&id, at(1)).await.expect("record");
        let second = fx.orders.record(&id, at(2)).await.expect("record again");
        let after = fx.orders.seen(&id).await.expect("seen");

        assert!(!before, "{}", t.backend);
        assert!(first, "{}", t.backend);
        assert!(!second, "{}", t.backend);
        assert!(after, "{}", t.backend);
    }
}

// ---- bad rows ------------------------------------------------------------------------

#[tokio::test]
async fn a_stored_order_that_breaks_the_models_rules_is_unexpected() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let product = fx.product(100).await;
        let refunded_without_refunds = fx.placed(buyer, &[product], 10).await;
        let unknown_status = fx.placed(buyer, &[product], 11).await;
        let tamper = |id: OrderId, column: order_row::Column, value: Expr| {
            let db = fx.db.clone();
            async move {
                order_row::Entity::update_many()
                    .col_expr(column, value)
                    .filter(order_row::Column::Id.eq(id.as_uuid()))
                    .exec(&db)
                    .await
                    .expect("tamper");
            }
        };
        tamper(
            refunded_without_refunds.id(),
            order_row::Column::RefundedMinor,
            Expr::value(5_i64),
        )
        .await;
        tamper(
            unknown_status.id(),
            order_row::Column::Status,
            Expr::value("SHIPPED"),
        )
        .await;

        let inconsistent = fx.orders.find(refunded_without_refunds.id()).await;
        let unknown = fx.orders.find(unknown_status.id()).await;
        let listed = fx
            .orders
            .list(&OrderQuery::default(), PageRequest::default())
            .await;

        assert!(
            matches!(inconsistent, Err(OrdersError::Unexpected(_))),
            "{}: {inconsistent:?}",
            t.backend
        );
        assert!(
            matches!(unknown, Err(OrdersError::Unexpected(_))),
            "{unknown:?}"
        );
        assert!(
            matches!(listed, Err(OrdersError::Unexpected(_))),
            "{listed:?}"
        );
    }
}

// ---- catalog, sales, buyers ------------------------------------------------------------

#[tokio::test]
async fn the_catalog_answers_any_product_and_marks_only_published_ones_purchasable() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let catalog = SeaProductCatalog::new(fx.db.clone());
        let published = fx.product_in(ProductStatus::Published, 12_345).await;
        let draft = fx.product_in(ProductStatus::Draft, 100).await;
        let archived = fx.product_in(ProductStatus::Archived, 100).await;

        let live = catalog
            .purchasable(published.id)
            .await
            .expect("published")
            .expect("exists");
        let draft_seen = catalog.purchasable(draft.id).await.expect("draft");
        let archived_seen = catalog.purchasable(archived.id).await.expect("archived");
        let missing = catalog
            .purchasable(ProductId::new())
            .await
            .expect("missing");

        assert!(live.status_published, "{}", t.backend);
        assert_eq!(live.id, published.id);
        assert_eq!(live.title, "Invoice template");
        assert_eq!(live.price, inr(12_345));
        let asset = published.asset.expect("published with a file");
        assert_eq!(live.asset_key, Some(asset.key));
        assert_eq!(
            live.asset_file_name.as_deref(),
            Some("Invoice template.pdf")
        );
        let draft_seen = draft_seen.expect("a draft still exists");
        assert!(!draft_seen.status_published, "{}", t.backend);
        assert_eq!(
            (draft_seen.asset_key, draft_seen.asset_file_name),
            (None, None)
        );
        // Owners keep downloading an archived product: its file is still answered.
        let archived_seen = archived_seen.expect("an archived product still exists");
        assert!(!archived_seen.status_published, "{}", t.backend);
        assert!(archived_seen.asset_key.is_some());
        assert!(missing.is_none());
    }
}

#[tokio::test]
async fn a_product_in_any_order_has_sales() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let (unsold, pending, paid) = (
            fx.product(100).await,
            fx.product(100).await,
            fx.product(100).await,
        );
        fx.placed(buyer, &[pending], 10).await;
        let order = fx.placed(buyer, &[paid], 11).await;
        fx.pay(&order, 20, None).await.expect("pay");

        let ledger = SeaSalesLedger::new(fx.db.clone());
        let answers = (
            ledger.has_sales(unsold).await.expect("unsold"),
            ledger.has_sales(pending).await.expect("pending"),
            ledger.has_sales(paid).await.expect("paid"),
        );

        assert_eq!(answers, (false, true, true), "{}", t.backend);
        // And the catalog cannot delete an ordered product from under its order.
        let tx = catalog_units(&fx.db).begin().await.expect("begin");
        let delete = tx.products().delete(pending).await;
        drop(tx);
        assert!(
            matches!(delete, Err(nexus_catalog::CatalogError::ProductSold)),
            "{}: {delete:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_buyer_is_named_first_name_then_last_name() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyers = SeaBuyerDirectory::new(fx.db.clone());
        let id = fx.buyer().await;

        let buyer = buyers.buyer(id).await.expect("buyer").expect("exists");
        let missing = buyers.buyer(UserId::new()).await.expect("missing");

        assert_eq!(buyer.name, "Ada Lovelace", "{}", t.backend);
        assert!(buyer.email.ends_with("@buyer.example.com"));
        assert!(missing.is_none());
    }
}

#[tokio::test]
async fn each_counted_refund_gets_the_next_credit_note_number_and_a_rollback_gives_it_back() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let order = fx.placed(buyer, &[fx.product(100).await], 10).await;
        fx.pay(&order, 20, None).await.expect("pay");
        let paid = fx.reload(order.id()).await;
        let first = paid
            .record_refund(refund("rfnd_a", 1_000, None, 30))
            .expect("refundable");
        fx.write(&first, paid.version(), None)
            .await
            .expect("first refund");
        // A save that fails after taking its number (its event was already processed)
        // rolls the number back.
        let current = fx.reload(order.id()).await;
        fx.orders
            .record(&event_id("evt_dup"), at(31))
            .await
            .expect("record");
        let stale = current
            .record_refund(refund("rfnd_lost", 1_000, None, 31))
            .expect("refundable");
        let lost = fx.write(&stale, current.version(), Some("evt_dup")).await;
        let current = fx.reload(order.id()).await;
        let second = current
            .record_refund(refund("rfnd_b", 2_000, None, 32))
            .expect("refundable");
        fx.write(&second, current.version(), None)
            .await
            .expect("second refund");

        assert!(matches!(lost, Err(OrdersError::Conflict)), "{}", t.backend);
        let number = |refund_id: &'static str| {
            let orders = fx.orders.clone();
            async move {
                orders
                    .find_credit_note(refund_id)
                    .await
                    .expect("find")
                    .map(|n| n.number.as_str().to_owned())
            }
        };
        assert_eq!(number("rfnd_a").await.as_deref(), Some("CN-2026-000001"));
        assert_eq!(number("rfnd_b").await.as_deref(), Some("CN-2026-000002"));
        assert_eq!(number("rfnd_lost").await, None, "{}", t.backend);
    }
}

// ---- the dashboard's counters ----------------------------------------------------------

/// `(status, n)` of every status counter that is not 0.
type StatusCounts = Vec<(String, i64)>;
/// `(day, currency, placed, placed_paid, paid, paid_minor)`.
type DayCounts = Vec<(chrono::NaiveDate, String, i64, i64, i64, i64)>;
/// `(day, product, title, units, amount_minor)`.
type ProductCounts = Vec<(chrono::NaiveDate, Uuid, String, i64, i64)>;

/// The counters as stored, in key order.
async fn counters(db: &DatabaseConnection) -> (StatusCounts, DayCounts, ProductCounts) {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = |sql: &str| db.query_all_raw(Statement::from_string(db.get_database_backend(), sql));
    let statuses = rows("SELECT status, n FROM order_status_counts WHERE n <> 0 ORDER BY status")
        .await
        .expect("status counters")
        .iter()
        .map(|r| {
            (
                r.try_get("", "status").expect("status"),
                r.try_get("", "n").expect("n"),
            )
        })
        .collect();
    let days = rows(
        "SELECT day, currency, placed, placed_paid, paid, paid_minor FROM order_day_counts \
         ORDER BY day, currency",
    )
    .await
    .expect("day counters")
    .iter()
    .map(|r| {
        let get = |c: &str| r.try_get::<i64>("", c).expect("a count");
        (
            r.try_get("", "day").expect("day"),
            r.try_get("", "currency").expect("currency"),
            get("placed"),
            get("placed_paid"),
            get("paid"),
            get("paid_minor"),
        )
    })
    .collect();
    let products = rows(
        "SELECT day, product_id, title, units, amount_minor FROM product_day_counts \
         ORDER BY day, product_id",
    )
    .await
    .expect("product counters")
    .iter()
    .map(|r| {
        (
            r.try_get("", "day").expect("day"),
            r.try_get("", "product_id").expect("product"),
            r.try_get("", "title").expect("title"),
            r.try_get("", "units").expect("units"),
            r.try_get("", "amount_minor").expect("amount"),
        )
    })
    .collect();
    (statuses, days, products)
}

/// The counters `orders` (as stored now) call for, computed here from the orders alone.
fn expected_counters(orders: &[Order]) -> (StatusCounts, DayCounts, ProductCounts) {
    use std::collections::BTreeMap;
    let mut statuses: BTreeMap<String, i64> = BTreeMap::new();
    let mut days: BTreeMap<(chrono::NaiveDate, String), [i64; 4]> = BTreeMap::new();
    let mut products: BTreeMap<(chrono::NaiveDate, Uuid), (String, i64, i64)> = BTreeMap::new();
    for order in orders {
        *statuses
            .entry(order.status().as_str().to_owned())
            .or_default() += 1;
        let currency = order.total().currency().as_str().to_owned();
        let placed = days
            .entry((order.created_at().date_naive(), currency.clone()))
            .or_default();
        placed[0] += 1;
        placed[1] += i64::from(order.paid_at().is_some());
        if let Some(paid_at) = order.paid_at() {
            let paid = days.entry((paid_at.date_naive(), currency)).or_default();
            paid[2] += 1;
            paid[3] += order.total().amount_minor();
            for line in order.lines() {
                let row = products
                    .entry((paid_at.date_naive(), line.product_id.as_uuid()))
                    .or_insert_with(|| (line.title.clone(), 0, 0));
                row.1 += 1;
                row.2 += line.unit_price.amount_minor();
            }
        }
    }
    (
        statuses.into_iter().collect(),
        days.into_iter()
            .map(|((day, c), [a, b, p, m])| (day, c, a, b, p, m))
            .collect(),
        products
            .into_iter()
            .map(|((day, p), (title, units, amount))| (day, p, title, units, amount))
            .collect(),
    )
}

const DAY: i64 = 86_400;

#[tokio::test]
async fn the_counters_follow_placing_paying_refunding_and_expiring_and_ignore_what_failed() {
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let (buyer, admin) = (fx.buyer().await, common::staff(&fx.db, Role::Admin).await);
        let [a, b, c, d, e] = [
            fx.product(100).await,
            fx.product(100).await,
            fx.product(100).await,
            fx.product(100).await,
            fx.product(100).await,
        ];
        // Day 0: two orders placed; one is paid on day 1, the other expires.
        let first = fx.placed(buyer, &[a, b], 10).await;
        let expiring = fx.placed(buyer, &[c], 20).await;
        fx.pay(&first, DAY + 10, None).await.expect("pay");
        let expire = expiring.expire(at(30)).expect("expirable");
        fx.write(&expire, expiring.version(), None)
            .await
            .expect("expire");
        // Day 1: one order paid the same day and refunded whole on day 2, one left unpaid.
        let refunded = fx.placed(buyer, &[d], DAY + 20).await;
        fx.pay(&refunded, DAY + 30, None).await.expect("pay");
        let paid = fx.reload(refunded.id()).await;
        let refund = paid
            .record_refund(refund("rfnd_all", 10_000, Some(admin), 2 * DAY))
            .expect("refundable");
        fx.write(&refund, paid.version(), None)
            .await
            .expect("refund");
        let pending = fx.placed(buyer, &[e], DAY + 40).await;
        // Neither a stale save nor a unit of work dropped without commit counts.
        let stale = first.expire(at(DAY + 50)).expect("expirable");
        assert!(matches!(
            fx.write(&stale, first.version(), None).await,
            Err(OrdersError::Conflict)
        ));
        {
            let change = pending.pay("pay_dropped", at(DAY + 60)).expect("payable");
            let mut tx = fx.uow.begin().await.expect("begin");
            write_change(&mut *tx, pending.version(), change, None)
                .await
                .expect("written");
        }

        let (statuses, days, products) = counters(&fx.db).await;
        let day = |n: i64| at(n * DAY).date_naive();
        let status = |s: &str| (s.to_owned(), 1);
        assert_eq!(
            statuses,
            [
                status("EXPIRED"),
                status("PAID"),
                status("PENDING_PAYMENT"),
                status("REFUNDED")
            ],
            "{}",
            t.backend
        );
        let inr = || "INR".to_owned();
        assert_eq!(
            days,
            [
                (day(0), inr(), 2, 1, 0, 0),
                (day(1), inr(), 2, 1, 2, 30_000)
            ],
            "{}",
            t.backend
        );
        let mut sold: Vec<_> = [a, b, d]
            .iter()
            .map(|p| (day(1), p.as_uuid(), format!("Product {p}"), 1, 10_000))
            .collect();
        sold.sort();
        assert_eq!(products, sold, "{}", t.backend);
        let stored = [
            fx.reload(first.id()).await,
            fx.reload(expiring.id()).await,
            fx.reload(refunded.id()).await,
            fx.reload(pending.id()).await,
        ];
        assert_eq!(
            (statuses, days, products),
            expected_counters(&stored),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn concurrent_placing_paying_and_expiring_lose_no_count() {
    const ORDERS: usize = 12;
    for t in common::backends().await {
        let fx = fixture(&t).await;
        let buyer = fx.buyer().await;
        let mut products = Vec::with_capacity(ORDERS);
        for _ in 0..ORDERS {
            products.push(fx.product(100).await);
        }
        // Placed at once, each in its own unit of work on its own connection.
        let placing: Vec<_> = products
            .iter()
            .enumerate()
            .map(|(i, product)| {
                let uow = fx.uow.clone();
                let lines = vec![OrderLine {
                    product_id: *product,
                    title: format!("Product {product}"),
                    unit_price: inr(10_000 + i64::try_from(i).expect("small")),
                }];
                let order = Order::place(buyer, lines, GatewayKind::Razorpay, at(DAY - 60))
                    .expect("place")
                    .attach_gateway_order(&format!("order_{i}"), at(DAY - 60))
                    .expect("attach gateway order");
                tokio::spawn(async move {
                    let tx = uow.begin().await?;
                    tx.orders().insert(&order).await?;
                    tx.commit().await?;
                    Ok::<_, OrdersError>(order)
                })
            })
            .collect();
        let mut orders = Vec::with_capacity(ORDERS);
        for task in placing {
            orders.push(task.await.expect("task").expect("placed"));
        }
        // Then, at once: every order paid (across midnight), and every other one also
        // expired from the same stored version, so exactly one of each pair wins.
        let mut racing = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let seconds = DAY - 30 + 10 * i64::try_from(i).expect("small");
            let pay = order
                .pay(&format!("pay_{i}"), at(seconds))
                .expect("payable");
            let (uow, version) = (fx.uow.clone(), order.version());
            racing.push(tokio::spawn(async move {
                write(&uow, pay, version, Some(&format!("evt_{i}"))).await
            }));
            if i % 2 == 0 {
                let expire = order.expire(at(seconds)).expect("expirable");
                let uow = fx.uow.clone();
                racing.push(tokio::spawn(async move {
                    write(&uow, expire, version, None).await
                }));
            }
        }
        let mut conflicts = 0;
        for task in racing {
            match task.await.expect("task") {
                Ok(_) => {}
                Err(OrdersError::Conflict) => conflicts += 1,
                Err(other) => panic!("{}: {other:?}", t.backend),
            }
        }
        assert_eq!(conflicts, ORDERS / 2, "{}", t.backend);

        let mut stored = Vec::with_capacity(ORDERS);
        for order in &orders {
            stored.push(fx.reload(order.id()).await);
        }
        let expected = expected_counters(&stored);
        let (statuses, _, _) = &expected;
        let total: i64 = statuses.iter().map(|(_, n)| n).sum();
        assert_eq!(total, i64::try_from(ORDERS).expect("small"));
        assert_eq!(counters(&fx.db).await, expected, "{}", t.backend);
    }
}
