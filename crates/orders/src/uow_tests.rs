//! The rules that span two aggregates, on a unit of work of mocks: which repositories are
//! called, which events are recorded, and whether the service commits.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use mockall::Sequence;
use nexus_catalog::ProductId;
use nexus_kernel::{Clock, Currency, FixedClock, Money, Role, UserId};

use super::*;
use crate::test_tx::TestTx;
use crate::{
    GatewayKind, MockCartStore, MockEntitlementRepository, MockOrderRepository,
    MockOrdersUnitOfWork, MockPaymentGateway, MockProcessedEvents, MockProductCatalog, OrderLine,
    OrderRefund, OrderService, OrderStatus,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid amount")
}

fn pending(user: UserId, gateway: GatewayKind) -> Order {
    Order::place(
        user,
        vec![OrderLine {
            product_id: ProductId::new(),
            title: "Rust book".into(),
            unit_price: inr(49_900),
        }],
        gateway,
        now(),
    )
    .and_then(|o| o.attach_gateway_order("order_G1", now()))
    .expect("valid order")
}

fn event(id: &str) -> GatewayEventId {
    GatewayEventId::parse(id).expect("valid event id")
}

/// A unit of work expecting a payment of `order` written in this order: the order saved,
/// its products granted, the invoice number taken and stored; then `event` recorded.
fn paying(order: &Order, event: Option<&'static str>) -> TestTx {
    let mut tx = TestTx::new();
    let mut seq = Sequence::new();
    let (id, version) = (order.id(), order.version());
    tx.orders
        .expect_save()
        .withf(move |o, expected| {
            o.id() == id && o.status() == OrderStatus::Paid && *expected == version
        })
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    tx.entitlements
        .expect_grant()
        .withf(move |o| o.id() == id)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(()));
    tx.numbers
        .expect_next_invoice()
        .withf(|year| *year == 2026)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|year| Ok(InvoiceNumber::new(year, 7).expect("valid")));
    tx.orders
        .expect_set_invoice_number()
        .withf(move |o, n| *o == id && n.as_str() == "INV-2026-000007")
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    if let Some(expected) = event {
        tx.gateway_events
            .expect_record()
            .withf(move |e, _| e.as_str() == expected)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
    }
    tx
}

#[tokio::test]
async fn a_payment_grants_the_products_numbers_the_invoice_and_records_order_paid() {
    let order = pending(UserId::new(), GatewayKind::Razorpay);
    let mut tx = paying(&order, Some("evt_1"));
    let events = tx.events.clone();
    let change = order.pay("pay_1", now()).expect("payable");

    let stored = write_change(&mut tx, order.version(), change, Some(&event("evt_1")))
        .await
        .expect("written");

    assert_eq!(
        stored.invoice_number().map(InvoiceNumber::as_str),
        Some("INV-2026-000007")
    );
    assert_eq!(TestTx::names(&events), ["orders.order_paid"]);
    let paid = events.lock().expect("not poisoned")[0]
        .decode::<crate::OrderPaid>()
        .expect("the event");
    assert_eq!(paid.order_id, order.id());
    assert_eq!(paid.user_id, order.user_id());
}

#[tokio::test]
async fn a_product_already_owned_refuses_the_payment_before_any_number_is_taken() {
    let order = pending(UserId::new(), GatewayKind::Razorpay);
    let mut tx = TestTx::new();
    tx.orders.expect_save().returning(|_, _| Ok(()));
    let owned = order.lines()[0].product_id;
    tx.entitlements
        .expect_grant()
        .returning(move |_| Err(OrdersError::AlreadyOwned(owned)));
    tx.numbers.expect_next_invoice().never();
    tx.orders.expect_set_invoice_number().never();
    tx.gateway_events.expect_record().never();
    let events = tx.events.clone();
    let change = order.pay("pay_1", now()).expect("payable");

    let result = write_change(&mut tx, order.version(), change, Some(&event("evt_1"))).await;

    assert!(matches!(result, Err(OrdersError::AlreadyOwned(p)) if p == owned));
    assert!(TestTx::names(&events).is_empty());
}

