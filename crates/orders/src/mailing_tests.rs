//! Unit tests of the subscribers of paid and refunded orders.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_catalog::{AssetError, AssetKey, MockAssetStore};
use nexus_kernel::{Clock, Currency, FixedClock, Unexpected, UserId};
use nexus_notifications::{MockEmailRenderer, MockMailer, NotificationsError, RenderedEmail};
use nexus_outbox::{DeliveryId, DeliveryState, DomainEvent, EventEnvelope};

use super::*;
use crate::{
    Buyer, GatewayKind, IncludedTax, InvoiceNumber, MockBuyerDirectory, MockInvoiceRenderer,
    MockOrderRepository, Order, OrderId, OrderLine, Seller, SellerConfig,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, nexus_kernel::Currency::INR).expect("valid amount")
}

/// A first attempt at delivering `event` to `subscriber`.
pub(crate) fn delivery_of<E: DomainEvent>(event: &E, subscriber: &str) -> Delivery {
    Delivery {
        id: DeliveryId::new(),
        event: EventEnvelope::new(event, now()).expect("an event"),
        subscriber: subscriber.to_owned(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: 8,
        run_at: now(),
        locked_by: Some("worker-1".into()),
        locked_until: None,
        last_error: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn paid_event(order_id: OrderId) -> OrderPaid {
    OrderPaid {
        order_id,
        user_id: UserId::new(),
    }
}

fn pending(user: UserId) -> Order {
    let lines = vec![
        OrderLine {
            product_id: ProductId::new(),
            title: "Rust book".into(),
            unit_price: inr(49_900),
        },
        OrderLine {
            product_id: ProductId::new(),
            title: "Course".into(),
            unit_price: inr(100_105),
        },
    ];
    Order::place(user, lines, GatewayKind::Razorpay, now())
        .and_then(|o| o.attach_gateway_order("order_G1", now()))
        .expect("valid order")
}

fn paid(user: UserId) -> Order {
    pending(user)
        .pay("pay_1", now())
        .expect("payable")
        .order
        .with_invoice_number(InvoiceNumber::new(2026, 3).expect("valid"))
}

fn repo_serving(order: &Order) -> MockOrderRepository {
    let stored = order.clone();
    let mut repo = MockOrderRepository::new();
    repo.expect_find()
        .returning(move |id| Ok((id == stored.id()).then(|| stored.clone())));
    repo
}

fn buyers_knowing(user: UserId, email: &str) -> MockBuyerDirectory {
    let email = email.to_owned();
    let mut buyers = MockBuyerDirectory::new();
    buyers.expect_buyer().returning(move |id| {
        Ok((id == user).then(|| Buyer {
            name: "Ada Lovelace".into(),
            email: email.clone(),
        }))
    });
    buyers
}

fn rendered() -> RenderedEmail {
    RenderedEmail {
        subject: "Your order".into(),
        text_body: "text".into(),
        html_body: "<p>html</p>".into(),
    }
}

fn confirmation_handler(
    repo: MockOrderRepository,
    buyers: MockBuyerDirectory,
    renderer: MockEmailRenderer,
    mailer: MockMailer,
) -> OrderConfirmationSubscriber {
    OrderConfirmationSubscriber::new(
        Arc::new(repo),
        Arc::new(buyers),
        Arc::new(renderer),
        Arc::new(mailer),
        "mail.example.com".into(),
        "https://shop.example.com/".into(),
    )
}

#[test]
fn money_is_shown_with_its_currency_and_two_decimals() {
    let usd = Currency::parse("USD").expect("valid");
    let cases = [
        (inr(0), "INR 0.00"),
        (inr(5), "INR 0.05"),
        (inr(49_900), "INR 499.00"),
        (inr(100_105), "INR 1001.05"),
        (Money::new(1_234, usd).expect("valid"), "USD 12.34"),
    ];
    for (amount, text) in cases {
        assert_eq!(format_money(amount), text);
    }
}

#[tokio::test]
async fn the_confirmation_lists_the_lines_and_links_the_invoice() {
    let user = UserId::new();
    let order = paid(user);
    let id = order.id();
    let mut renderer = MockEmailRenderer::new();
    renderer
        .expect_render()
        .withf(move |template| {
            *template
                == EmailTemplate::OrderConfirmation {
                    customer_name: "Ada Lovelace".into(),
                    order_reference: id.to_string(),
                    lines: vec![
                        ("Rust book".into(), "INR 499.00".into()),
                        ("Course".into(), "INR 1001.05".into()),
                    ],
                    total: "INR 1500.05".into(),
                    invoice_url: Some(format!(
                        "https://shop.example.com/api/v1/orders/{id}/invoice"
                    )),
                }
        })
        .times(1)
        .returning(|_| Ok(rendered()));
    let delivery = delivery_of(&paid_event(id), "send_order_confirmation");
    let expected_message_id = format!("{}@mail.example.com", delivery.id);
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .withf(move |m| {
            m.message_id == expected_message_id
                && m.to.as_str() == "ada@example.com"
                && m.to_name.as_deref() == Some("Ada Lovelace")
                && m.subject == "Your order"
                && m.html_body == "<p>html</p>"
        })
        .times(1)
        .returning(|_| Ok(()));
    let handler = confirmation_handler(
        repo_serving(&order),
        buyers_knowing(user, "Ada@Example.com"),
        renderer,
        mailer,
    );

    let result = handler.deliver(&delivery).await;

    assert_eq!(handler.name(), "send_order_confirmation");
    assert_eq!(handler.subscriptions(), [Subscription::to::<OrderPaid>()]);
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn confirmations_that_can_never_be_sent_are_permanent_failures() {
    let user = UserId::new();
    let unpaid = pending(user);
    let paid_order = paid(user);
    let cases = [
        // (stored order, asked for, buyer e-mail, buyer exists)
        (paid_order.clone(), OrderId::new(), "ada@example.com", true),
        (unpaid.clone(), unpaid.id(), "ada@example.com", true),
        (
            paid_order.clone(),
            paid_order.id(),
            "ada@example.com",
            false,
        ),
        (paid_order.clone(), paid_order.id(), "not-an-address", true),
    ];
    for (i, (order, asked, email, buyer_exists)) in cases.into_iter().enumerate() {
        let mut renderer = MockEmailRenderer::new();
        renderer.expect_render().never();
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        let buyer_id = if buyer_exists { user } else { UserId::new() };
        let handler = confirmation_handler(
            repo_serving(&order),
            buyers_knowing(buyer_id, email),
            renderer,
            mailer,
        );
        let delivery = delivery_of(&paid_event(asked), "send_order_confirmation");

        let result = handler.deliver(&delivery).await;

        assert!(
            matches!(result, Err(DeliveryError::Permanent(_))),
            "case {i}: {result:?}"
        );
    }
}

#[tokio::test]
async fn passing_troubles_are_retried() {
    let user = UserId::new();
    let order = paid(user);
    let delivery = delivery_of(&paid_event(order.id()), "send_order_confirmation");

    let mut failing_repo = MockOrderRepository::new();
    failing_repo
        .expect_find()
        .returning(|_| Err(Unexpected::msg("database down").into()));
    let down = confirmation_handler(
        failing_repo,
        buyers_knowing(user, "ada@example.com"),
        MockEmailRenderer::new(),
        MockMailer::new(),
    )
    .deliver(&delivery)
    .await;

    let mut renderer = MockEmailRenderer::new();
    renderer.expect_render().returning(|_| Ok(rendered()));
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .returning(|_| Err(MailError::Transient("421 try later".into())));
    let busy = confirmation_handler(
        repo_serving(&order),
        buyers_knowing(user, "ada@example.com"),
        renderer,
        mailer,
    )
    .deliver(&delivery)
    .await;

    assert!(matches!(down, Err(DeliveryError::Retryable(_))));
    assert!(matches!(busy, Err(DeliveryError::Retryable(_))));
}

#[tokio::test]
async fn a_broken_template_is_permanent() {
    let user = UserId::new();
    let order = paid(user);
    let mut renderer = MockEmailRenderer::new();
    renderer.expect_render().returning(|_| {
        Err(NotificationsError::Unexpected(Unexpected::msg(
            "bad template",
        )))
    });
    let mut mailer = MockMailer::new();
    mailer.expect_send().never();
    let handler = confirmation_handler(
        repo_serving(&order),
        buyers_knowing(user, "ada@example.com"),
        renderer,
        mailer,
    );
    let delivery = delivery_of(&paid_event(order.id()), "send_order_confirmation");

    let result = handler.deliver(&delivery).await;

    assert!(matches!(result, Err(DeliveryError::Permanent(_))));
}

/// An invoice service over `order` whose asset store answers `put` with `put_result`.
fn invoices(order: &Order, put_fails: bool) -> Arc<InvoiceService> {
    let mut repo = repo_serving(order);
    repo.expect_set_invoice_key().returning(|_, _| Ok(()));
    let mut renderer = MockInvoiceRenderer::new();
    renderer
        .expect_render_pdf()
        .returning(|_| Ok(b"%PDF".to_vec()));
    let mut assets = MockAssetStore::new();
    assets
        .expect_put()
        .returning(move |key, bytes, content_type| {
            if put_fails {
                Err(AssetError::Unexpected(Unexpected::msg(
                    "bucket unreachable",
                )))
            } else {
                Ok(nexus_catalog::StoredObject {
                    key: key.clone(),
                    size: bytes.len() as u64,
                    content_type: content_type.to_owned(),
                    sha256_hex: "00".into(),
                })
            }
        });
    Arc::new(InvoiceService::new(
        Arc::new(repo),
        Arc::new(buyers_knowing(order.user_id(), "ada@example.com")),
        Arc::new(renderer),
        Arc::new(assets),
        SellerConfig {
            seller: Seller {
                name: "Nexus".into(),
                address_lines: vec![],
                tax_id: None,
                email: "billing@example.com".into(),
            },
            included_tax: None::<IncludedTax>,
        },
    ))
}

#[tokio::test]
async fn a_confirmation_delivered_twice_is_one_mail_by_its_message_id() {
    let user = UserId::new();
    let order = paid(user);
    let mut renderer = MockEmailRenderer::new();
    renderer.expect_render().returning(|_| Ok(rendered()));
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut mailer = MockMailer::new();
    let seen = sent.clone();
    mailer.expect_send().times(2).returning(move |m| {
        seen.lock()
            .expect("not poisoned")
            .push(m.message_id.clone());
        Ok(())
    });
    let handler = confirmation_handler(
        repo_serving(&order),
        buyers_knowing(user, "ada@example.com"),
        renderer,
        mailer,
    );
    let first = delivery_of(&paid_event(order.id()), "send_order_confirmation");
    let again = Delivery {
        attempts: 2,
        ..first.clone()
    };

    assert_eq!(handler.deliver(&first).await, Ok(()));
    assert_eq!(handler.deliver(&again).await, Ok(()));

    let ids = sent.lock().expect("not poisoned").clone();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        ids[0], ids[1],
        "the mailer's outbox keeps one mail per Message-ID"
    );
    assert_eq!(ids[0], format!("{}@mail.example.com", first.id));
}

#[tokio::test]
async fn the_invoice_subscriber_generates_and_sorts_its_failures() {
    let user = UserId::new();
    let order = paid(user);
    let unpaid = pending(user);
    let run = |handler: InvoiceSubscriber, order_id: OrderId| async move {
        handler
            .deliver(&delivery_of(&paid_event(order_id), "generate_invoice"))
            .await
    };

    let done = run(InvoiceSubscriber::new(invoices(&order, false)), order.id()).await;
    let storage_down = run(InvoiceSubscriber::new(invoices(&order, true)), order.id()).await;
    let never_paid = run(
        InvoiceSubscriber::new(invoices(&unpaid, false)),
        unpaid.id(),
    )
    .await;
    let gone = run(
        InvoiceSubscriber::new(invoices(&order, false)),
        OrderId::new(),
    )
    .await;
    let wrong_event = InvoiceSubscriber::new(invoices(&order, false))
        .deliver(&delivery_of(
            &OrderRefunded {
                order_id: order.id(),
                refund_id: "rfnd_1".into(),
                amount_minor: 1,
                currency: "INR".into(),
                explanation: "test".into(),
            },
            "generate_invoice",
        ))
        .await;

    assert_eq!(done, Ok(()));
    assert!(matches!(storage_down, Err(DeliveryError::Retryable(_))));
    assert!(matches!(never_paid, Err(DeliveryError::Permanent(_))));
    assert!(matches!(gone, Err(DeliveryError::Permanent(_))));
    assert!(matches!(wrong_event, Err(DeliveryError::Permanent(_))));
    let subscriber = InvoiceSubscriber::new(invoices(&order, false));
    assert_eq!(subscriber.name(), "generate_invoice");
    assert_eq!(
        subscriber.subscriptions(),
        [Subscription::to::<OrderPaid>()]
    );
    // The key the invoice is stored under.
    assert_eq!(
        crate::invoice_key(order.invoice_number().expect("numbered")).ok(),
        AssetKey::parse("invoices/2026/INV-2026-000003.pdf").ok()
    );
}

#[tokio::test]
async fn an_invoice_delivered_twice_is_rendered_and_stored_once() {
    let order = paid(UserId::new());
    let stored = Arc::new(std::sync::Mutex::new(order.clone()));
    let mut repo = MockOrderRepository::new();
    let read = stored.clone();
    repo.expect_find()
        .returning(move |_| Ok(Some(read.lock().expect("not poisoned").clone())));
    let written = stored.clone();
    repo.expect_set_invoice_key()
        .times(1)
        .returning(move |_, key| {
            let mut order = written.lock().expect("not poisoned");
            let mut parts = order.clone().into_parts();
            parts.invoice_key = Some(key.clone());
            *order = Order::from_parts(parts).expect("consistent");
            Ok(())
        });
    let mut renderer = MockInvoiceRenderer::new();
    renderer
        .expect_render_pdf()
        .times(1)
        .returning(|_| Ok(b"%PDF".to_vec()));
    let mut assets = MockAssetStore::new();
    assets
        .expect_put()
        .times(1)
        .returning(|key, bytes, content_type| {
            Ok(nexus_catalog::StoredObject {
                key: key.clone(),
                size: bytes.len() as u64,
                content_type: content_type.to_owned(),
                sha256_hex: "00".into(),
            })
        });
    let invoices = Arc::new(InvoiceService::new(
        Arc::new(repo),
        Arc::new(buyers_knowing(order.user_id(), "ada@example.com")),
        Arc::new(renderer),
        Arc::new(assets),
        SellerConfig {
            seller: Seller {
                name: "Nexus".into(),
                address_lines: vec![],
                tax_id: None,
                email: "billing@example.com".into(),
            },
            included_tax: None::<IncludedTax>,
        },
    ));
    let subscriber = InvoiceSubscriber::new(invoices);
    let delivery = delivery_of(&paid_event(order.id()), "generate_invoice");

    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));
    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));
}

