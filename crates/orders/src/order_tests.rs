//! Unit tests of the order model: the state machine, refunds, stored invariants and the
//! validated values.

use chrono::{DateTime, Duration, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Clock, Currency, FixedClock, InvalidId, Role, UserId};

use super::*;

fn t0() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid amount")
}

fn line(title: &str, minor: i64) -> OrderLine {
    OrderLine {
        product_id: ProductId::new(),
        title: title.to_owned(),
        unit_price: inr(minor),
    }
}

fn refund(id: &str, minor: i64) -> OrderRefund {
    OrderRefund {
        refund_id: id.to_owned(),
        amount: inr(minor),
        reason: Some(RefundReason::parse("Customer asked").expect("valid reason")),
        refunded_by: Some(UserId::new()),
        at: t0(),
    }
}

fn pending() -> Order {
    let placed = Order::place(
        UserId::new(),
        vec![line("Rust book", 49_900), line("Course", 100_100)],
        GatewayKind::Razorpay,
        t0(),
    )
    .expect("valid order");
    placed
        .attach_gateway_order("order_G1", t0())
        .expect("pending order")
}

/// An order driven through the real transitions into `status` (paid orders get an invoice
/// number, as their save would give them).
fn order_in(status: OrderStatus) -> Order {
    use OrderStatus as S;
    let paid = || {
        pending()
            .pay("pay_1", t0())
            .expect("payable")
            .order
            .with_invoice_number(InvoiceNumber::new(2026, 1).expect("valid number"))
    };
    let step = |r: Result<OrderChange, OrdersError>| r.expect("valid transition").order;
    match status {
        S::PendingPayment => pending(),
        S::Paid => paid(),
        S::PartiallyRefunded => step(paid().record_refund(refund("rfnd_1", 10_000))),
        S::Refunded => step(paid().record_refund(refund("rfnd_1", 150_000))),
        S::Failed => step(pending().fail(t0())),
        S::Cancelled => step(pending().cancel(t0())),
        S::Expired => step(pending().expire(t0())),
    }
}

#[test]
fn placing_snapshots_the_lines_and_totals_them() {
    let buyer = UserId::new();
    let lines = vec![line("A", 100), line("B", 250)];

    let order = Order::place(buyer, lines.clone(), GatewayKind::Development, t0()).expect("valid");

    assert_eq!(order.status(), OrderStatus::PendingPayment);
    assert_eq!(order.user_id(), buyer);
    assert_eq!(order.lines(), lines.as_slice());
    assert_eq!(order.total(), inr(350));
    assert_eq!(order.currency(), Currency::INR);
    assert_eq!(order.refunded(), inr(0));
    assert_eq!(order.gateway(), GatewayKind::Development);
    assert_eq!(order.version(), 1);
    assert_eq!(order.id().as_uuid().get_version_num(), 7);
    assert_eq!((order.created_at(), order.updated_at()), (t0(), t0()));
    assert!(order.gateway_order_id().is_none() && order.payment_id().is_none());
}

#[test]
fn an_order_needs_lines_in_one_currency() {
    assert!(matches!(
        Order::place(UserId::new(), vec![], GatewayKind::Razorpay, t0()),
        Err(OrdersError::CartEmpty)
    ));
    let usd = OrderLine {
        unit_price: Money::new(1, Currency::parse("USD").expect("valid")).expect("valid"),
        ..line("Dollar", 1)
    };
    assert!(matches!(
        Order::place(
            UserId::new(),
            vec![line("A", 1), usd],
            GatewayKind::Razorpay,
            t0()
        ),
        Err(OrdersError::CurrencyConflict {
            cart: Currency::INR,
            ..
        })
    ));
    assert!(matches!(
        Order::place(
            UserId::new(),
            vec![line("A", i64::MAX), line("B", 1)],
            GatewayKind::Razorpay,
            t0()
        ),
        Err(OrdersError::CartTotalTooLarge)
    ));
}

#[test]
fn a_gateway_order_is_attached_once_while_awaiting_payment() {
    let placed = Order::place(
        UserId::new(),
        vec![line("A", 1)],
        GatewayKind::Razorpay,
        t0(),
    )
    .expect("ok");

    let attached = placed
        .attach_gateway_order("order_X", t0())
        .expect("attachable");

    assert_eq!(attached.gateway_order_id(), Some("order_X"));
    assert_eq!(attached.version(), 2);
    assert!(matches!(
        attached.attach_gateway_order("order_Y", t0()),
        Err(OrdersError::InvalidTransition { .. })
    ));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pay,
    Fail,
    Cancel,
    Expire,
    PartialRefund,
    RefundRest,
}

