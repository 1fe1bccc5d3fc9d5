//! Unit tests of `OrderService` against mocked ports.
//!
//! The order repository, processed-event mocks and the units of work (`TestTx`, whose
//! tx-bound mocks stage their writes and apply them only on commit) share one small
//! in-memory state, so that the tests can prove what the adapter's transaction guarantees:
//! a stale version or an already-processed event is a `Conflict` and writes nothing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use nexus_catalog::AssetKey;
use nexus_catalog::ProductId;
use nexus_kernel::{
    Actor, Clock, Currency, FixedClock, Money, Page, PageRequest, Role, Unexpected, UserId,
};
use nexus_outbox::EventEnvelope;

use super::*;
use crate::test_tx::TestTx;
use crate::{
    CartItem, CreditNote, CreditNoteNumber, GatewayOrder, GatewayPayment, GatewayRefund,
    InvoiceNumber, MockCartStore, MockEntitlementRepository, MockOrderRepository,
    MockOrdersUnitOfWork, MockPaymentGateway, MockProcessedEvents, MockProductCatalog, OrderParts,
    OrderRefunded, OrderTransition, OrdersTx, PaymentUnapplied, PurchasableProduct,
};

// ---- fixtures -------------------------------------------------------------------------

const GOOD_SIGNATURE: &str = "good-signature";
const GATEWAY_ORDER: &str = "order_G1";

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid amount")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").expect("valid")).expect("valid amount")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().expect("not poisoned")
}

fn event(id: &str) -> GatewayEventId {
    GatewayEventId::parse(id).expect("valid event id")
}

fn reason() -> RefundReason {
    RefundReason::parse("Bought by mistake").expect("valid reason")
}

fn product(title: &str, minor: i64) -> PurchasableProduct {
    PurchasableProduct {
        id: ProductId::new(),
        title: title.to_owned(),
        price: inr(minor),
        status_published: true,
        asset_key: None,
        asset_file_name: None,
    }
}

/// A PENDING_PAYMENT order of `user` for 1 500.00 INR (two lines), with gateway order
/// `order_G1` at `gateway`.
fn pending_order(user: UserId, gateway: GatewayKind) -> Order {
    let lines = vec![
        OrderLine {
            product_id: ProductId::new(),
            title: "Rust book".into(),
            unit_price: inr(49_900),
        },
        OrderLine {
            product_id: ProductId::new(),
            title: "Course".into(),
            unit_price: inr(100_100),
        },
    ];
    Order::place(user, lines, gateway, now())
        .and_then(|o| o.attach_gateway_order(GATEWAY_ORDER, now()))
        .expect("valid order")
}

/// A PAID order of `user` (payment `pay_1`, invoice INV-2026-000001).
fn paid_order(user: UserId) -> Order {
    pending_order(user, GatewayKind::Razorpay)
        .pay("pay_1", now())
        .expect("payable")
        .order
        .with_invoice_number(InvoiceNumber::new(2026, 1).expect("valid"))
}

fn captured(amount: Money) -> WebhookEvent {
    WebhookEvent::PaymentCaptured {
        gateway_order_id: GATEWAY_ORDER.into(),
        payment_id: "pay_1".into(),
        amount,
    }
}

fn failed() -> WebhookEvent {
    WebhookEvent::PaymentFailed {
        gateway_order_id: GATEWAY_ORDER.into(),
        payment_id: "pay_0".into(),
        code: Some("BAD_REQUEST_ERROR".into()),
        reason: Some("card declined".into()),
    }
}

/// What a committed unit of work did besides saving its order.
#[derive(Debug, Clone, Default)]
struct Effects {
    grant_entitlements: bool,
    revoke_entitlements: bool,
    /// The invoice number it allocated and stored.
    invoice_number: Option<InvoiceNumber>,
    credit_notes: Vec<CreditNote>,
    /// The webhook event it recorded as processed.
    event_id: Option<GatewayEventId>,
    /// The names of the outbox events it recorded.
    events: Vec<String>,
}

/// One committed save of an order.
#[derive(Debug, Clone)]
struct Saved {
    order: Order,
    expected_version: i64,
    effects: Effects,
}

/// What one unit of work wrote, applied to the world only when it commits.
#[derive(Default)]
struct Staged {
    insert: Option<Order>,
    save: Option<(Order, i64)>,
    effects: Effects,
    invoice_numbers_taken: u64,
    unapplied: Option<UnappliedPayment>,
    failures: Vec<PaymentFailure>,
    downloads: Vec<Download>,
}

/// Something another request commits just before this request's next save.
type Interference = Box<dyn FnOnce(&World) + Send>;

/// What the repositories hold and what was written to them.
#[derive(Clone, Default)]
struct World {
    orders: Arc<Mutex<Vec<Order>>>,
    processed: Arc<Mutex<HashSet<GatewayEventId>>>,
    inserts: Arc<Mutex<Vec<Order>>>,
    saves: Arc<Mutex<Vec<Saved>>>,
    /// Events recorded through `ProcessedEvents::record` (changing no order).
    recorded: Arc<Mutex<Vec<GatewayEventId>>>,
    /// Products taken out of carts.
    cart_removals: Arc<Mutex<Vec<(UserId, ProductId)>>>,
    invoice_sequence: Arc<Mutex<u64>>,
    interfere: Arc<Mutex<Option<Interference>>>,
    /// Payments recorded as unapplied (one per gateway payment).
    unapplied: Arc<Mutex<Vec<UnappliedPayment>>>,
    /// Outbox events of committed units of work.
    events: Arc<Mutex<Vec<EventEnvelope>>>,
    /// Failed payment attempts and downloads of committed units of work.
    failures: Arc<Mutex<Vec<PaymentFailure>>>,
    downloads: Arc<Mutex<Vec<Download>>>,
    /// Units of work begun, and committed.
    begun: Arc<Mutex<usize>>,
    committed: Arc<Mutex<usize>>,
}

impl World {
    fn holding(orders: Vec<Order>) -> Self {
        let world = Self::default();
        lock(&world.orders).extend(orders);
        world
    }

    fn stored(&self, id: OrderId) -> Order {
        lock(&self.orders)
            .iter()
            .find(|o| o.id() == id)
            .cloned()
            .expect("stored order")
    }

    fn saves(&self) -> Vec<Saved> {
        lock(&self.saves).clone()
    }

    fn recorded(&self) -> Vec<GatewayEventId> {
        lock(&self.recorded).clone()
    }

    fn unapplied(&self) -> Vec<UnappliedPayment> {
        lock(&self.unapplied).clone()
    }

    fn event_names(&self) -> Vec<String> {
        lock(&self.events).iter().map(|e| e.name.clone()).collect()
    }

    /// Runs `f` at the start of the next save, as a concurrent request would.
    fn before_next_save(&self, f: impl FnOnce(&World) + Send + 'static) {
        *lock(&self.interfere) = Some(Box::new(f));
    }

    /// Applies what a unit of work staged (its commit).
    fn apply(&self, staged: Staged, events: &[EventEnvelope]) {
        let Staged {
            insert,
            save,
            mut effects,
            invoice_numbers_taken,
            unapplied,
            failures,
            downloads,
        } = staged;
        lock(&self.failures).extend(failures);
        lock(&self.downloads).extend(downloads);
        effects.events = events.iter().map(|e| e.name.clone()).collect();
        if let Some(e) = &effects.event_id {
            lock(&self.processed).insert(e.clone());
        }
        *lock(&self.invoice_sequence) += invoice_numbers_taken;
        if let Some(order) = insert {
            lock(&self.inserts).push(order.clone());
            lock(&self.orders).push(order);
        }
        if let Some(payment) = unapplied {
            lock(&self.unapplied).push(payment);
        }
        if let Some((order, expected_version)) = save {
            let stored = match &effects.invoice_number {
                Some(n) => order.clone().with_invoice_number(n.clone()),
                None => order.clone(),
            };
            if let Some(slot) = lock(&self.orders).iter_mut().find(|o| o.id() == order.id()) {
                *slot = stored;
            }
            lock(&self.saves).push(Saved {
                order,
                expected_version,
                effects,
            });
        }
        lock(&self.events).extend(events.iter().cloned());
        *lock(&self.committed) += 1;
    }

    /// Another request's unit of work writing `change` (with `event`) and committing.
    fn commit(
        &self,
        change: &OrderChange,
        expected_version: i64,
        event: Option<GatewayEventId>,
    ) -> Result<(), OrdersError> {
        let stored = self.stored(change.order.id());
        if stored.version() != expected_version
            || event
                .as_ref()
                .is_some_and(|e| lock(&self.processed).contains(e))
        {
            return Err(OrdersError::Conflict);
        }
        let mut staged = Staged {
            save: Some((change.order.clone(), expected_version)),
            ..Staged::default()
        };
        staged.effects.event_id = event;
        match &change.transition {
            OrderTransition::Updated => {}
            OrderTransition::Paid => {
                staged.effects.grant_entitlements = true;
                staged.invoice_numbers_taken = 1;
                let n = *lock(&self.invoice_sequence) + 1;
                staged.effects.invoice_number =
                    Some(InvoiceNumber::new(2026, n).expect("valid number"));
            }
            OrderTransition::Refunded { full, .. } => {
                staged.effects.revoke_entitlements = *full;
            }
        }
        self.apply(staged, &[]);
        Ok(())
    }

    /// A unit of work over this world: its writes are checked when made (a stale version,
    /// an event already processed) and applied when it commits.
    fn tx(&self) -> TestTx {
        *lock(&self.begun) += 1;
        let staged = Arc::new(Mutex::new(Staged::default()));
        let mut tx = TestTx::new();
        let st = staged.clone();
        tx.orders.expect_insert().returning(move |order| {
            lock(&st).insert = Some(order.clone());
            Ok(())
        });
        let (w, st) = (self.clone(), staged.clone());
        tx.orders.expect_save().returning(move |order, expected| {
            let interference = lock(&w.interfere).take();
            if let Some(f) = interference {
                f(&w);
            }
            let current = lock(&w.orders)
                .iter()
                .find(|o| o.id() == order.id())
                .map(Order::version);
            if current != Some(expected) {
                return Err(OrdersError::Conflict);
            }
            lock(&st).save = Some((order.clone(), expected));
            Ok(())
        });
        let st = staged.clone();
        tx.orders
            .expect_set_invoice_number()
            .returning(move |_, number| {
                lock(&st).effects.invoice_number = Some(number.clone());
                Ok(())
            });
        let st = staged.clone();
        tx.orders.expect_add_credit_note().returning(move |note| {
            lock(&st).effects.credit_notes.push(note.clone());
            Ok(())
        });
        let st = staged.clone();
        tx.entitlements.expect_grant().returning(move |_| {
            lock(&st).effects.grant_entitlements = true;
            Ok(())
        });
        let st = staged.clone();
        tx.entitlements.expect_revoke().returning(move |_| {
            lock(&st).effects.revoke_entitlements = true;
            Ok(())
        });
        let (w, st) = (self.clone(), staged.clone());
        tx.numbers.expect_next_invoice().returning(move |year| {
            let mut st = lock(&st);
            st.invoice_numbers_taken += 1;
            let n = *lock(&w.invoice_sequence) + st.invoice_numbers_taken;
            Ok(InvoiceNumber::new(year, n).expect("valid number"))
        });
        let st = staged.clone();
        tx.numbers.expect_next_credit_note().returning(move |year| {
            let n = lock(&st).effects.credit_notes.len() as u64 + 1;
            Ok(CreditNoteNumber::new(year, n).expect("valid number"))
        });
        let (w, st) = (self.clone(), staged.clone());
        tx.gateway_events.expect_record().returning(move |e, _| {
            if lock(&w.processed).contains(e) {
                return Err(OrdersError::Conflict);
            }
            lock(&st).effects.event_id = Some(e.clone());
            Ok(())
        });
        let (w, st) = (self.clone(), staged.clone());
        tx.unapplied.expect_insert().returning(move |payment| {
            if lock(&w.unapplied)
                .iter()
                .any(|p| p.payment_id == payment.payment_id)
            {
                return Ok(false);
            }
            lock(&st).unapplied = Some(payment.clone());
            Ok(true)
        });
        tx.unapplied.expect_mark_refunded().never();
        let st = staged.clone();
        tx.activity
            .expect_record_payment_failure()
            .returning(move |failure| {
                lock(&st).failures.push(failure.clone());
                Ok(())
            });
        let st = staged.clone();
        tx.activity
            .expect_record_download()
            .returning(move |download| {
                lock(&st).downloads.push(download.clone());
                Ok(())
            });
        let w = self.clone();
        tx.on_commit = Some(Box::new(move |events| {
            let staged = std::mem::take(&mut *lock(&staged));
            w.apply(staged, events);
        }));
        tx
    }