/// An invoice service over `refunded` (paid, with refund `rfnd_1` and its credit note
/// `CN-2026-000001`) that remembers the credit note's key once stored; `put_fails` makes the
/// asset store unreachable. Each store counts in `puts`.
fn credit_notes(
    refunded: &Order,
    put_fails: bool,
    puts: Arc<std::sync::atomic::AtomicUsize>,
) -> Arc<InvoiceService> {
    let mut repo = repo_serving(refunded);
    let note = Arc::new(std::sync::Mutex::new(crate::CreditNote {
        number: crate::CreditNoteNumber::new(2026, 1).expect("valid"),
        order_id: refunded.id(),
        refund_id: "rfnd_1".into(),
        issued_at: now(),
        key: None,
    }));
    let read = note.clone();
    repo.expect_find_credit_note().returning(move |refund_id| {
        let note = read.lock().expect("not poisoned").clone();
        Ok((note.refund_id == refund_id).then_some(note))
    });
    let written = note.clone();
    repo.expect_set_credit_note_key().returning(move |_, key| {
        written.lock().expect("not poisoned").key = Some(key.clone());
        Ok(())
    });
    let mut renderer = MockInvoiceRenderer::new();
    renderer
        .expect_render_pdf()
        .returning(|_| Ok(b"%PDF".to_vec()));
    let mut assets = MockAssetStore::new();
    assets
        .expect_put()
        .returning(move |key, bytes, content_type| {
            puts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if put_fails {
                return Err(AssetError::Unexpected(Unexpected::msg(
                    "bucket unreachable",
                )));
            }
            Ok(nexus_catalog::StoredObject {
                key: key.clone(),
                size: bytes.len() as u64,
                content_type: content_type.to_owned(),
                sha256_hex: "00".into(),
            })
        });
    Arc::new(InvoiceService::new(
        Arc::new(repo),
        Arc::new(buyers_knowing(refunded.user_id(), "ada@example.com")),
        Arc::new(renderer),
        Arc::new(assets),
        SellerConfig {
            seller: Seller {
                name: "Nexus".into(),
                address_lines: vec![],
                tax_id: None,
                email: "billing@example.com".into(),
            },
            included_tax: None::<IncludedTax>,
        },
    ))
}