#[test]
fn every_transition_of_the_state_machine() {
    use OrderStatus as S;
    let actions = [
        Action::Pay,
        Action::Fail,
        Action::Cancel,
        Action::Expire,
        Action::PartialRefund,
        Action::RefundRest,
    ];
    // The whole table: anything absent is refused and changes nothing.
    let allowed = [
        (S::PendingPayment, Action::Pay, S::Paid),
        (S::PendingPayment, Action::Fail, S::Failed),
        (S::PendingPayment, Action::Cancel, S::Cancelled),
        (S::PendingPayment, Action::Expire, S::Expired),
        // A declined attempt leaves the order payable: the buyer may retry.
        (S::Failed, Action::Pay, S::Paid),
        (S::Paid, Action::PartialRefund, S::PartiallyRefunded),
        (S::Paid, Action::RefundRest, S::Refunded),
        (
            S::PartiallyRefunded,
            Action::PartialRefund,
            S::PartiallyRefunded,
        ),
        (S::PartiallyRefunded, Action::RefundRest, S::Refunded),
    ];
    let later = t0() + Duration::minutes(5);
    for from in OrderStatus::ALL {
        for action in actions {
            let order = order_in(from);
            let result = match action {
                Action::Pay => order.pay("pay_2", later),
                Action::Fail => order.fail(later),
                Action::Cancel => order.cancel(later),
                Action::Expire => order.expire(later),
                Action::PartialRefund => order.record_refund(OrderRefund {
                    at: later,
                    ..refund("rfnd_2", 1)
                }),
                Action::RefundRest => order.record_refund(OrderRefund {
                    at: later,
                    ..refund("rfnd_2", order.refundable().amount_minor().max(1))
                }),
            };
            let expected = allowed
                .iter()
                .find(|(f, a, _)| *f == from && *a == action)
                .map(|(_, _, to)| *to);
            match (expected, result) {
                (Some(to), Ok(change)) => {
                    assert_eq!(change.order.status(), to, "{from} {action:?}");
                    assert_eq!(change.order.version(), order.version() + 1);
                    assert_eq!(change.order.updated_at(), later);
                    assert_eq!(change.order.lines(), order.lines(), "lines never change");
                    assert_eq!(change.order.total(), order.total());
                    match (&change.transition, action) {
                        (OrderTransition::Paid, Action::Pay) => {}
                        (
                            OrderTransition::Refunded { full, .. },
                            Action::PartialRefund | Action::RefundRest,
                        ) => assert_eq!(*full, to == S::Refunded),
                        (
                            OrderTransition::Updated,
                            Action::Fail | Action::Cancel | Action::Expire,
                        ) => {}
                        (transition, action) => panic!("{action:?} made {transition:?}"),
                    }
                }
                (None, Err(OrdersError::InvalidTransition { from: got, .. })) => {
                    assert_eq!(got, from, "{action:?}");
                }
                (None, Err(OrdersError::NotRefundable)) => {
                    assert!(
                        matches!(action, Action::PartialRefund | Action::RefundRest),
                        "{from} {action:?}"
                    );
                }
                (expected, result) => {
                    panic!("{from} {action:?}: expected {expected:?}, got {result:?}")
                }
            }
        }
    }
}

#[test]
fn paying_records_the_payment_and_says_the_order_is_paid() {
    let order = pending();

    let change = order.pay("pay_9", t0()).expect("payable");

    assert_eq!(change.order.payment_id(), Some("pay_9"));
    assert_eq!(change.order.paid_at(), Some(t0()));
    assert_eq!(change.transition, OrderTransition::Paid);
}

#[test]
fn refunds_add_up_and_only_the_last_one_revokes() {
    let paid = order_in(OrderStatus::Paid);

    let first = paid
        .record_refund(refund("rfnd_a", 50_000))
        .expect("refundable");

    assert_eq!(first.order.status(), OrderStatus::PartiallyRefunded);
    assert_eq!(first.order.refunded(), inr(50_000));
    assert_eq!(first.order.refundable(), inr(100_000));
    assert!(
        matches!(first.transition, OrderTransition::Refunded { full: false, ref refund } if refund.refund_id == "rfnd_a")
    );
    assert!(first.order.has_refund("rfnd_a"));

    let second = first
        .order
        .record_refund(refund("rfnd_b", 100_000))
        .expect("refundable");

    assert_eq!(second.order.status(), OrderStatus::Refunded);
    assert_eq!(second.order.refunded(), second.order.total());
    assert_eq!(second.order.refundable(), inr(0));
    assert!(matches!(
        second.transition,
        OrderTransition::Refunded { full: true, .. }
    ));
    assert_eq!(second.order.refunds().len(), 2);
}