    fn unit_of_work(&self) -> MockOrdersUnitOfWork {
        let mut uow = MockOrdersUnitOfWork::new();
        let w = self.clone();
        uow.expect_begin()
            .returning(move || Ok(Box::new(w.tx()) as Box<dyn OrdersTx>));
        uow
    }

    fn order_repository(&self) -> MockOrderRepository {
        let mut repo = MockOrderRepository::new();
        let w = self.clone();
        repo.expect_find()
            .returning(move |id| Ok(lock(&w.orders).iter().find(|o| o.id() == id).cloned()));
        let w = self.clone();
        repo.expect_find_by_gateway_order().returning(move |gid| {
            Ok(lock(&w.orders)
                .iter()
                .find(|o| o.gateway_order_id() == Some(gid))
                .cloned())
        });
        let w = self.clone();
        repo.expect_find_by_payment().returning(move |pid| {
            Ok(lock(&w.orders)
                .iter()
                .find(|o| o.payment_id() == Some(pid))
                .cloned())
        });
        repo.expect_set_invoice_key().never();
        let w = self.clone();
        repo.expect_find_pending_checkout()
            .returning(move |user, key| {
                Ok(lock(&w.orders)
                    .iter()
                    .find(|o| {
                        o.user_id() == user
                            && o.checkout_key() == Some(key)
                            && o.status() == OrderStatus::PendingPayment
                    })
                    .cloned())
            });
        let w = self.clone();
        repo.expect_count_pending().returning(move |user| {
            Ok(lock(&w.orders)
                .iter()
                .filter(|o| o.user_id() == user && o.status() == OrderStatus::PendingPayment)
                .count() as u64)
        });
        repo
    }

    fn processed_events(&self) -> MockProcessedEvents {
        let mut events = MockProcessedEvents::new();
        let w = self.clone();
        events
            .expect_seen()
            .returning(move |e| Ok(lock(&w.processed).contains(e)));
        let w = self.clone();
        events.expect_record().returning(move |e, _| {
            lock(&w.recorded).push(e.clone());
            Ok(lock(&w.processed).insert(e.clone()))
        });
        events
    }

    /// A cart store whose carts hold `items` for `user` and which records removals.
    fn cart_store(&self, user: UserId, items: Vec<ProductId>) -> MockCartStore {
        let mut cart = MockCartStore::new();
        cart.expect_items().returning(move |u| {
            Ok(if u == user {
                items
                    .iter()
                    .map(|&product_id| CartItem {
                        product_id,
                        added_at: now(),
                    })
                    .collect()
            } else {
                vec![]
            })
        });
        let w = self.clone();
        cart.expect_remove().returning(move |u, p| {
            lock(&w.cart_removals).push((u, p));
            Ok(true)
        });
        cart.expect_clear().never();
        cart.expect_add().never();
        cart
    }
}

/// A gateway of `kind` accepting only `GOOD_SIGNATURE`; calls that move money or read
/// webhooks are set up by each test. It lists no payments for any gateway order.
fn gateway(kind: GatewayKind) -> MockPaymentGateway {
    let mut g = answering(kind);
    g.expect_order_payments().returning(|_| Ok(vec![]));
    g
}

/// [`gateway`] without its answer to `order_payments`.
fn answering(kind: GatewayKind) -> MockPaymentGateway {
    let mut g = MockPaymentGateway::new();
    g.expect_kind().return_const(kind);
    g.expect_key_id()
        .returning(|| PublicKeyId("rzp_test_key".into()));
    g.expect_verify_checkout_signature()
        .returning(|_, _, signature| signature == GOOD_SIGNATURE);
    g.expect_verify_webhook_signature()
        .returning(|_, signature| signature == GOOD_SIGNATURE);
    // The gateway reports every payment as captured for `order_G1`'s total.
    g.expect_fetch_payment().returning(|payment_id| {
        Ok(GatewayPayment {
            payment_id: payment_id.to_owned(),
            gateway_order_id: Some(GATEWAY_ORDER.into()),
            amount: inr(150_000),
            status: "captured".into(),
        })
    });
    g
}

/// A gateway whose every webhook body reads as `event`.
fn gateway_sending(event: WebhookEvent) -> MockPaymentGateway {
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_parse_webhook()
        .returning(move |_| Ok(event.clone()));
    g.expect_create_order().never();
    g.expect_refund().never();
    g
}

fn catalog_of(products: Vec<PurchasableProduct>) -> MockProductCatalog {
    let mut catalog = MockProductCatalog::new();
    catalog
        .expect_purchasable()
        .returning(move |id| Ok(products.iter().find(|p| p.id == id).cloned()));
    catalog
}

fn owning(user: UserId, owned: Vec<ProductId>) -> MockEntitlementRepository {
    let mut entitlements = MockEntitlementRepository::new();
    entitlements
        .expect_owns()
        .returning(move |u, p| Ok(u == user && owned.contains(&p)));
    entitlements
}

struct Setup {
    world: World,
    gateway: MockPaymentGateway,
    cart: MockCartStore,
    catalog: MockProductCatalog,
    entitlements: MockEntitlementRepository,
}

impl Setup {
    /// A world holding `orders`, an empty cart for everyone, an empty catalog and no
    /// entitlements.
    fn new(orders: Vec<Order>, gateway: MockPaymentGateway) -> Self {
        let world = World::holding(orders);
        let cart = world.cart_store(UserId::new(), vec![]);
        Self {
            world,
            gateway,
            cart,
            catalog: catalog_of(vec![]),
            entitlements: owning(UserId::new(), vec![]),
        }
    }

    fn service(self) -> (OrderService, World) {
        let service = OrderService::new(
            Arc::new(self.world.unit_of_work()),
            Arc::new(self.world.order_repository()),
            Arc::new(self.world.processed_events()),
            Arc::new(self.entitlements),
            Arc::new(self.catalog),
            Arc::new(self.cart),
            Arc::new(self.gateway),
            Arc::new(FixedClock::default()),
        );
        (service, self.world)
    }
}

fn customer() -> Actor {
    crate::permissions::actor(UserId::new(), Role::Customer)
}

/// Effects of a capture: products granted, invoice number, `orders.order_paid`.
fn assert_paid_effects(saved: &Saved, event_id: Option<&GatewayEventId>) {
    let e = &saved.effects;
    assert!(e.grant_entitlements && e.invoice_number.is_some() && !e.revoke_entitlements);
    assert!(e.credit_notes.is_empty());
    assert_eq!(e.event_id.as_ref(), event_id);
    assert_eq!(e.events, ["orders.order_paid"]);
}

// ---- checkout -------------------------------------------------------------------------

#[tokio::test]
async fn checkout_snapshots_current_prices_and_opens_a_gateway_order_keeping_the_cart() {
    let buyer = customer();
    let (book, course) = (product("Rust book", 59_900), product("Course", 100_000));
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_create_order()
        .withf(|amount, receipt| *amount == inr(159_900) && receipt.len() == 36)
        .times(1)
        .returning(|amount, receipt| {
            Ok(GatewayOrder {
                gateway_order_id: "order_NEW".into(),
                amount,
                receipt: receipt.to_owned(),
            })
        });
    let mut setup = Setup::new(vec![], g);
    setup.cart = setup
        .world
        .cart_store(buyer.user_id(), vec![book.id, course.id]);
    setup.catalog = catalog_of(vec![book.clone(), course.clone()]);
    let (service, world) = setup.service();

    let session = service.checkout(&buyer).await.expect("checkout");

    let inserted = lock(&world.inserts).clone();
    let [placed] = inserted.as_slice() else {
        panic!("one insert expected, got {inserted:?}")
    };
    assert_eq!(placed.status(), OrderStatus::PendingPayment);
    assert_eq!(placed.user_id(), buyer.user_id());
    let lines: Vec<_> = placed
        .lines()
        .iter()
        .map(|l| (l.product_id, l.title.as_str(), l.unit_price))
        .collect();
    assert_eq!(
        lines,
        [
            (book.id, "Rust book", inr(59_900)),
            (course.id, "Course", inr(100_000))
        ]
    );
    assert_eq!(placed.total(), inr(159_900));
    assert_eq!(placed.gateway_order_id(), Some("order_NEW"), "stored whole");
    assert!(placed.checkout_key().is_some());
    assert!(world.saves().is_empty());
    assert_eq!(world.event_names(), ["orders.order_placed"]);
    let placed_event = lock(&world.events)[0]
        .decode::<crate::OrderPlaced>()
        .expect("the event");
    assert_eq!(placed_event.order_id, placed.id());
    assert_eq!(
        session,
        CheckoutSession {
            order_id: placed.id(),
            key_id: PublicKeyId("rzp_test_key".into()),
            gateway_order_id: "order_NEW".into(),
            amount_minor: 159_900,
            currency: Currency::INR,
            gateway: GatewayKind::Razorpay,
            resumed: false,
        }
    );
    assert!(
        lock(&world.cart_removals).is_empty(),
        "the cart is kept until payment"
    );
}