#[tokio::test]
async fn a_full_refund_gets_a_credit_note_number_takes_the_products_back_and_is_told() {
    let paid = pending(UserId::new(), GatewayKind::Razorpay)
        .pay("pay_1", now())
        .expect("payable")
        .order;
    let refund = OrderRefund {
        refund_id: "rfnd_1".into(),
        amount: inr(49_900),
        reason: None,
        refunded_by: None,
        at: now(),
    };
    let change = paid.record_refund(refund).expect("refundable");
    let mut tx = TestTx::new();
    let (id, version) = (paid.id(), paid.version());
    tx.orders
        .expect_save()
        .withf(move |o, expected| o.id() == id && *expected == version)
        .times(1)
        .returning(|_, _| Ok(()));
    tx.numbers
        .expect_next_credit_note()
        .withf(|year| *year == 2026)
        .times(1)
        .returning(|year| Ok(CreditNoteNumber::new(year, 4).expect("valid")));
    tx.orders
        .expect_add_credit_note()
        .withf(move |n| {
            n.order_id == id && n.refund_id == "rfnd_1" && n.number.as_str() == "CN-2026-000004"
        })
        .times(1)
        .returning(|_| Ok(()));
    tx.entitlements
        .expect_revoke()
        .withf(move |o| o.id() == id)
        .times(1)
        .returning(|_| Ok(()));
    tx.entitlements.expect_grant().never();
    tx.numbers.expect_next_invoice().never();
    tx.gateway_events
        .expect_record()
        .times(1)
        .returning(|_, _| Ok(()));
    let events = tx.events.clone();

    write_change(&mut tx, version, change, Some(&event("evt_r")))
        .await
        .expect("written");

    let recorded = events.lock().expect("not poisoned").clone();
    assert_eq!(
        recorded[0].decode::<OrderRefunded>().expect("the event"),
        OrderRefunded {
            order_id: id,
            refund_id: "rfnd_1".into(),
            amount_minor: 49_900,
            currency: "INR".into(),
            explanation: "a refund was made at the payment gateway".into(),
        }
    );
}

#[tokio::test]
async fn a_partial_refund_keeps_the_products() {
    let paid = pending(UserId::new(), GatewayKind::Razorpay)
        .pay("pay_1", now())
        .expect("payable")
        .order;
    let change = paid
        .record_refund(OrderRefund {
            refund_id: "rfnd_1".into(),
            amount: inr(100),
            reason: None,
            refunded_by: None,
            at: now(),
        })
        .expect("refundable");
    let mut tx = TestTx::new();
    tx.orders.expect_save().returning(|_, _| Ok(()));
    tx.numbers
        .expect_next_credit_note()
        .returning(|year| Ok(CreditNoteNumber::new(year, 1).expect("valid")));
    tx.orders.expect_add_credit_note().returning(|_| Ok(()));
    tx.entitlements.expect_revoke().never();

    write_change(&mut tx, paid.version(), change, None)
        .await
        .expect("written");
}

#[tokio::test]
async fn a_stale_version_writes_nothing_else() {
    let order = pending(UserId::new(), GatewayKind::Razorpay);
    let mut tx = TestTx::new();
    tx.orders
        .expect_save()
        .returning(|_, _| Err(OrdersError::Conflict));
    tx.entitlements.expect_grant().never();
    tx.numbers.expect_next_invoice().never();
    tx.gateway_events.expect_record().never();
    let events = tx.events.clone();
    let change = order.pay("pay_1", now()).expect("payable");

    let result = write_change(&mut tx, order.version(), change, Some(&event("evt_1"))).await;

    assert!(matches!(result, Err(OrdersError::Conflict)));
    assert!(TestTx::names(&events).is_empty());
}

/// A service over `order` (found by id and gateway order), writing through `uow`.
fn service(order: &Order, uow: MockOrdersUnitOfWork, gateway: MockPaymentGateway) -> OrderService {
    let stored = order.clone();
    let mut repo = MockOrderRepository::new();
    let found = stored.clone();
    repo.expect_find()
        .returning(move |id| Ok((id == found.id()).then(|| found.clone())));
    repo.expect_find_by_gateway_order()
        .returning(move |_| Ok(Some(stored.clone())));
    let mut entitlements = MockEntitlementRepository::new();
    entitlements.expect_owns().returning(|_, _| Ok(false));
    let mut cart = MockCartStore::new();
    cart.expect_remove().returning(|_, _| Ok(true));
    let mut events = MockProcessedEvents::new();
    events.expect_seen().returning(|_| Ok(true));
    OrderService::new(
        Arc::new(uow),
        Arc::new(repo),
        Arc::new(events),
        Arc::new(entitlements),
        Arc::new(MockProductCatalog::new()),
        Arc::new(cart),
        Arc::new(gateway),
        Arc::new(FixedClock::default()),
    )
}