#[test]
fn refunds_above_what_remains_zero_or_in_another_currency_are_refused() {
    let partly = order_in(OrderStatus::PartiallyRefunded);

    assert!(matches!(
        partly.record_refund(refund("rfnd_x", 140_001)),
        Err(OrdersError::RefundTooLarge { remaining }) if remaining == inr(140_000)
    ));
    assert!(matches!(
        partly.check_refund(inr(0)),
        Err(OrdersError::InvalidRefundAmount)
    ));
    let usd = Money::new(5, Currency::parse("USD").expect("valid")).expect("valid");
    assert!(matches!(
        partly.check_refund(usd),
        Err(OrdersError::InvalidRefundAmount)
    ));
    assert!(matches!(
        partly.record_refund(refund("rfnd_1", 5)),
        Err(OrdersError::Conflict)
    ));
    assert!(partly.check_refund(inr(140_000)).is_ok());
}

#[test]
fn buyers_managers_and_admins_see_an_order_nobody_else_does() {
    let order = pending();

    assert!(order.is_visible_to(&crate::permissions::actor(order.user_id(), Role::Customer)));
    for role in [Role::Admin, Role::Manager] {
        assert!(order.is_visible_to(&crate::permissions::actor(UserId::new(), role)));
    }
    for role in [Role::Cso, Role::Customer] {
        assert!(
            !order.is_visible_to(&crate::permissions::actor(UserId::new(), role)),
            "{role}"
        );
    }
}

#[test]
fn one_refund_at_a_time_and_a_released_one_can_be_claimed_again() {
    let order = pending().pay("pay_1", t0()).expect("payable").order;
    let pending_refund = PendingRefund {
        id: uuid::Uuid::now_v7(),
        amount: inr(1_000),
        reason: RefundReason::parse("asked").expect("valid"),
        requested_by: UserId::new(),
        requested_at: t0(),
        claimed_at: None,
    };
    let begun = order
        .begin_refund(pending_refund.clone())
        .expect("refundable")
        .order;

    assert!(matches!(
        begun.begin_refund(pending_refund.clone()),
        Err(OrdersError::RefundInProgress)
    ));
    assert!(matches!(
        begun.claim_refund(t0()),
        Err(OrdersError::RefundInProgress)
    ));
    let released = begun.release_refund(t0()).expect("pending").order;
    let claimed = released.claim_refund(t0()).expect("claimable").order;
    assert_eq!(
        claimed.pending_refund().and_then(|p| p.claimed_at),
        Some(t0())
    );
    let lease_over = t0() + Duration::seconds(PendingRefund::CLAIM_LEASE_SECS);
    assert!(
        begun.claim_refund(lease_over).is_ok(),
        "a crashed request frees it"
    );
    let done = claimed
        .complete_refund(OrderRefund {
            at: t0(),
            ..refund("rfnd_1", 1_000)
        })
        .expect("counted")
        .order;
    assert!(done.pending_refund().is_none());
    assert_eq!(done.refunded(), inr(1_000));
}

#[test]
fn the_checkout_fingerprint_is_the_same_for_the_same_lines_in_any_order() {
    let a = OrderLine {
        product_id: ProductId::new(),
        title: "A".into(),
        unit_price: inr(100),
    };
    let b = OrderLine {
        product_id: ProductId::new(),
        title: "B".into(),
        unit_price: inr(200),
    };
    let b_dearer = OrderLine {
        unit_price: inr(201),
        ..b.clone()
    };

    let key = checkout_fingerprint(&[a.clone(), b.clone()]);
    assert_eq!(key, checkout_fingerprint(&[b, a.clone()]));
    assert_ne!(key, checkout_fingerprint(&[a.clone(), b_dearer]));
    assert_ne!(key, checkout_fingerprint(&[a]));
}

#[test]
fn every_reachable_order_survives_a_round_trip_through_its_parts() {
    for status in OrderStatus::ALL {
        let order = order_in(status);

        let rebuilt = Order::from_parts(order.clone().into_parts());

        assert_eq!(rebuilt, Ok(order), "{status}");
    }
}