#[tokio::test]
async fn an_order_keeps_its_checkout_prices_whatever_the_catalog_says_later() {
    let buyer = customer();
    let book = product("Rust book", 59_900);
    let mut g = gateway(GatewayKind::Development);
    g.expect_create_order().returning(|amount, receipt| {
        Ok(GatewayOrder {
            gateway_order_id: "dev_order_1".into(),
            amount,
            receipt: receipt.to_owned(),
        })
    });
    let mut setup = Setup::new(vec![], g);
    setup.cart = setup.world.cart_store(buyer.user_id(), vec![book.id]);
    setup.catalog = catalog_of(vec![book.clone()]);
    let (service, world) = setup.service();
    let session = service.checkout(&buyer).await.expect("checkout");

    // The price changes after checkout; paying must not look at the catalog again.
    let paid = service
        .complete_dev_payment(&buyer, session.order_id)
        .await
        .expect("paid");

    assert_eq!(paid.lines()[0].unit_price, inr(59_900));
    assert_eq!(world.stored(session.order_id).total(), inr(59_900));
}

#[tokio::test]
async fn checkout_of_an_empty_cart_is_refused() {
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_create_order().never();
    let (service, world) = Setup::new(vec![], g).service();

    let result = service.checkout(&customer()).await;

    assert!(matches!(result, Err(OrdersError::CartEmpty)));
    assert!(lock(&world.inserts).is_empty());
}

#[tokio::test]
async fn checkout_lists_every_product_that_cannot_be_bought_and_places_nothing() {
    let buyer = customer();
    let ok = product("Fine", 1_000);
    let hidden = PurchasableProduct {
        status_published: false,
        ..product("Hidden", 1_000)
    };
    let owned = product("Owned", 1_000);
    let gone = ProductId::new();
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_create_order().never();
    let mut setup = Setup::new(vec![], g);
    setup.cart = setup
        .world
        .cart_store(buyer.user_id(), vec![ok.id, hidden.id, owned.id, gone]);
    setup.catalog = catalog_of(vec![ok, hidden.clone(), owned.clone()]);
    setup.entitlements = owning(buyer.user_id(), vec![owned.id]);
    let (service, world) = setup.service();

    let result = service.checkout(&buyer).await;

    match result {
        Err(OrdersError::CartNotPurchasable {
            unavailable,
            owned: already,
        }) => {
            assert_eq!(unavailable, [hidden.id, gone]);
            assert_eq!(already, [owned.id]);
        }
        other => panic!("expected CartNotPurchasable, got {other:?}"),
    }
    assert!(lock(&world.inserts).is_empty());
    assert!(world.saves().is_empty());
}

#[tokio::test]
async fn a_gateway_that_refuses_the_order_leaves_nothing_stored() {
    let buyer = customer();
    let book = product("Rust book", 59_900);
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_create_order()
        .returning(|_, _| Err(PaymentError::Unavailable("timeout".into())));
    let mut setup = Setup::new(vec![], g);
    setup.cart = setup.world.cart_store(buyer.user_id(), vec![book.id]);
    setup.catalog = catalog_of(vec![book]);
    let (service, world) = setup.service();

    let result = service.checkout(&buyer).await;

    assert!(matches!(
        result,
        Err(OrdersError::Payment(PaymentError::Unavailable(_)))
    ));
    assert!(lock(&world.inserts).is_empty());
    assert!(world.saves().is_empty());
}

// ---- the checkout callback ------------------------------------------------------------

#[tokio::test]
async fn a_verified_callback_pays_the_order_and_takes_what_was_bought_out_of_the_cart() {
    let buyer = customer();
    let order = pending_order(buyer.user_id(), GatewayKind::Razorpay);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();

    let paid = service
        .confirm_payment(&buyer, GATEWAY_ORDER, "pay_1", GOOD_SIGNATURE)
        .await
        .expect("paid");

    assert_eq!(paid.status(), OrderStatus::Paid);
    assert_eq!(paid.payment_id(), Some("pay_1"));
    assert_eq!(
        paid.invoice_number().map(InvoiceNumber::as_str),
        Some("INV-2026-000001")
    );
    let saves = world.saves();
    let [saved] = saves.as_slice() else {
        panic!("one save expected, got {saves:?}")
    };
    assert_eq!(saved.expected_version, order.version());
    assert_paid_effects(saved, None);
    let removed = lock(&world.cart_removals).clone();
    let bought: Vec<_> = order
        .lines()
        .iter()
        .map(|l| (buyer.user_id(), l.product_id))
        .collect();
    assert_eq!(removed, bought);
}

#[tokio::test]
async fn a_callback_with_a_bad_signature_changes_nothing() {
    let buyer = customer();
    let order = pending_order(buyer.user_id(), GatewayKind::Razorpay);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();

    let result = service
        .confirm_payment(&buyer, GATEWAY_ORDER, "pay_1", "forged")
        .await;

    assert!(matches!(result, Err(OrdersError::InvalidSignature)));
    assert!(world.saves().is_empty());
    assert_eq!(world.stored(order.id()), order);
}

#[tokio::test]
async fn nobody_confirms_another_users_order() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();
    for intruder in [
        customer(),
        crate::permissions::actor(UserId::new(), Role::Admin),
    ] {
        let result = service
            .confirm_payment(&intruder, GATEWAY_ORDER, "pay_1", GOOD_SIGNATURE)
            .await;

        assert!(matches!(result, Err(OrdersError::NotFound)), "{intruder:?}");
    }
    assert!(world.saves().is_empty());
}

#[tokio::test]
async fn a_callback_after_the_webhook_returns_the_paid_order_unchanged() {
    let buyer = customer();
    let order = paid_order(buyer.user_id());
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();

    let result = service
        .confirm_payment(&buyer, GATEWAY_ORDER, "pay_1", GOOD_SIGNATURE)
        .await
        .expect("idempotent");

    assert_eq!(result, order);
    assert!(world.saves().is_empty());
}

#[tokio::test]
async fn a_callback_for_an_order_marked_failed_by_a_declined_attempt_pays_it() {
    let buyer = customer();
    let order = pending_order(buyer.user_id(), GatewayKind::Razorpay)
        .fail(now())
        .expect("failable")
        .order;
    let (service, world) = Setup::new(vec![order], gateway(GatewayKind::Razorpay)).service();

    let result = service
        .confirm_payment(&buyer, GATEWAY_ORDER, "pay_1", GOOD_SIGNATURE)
        .await;

    assert!(matches!(result, Ok(ref o) if o.status() == OrderStatus::Paid));
    assert_eq!(world.saves().len(), 1);
    assert!(world.unapplied().is_empty());
}

#[tokio::test]
async fn a_callback_is_applied_only_as_the_gateway_reports_the_payment() {
    for (status, order_id, amount) in [
        ("authorized", GATEWAY_ORDER, 150_000),
        ("captured", "order_OTHER", 150_000),
    ] {
        let buyer = customer();
        let order = pending_order(buyer.user_id(), GatewayKind::Razorpay);
        let mut g = MockPaymentGateway::new();
        g.expect_kind().return_const(GatewayKind::Razorpay);
        g.expect_verify_checkout_signature().return_const(true);
        g.expect_fetch_payment().returning(move |payment_id| {
            Ok(GatewayPayment {
                payment_id: payment_id.to_owned(),
                gateway_order_id: Some(order_id.into()),
                amount: inr(amount),
                status: status.into(),
            })
        });
        let (service, world) = Setup::new(vec![order], g).service();

        let result = service
            .confirm_payment(&buyer, GATEWAY_ORDER, "pay_1", GOOD_SIGNATURE)
            .await;

        assert!(
            matches!(
                result,
                Err(OrdersError::PaymentNotCaptured | OrdersError::PaymentMismatch)
            ),
            "{status} {order_id}: {result:?}"
        );
        assert!(world.saves().is_empty());
        assert!(world.unapplied().is_empty());
    }
}

#[tokio::test]
async fn when_the_callback_and_the_webhook_race_exactly_one_pays() {
    let buyer = customer();
    let order = pending_order(buyer.user_id(), GatewayKind::Razorpay);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(captured(inr(150_000)))).service();
    // The webhook commits between the callback's read and its save.
    let id = order.id();
    world.before_next_save(move |w| {
        let stored = w.stored(id);
        let change = stored.pay("pay_1", now()).expect("payable");
        w.commit(&change, stored.version(), Some(event("evt_webhook")))
            .expect("webhook commits first");
    });

    let result = service
        .confirm_payment(&buyer, GATEWAY_ORDER, "pay_1", GOOD_SIGNATURE)
        .await
        .expect("callback succeeds");

    assert_eq!(result.status(), OrderStatus::Paid);
    assert_eq!(
        world.saves().len(),
        1,
        "only the webhook's save went through"
    );
    assert_eq!(world.stored(id).version(), order.version() + 1);
}

// ---- webhooks -------------------------------------------------------------------------

#[tokio::test]
async fn a_webhook_with_a_bad_signature_changes_nothing() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_parse_webhook().never();
    let (service, world) = Setup::new(vec![order.clone()], g).service();

    let result = service.handle_webhook(b"{}", "forged", "evt_1").await;

    assert!(matches!(result, Err(OrdersError::InvalidSignature)));
    assert!(world.saves().is_empty());
    assert!(world.recorded().is_empty());
    assert_eq!(world.stored(order.id()), order);
}

#[tokio::test]
async fn ten_deliveries_of_one_capture_have_one_effect() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(captured(inr(150_000)))).service();

    let mut outcomes = Vec::new();
    for _ in 0..10 {
        outcomes.push(
            service
                .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_capture")
                .await
                .expect("handled"),
        );
    }

    assert_eq!(
        outcomes[0],
        WebhookOutcome::Paid {
            order_id: order.id()
        }
    );
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| *o == WebhookOutcome::Duplicate)
    );
    let saves = world.saves();
    assert_eq!(saves.len(), 1);
    assert_paid_effects(&saves[0], Some(&event("evt_capture")));
    assert_eq!(world.stored(order.id()).status(), OrderStatus::Paid);
    assert_eq!(lock(&world.cart_removals).len(), 2, "cart tidied once");
}

#[tokio::test]
async fn order_paid_is_handled_like_a_capture() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let paid_event = WebhookEvent::OrderPaid {
        gateway_order_id: GATEWAY_ORDER.into(),
        payment_id: "pay_1".into(),
        amount: inr(150_000),
    };
    let (service, world) = Setup::new(vec![order.clone()], gateway_sending(paid_event)).service();

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_paid")
        .await
        .expect("handled");

    assert_eq!(
        outcome,
        WebhookOutcome::Paid {
            order_id: order.id()
        }
    );
    assert_paid_effects(&world.saves()[0], Some(&event("evt_paid")));
}

#[tokio::test]
async fn a_capture_of_the_wrong_amount_or_currency_is_recorded_for_an_automatic_refund() {
    for received in [inr(149_999), inr(150_001), usd(150_000)] {
        let order = pending_order(UserId::new(), GatewayKind::Razorpay);
        let (service, world) =
            Setup::new(vec![order.clone()], gateway_sending(captured(received))).service();

        let outcome = service
            .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_odd")
            .await
            .expect("acknowledged, so the gateway stops retrying");

        assert_eq!(
            outcome,
            WebhookOutcome::Refunding {
                order_id: order.id(),
                reason: UnappliedReason::AmountMismatch,
            }
        );
        assert!(world.saves().is_empty(), "{received:?}");
        assert_eq!(world.stored(order.id()), order);
        let unapplied = world.unapplied();
        assert_eq!(unapplied.len(), 1);
        assert_eq!(unapplied[0].amount, received);
        assert!(lock(&world.processed).contains(&event("evt_odd")));
        assert!(lock(&world.cart_removals).is_empty());
    }
}

