//! Unit tests of the order job handlers.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::{AssetError, AssetKey, MockAssetStore};
use nexus_kernel::{Clock, Currency, FixedClock, JobId, ProductId, Unexpected, UserId};
use nexus_notifications::{
    JobState, MailError, MockEmailRenderer, MockMailer, NotificationsError, RenderedEmail,
};
use uuid::Uuid;

use super::*;
use crate::{
    Buyer, GatewayKind, IncludedTax, InvoiceNumber, MockBuyerDirectory, MockInvoiceRenderer,
    MockOrderRepository, Order, OrderLine, Seller, SellerConfig,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, nexus_kernel::Currency::INR).expect("valid amount")
}

fn job_for(payload: JobPayload) -> Job {
    Job {
        id: JobId::new(),
        kind: payload.kind(),
        payload: Some(payload),
        state: JobState::Running,
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
    repo.expect_save().never();
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
) -> OrderConfirmationMailHandler {
    OrderConfirmationMailHandler::new(
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
    let job = job_for(JobPayload::SendOrderConfirmation {
        order_id: id.as_uuid(),
    });
    let expected_message_id = format!("{}@mail.example.com", job.id);
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

    let result = handler
        .handle(&job, job.payload.as_ref().expect("payload"))
        .await;

    assert_eq!(handler.kind(), JobKind::SendOrderConfirmation);
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn confirmations_that_can_never_be_sent_are_permanent_failures() {
    let user = UserId::new();
    let unpaid = pending(user);
    let paid_order = paid(user);
    let cases = [
        // (stored order, asked for, buyer e-mail, buyer exists)
        (paid_order.clone(), Uuid::now_v7(), "ada@example.com", true),
        (
            unpaid.clone(),
            unpaid.id().as_uuid(),
            "ada@example.com",
            true,
        ),
        (
            paid_order.clone(),
            paid_order.id().as_uuid(),
            "ada@example.com",
            false,
        ),
        (
            paid_order.clone(),
            paid_order.id().as_uuid(),
            "not-an-address",
            true,
        ),
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
        let payload = JobPayload::SendOrderConfirmation { order_id: asked };

        let result = handler.handle(&job_for(payload.clone()), &payload).await;

        assert!(
            matches!(result, Err(JobError::Permanent(_))),
            "case {i}: {result:?}"
        );
    }
}

#[tokio::test]
async fn passing_troubles_are_retried() {
    let user = UserId::new();
    let order = paid(user);
    let payload = JobPayload::SendOrderConfirmation {
        order_id: order.id().as_uuid(),
    };

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
    .handle(&job_for(payload.clone()), &payload)
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
    .handle(&job_for(payload.clone()), &payload)
    .await;

    assert!(matches!(down, Err(JobError::Retryable(_))));
    assert!(matches!(busy, Err(JobError::Retryable(_))));
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
    let payload = JobPayload::SendOrderConfirmation {
        order_id: order.id().as_uuid(),
    };

    let result = handler.handle(&job_for(payload.clone()), &payload).await;

    assert!(matches!(result, Err(JobError::Permanent(_))));
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
async fn the_invoice_job_generates_and_sorts_its_failures() {
    let user = UserId::new();
    let order = paid(user);
    let unpaid = pending(user);
    let payload_for = |o: &Order| JobPayload::GenerateInvoice {
        order_id: o.id().as_uuid(),
    };
    let run = |handler: InvoiceJobHandler, payload: JobPayload| async move {
        handler.handle(&job_for(payload.clone()), &payload).await
    };

    let done = run(
        InvoiceJobHandler::new(invoices(&order, false)),
        payload_for(&order),
    )
    .await;
    let storage_down = run(
        InvoiceJobHandler::new(invoices(&order, true)),
        payload_for(&order),
    )
    .await;
    let never_paid = run(
        InvoiceJobHandler::new(invoices(&unpaid, false)),
        payload_for(&unpaid),
    )
    .await;
    let gone = run(
        InvoiceJobHandler::new(invoices(&order, false)),
        JobPayload::GenerateInvoice {
            order_id: Uuid::now_v7(),
        },
    )
    .await;
    let wrong_payload = run(
        InvoiceJobHandler::new(invoices(&order, false)),
        JobPayload::SendOrderConfirmation {
            order_id: order.id().as_uuid(),
        },
    )
    .await;

    assert_eq!(done, Ok(()));
    assert!(matches!(storage_down, Err(JobError::Retryable(_))));
    assert!(matches!(never_paid, Err(JobError::Permanent(_))));
    assert!(matches!(gone, Err(JobError::Permanent(_))));
    assert!(matches!(wrong_payload, Err(JobError::Permanent(_))));
    assert_eq!(
        InvoiceJobHandler::new(invoices(&order, false)).kind(),
        JobKind::GenerateInvoice
    );
    // The key the job stores under.
    assert_eq!(
        crate::invoice_key(order.invoice_number().expect("numbered")).ok(),
        AssetKey::parse("invoices/2026/INV-2026-000003.pdf").ok()
    );
}