#[tokio::test]
async fn the_service_commits_a_payment_once_with_its_event() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let order = pending(buyer.user_id(), GatewayKind::Development);
    let tx = paying(&order, None);
    let (events, commits) = (tx.events.clone(), tx.commits.clone());
    let mut gateway = MockPaymentGateway::new();
    gateway.expect_kind().return_const(GatewayKind::Development);

    let paid = service(&order, TestTx::uow_of(tx), gateway)
        .complete_dev_payment(&buyer, order.id())
        .await
        .expect("paid");

    assert_eq!(paid.status(), OrderStatus::Paid);
    assert_eq!(commits.load(Ordering::SeqCst), 1);
    assert_eq!(TestTx::names(&events), ["orders.order_paid"]);
}

#[tokio::test]
async fn the_service_never_commits_when_the_webhook_event_was_already_processed() {
    let order = pending(UserId::new(), GatewayKind::Razorpay);
    let mut tx = TestTx::new();
    tx.orders.expect_save().returning(|_, _| Ok(()));
    tx.entitlements.expect_grant().returning(|_| Ok(()));
    tx.numbers
        .expect_next_invoice()
        .returning(|year| Ok(InvoiceNumber::new(year, 1).expect("valid")));
    tx.orders
        .expect_set_invoice_number()
        .returning(|_, _| Ok(()));
    tx.gateway_events
        .expect_record()
        .times(1)
        .returning(|_, _| Err(OrdersError::Conflict));
    let commits = tx.commits.clone();
    let mut gateway = MockPaymentGateway::new();
    gateway.expect_kind().return_const(GatewayKind::Razorpay);
    gateway.expect_verify_webhook_signature().return_const(true);
    gateway.expect_parse_webhook().returning(|_| {
        Ok(crate::WebhookEvent::PaymentCaptured {
            gateway_order_id: "order_G1".into(),
            payment_id: "pay_1".into(),
            amount: inr(49_900),
        })
    });
    let mut uow = MockOrdersUnitOfWork::new();
    let mut once = Some(tx);
    uow.expect_begin()
        .times(1)
        .returning(move || Ok(Box::new(once.take().expect("one")) as Box<dyn OrdersTx>));
    // Not seen when the webhook arrives, seen once its twin committed.
    let stored = order.clone();
    let mut repo = MockOrderRepository::new();
    repo.expect_find_by_gateway_order()
        .returning(move |_| Ok(Some(stored.clone())));
    let mut processed = MockProcessedEvents::new();
    let mut seq = Sequence::new();
    processed
        .expect_seen()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(false));
    processed
        .expect_seen()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(true));
    let mut entitlements = MockEntitlementRepository::new();
    entitlements.expect_owns().returning(|_, _| Ok(false));
    let service = OrderService::new(
        Arc::new(uow),
        Arc::new(repo),
        Arc::new(processed),
        Arc::new(entitlements),
        Arc::new(MockProductCatalog::new()),
        Arc::new(MockCartStore::new()),
        Arc::new(gateway),
        Arc::new(FixedClock::default()),
    );

    let outcome = service
        .handle_webhook(b"{}", "sig", "evt_twin")
        .await
        .expect("handled");

    assert_eq!(outcome, crate::WebhookOutcome::Duplicate);
    assert_eq!(commits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_order_paid_meanwhile_is_not_expired_and_nothing_commits() {
    let order = pending(UserId::new(), GatewayKind::Razorpay);
    let mut tx = TestTx::new();
    tx.orders
        .expect_save()
        .times(1)
        .returning(|_, _| Err(OrdersError::Conflict));
    let commits = tx.commits.clone();

    // The gateway has nothing captured for it.
    let mut gateway = MockPaymentGateway::new();
    gateway.expect_kind().return_const(GatewayKind::Razorpay);
    gateway
        .expect_order_payments()
        .times(1)
        .returning(|_| Ok(vec![]));

    let expired = service(&order, TestTx::uow_of(tx), gateway)
        .expire_unpaid(order.id())
        .await;

    assert!(matches!(expired, Ok(false)));
    assert_eq!(commits.load(Ordering::SeqCst), 0);
}

/// A service whose gateway sends a capture of `order` (an expired one, say) as a webhook,
/// writing through `uow`.
fn capturing_service(order: &Order, uow: MockOrdersUnitOfWork) -> OrderService {
    let mut gateway = MockPaymentGateway::new();
    gateway.expect_kind().return_const(GatewayKind::Razorpay);
    gateway.expect_verify_webhook_signature().return_const(true);
    let total = order.total();
    gateway.expect_parse_webhook().returning(move |_| {
        Ok(crate::WebhookEvent::PaymentCaptured {
            gateway_order_id: "order_G1".into(),
            payment_id: "pay_late".into(),
            amount: total,
        })
    });
    let stored = order.clone();
    let mut repo = MockOrderRepository::new();
    repo.expect_find_by_gateway_order()
        .returning(move |_| Ok(Some(stored.clone())));
    let mut processed = MockProcessedEvents::new();
    processed.expect_seen().returning(|_| Ok(false));
    OrderService::new(
        Arc::new(uow),
        Arc::new(repo),
        Arc::new(processed),
        Arc::new(MockEntitlementRepository::new()),
        Arc::new(MockProductCatalog::new()),
        Arc::new(MockCartStore::new()),
        Arc::new(gateway),
        Arc::new(FixedClock::default()),
    )
}

#[tokio::test]
async fn money_an_order_cannot_take_is_recorded_with_its_webhook_event_and_payment_unapplied() {
    let order = pending(UserId::new(), GatewayKind::Razorpay)
        .expire(now())
        .expect("expirable")
        .order;
    let mut tx = TestTx::new();
    let mut seq = Sequence::new();
    tx.gateway_events
        .expect_record()
        .withf(|e, _| e.as_str() == "evt_late")
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let id = order.id();
    tx.unapplied
        .expect_insert()
        .withf(move |p| {
            p.order_id == id
                && p.payment_id == "pay_late"
                && p.reason == crate::UnappliedReason::OrderClosed
        })
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(true));
    tx.orders.expect_save().never();
    let (events, commits) = (tx.events.clone(), tx.commits.clone());

    let outcome = capturing_service(&order, TestTx::uow_of(tx))
        .handle_webhook(b"{}", "sig", "evt_late")
        .await
        .expect("handled");

    assert!(matches!(
        outcome,
        crate::WebhookOutcome::Refunding {
            reason: crate::UnappliedReason::OrderClosed,
            ..
        }
    ));
    assert_eq!(commits.load(Ordering::SeqCst), 1);
    let recorded = events.lock().expect("not poisoned").clone();
    let [unapplied] = recorded.as_slice() else {
        panic!("one event expected, got {recorded:?}")
    };
    assert_eq!(
        unapplied
            .decode::<crate::PaymentUnapplied>()
            .expect("the event")
            .order_id,
        id
    );
}