#[tokio::test]
async fn a_failed_attempt_is_recorded_and_the_order_stays_payable() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let (service, world) = Setup::new(vec![order.clone()], gateway_sending(failed())).service();

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_failed")
        .await
        .expect("handled");

    assert_eq!(
        outcome,
        WebhookOutcome::AttemptFailed {
            order_id: order.id()
        }
    );
    assert!(world.saves().is_empty());
    assert!(lock(&world.processed).contains(&event("evt_failed")));
    assert_eq!(
        *lock(&world.failures),
        [PaymentFailure::new(
            order.id(),
            "pay_0",
            Some("BAD_REQUEST_ERROR"),
            Some("card declined"),
            now()
        )]
    );
    assert_eq!(
        world.stored(order.id()).status(),
        OrderStatus::PendingPayment
    );
}

#[tokio::test]
async fn a_redelivered_failure_is_recorded_once() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let (service, world) = Setup::new(vec![order.clone()], gateway_sending(failed())).service();

    let first = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_failed")
        .await
        .expect("handled");
    let again = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_failed")
        .await
        .expect("handled");

    assert!(matches!(first, WebhookOutcome::AttemptFailed { .. }));
    assert_eq!(again, WebhookOutcome::Duplicate);
    assert_eq!(lock(&world.failures).len(), 1);
}

#[tokio::test]
async fn a_capture_after_a_failed_attempt_pays_the_order() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let mut g = gateway(GatewayKind::Razorpay);
    let mut bodies = vec![failed(), captured(inr(150_000))].into_iter();
    let next = Arc::new(Mutex::new(move || bodies.next().expect("two events")));
    g.expect_parse_webhook()
        .returning(move |_| Ok((lock(&next))()));
    g.expect_refund().never();
    let (service, world) = Setup::new(vec![order.clone()], g).service();

    let first = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_failed")
        .await
        .expect("handled");
    let second = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_captured")
        .await
        .expect("handled");

    assert!(matches!(first, WebhookOutcome::AttemptFailed { .. }));
    assert_eq!(
        second,
        WebhookOutcome::Paid {
            order_id: order.id()
        }
    );
    assert_eq!(world.stored(order.id()).status(), OrderStatus::Paid);
    assert!(world.unapplied().is_empty());
}

#[tokio::test]
async fn late_events_never_downgrade_an_order_and_money_it_cannot_take_is_refunded() {
    use OrderStatus as S;
    let buyer = UserId::new();
    let paid = paid_order(buyer);
    let partly = paid
        .record_refund(OrderRefund {
            refund_id: "rfnd_1".into(),
            amount: inr(1_000),
            reason: None,
            refunded_by: None,
            at: now(),
        })
        .expect("refundable")
        .order;
    let refunded = paid
        .record_refund(OrderRefund {
            refund_id: "rfnd_1".into(),
            amount: inr(150_000),
            reason: None,
            refunded_by: None,
            at: now(),
        })
        .expect("refundable")
        .order;
    let closed = |f: fn(&Order, DateTime<Utc>) -> Result<OrderChange, OrdersError>| {
        f(&pending_order(buyer, GatewayKind::Razorpay), now())
            .expect("closable")
            .order
    };
    let second_payment = WebhookEvent::PaymentCaptured {
        gateway_order_id: GATEWAY_ORDER.into(),
        payment_id: "pay_2".into(),
        amount: inr(150_000),
    };
    let cases = [
        (paid.clone(), failed(), "attempt failed"),
        (partly, failed(), "attempt failed"),
        (refunded.clone(), failed(), "attempt failed"),
        (closed(Order::cancel), failed(), "attempt failed"),
        (paid.clone(), captured(inr(150_000)), "already paid"),
        (refunded, captured(inr(150_000)), "already paid"),
        (paid, second_payment, "refunding"),
        (closed(Order::cancel), captured(inr(150_000)), "refunding"),
        (closed(Order::expire), captured(inr(150_000)), "refunding"),
    ];
    for (order, late, expected) in cases {
        let status = order.status();
        let (service, world) =
            Setup::new(vec![order.clone()], gateway_sending(late.clone())).service();

        let outcome = service
            .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_late")
            .await
            .expect("acknowledged");

        let got = match outcome {
            WebhookOutcome::AttemptFailed { .. } => "attempt failed",
            WebhookOutcome::AlreadyPaid { .. } if status.was_paid() => "already paid",
            WebhookOutcome::Refunding { .. } => "refunding",
            _ => "other",
        };
        assert_eq!(got, expected, "{status} then {late:?}");
        assert!(world.saves().is_empty(), "{status} then {late:?}");
        assert_eq!(world.stored(order.id()), order);
        assert_eq!(
            world.unapplied().len(),
            usize::from(expected == "refunding"),
            "{status} then {late:?}"
        );
        assert!(lock(&world.processed).contains(&event("evt_late")));
        assert_ne!(status, S::PendingPayment);
    }
}

#[tokio::test]
async fn a_payment_reported_twice_for_a_closed_order_is_refunded_once() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay)
        .expire(now())
        .expect("expirable")
        .order;
    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(captured(inr(150_000)))).service();

    for event_id in ["evt_captured", "evt_order_paid"] {
        let outcome = service
            .handle_webhook(b"{}", GOOD_SIGNATURE, event_id)
            .await
            .expect("handled");
        assert!(matches!(outcome, WebhookOutcome::Refunding { .. }));
    }

    assert_eq!(world.unapplied().len(), 1);
    let events = lock(&world.events).clone();
    let [refund] = events.as_slice() else {
        panic!("one event expected, got {events:?}")
    };
    assert_eq!(
        refund.decode::<PaymentUnapplied>().expect("the event"),
        PaymentUnapplied {
            unapplied_id: world.unapplied()[0].id,
            order_id: order.id(),
        }
    );
}

#[tokio::test]
async fn a_capture_for_a_product_the_buyer_already_owns_is_refunded_not_applied() {
    let buyer = UserId::new();
    let order = pending_order(buyer, GatewayKind::Razorpay);
    let owned = order.lines()[0].product_id;
    let mut setup = Setup::new(vec![order.clone()], gateway_sending(captured(inr(150_000))));
    setup.entitlements = owning(buyer, vec![owned]);
    let (service, world) = setup.service();

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_captured")
        .await
        .expect("handled");

    assert_eq!(
        outcome,
        WebhookOutcome::Refunding {
            order_id: order.id(),
            reason: UnappliedReason::AlreadyOwned
        }
    );
    assert!(world.saves().is_empty());
    assert_eq!(world.unapplied().len(), 1);
}

#[tokio::test]
async fn events_for_unknown_orders_and_other_events_are_recorded_and_acknowledged() {
    let unknown = WebhookEvent::PaymentCaptured {
        gateway_order_id: "order_ELSEWHERE".into(),
        payment_id: "pay_9".into(),
        amount: inr(1),
    };
    let unknown_refund = WebhookEvent::RefundProcessed {
        payment_id: "pay_ELSEWHERE".into(),
        refund_id: "rfnd_9".into(),
        amount: inr(1),
        captured_for: None,
    };
    let other = WebhookEvent::Other {
        event: "payment.authorized".into(),
    };
    for (event_body, expected) in [
        (unknown, WebhookOutcome::UnknownOrder),
        (unknown_refund, WebhookOutcome::UnknownOrder),
        (other, WebhookOutcome::Ignored),
    ] {
        let order = pending_order(UserId::new(), GatewayKind::Razorpay);
        let (service, world) = Setup::new(vec![order], gateway_sending(event_body)).service();

        let first = service
            .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_x")
            .await
            .expect("acknowledged");
        let again = service
            .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_x")
            .await
            .expect("acknowledged");

        assert_eq!(first, expected);
        assert_eq!(again, WebhookOutcome::Duplicate);
        assert!(world.saves().is_empty());
        assert_eq!(world.recorded(), [event("evt_x")]);
    }
}

#[tokio::test]
async fn a_signed_event_that_cannot_be_used_is_acknowledged_as_unusable() {
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_parse_webhook().returning(|_| {
        Err(PaymentError::MalformedEvent(
            "payment.order_id is missing".into(),
        ))
    });
    let (service, world) = Setup::new(vec![], g).service();

    let bad_body = service.handle_webhook(b"<", GOOD_SIGNATURE, "evt_1").await;
    let bad_id = service.handle_webhook(b"{}", GOOD_SIGNATURE, " ").await;

    for result in [bad_body, bad_id] {
        assert!(
            matches!(result, Ok(WebhookOutcome::Unusable { .. })),
            "{result:?}"
        );
    }
    assert_eq!(
        world.recorded(),
        [event("evt_1")],
        "only an event with an id is recorded"
    );
}

#[tokio::test]
async fn ids_that_are_not_gateway_ids_never_reach_the_repository() {
    let event_body = WebhookEvent::PaymentCaptured {
        gateway_order_id: "order_\0x".into(),
        payment_id: "pay_1".into(),
        amount: inr(150_000),
    };
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_parse_webhook()
        .returning(move |_| Ok(event_body.clone()));
    let world = World::default();
    let mut repo = MockOrderRepository::new();
    repo.expect_find_by_gateway_order().never();
    let service = OrderService::new(
        Arc::new(world.unit_of_work()),
        Arc::new(repo),
        Arc::new(world.processed_events()),
        Arc::new(owning(UserId::new(), vec![])),
        Arc::new(catalog_of(vec![])),
        Arc::new(world.cart_store(UserId::new(), vec![])),
        Arc::new(g),
        Arc::new(FixedClock::default()),
    );

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_nul")
        .await
        .expect("acknowledged");

    assert!(matches!(outcome, WebhookOutcome::Unusable { .. }));
}

#[tokio::test]
async fn a_delivery_that_loses_the_race_to_its_twin_is_a_duplicate() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(captured(inr(150_000)))).service();
    // The same event, delivered twice at once: the twin commits first.
    let id = order.id();
    world.before_next_save(move |w| {
        let stored = w.stored(id);
        let change = stored.pay("pay_1", now()).expect("payable");
        w.commit(&change, stored.version(), Some(event("evt_twin")))
            .expect("twin commits");
    });

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_twin")
        .await
        .expect("handled");

    assert_eq!(outcome, WebhookOutcome::Duplicate);
    assert_eq!(world.saves().len(), 1, "only the twin's save");
    assert!(lock(&world.cart_removals).is_empty());
}