#[test]
fn inconsistent_stored_orders_are_refused() {
    let paid = order_in(OrderStatus::Paid).into_parts();
    let pending = order_in(OrderStatus::PendingPayment).into_parts();
    let partly = order_in(OrderStatus::PartiallyRefunded).into_parts();
    let broken = [
        OrderParts {
            version: 0,
            ..paid.clone()
        },
        OrderParts {
            lines: vec![],
            ..paid.clone()
        },
        OrderParts {
            total: inr(1),
            ..paid.clone()
        },
        OrderParts {
            payment_id: None,
            ..paid.clone()
        },
        OrderParts {
            invoice_number: None,
            ..paid.clone()
        },
        OrderParts {
            gateway_order_id: None,
            ..paid.clone()
        },
        OrderParts {
            status: OrderStatus::Refunded,
            ..paid.clone()
        },
        OrderParts {
            refunded: inr(1),
            ..paid.clone()
        },
        OrderParts {
            status: OrderStatus::PendingPayment,
            ..paid
        },
        OrderParts {
            invoice_key: Some(AssetKey::parse("invoices/x.pdf").expect("valid")),
            ..pending.clone()
        },
        OrderParts {
            paid_at: Some(t0()),
            ..pending
        },
        OrderParts {
            status: OrderStatus::Paid,
            ..partly.clone()
        },
        OrderParts {
            status: OrderStatus::Refunded,
            ..partly
        },
    ];
    for (i, parts) in broken.into_iter().enumerate() {
        assert!(Order::from_parts(parts).is_err(), "case {i}");
    }
}

#[test]
fn statuses_parse_case_insensitively_and_round_trip() {
    for status in OrderStatus::ALL {
        assert_eq!(
            status.as_str().to_lowercase().parse::<OrderStatus>(),
            Ok(status)
        );
        assert_eq!(status.to_string(), status.as_str());
    }
    assert_eq!(
        "SHIPPED".parse::<OrderStatus>(),
        Err(InvalidOrderValue::Status)
    );
    let paid_like: Vec<_> = OrderStatus::ALL
        .into_iter()
        .filter(OrderStatus::was_paid)
        .collect();
    assert_eq!(
        paid_like,
        [
            OrderStatus::Paid,
            OrderStatus::PartiallyRefunded,
            OrderStatus::Refunded
        ]
    );
}

#[test]
fn invoice_numbers_have_one_spelling_and_a_storage_key() {
    let number = InvoiceNumber::new(2026, 42).expect("valid");
    assert_eq!(number.as_str(), "INV-2026-000042");
    assert_eq!(number.year(), 2026);
    assert_eq!(
        invoice_key(&number).map(|k| k.as_str().to_owned()).ok(),
        Some("invoices/2026/INV-2026-000042.pdf".to_owned())
    );
    assert_eq!(
        InvoiceNumber::new(2026, 1_234_567).map(String::from),
        Ok("INV-2026-1234567".to_owned())
    );
    assert_eq!(InvoiceNumber::parse("INV-2026-000042"), Ok(number));
    for bad in [
        "",
        "INV-2026-42",
        "INV-26-000042",
        "inv-2026-000042",
        "INV-2026-0000042",
        "INV-2026-000000",
        "INV-2026-00004a",
        "INV-2026-000042 ",
    ] {
        assert_eq!(
            InvoiceNumber::parse(bad),
            Err(InvalidOrderValue::InvoiceNumber),
            "{bad}"
        );
    }
    assert!(InvoiceNumber::new(999, 1).is_err());
    assert!(InvoiceNumber::new(2026, 0).is_err());
}

#[test]
fn event_ids_are_short_visible_ascii() {
    assert_eq!(
        GatewayEventId::parse(" KDh2Qa8rPz ").map(String::from),
        Ok("KDh2Qa8rPz".to_owned())
    );
    assert!(GatewayEventId::parse(&"e".repeat(128)).is_ok());
    for bad in [
        String::new(),
        "  ".into(),
        "a b".into(),
        "é".into(),
        "e".repeat(129),
    ] {
        assert_eq!(
            GatewayEventId::parse(&bad),
            Err(InvalidOrderValue::EventId),
            "{bad}"
        );
    }
}

#[test]
fn refund_reasons_are_one_line_of_at_most_255_characters() {
    assert_eq!(
        RefundReason::parse("  Duplicate purchase ").map(String::from),
        Ok("Duplicate purchase".to_owned())
    );
    assert!(RefundReason::parse(&"r".repeat(255)).is_ok());
    for bad in [String::new(), "   ".into(), "a\nb".into(), "r".repeat(256)] {
        assert_eq!(
            RefundReason::parse(&bad),
            Err(InvalidOrderValue::RefundReason)
        );
    }
}

#[test]
fn order_ids_parse_and_round_trip() {
    let id = OrderId::new();
    assert_eq!(id.to_string().parse::<OrderId>(), Ok(id));
    assert_eq!(OrderId::from_uuid(id.as_uuid()), id);
    assert_eq!(Uuid::from(id), id.as_uuid());
    assert_eq!("nope".parse::<OrderId>(), Err(InvalidId));
}