#[tokio::test]
async fn a_payment_already_recorded_as_unapplied_records_the_event_but_no_second_refund() {
    let order = pending(UserId::new(), GatewayKind::Razorpay)
        .expire(now())
        .expect("expirable")
        .order;
    let mut tx = TestTx::new();
    tx.gateway_events
        .expect_record()
        .times(1)
        .returning(|_, _| Ok(()));
    tx.unapplied
        .expect_insert()
        .times(1)
        .returning(|_| Ok(false));
    let (events, commits) = (tx.events.clone(), tx.commits.clone());

    let outcome = capturing_service(&order, TestTx::uow_of(tx))
        .handle_webhook(b"{}", "sig", "evt_order_paid")
        .await
        .expect("handled");

    assert!(matches!(outcome, crate::WebhookOutcome::Refunding { .. }));
    assert_eq!(
        commits.load(Ordering::SeqCst),
        1,
        "the webhook event is kept"
    );
    assert!(TestTx::names(&events).is_empty(), "no second refund");
}

#[tokio::test]
async fn a_redelivered_webhook_for_unapplied_money_commits_nothing() {
    let order = pending(UserId::new(), GatewayKind::Razorpay)
        .expire(now())
        .expect("expirable")
        .order;
    let mut tx = TestTx::new();
    tx.gateway_events
        .expect_record()
        .times(1)
        .returning(|_, _| Err(OrdersError::Conflict));
    tx.unapplied.expect_insert().never();
    let commits = tx.commits.clone();

    let outcome = capturing_service(&order, TestTx::uow_of(tx))
        .handle_webhook(b"{}", "sig", "evt_late")
        .await
        .expect("handled");

    assert_eq!(outcome, crate::WebhookOutcome::Duplicate);
    assert_eq!(commits.load(Ordering::SeqCst), 0);
}