#[tokio::test]
async fn a_refund_made_in_the_gateway_dashboard_is_counted_once() {
    let buyer = UserId::new();
    let order = paid_order(buyer);
    let partial = WebhookEvent::RefundProcessed {
        payment_id: "pay_1".into(),
        refund_id: "rfnd_dash".into(),
        amount: inr(50_000),
        captured_for: None,
    };
    let (service, world) = Setup::new(vec![order.clone()], gateway_sending(partial)).service();

    let first = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_r1")
        .await
        .expect("handled");
    // The gateway sends the same refund again under another event id.
    let second = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_r2")
        .await
        .expect("handled");

    assert_eq!(
        first,
        WebhookOutcome::Refunded {
            order_id: order.id(),
            status: OrderStatus::PartiallyRefunded
        }
    );
    assert_eq!(
        second,
        WebhookOutcome::RefundAlreadyCounted {
            order_id: order.id()
        }
    );
    let stored = world.stored(order.id());
    assert_eq!(stored.refunded(), inr(50_000));
    let saves = world.saves();
    assert_eq!(saves.len(), 1);
    assert!(!saves[0].effects.revoke_entitlements);
    assert_eq!(saves[0].effects.event_id, Some(event("evt_r1")));
    assert_eq!(world.recorded(), [event("evt_r2")]);
    assert_eq!(stored.refunds()[0].refunded_by, None);
}

#[tokio::test]
async fn a_full_refund_from_the_gateway_revokes_and_an_impossible_one_is_only_logged() {
    let order = paid_order(UserId::new());
    let refund_of = |minor| WebhookEvent::RefundProcessed {
        payment_id: "pay_1".into(),
        refund_id: "rfnd_x".into(),
        amount: inr(minor),
        captured_for: None,
    };
    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(refund_of(150_000))).service();
    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_full")
        .await
        .expect("handled");
    assert_eq!(
        outcome,
        WebhookOutcome::Refunded {
            order_id: order.id(),
            status: OrderStatus::Refunded
        }
    );
    assert!(world.saves()[0].effects.revoke_entitlements);

    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(refund_of(150_001))).service();
    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_over")
        .await
        .expect("acknowledged");
    assert_eq!(
        outcome,
        WebhookOutcome::RefundNotReconciled {
            order_id: order.id()
        }
    );
    assert!(world.saves().is_empty());
    assert_eq!(world.recorded(), [event("evt_over")]);
}

// ---- the development gateway -------------------------------------------------------------

#[tokio::test]
async fn the_development_gateway_pays_the_owners_order_like_a_capture() {
    let buyer = customer();
    let order = pending_order(buyer.user_id(), GatewayKind::Development);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Development)).service();

    let paid = service
        .complete_dev_payment(&buyer, order.id())
        .await
        .expect("paid");

    assert_eq!(paid.status(), OrderStatus::Paid);
    assert!(paid.payment_id().is_some_and(|p| p.starts_with("pay_dev_")));
    assert_paid_effects(&world.saves()[0], None);
    assert_eq!(lock(&world.cart_removals).len(), 2);

    let stranger = service.complete_dev_payment(&customer(), order.id()).await;
    assert!(matches!(stranger, Err(OrdersError::NotFound)));
}

#[tokio::test]
async fn only_the_development_gateway_completes_payments_by_itself() {
    let buyer = customer();
    let dev_order = pending_order(buyer.user_id(), GatewayKind::Development);
    let razorpay_order = pending_order(buyer.user_id(), GatewayKind::Razorpay);
    let (with_razorpay, _) =
        Setup::new(vec![dev_order.clone()], gateway(GatewayKind::Razorpay)).service();
    let (with_dev, world) = Setup::new(
        vec![razorpay_order.clone()],
        gateway(GatewayKind::Development),
    )
    .service();

    let configured_razorpay = with_razorpay
        .complete_dev_payment(&buyer, dev_order.id())
        .await;
    let placed_with_razorpay = with_dev
        .complete_dev_payment(&buyer, razorpay_order.id())
        .await;

    assert!(matches!(
        configured_razorpay,
        Err(OrdersError::DevGatewayOnly)
    ));
    assert!(matches!(
        placed_with_razorpay,
        Err(OrdersError::DevGatewayOnly)
    ));
    assert!(world.saves().is_empty());
}

// ---- refunds --------------------------------------------------------------------------

fn admin() -> Actor {
    crate::permissions::actor(UserId::new(), Role::Admin)
}

/// A gateway that refunds exactly what it is asked, as `rfnd_admin`.
fn refunding_gateway(expected_amount: Money) -> MockPaymentGateway {
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_find_refund().returning(|_, _| Ok(None));
    g.expect_refund()
        .withf(move |payment, amount, note, receipt| {
            payment == "pay_1"
                && *amount == expected_amount
                && note == "Bought by mistake"
                && receipt.starts_with("rf_")
        })
        .times(1)
        .returning(|_, amount, _, _| {
            Ok(GatewayRefund {
                refund_id: "rfnd_admin".into(),
                amount,
                status: "processed".into(),
            })
        });
    g
}

#[tokio::test]
async fn only_an_admin_refunds() {
    let order = paid_order(UserId::new());
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_refund().never();
    let (service, world) = Setup::new(vec![order.clone()], g).service();
    for role in [Role::Manager, Role::Cso, Role::Customer] {
        let result = service
            .refund(
                &crate::permissions::actor(UserId::new(), role),
                order.id(),
                None,
                reason(),
            )
            .await;

        assert!(matches!(result, Err(OrdersError::Forbidden)), "{role}");
    }
    let owner = service
        .refund(
            &crate::permissions::actor(order.user_id(), Role::Customer),
            order.id(),
            None,
            reason(),
        )
        .await;
    assert!(matches!(owner, Err(OrdersError::Forbidden)));
    assert!(world.saves().is_empty());
}

#[tokio::test]
async fn a_partial_refund_keeps_the_products() {
    let order = paid_order(UserId::new());
    let actor = admin();
    let (service, world) =
        Setup::new(vec![order.clone()], refunding_gateway(inr(50_000))).service();

    let refunded = service
        .refund(&actor, order.id(), Some(50_000), reason())
        .await
        .expect("refunded");

    assert_eq!(refunded.status(), OrderStatus::PartiallyRefunded);
    assert_eq!(refunded.refunded(), inr(50_000));
    assert_eq!(refunded.refunds()[0].refunded_by, Some(actor.user_id()));
    assert_eq!(refunded.refunds()[0].reason, Some(reason()));
    let saves = world.saves();
    assert_eq!(saves.len(), 2, "written down, then counted");
    assert_eq!(
        saves[0].order.pending_refund().map(|p| p.amount),
        Some(inr(50_000))
    );
    assert!(saves[1].order.pending_refund().is_none());
    assert!(!saves[1].effects.revoke_entitlements);
    let notes: Vec<_> = saves[1]
        .effects
        .credit_notes
        .iter()
        .map(|n| (n.order_id, n.refund_id.as_str(), n.number.as_str()))
        .collect();
    assert_eq!(
        notes,
        [(order.id(), "rfnd_admin", "CN-2026-000001")],
        "a credit note for the refund"
    );
    assert_eq!(saves[1].effects.events, ["orders.order_refunded"]);
    let refunded_event = lock(&world.events)
        .iter()
        .find_map(|e| e.decode::<OrderRefunded>().ok())
        .expect("orders.order_refunded");
    assert_eq!(
        refunded_event,
        OrderRefunded {
            order_id: order.id(),
            refund_id: "rfnd_admin".into(),
            amount_minor: 50_000,
            currency: "INR".into(),
            explanation: reason().as_str().to_owned(),
        }
    );
}

#[tokio::test]
async fn a_refund_without_an_amount_refunds_the_rest_and_takes_the_products_back() {
    let order = paid_order(UserId::new())
        .record_refund(OrderRefund {
            refund_id: "rfnd_0".into(),
            amount: inr(50_000),
            reason: None,
            refunded_by: None,
            at: now(),
        })
        .expect("refundable")
        .order;
    let (service, world) =
        Setup::new(vec![order.clone()], refunding_gateway(inr(100_000))).service();

    let refunded = service
        .refund(&admin(), order.id(), None, reason())
        .await
        .expect("refunded");

    assert_eq!(refunded.status(), OrderStatus::Refunded);
    assert_eq!(refunded.refunded(), inr(150_000));
    assert!(world.saves()[1].effects.revoke_entitlements);
}

#[tokio::test]
async fn refunds_that_cannot_be_made_never_reach_the_gateway() {
    let paid = paid_order(UserId::new());
    let pending = pending_order(UserId::new(), GatewayKind::Razorpay);
    let cases: [(Order, Option<i64>, &str); 4] = [
        (paid.clone(), Some(150_001), "too large"),
        (paid.clone(), Some(0), "invalid amount"),
        (paid, Some(-10), "invalid amount"),
        (pending, None, "not refundable"),
    ];
    for (order, amount, expected) in cases {
        let mut g = gateway(GatewayKind::Razorpay);
        g.expect_refund().never();
        let (service, world) = Setup::new(vec![order.clone()], g).service();

        let result = service.refund(&admin(), order.id(), amount, reason()).await;

        let got = match result {
            Err(OrdersError::RefundTooLarge { remaining }) if remaining == inr(150_000) => {
                "too large"
            }
            Err(OrdersError::InvalidRefundAmount) => "invalid amount",
            Err(OrdersError::NotRefundable) => "not refundable",
            _ => "other",
        };
        assert_eq!(got, expected, "{amount:?} on {}", order.status());
        assert!(world.saves().is_empty());
    }
    let (service, _) = Setup::new(vec![], gateway(GatewayKind::Razorpay)).service();
    let missing = service
        .refund(&admin(), OrderId::new(), None, reason())
        .await;
    assert!(matches!(missing, Err(OrdersError::NotFound)));
}

#[tokio::test]
async fn a_refund_the_gateway_reports_before_it_is_saved_is_counted_once() {
    let order = paid_order(UserId::new());
    let mut setup = Setup::new(vec![order.clone()], MockPaymentGateway::new());
    // The gateway's refund.processed webhook commits between the refund call and its save.
    let w = setup.world.clone();
    let id = order.id();
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_find_refund().returning(|_, _| Ok(None));
    g.expect_refund()
        .times(1)
        .returning(move |_, amount, _, _| {
            let stored = w.stored(id);
            let change = stored
                .record_refund(OrderRefund {
                    refund_id: "rfnd_admin".into(),
                    amount,
                    reason: None,
                    refunded_by: None,
                    at: now(),
                })
                .expect("refundable");
            w.commit(&change, stored.version(), Some(event("evt_refund")))
                .expect("webhook commits first");
            Ok(GatewayRefund {
                refund_id: "rfnd_admin".into(),
                amount,
                status: "processed".into(),
            })
        });
    setup.gateway = g;
    let (service, world) = setup.service();

    let refunded = service
        .refund(&admin(), order.id(), None, reason())
        .await
        .expect("refunded");

    assert_eq!(refunded.status(), OrderStatus::Refunded);
    assert_eq!(refunded.refunded(), inr(150_000), "counted once");
    assert_eq!(refunded.refunds().len(), 1);
    assert!(refunded.pending_refund().is_none());
    assert_eq!(
        world.saves().len(),
        3,
        "written down, the webhook's, cleared"
    );
}

