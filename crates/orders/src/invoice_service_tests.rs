//! Unit tests of `InvoiceService` against mocked ports.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_catalog::{AssetError, MockAssetStore, StoredObject};
use nexus_kernel::{Clock, Currency, FixedClock, Role, UserId};

use super::*;
use crate::{
    Buyer, GatewayKind, InvoiceNumber, MockBuyerDirectory, MockInvoiceRenderer,
    MockOrderRepository, OrderLine, OrderParts, OrderStatus,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid amount")
}

fn seller() -> SellerConfig {
    SellerConfig {
        seller: Seller {
            name: "Nexus Books Pvt Ltd".into(),
            address_lines: vec!["1 MG Road".into(), "Bengaluru".into()],
            tax_id: Some("29ABCDE1234F1Z5".into()),
            email: "billing@example.com".into(),
        },
        included_tax: Some(IncludedTax {
            label: "GST 18% (included)".into(),
            rate_basis_points: 1_800,
        }),
    }
}

fn buyer() -> Buyer {
    Buyer {
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
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
            unit_price: inr(100_100),
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
        .with_invoice_number(InvoiceNumber::new(2026, 7).expect("valid"))
}

fn key() -> AssetKey {
    AssetKey::parse("invoices/2026/INV-2026-000007.pdf").expect("valid key")
}

fn with_invoice_stored(order: Order) -> Order {
    Order::from_parts(OrderParts {
        invoice_key: Some(key()),
        ..order.into_parts()
    })
    .expect("consistent")
}

fn repo_serving(order: &Order) -> MockOrderRepository {
    let stored = order.clone();
    let mut repo = MockOrderRepository::new();
    repo.expect_find()
        .returning(move |id| Ok((id == stored.id()).then(|| stored.clone())));
    repo
}

fn buyers_knowing(user: UserId) -> MockBuyerDirectory {
    let mut buyers = MockBuyerDirectory::new();
    buyers
        .expect_buyer()
        .returning(move |id| Ok((id == user).then(buyer)));
    buyers
}

fn service(
    repo: MockOrderRepository,
    buyers: MockBuyerDirectory,
    renderer: MockInvoiceRenderer,
    assets: MockAssetStore,
) -> InvoiceService {
    InvoiceService::new(
        Arc::new(repo),
        Arc::new(buyers),
        Arc::new(renderer),
        Arc::new(assets),
        seller(),
    )
}

fn untouched_renderer_and_store() -> (MockInvoiceRenderer, MockAssetStore) {
    let mut renderer = MockInvoiceRenderer::new();
    renderer.expect_render_pdf().never();
    let mut assets = MockAssetStore::new();
    assets.expect_put().never();
    (renderer, assets)
}

#[tokio::test]
async fn an_invoice_is_rendered_from_the_order_stored_and_recorded() {
    let user = UserId::new();
    let order = paid(user);
    let mut repo = repo_serving(&order);
    let id = order.id();
    repo.expect_set_invoice_key()
        .withf(move |o, k| *o == id && *k == key())
        .times(1)
        .returning(|_, _| Ok(()));
    let rendered = Arc::new(Mutex::new(None));
    let mut renderer = MockInvoiceRenderer::new();
    let seen = rendered.clone();
    renderer.expect_render_pdf().times(1).returning(move |doc| {
        *seen.lock().expect("not poisoned") = Some(doc.clone());
        Ok(b"%PDF-1.7".to_vec())
    });
    let mut assets = MockAssetStore::new();
    assets
        .expect_put()
        .withf(|k, bytes, content_type| {
            *k == key() && bytes == b"%PDF-1.7" && content_type == "application/pdf"
        })
        .times(1)
        .returning(|k, bytes, content_type| {
            Ok(StoredObject {
                key: k.clone(),
                size: bytes.len() as u64,
                content_type: content_type.to_owned(),
                sha256_hex: "00".into(),
            })
        });

    let stored_at = service(repo, buyers_knowing(user), renderer, assets)
        .generate(order.id())
        .await
        .expect("generated");

    assert_eq!(stored_at, key());
    let doc = rendered
        .lock()
        .expect("not poisoned")
        .clone()
        .expect("rendered");
    assert_eq!(doc.number, "INV-2026-000007");
    assert_eq!(doc.issued_at, now());
    assert_eq!(doc.order_reference, order.id().to_string());
    assert_eq!(doc.payment_reference, "pay_1");
    assert_eq!(doc.seller, seller().seller);
    assert_eq!(doc.buyer, buyer());
    let lines: Vec<_> = doc
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.quantity, l.unit_price, l.amount))
        .collect();
    assert_eq!(
        lines,
        [
            ("Rust book", 1, inr(49_900), inr(49_900)),
            ("Course", 1, inr(100_100), inr(100_100))
        ]
    );
    assert_eq!((doc.subtotal, doc.total), (inr(150_000), inr(150_000)));
    assert_eq!(
        doc.taxes,
        [TaxLine {
            label: "GST 18% (included)".into(),
            amount: inr(22_881),
        }]
    );
}