fn refunded_event(order_id: OrderId, refund_id: &str) -> OrderRefunded {
    OrderRefunded {
        order_id,
        refund_id: refund_id.into(),
        amount_minor: 10_000,
        currency: "INR".into(),
        explanation: "Bought by mistake".into(),
    }
}

#[tokio::test]
async fn a_credit_note_delivered_twice_is_rendered_and_stored_once() {
    let refunded = paid(UserId::new())
        .record_refund(crate::OrderRefund {
            refund_id: "rfnd_1".into(),
            amount: inr(10_000),
            reason: None,
            refunded_by: None,
            at: now(),
        })
        .expect("refundable")
        .order;
    let puts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let subscriber = CreditNoteSubscriber::new(credit_notes(&refunded, false, puts.clone()));
    let delivery = delivery_of(
        &refunded_event(refunded.id(), "rfnd_1"),
        "generate_credit_note",
    );

    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));
    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));

    assert_eq!(puts.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(subscriber.name(), "generate_credit_note");
    assert_eq!(
        subscriber.subscriptions(),
        [Subscription::to::<OrderRefunded>()]
    );
}

#[tokio::test]
async fn a_credit_note_is_retried_while_storage_is_down_and_dead_without_its_refund() {
    let refunded = paid(UserId::new())
        .record_refund(crate::OrderRefund {
            refund_id: "rfnd_1".into(),
            amount: inr(10_000),
            reason: None,
            refunded_by: None,
            at: now(),
        })
        .expect("refundable")
        .order;
    let puts = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    let down = CreditNoteSubscriber::new(credit_notes(&refunded, true, puts.clone()))
        .deliver(&delivery_of(
            &refunded_event(refunded.id(), "rfnd_1"),
            "generate_credit_note",
        ))
        .await;
    let unknown = CreditNoteSubscriber::new(credit_notes(&refunded, false, puts))
        .deliver(&delivery_of(
            &refunded_event(refunded.id(), "rfnd_other"),
            "generate_credit_note",
        ))
        .await;

    assert!(matches!(down, Err(DeliveryError::Retryable(_))), "{down:?}");
    assert!(
        matches!(unknown, Err(DeliveryError::Permanent(_))),
        "{unknown:?}"
    );
}