#[tokio::test]
async fn a_refund_the_gateway_refuses_is_forgotten() {
    let order = paid_order(UserId::new());
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_find_refund().returning(|_, _| Ok(None));
    g.expect_refund()
        .returning(|_, _, _, _| Err(PaymentError::Rejected("payment too old".into())));
    let (service, world) = Setup::new(vec![order.clone()], g).service();

    let result = service.refund(&admin(), order.id(), None, reason()).await;

    assert!(matches!(
        result,
        Err(OrdersError::Payment(PaymentError::Rejected(_)))
    ));
    let stored = world.stored(order.id());
    assert!(stored.pending_refund().is_none());
    assert!(stored.refunds().is_empty());
    assert_eq!(stored.status(), OrderStatus::Paid);
}

#[tokio::test]
async fn a_second_refund_while_one_is_in_progress_never_reaches_the_gateway() {
    let order = paid_order(UserId::new());
    let in_progress = order
        .begin_refund(PendingRefund {
            id: Uuid::now_v7(),
            amount: inr(150_000),
            reason: reason(),
            requested_by: UserId::new(),
            requested_at: now(),
            claimed_at: None,
        })
        .expect("refundable")
        .order;
    let mut g = gateway(GatewayKind::Razorpay);
    g.expect_find_refund().never();
    g.expect_refund().never();
    let (service, world) = Setup::new(vec![in_progress.clone()], g).service();

    let same = service.refund(&admin(), order.id(), None, reason()).await;
    let other = service
        .refund(&admin(), order.id(), Some(1_000), reason())
        .await;

    assert!(
        matches!(same, Err(OrdersError::RefundInProgress)),
        "{same:?}"
    );
    assert!(
        matches!(other, Err(OrdersError::RefundInProgress)),
        "{other:?}"
    );
    assert!(world.saves().is_empty());
}

#[tokio::test]
async fn a_retry_after_a_gateway_timeout_finds_the_refund_instead_of_refunding_twice() {
    let order = paid_order(UserId::new());
    let made: Arc<Mutex<Option<(String, GatewayRefund)>>> = Arc::default();
    let mut g = gateway(GatewayKind::Razorpay);
    let seen = made.clone();
    g.expect_find_refund().returning(move |_, receipt| {
        Ok(lock(&seen)
            .clone()
            .filter(|(r, _)| r == receipt)
            .map(|(_, refund)| refund))
    });
    let remember = made.clone();
    g.expect_refund()
        .times(1)
        .returning(move |_, amount, _, receipt| {
            // The gateway refunds, but its answer never arrives.
            *lock(&remember) = Some((
                receipt.to_owned(),
                GatewayRefund {
                    refund_id: "rfnd_once".into(),
                    amount,
                    status: "processed".into(),
                },
            ));
            Err(PaymentError::Unavailable("timeout".into()))
        });
    let (service, world) = Setup::new(vec![order.clone()], g).service();

    let first = service.refund(&admin(), order.id(), None, reason()).await;
    let retry = service.refund(&admin(), order.id(), None, reason()).await;

    assert!(matches!(
        first,
        Err(OrdersError::Payment(PaymentError::Unavailable(_)))
    ));
    let refunded = retry.expect("the retry finishes the refund");
    assert_eq!(refunded.status(), OrderStatus::Refunded);
    assert_eq!(refunded.refunds().len(), 1);
    assert_eq!(refunded.refunds()[0].refund_id, "rfnd_once");
    assert!(world.stored(order.id()).pending_refund().is_none());
}

// ---- reading --------------------------------------------------------------------------

#[tokio::test]
async fn buyers_see_their_own_orders_managers_and_admins_all_and_others_nothing() {
    let buyer = customer();
    let order = pending_order(buyer.user_id(), GatewayKind::Razorpay);
    let (service, _) = Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();
    let allowed = [
        buyer,
        crate::permissions::actor(UserId::new(), Role::Admin),
        crate::permissions::actor(UserId::new(), Role::Manager),
    ];
    let cso = service
        .get(
            &crate::permissions::actor(UserId::new(), Role::Cso),
            order.id(),
        )
        .await;
    assert!(
        matches!(cso, Err(OrdersError::NotFound)),
        "a CSO reads no buyer's order"
    );
    for actor in allowed {
        assert_eq!(
            service.get(&actor, order.id()).await.ok(),
            Some(order.clone())
        );
    }

    let other_customer = service.get(&customer(), order.id()).await;
    let missing = service.get(&buyer, OrderId::new()).await;

    assert!(matches!(other_customer, Err(OrdersError::NotFound)));
    assert!(matches!(missing, Err(OrdersError::NotFound)));
}

#[tokio::test]
async fn a_buyer_lists_only_their_own_orders_and_staff_filter_freely() {
    let buyer = customer();
    let someone = UserId::new();
    let staff = crate::permissions::actor(UserId::new(), Role::Manager);
    let cases = [
        (buyer, OrderQuery::default(), Some(buyer.user_id())),
        (
            buyer,
            OrderQuery {
                user_id: Some(someone),
                status: Some(OrderStatus::Paid),
            },
            Some(buyer.user_id()),
        ),
        (staff, OrderQuery::default(), None),
        (
            staff,
            OrderQuery {
                user_id: Some(someone),
                status: None,
            },
            Some(someone),
        ),
    ];
    for (actor, query, expected_user) in cases {
        let mut repo = MockOrderRepository::new();
        repo.expect_list()
            .withf(move |q, _| q.user_id == expected_user && q.status == query.status)
            .times(1)
            .returning(|_, page| {
                Ok(Page {
                    items: vec![],
                    total: 0,
                    request: page,
                })
            });
        let world = World::default();
        let service = OrderService::new(
            Arc::new(world.unit_of_work()),
            Arc::new(repo),
            Arc::new(world.processed_events()),
            Arc::new(owning(UserId::new(), vec![])),
            Arc::new(catalog_of(vec![])),
            Arc::new(world.cart_store(UserId::new(), vec![])),
            Arc::new(gateway(GatewayKind::Razorpay)),
            Arc::new(FixedClock::default()),
        );

        let page = service.list(&actor, query, PageRequest::default()).await;

        assert!(page.is_ok(), "{actor:?} {query:?}");
    }
}

#[tokio::test]
async fn the_library_is_the_actors_own() {
    let buyer = customer();
    let entry = LibraryEntry {
        product_id: ProductId::new(),
        order_id: OrderId::new(),
        granted_at: now(),
    };
    let mut setup = Setup::new(vec![], gateway(GatewayKind::Razorpay));
    let user = buyer.user_id();
    let mut entitlements = MockEntitlementRepository::new();
    entitlements
        .expect_list()
        .withf(move |u, _| *u == user)
        .times(1)
        .returning(move |_, page| {
            Ok(Page {
                items: vec![entry],
                total: 1,
                request: page,
            })
        });
    setup.entitlements = entitlements;
    let (service, _) = setup.service();

    let library = service
        .library(&buyer, PageRequest::default())
        .await
        .expect("library");

    assert_eq!(library.items, [entry]);
}

#[tokio::test]
async fn only_owners_download_and_only_files_that_exist() {
    let buyer = customer();
    let key = AssetKey::parse("products/p1/book.pdf").expect("valid");
    let named = PurchasableProduct {
        status_published: false, // owners keep their downloads after unpublishing
        asset_key: Some(key.clone()),
        asset_file_name: Some("Rust Book.pdf".into()),
        ..product("Rust book", 1)
    };
    let unnamed = PurchasableProduct {
        asset_key: Some(key.clone()),
        ..product("Unnamed", 1)
    };
    let no_file = product("No file", 1);
    let not_owned = PurchasableProduct {
        asset_key: Some(key.clone()),
        ..product("Not owned", 1)
    };
    let mut setup = Setup::new(vec![], gateway(GatewayKind::Razorpay));
    setup.catalog = catalog_of(vec![
        named.clone(),
        unnamed.clone(),
        no_file.clone(),
        not_owned.clone(),
    ]);
    setup.entitlements = owning(buyer.user_id(), vec![named.id, unnamed.id, no_file.id]);
    let (service, _) = setup.service();

    let cases = [
        (named.id, Some("Rust Book.pdf")),
        (unnamed.id, Some("book.pdf")),
        (no_file.id, None),
        (not_owned.id, None),
    ];
    for (product_id, expected) in cases {
        let result = service.download(&buyer, product_id).await;

        match (expected, result) {
            (Some(name), Ok(target)) => {
                assert_eq!(target.key, key);
                assert_eq!(target.file_name, name);
            }
            (None, Err(OrdersError::NotFound)) => {}
            (expected, result) => panic!("expected {expected:?}, got {result:?}"),
        }
    }
}

#[tokio::test]
async fn a_failing_repository_is_unexpected() {
    let mut repo = MockOrderRepository::new();
    repo.expect_find()
        .returning(|_| Err(Unexpected::msg("database down").into()));
    let world = World::default();
    let service = OrderService::new(
        Arc::new(world.unit_of_work()),
        Arc::new(repo),
        Arc::new(world.processed_events()),
        Arc::new(owning(UserId::new(), vec![])),
        Arc::new(catalog_of(vec![])),
        Arc::new(world.cart_store(UserId::new(), vec![])),
        Arc::new(gateway(GatewayKind::Razorpay)),
        Arc::new(FixedClock::default()),
    );

    let result = service.get(&customer(), OrderId::new()).await;

    assert!(matches!(result, Err(OrdersError::Unexpected(_))));
}

#[test]
fn stored_paid_orders_from_the_fixtures_are_consistent() {
    // Guards the fixtures themselves: every order the tests serve is one an adapter could
    // load.
    for order in [
        pending_order(UserId::new(), GatewayKind::Razorpay),
        paid_order(UserId::new()),
    ] {
        let parts: OrderParts = order.clone().into_parts();
        assert_eq!(Order::from_parts(parts), Ok(order));
    }
}

// ---- expiry ---------------------------------------------------------------------------

/// A PENDING_PAYMENT order of `user` placed `minutes_ago` before `now()`, with its own
/// gateway order.
fn placed_minutes_ago(user: UserId, minutes_ago: i64) -> Order {
    let at = now() - chrono::Duration::minutes(minutes_ago);
    let lines = vec![OrderLine {
        product_id: ProductId::new(),
        title: "Rust book".into(),
        unit_price: inr(49_900),
    }];
    Order::place(user, lines, GatewayKind::Razorpay, at)
        .and_then(|o| o.attach_gateway_order(&format!("order_{}", o.id()), at))
        .expect("valid order")
}