#[tokio::test]
async fn an_invoice_already_stored_is_not_made_again() {
    let user = UserId::new();
    let order = with_invoice_stored(paid(user));
    let mut repo = repo_serving(&order);
    repo.expect_set_invoice_key().never();
    let (renderer, assets) = untouched_renderer_and_store();

    let result = service(repo, buyers_knowing(user), renderer, assets)
        .generate(order.id())
        .await;

    assert_eq!(result.ok(), Some(key()));
}

#[tokio::test]
async fn unpaid_missing_or_buyerless_orders_get_no_invoice() {
    let user = UserId::new();
    let unpaid = pending(user);
    let orphan = paid(UserId::new());
    for (order, expect_not_found) in [(unpaid, false), (orphan, true)] {
        let mut repo = repo_serving(&order);
        repo.expect_set_invoice_key().never();
        let (renderer, assets) = untouched_renderer_and_store();

        let result = service(repo, buyers_knowing(user), renderer, assets)
            .generate(order.id())
            .await;

        if expect_not_found {
            assert!(matches!(result, Err(OrdersError::NotFound)), "{result:?}");
        } else {
            assert!(matches!(
                result,
                Err(OrdersError::InvalidTransition {
                    from: OrderStatus::PendingPayment,
                    ..
                })
            ));
        }
    }
    let (renderer, assets) = untouched_renderer_and_store();
    let missing = service(
        repo_serving(&paid(user)),
        buyers_knowing(user),
        renderer,
        assets,
    )
    .generate(crate::OrderId::new())
    .await;
    assert!(matches!(missing, Err(OrdersError::NotFound)));
}

#[tokio::test]
async fn a_storage_failure_records_nothing_so_the_job_retries() {
    let user = UserId::new();
    let order = paid(user);
    let mut repo = repo_serving(&order);
    repo.expect_set_invoice_key().never();
    let mut renderer = MockInvoiceRenderer::new();
    renderer
        .expect_render_pdf()
        .returning(|_| Ok(b"%PDF".to_vec()));
    let mut assets = MockAssetStore::new();
    assets
        .expect_put()
        .returning(|_, _, _| Err(AssetError::Unexpected(Unexpected::msg("disk full"))));

    let result = service(repo, buyers_knowing(user), renderer, assets)
        .generate(order.id())
        .await;

    assert!(matches!(result, Err(OrdersError::Unexpected(_))));
}

#[tokio::test]
async fn the_invoice_link_is_for_the_buyer_managers_and_admins_once_it_is_stored() {
    let user = UserId::new();
    let stored = with_invoice_stored(paid(user));
    let being_made = paid(user);
    let unpaid = pending(user);
    let owner = crate::permissions::actor(user, Role::Customer);
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let stranger = crate::permissions::actor(UserId::new(), Role::Customer);
    let cases = [
        (&stored, owner, "link"),
        (&stored, manager, "link"),
        (&stored, admin, "link"),
        (&stored, cso, "not found"),
        (&stored, stranger, "not found"),
        (&being_made, owner, "not ready"),
        (&unpaid, owner, "not found"),
    ];
    for (order, actor, expected) in cases {
        let (renderer, assets) = untouched_renderer_and_store();
        let service = service(
            repo_serving(order),
            MockBuyerDirectory::new(),
            renderer,
            assets,
        );

        let result = service.invoice_link(&actor, order.id()).await;

        let got = match result {
            Ok(DownloadTarget { key: k, file_name })
                if k == key() && file_name == "INV-2026-000007.pdf" =>
            {
                "link"
            }
            Err(OrdersError::NotFound) => "not found",
            Err(OrdersError::InvoiceNotReady) => "not ready",
            _ => "other",
        };
        assert_eq!(got, expected, "{actor:?} on {}", order.status());
    }
}

#[test]
fn the_included_tax_is_the_part_of_the_total_it_accounts_for() {
    let cases = [
        (150_000, 1_800, 22_881), // 22 881.36 rounds down
        (11_800, 1_800, 1_800),
        (118, 1_800, 18),
        (59, 1_800, 9), // 9.0 exactly
        (1, 1_800, 0),  // 0.15
        (4, 1_800, 1),  // 0.61 rounds up
        (0, 1_800, 0),
        (10_000, 0, 0),
        (i64::MAX, 1_800, 1_406_955_056_469_372_581),
    ];
    for (total, rate, tax) in cases {
        assert_eq!(
            included_tax(inr(total), rate).ok(),
            Some(inr(tax)),
            "{total} at {rate}"
        );
    }
}