#[tokio::test]
async fn expiry_closes_an_order_still_unpaid_and_leaves_any_other_as_it_is() {
    let buyer = UserId::new();
    let unpaid = placed_minutes_ago(buyer, 120);
    let paid = paid_order(buyer);
    let failed = placed_minutes_ago(buyer, 200)
        .fail(now())
        .expect("failable")
        .order;
    let (service, world) = Setup::new(
        vec![unpaid.clone(), paid.clone(), failed.clone()],
        gateway(GatewayKind::Razorpay),
    )
    .service();

    let expired = service.expire_unpaid(unpaid.id()).await;
    let paid_left = service.expire_unpaid(paid.id()).await;
    let failed_left = service.expire_unpaid(failed.id()).await;
    let gone = service.expire_unpaid(OrderId::new()).await;

    assert!(matches!(expired, Ok(true)));
    assert!(matches!(paid_left, Ok(false)));
    assert!(matches!(failed_left, Ok(false)));
    assert!(matches!(gone, Ok(false)));
    let saves = world.saves();
    let [s] = saves.as_slice() else {
        panic!("one save expected, got {saves:?}")
    };
    assert_eq!(s.order.id(), unpaid.id());
    assert_eq!(s.order.status(), OrderStatus::Expired);
    assert_eq!(s.expected_version, unpaid.version());
    assert_eq!(s.order.version(), unpaid.version() + 1);
    assert_eq!(s.order.updated_at(), now());
    assert!(s.effects.event_id.is_none() && s.effects.events.is_empty());
    assert!(!s.effects.grant_entitlements && s.effects.invoice_number.is_none());
    assert_eq!(world.stored(paid.id()), paid);
    assert_eq!(world.stored(failed.id()), failed);
}

#[tokio::test]
async fn expiring_twice_expires_once() {
    let order = placed_minutes_ago(UserId::new(), 120);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();

    let first = service.expire_unpaid(order.id()).await;
    let second = service.expire_unpaid(order.id()).await;

    assert!(matches!(first, Ok(true)));
    assert!(matches!(second, Ok(false)));
    assert_eq!(world.saves().len(), 1);
    assert_eq!(*lock(&world.committed), 1);
}

#[tokio::test]
async fn the_expiry_subscriber_runs_after_the_max_age_and_expires_once_when_delivered_twice() {
    use nexus_outbox::{Delivery, DeliveryId, DeliveryState, Subscriber, Subscription};

    let order = placed_minutes_ago(UserId::new(), 120);
    let (service, world) =
        Setup::new(vec![order.clone()], gateway(GatewayKind::Razorpay)).service();
    let subscriber =
        crate::OrderExpirySubscriber::new(Arc::new(service), chrono::Duration::minutes(60));
    let placed = crate::OrderPlaced {
        order_id: order.id(),
        user_id: order.user_id(),
    };
    let delivery = Delivery {
        id: DeliveryId::new(),
        event: EventEnvelope::new(&placed, now()).expect("event"),
        subscriber: "expire_order".into(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: 8,
        run_at: now(),
        locked_by: None,
        locked_until: None,
        last_error: None,
        created_at: now(),
        updated_at: now(),
    };

    let first = subscriber.deliver(&delivery).await;
    let again = subscriber.deliver(&delivery).await;

    assert_eq!(first, Ok(()));
    assert_eq!(again, Ok(()));
    assert_eq!(subscriber.name(), "expire_order");
    assert_eq!(
        subscriber.subscriptions(),
        [Subscription::to::<crate::OrderPlaced>().after(chrono::Duration::minutes(60))]
    );
    assert_eq!(world.saves().len(), 1);
    assert_eq!(world.stored(order.id()).status(), OrderStatus::Expired);
}

#[tokio::test]
async fn an_expiry_that_cannot_read_the_order_is_retried() {
    use nexus_outbox::{Delivery, DeliveryError, DeliveryId, DeliveryState, Subscriber};

    let order = placed_minutes_ago(UserId::new(), 120);
    let world = World::holding(vec![order.clone()]);
    let mut repo = MockOrderRepository::new();
    repo.expect_find()
        .returning(|_| Err(Unexpected::msg("database down").into()));
    let service = OrderService::new(
        Arc::new(world.unit_of_work()),
        Arc::new(repo),
        Arc::new(world.processed_events()),
        Arc::new(owning(UserId::new(), vec![])),
        Arc::new(catalog_of(vec![])),
        Arc::new(world.cart_store(UserId::new(), vec![])),
        Arc::new(gateway(GatewayKind::Razorpay)),
        Arc::new(FixedClock::default()),
    );
    let subscriber =
        crate::OrderExpirySubscriber::new(Arc::new(service), chrono::Duration::minutes(60));
    let delivery = Delivery {
        id: DeliveryId::new(),
        event: EventEnvelope::new(
            &crate::OrderPlaced {
                order_id: order.id(),
                user_id: order.user_id(),
            },
            now(),
        )
        .expect("event"),
        subscriber: "expire_order".into(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: 8,
        run_at: now(),
        locked_by: None,
        locked_until: None,
        last_error: None,
        created_at: now(),
        updated_at: now(),
    };

    let result = subscriber.deliver(&delivery).await;

    assert!(
        matches!(result, Err(DeliveryError::Retryable(_))),
        "{result:?}"
    );
    assert_eq!(*lock(&world.begun), 0);
}

#[tokio::test]
async fn an_order_paid_while_expiring_is_skipped_and_stays_paid() {
    let raced = placed_minutes_ago(UserId::new(), 120);
    let raced_id = raced.id();
    let (service, world) =
        Setup::new(vec![raced.clone()], gateway(GatewayKind::Razorpay)).service();
    // The payment webhook commits between the read and the expiry's save.
    world.before_next_save(move |w| {
        let change = raced.pay("pay_1", now()).expect("payable");
        w.commit(&change, raced.version(), None)
            .expect("paid first");
    });

    let expired = service.expire_unpaid(raced_id).await;

    assert!(matches!(expired, Ok(false)));
    assert_eq!(world.stored(raced_id).status(), OrderStatus::Paid);
    assert_eq!(world.saves().len(), 1, "only the payment");
}

#[tokio::test]
async fn a_capture_arriving_after_expiry_is_not_applied_and_refunded_automatically() {
    let buyer = UserId::new();
    let lines = vec![OrderLine {
        product_id: ProductId::new(),
        title: "Rust book".into(),
        unit_price: inr(150_000),
    }];
    let at = now() - chrono::Duration::hours(3);
    let order = Order::place(buyer, lines, GatewayKind::Razorpay, at)
        .and_then(|o| o.attach_gateway_order(GATEWAY_ORDER, at))
        .expect("valid order");
    let (service, world) =
        Setup::new(vec![order.clone()], gateway_sending(captured(inr(150_000)))).service();
    service.expire_unpaid(order.id()).await.expect("expired");
    let expired = world.stored(order.id());

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_late_capture")
        .await;

    assert!(matches!(
        outcome,
        Ok(WebhookOutcome::Refunding { order_id, reason: UnappliedReason::OrderClosed }) if order_id == order.id()
    ));
    assert_eq!(world.stored(order.id()), expired);
    assert_eq!(world.saves().len(), 1, "only the expiry was saved");
    assert_eq!(world.unapplied().len(), 1);
    assert!(lock(&world.processed).contains(&event("evt_late_capture")));
}

#[tokio::test]
async fn the_buyers_callback_after_expiry_is_not_applied_and_refunded() {
    let buyer = customer();
    let order = placed_minutes_ago(buyer.user_id(), 120);
    let gateway_order = order.gateway_order_id().expect("attached").to_owned();
    let mut g = MockPaymentGateway::new();
    g.expect_kind().return_const(GatewayKind::Razorpay);
    g.expect_verify_checkout_signature().return_const(true);
    g.expect_order_payments().returning(|_| Ok(vec![]));
    let reported = gateway_order.clone();
    g.expect_fetch_payment().returning(move |payment_id| {
        Ok(GatewayPayment {
            payment_id: payment_id.to_owned(),
            gateway_order_id: Some(reported.clone()),
            amount: inr(49_900),
            status: "captured".into(),
        })
    });
    let (service, world) = Setup::new(vec![order.clone()], g).service();
    service.expire_unpaid(order.id()).await.expect("expired");

    let result = service
        .confirm_payment(&buyer, &gateway_order, "pay_late", GOOD_SIGNATURE)
        .await;

    assert!(
        matches!(result, Err(OrdersError::PaymentNotApplied)),
        "{result:?}"
    );
    assert_eq!(world.saves().len(), 1);
    assert_eq!(world.unapplied().len(), 1);
}

#[tokio::test]
async fn a_refund_reported_before_its_capture_pays_then_counts_the_refund() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let refund = WebhookEvent::RefundProcessed {
        payment_id: "pay_1".into(),
        refund_id: "rfnd_dash".into(),
        amount: inr(150_000),
        captured_for: Some((GATEWAY_ORDER.into(), inr(150_000))),
    };
    let (service, world) = Setup::new(vec![order.clone()], gateway_sending(refund)).service();

    let outcome = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_refund")
        .await
        .expect("handled");

    assert_eq!(
        outcome,
        WebhookOutcome::Refunded {
            order_id: order.id(),
            status: OrderStatus::Refunded
        }
    );
    let saves = world.saves();
    assert_eq!(saves.len(), 2, "the capture, then the refund");
    assert_paid_effects(&saves[0], None);
    assert_eq!(saves[1].effects.event_id, Some(event("evt_refund")));
    assert!(saves[1].effects.revoke_entitlements);
}

// ---- reconciliation with the gateway ---------------------------------------------------

/// A payment of `amount` with `status` for `order_G1`, as the gateway lists it.
fn listed(payment_id: &str, amount: Money, status: &str) -> GatewayPayment {
    GatewayPayment {
        payment_id: payment_id.into(),
        gateway_order_id: Some(GATEWAY_ORDER.into()),
        amount,
        status: status.into(),
    }
}

/// A Razorpay gateway listing `payments` for `order_G1`, asked at most `times` times.
fn listing(payments: Vec<GatewayPayment>, times: usize) -> MockPaymentGateway {
    let mut g = answering(GatewayKind::Razorpay);
    g.expect_order_payments()
        .times(..=times)
        .returning(move |gid| {
            assert_eq!(gid, GATEWAY_ORDER);
            Ok(payments.clone())
        });
    g.expect_parse_webhook()
        .returning(|_| Ok(captured(inr(150_000))));
    g.expect_refund().never();
    g
}

/// An `orders.order_placed` delivery of `order` to `subscriber`.
fn placed_delivery(order: &Order, subscriber: &str) -> nexus_outbox::Delivery {
    use nexus_outbox::{Delivery, DeliveryId, DeliveryState};
    Delivery {
        id: DeliveryId::new(),
        event: EventEnvelope::new(
            &crate::OrderPlaced {
                order_id: order.id(),
                user_id: order.user_id(),
            },
            now(),
        )
        .expect("event"),
        subscriber: subscriber.into(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: 8,
        run_at: now(),
        locked_by: None,
        locked_until: None,
        last_error: None,
        created_at: now(),
        updated_at: now(),
    }
}

#[tokio::test]
async fn reconciliation_pays_an_order_captured_at_the_gateway_like_a_webhook() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![
        listed("pay_0", inr(150_000), "failed"),
        listed("pay_1", inr(150_000), "captured"),
    ];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();

    let outcomes = service
        .reconcile_payment(order.id())
        .await
        .expect("reconciled");

    assert_eq!(
        outcomes,
        [WebhookOutcome::Paid {
            order_id: order.id()
        }]
    );
    let saves = world.saves();
    assert_eq!(saves.len(), 1);
    assert_paid_effects(&saves[0], None);
    let stored = world.stored(order.id());
    assert_eq!(stored.status(), OrderStatus::Paid);
    assert_eq!(stored.payment_id(), Some("pay_1"));
    assert!(world.unapplied().is_empty());
    assert_eq!(
        lock(&world.cart_removals).len(),
        2,
        "bought products leave the cart"
    );
}

#[tokio::test]
async fn a_second_reconciliation_or_a_late_webhook_changes_nothing() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![listed("pay_1", inr(150_000), "captured")];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();

    service
        .reconcile_payment(order.id())
        .await
        .expect("reconciled");
    let again = service
        .reconcile_payment(order.id())
        .await
        .expect("nothing to ask");
    let webhook = service
        .handle_webhook(b"{}", GOOD_SIGNATURE, "evt_late")
        .await
        .expect("acknowledged");

    assert!(again.is_empty(), "a paid order is not asked about again");
    assert_eq!(
        webhook,
        WebhookOutcome::AlreadyPaid {
            order_id: order.id()
        }
    );
    assert_eq!(world.saves().len(), 1);
    assert!(world.unapplied().is_empty());
    assert_eq!(world.event_names(), ["orders.order_paid"]);
}

#[tokio::test]
async fn a_webhook_committing_while_the_gateway_is_asked_leaves_one_effect() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let id = order.id();
    let world = World::holding(vec![order.clone()]);
    // The webhook for the same payment commits while the gateway's answer is on its way.
    let mut g = answering(GatewayKind::Razorpay);
    let w = world.clone();
    g.expect_order_payments().times(1).returning(move |_| {
        let stored = w.stored(id);
        let change = stored.pay("pay_1", now()).expect("payable");
        w.commit(&change, stored.version(), Some(event("evt_webhook")))
            .expect("the webhook commits first");
        Ok(vec![listed("pay_1", inr(150_000), "captured")])
    });
    g.expect_refund().never();
    // The entitlements show what the world's paid orders granted.
    let mut entitlements = MockEntitlementRepository::new();
    let w = world.clone();
    entitlements.expect_owns().returning(move |user, product| {
        Ok(lock(&w.orders).iter().any(|o| {
            o.user_id() == user
                && o.status().was_paid()
                && o.lines().iter().any(|l| l.product_id == product)
        }))
    });
    let service = OrderService::new(
        Arc::new(world.unit_of_work()),
        Arc::new(world.order_repository()),
        Arc::new(world.processed_events()),
        Arc::new(entitlements),
        Arc::new(catalog_of(vec![])),
        Arc::new(world.cart_store(UserId::new(), vec![])),
        Arc::new(g),
        Arc::new(FixedClock::default()),
    );

    let outcomes = service.reconcile_payment(id).await.expect("reconciled");

    assert_eq!(outcomes, [WebhookOutcome::AlreadyPaid { order_id: id }]);
    assert_eq!(world.saves().len(), 1, "only the webhook's save");
    assert!(
        world.unapplied().is_empty(),
        "the payment that paid the order is never refunded as money for owned products"
    );
    assert_eq!(world.stored(id).payment_id(), Some("pay_1"));
}

#[tokio::test]
async fn reconciliation_losing_the_save_to_the_webhook_sees_the_order_paid_by_it() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let id = order.id();
    let payments = vec![listed("pay_1", inr(150_000), "captured")];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();
    world.before_next_save(move |w| {
        let stored = w.stored(id);
        let change = stored.pay("pay_1", now()).expect("payable");
        w.commit(&change, stored.version(), Some(event("evt_webhook")))
            .expect("the webhook commits first");
    });

    let outcomes = service.reconcile_payment(id).await.expect("reconciled");

    assert_eq!(outcomes, [WebhookOutcome::AlreadyPaid { order_id: id }]);
    assert_eq!(world.saves().len(), 1);
    assert_eq!(world.stored(id).version(), order.version() + 1);
    assert!(world.unapplied().is_empty());
}

#[tokio::test]
async fn nothing_captured_at_the_gateway_changes_nothing() {
    for payments in [
        vec![],
        vec![
            listed("pay_0", inr(150_000), "failed"),
            listed("pay_1", inr(150_000), "authorized"),
            listed("pay_2", inr(150_000), "created"),
        ],
        // Captured, but for another gateway order: not this order's money.
        vec![GatewayPayment {
            gateway_order_id: Some("order_OTHER".into()),
            ..listed("pay_3", inr(150_000), "captured")
        }],
    ] {
        let order = pending_order(UserId::new(), GatewayKind::Razorpay);
        let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();

        let outcomes = service
            .reconcile_payment(order.id())
            .await
            .expect("reconciled");

        assert!(outcomes.is_empty(), "{outcomes:?}");
        assert_eq!(world.stored(order.id()), order);
        assert_eq!(*lock(&world.begun), 0, "no unit of work");
        assert!(world.unapplied().is_empty());
    }
}

#[tokio::test]
async fn a_captured_amount_that_does_not_match_is_refunded_once_like_a_webhooks() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![listed("pay_1", inr(100), "captured")];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 2)).service();

    let first = service
        .reconcile_payment(order.id())
        .await
        .expect("reconciled");
    let second = service
        .reconcile_payment(order.id())
        .await
        .expect("reconciled");

    let refunding = WebhookOutcome::Refunding {
        order_id: order.id(),
        reason: UnappliedReason::AmountMismatch,
    };
    assert_eq!(first, std::slice::from_ref(&refunding));
    assert_eq!(second, [refunding]);
    assert!(world.saves().is_empty());
    assert_eq!(
        world.stored(order.id()).status(),
        OrderStatus::PendingPayment
    );
    let unapplied = world.unapplied();
    assert_eq!(unapplied.len(), 1, "once per gateway payment");
    assert_eq!(unapplied[0].amount, inr(100));
    assert_eq!(world.event_names(), ["orders.payment_unapplied"]);
}

#[tokio::test]
async fn a_second_captured_payment_is_refunded_and_the_first_pays() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![
        listed("pay_1", inr(150_000), "captured"),
        listed("pay_2", inr(150_000), "captured"),
    ];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();

    let outcomes = service
        .reconcile_payment(order.id())
        .await
        .expect("reconciled");

    assert_eq!(
        outcomes,
        [
            WebhookOutcome::Paid {
                order_id: order.id()
            },
            WebhookOutcome::Refunding {
                order_id: order.id(),
                reason: UnappliedReason::PaidByAnotherPayment
            }
        ]
    );
    assert_eq!(world.stored(order.id()).payment_id(), Some("pay_1"));
    let unapplied = world.unapplied();
    assert_eq!(unapplied.len(), 1);
    assert_eq!(unapplied[0].payment_id, "pay_2");
}

#[tokio::test]
async fn orders_not_waiting_or_not_at_a_gateway_that_moves_money_are_not_asked() {
    let buyer = UserId::new();
    let dev = pending_order(buyer, GatewayKind::Development);
    let paid = paid_order(buyer);
    for (order, kind) in [
        (dev.clone(), GatewayKind::Development),
        (dev, GatewayKind::Razorpay),
        (paid, GatewayKind::Razorpay),
    ] {
        let mut g = answering(kind);
        g.expect_order_payments().never();
        let (service, world) = Setup::new(vec![order.clone()], g).service();

        let outcomes = service
            .reconcile_payment(order.id())
            .await
            .expect("nothing to do");
        let missing = service
            .reconcile_payment(OrderId::new())
            .await
            .expect("nothing to do");

        assert!(outcomes.is_empty() && missing.is_empty());
        assert_eq!(world.stored(order.id()), order);
    }
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_is_a_retryable_delivery_failure() {
    use nexus_outbox::{DeliveryError, Subscriber, Subscription};

    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let mut g = answering(GatewayKind::Razorpay);
    g.expect_order_payments()
        .returning(|_| Err(PaymentError::Unavailable("HTTP 500".into())));
    let (service, world) = Setup::new(vec![order.clone()], g).service();
    let subscriber =
        crate::PaymentReconcileSubscriber::new(Arc::new(service), chrono::Duration::seconds(900));

    let result = subscriber
        .deliver(&placed_delivery(&order, "reconcile_payment"))
        .await;

    assert!(
        matches!(result, Err(DeliveryError::Retryable(_))),
        "{result:?}"
    );
    assert_eq!(subscriber.name(), "reconcile_payment");
    assert_eq!(
        subscriber.subscriptions(),
        [Subscription::to::<crate::OrderPlaced>().after(chrono::Duration::seconds(900))]
    );
    assert_eq!(world.stored(order.id()), order);
    assert_eq!(*lock(&world.begun), 0);
}

#[tokio::test]
async fn the_reconcile_subscriber_pays_once_when_delivered_twice() {
    use nexus_outbox::Subscriber;

    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![listed("pay_1", inr(150_000), "captured")];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();
    let subscriber =
        crate::PaymentReconcileSubscriber::new(Arc::new(service), chrono::Duration::seconds(900));
    let delivery = placed_delivery(&order, "reconcile_payment");

    let first = subscriber.deliver(&delivery).await;
    let again = subscriber.deliver(&delivery).await;

    assert_eq!((first, again), (Ok(()), Ok(())));
    assert_eq!(world.saves().len(), 1);
    assert_eq!(world.stored(order.id()).status(), OrderStatus::Paid);
}

#[tokio::test]
async fn the_expiry_pays_an_order_captured_at_the_gateway_instead_of_expiring_it() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![listed("pay_1", inr(150_000), "captured")];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();

    let expired = service.expire_unpaid(order.id()).await.expect("handled");

    assert!(!expired);
    assert_eq!(world.stored(order.id()).status(), OrderStatus::Paid);
    assert_eq!(world.saves().len(), 1);
}

#[tokio::test]
async fn the_expiry_waits_while_the_gateway_cannot_say_whether_the_order_was_paid() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let mut g = answering(GatewayKind::Razorpay);
    g.expect_order_payments()
        .returning(|_| Err(PaymentError::Unavailable("timeout".into())));
    let (service, world) = Setup::new(vec![order.clone()], g).service();
    let subscriber =
        crate::OrderExpirySubscriber::new(Arc::new(service), chrono::Duration::minutes(60));

    let result =
        nexus_outbox::Subscriber::deliver(&subscriber, &placed_delivery(&order, "expire_order"))
            .await;

    assert!(
        matches!(result, Err(nexus_outbox::DeliveryError::Retryable(_))),
        "{result:?}"
    );
    assert_eq!(
        world.stored(order.id()).status(),
        OrderStatus::PendingPayment
    );
}

#[tokio::test]
async fn the_expiry_expires_an_order_the_gateway_has_no_capture_for() {
    let order = pending_order(UserId::new(), GatewayKind::Razorpay);
    let payments = vec![listed("pay_0", inr(150_000), "failed")];
    let (service, world) = Setup::new(vec![order.clone()], listing(payments, 1)).service();

    let expired = service.expire_unpaid(order.id()).await.expect("handled");

    assert!(expired);
    assert_eq!(world.stored(order.id()).status(), OrderStatus::Expired);
}
