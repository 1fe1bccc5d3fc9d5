//! The money paths under retries, duplicates, reordering and concurrency, against the
//! wiremock Razorpay fake. Every test ends in exact balances: what the buyer paid = what the
//! ledger says (orders' paid and refunded sums, plus payments recorded as unapplied) = what
//! the gateway fake was asked to refund.

use std::time::Duration;

use chrono::Datelike;

use futures_util::future::join_all;
use nexus_tests::{
    RazorpayFake, Role, Signed, TestApp, assert_error, eventually, expect_json, razorpay_id,
    razorpay_payment_event, spawn_app_with, spawn_app_with_smtp,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PRICE: i64 = 49_900;
const FILE: &[u8] = b"%PDF-1.4\n% a template\n%%EOF\n";

fn id(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
}

async fn razorpay_app(extra: &[(&str, &str)]) -> (RazorpayFake, TestApp) {
    let razorpay = RazorpayFake::start().await;
    let settings = [
        razorpay.vars().as_slice(),
        &[("WORKER_POLL_MS", "50")],
        extra,
    ]
    .concat();
    let app = spawn_app_with(&settings).await;
    (razorpay, app)
}

/// The same with the real SMTP sink (`None` when it cannot run outside CI).
async fn razorpay_app_with_mail(extra: &[(&str, &str)]) -> Option<(RazorpayFake, TestApp)> {
    let razorpay = RazorpayFake::start().await;
    let settings = [razorpay.vars().as_slice(), extra].concat();
    let app = spawn_app_with_smtp(&settings).await?;
    Some((razorpay, app))
}

async fn product(app: &TestApp, title: &str) -> Value {
    let manager = app.sign_in_as(Role::Manager).await;
    app.published_product(&manager, title, PRICE, FILE).await
}

async fn add_to_cart(app: &TestApp, buyer: &Signed, product: &Value) {
    let res = app
        .post_json(
            "/api/v1/cart/items",
            &json!({ "productId": product["id"] }),
            buyer,
        )
        .await;
    expect_json(res, 200).await;
}

/// Delivers `event` (`payment.captured`, `order.paid`, `payment.failed`) for `payment_id`
/// of `amount` on the order of `checkout`, under a fresh event id; returns the ack status.
async fn deliver(
    app: &TestApp,
    razorpay: &RazorpayFake,
    event: &str,
    checkout: &Value,
    payment_id: &str,
    amount: i64,
) -> Value {
    let body = razorpay_payment_event(event, id(&checkout["razorpayOrderId"]), payment_id, amount);
    let res = razorpay.deliver(app, &body, &razorpay_id("evt")).await;
    expect_json(res, 200).await["status"].clone()
}

/// A `refund.processed` event for `refund_id` of `amount` on `payment_id` (of `amount` on
/// Razorpay order `order_id`), in Razorpay's documented shape with the refund and payment.
fn refund_event(payment_id: &str, order_id: &str, refund_id: &str, amount: i64) -> Value {
    json!({
        "entity": "event",
        "account_id": "acc_x",
        "event": "refund.processed",
        "contains": ["refund", "payment"],
        "payload": {
            "refund": { "entity": {
                "id": refund_id, "entity": "refund", "amount": amount, "currency": "INR",
                "payment_id": payment_id, "notes": [], "receipt": null,
                "acquirer_data": { "arn": null }, "created_at": 1_700_000_000,
                "batch_id": null, "status": "processed", "speed_processed": "normal",
                "speed_requested": "normal"
            }},
            "payment": { "entity": {
                "id": payment_id, "entity": "payment", "amount": amount, "currency": "INR",
                "status": "refunded", "order_id": order_id, "method": "upi",
                "amount_refunded": amount, "refund_status": "full", "captured": true,
                "error_code": null, "error_description": null, "created_at": 1_700_000_000
            }},
        },
        "created_at": 1_700_000_000,
    })
}

/// A new buyer's checkout of a new product, paid by a signed `payment.captured`:
/// `(buyer, checkout, payment_id)`.
async fn paid_checkout(
    app: &TestApp,
    razorpay: &RazorpayFake,
    title: &str,
) -> (Signed, Value, String) {
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app.checkout_one(&buyer, &product(app, title).await).await;
    let payment_id = razorpay_id("pay");
    deliver(
        app,
        razorpay,
        "payment.captured",
        &checkout,
        &payment_id,
        PRICE,
    )
    .await;
    (buyer, checkout, payment_id)
}

/// The ledger: `(paid, refunded)` over every order (paid orders' totals, their refunds) plus
/// the payments recorded as unapplied (captured, and refunded once their refund is made).
async fn ledger(app: &TestApp) -> (i64, i64) {
    let db = app.db().await;
    let backend = db.get_database_backend();
    let orders = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT total_minor, refunded_minor, status FROM orders",
        ))
        .await
        .expect("orders");
    let (mut paid, mut refunded) = (0_i64, 0_i64);
    for row in orders {
        let status: String = row.try_get("", "status").expect("status");
        if matches!(status.as_str(), "PAID" | "PARTIALLY_REFUNDED" | "REFUNDED") {
            paid += row.try_get::<i64>("", "total_minor").expect("total");
            refunded += row.try_get::<i64>("", "refunded_minor").expect("refunded");
        }
    }
    let unapplied = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT amount_minor, refund_id FROM unapplied_payments",
        ))
        .await
        .expect("unapplied payments");
    for row in unapplied {
        let amount: i64 = row.try_get("", "amount_minor").expect("amount");
        paid += amount;
        if row
            .try_get::<Option<String>>("", "refund_id")
            .expect("refund id")
            .is_some()
        {
            refunded += amount;
        }
    }
    (paid, refunded)
}

/// The credit notes: `(number, stored file)`, by number.
async fn credit_notes(app: &TestApp) -> Vec<(String, Option<String>)> {
    let db = app.db().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT number, file_key FROM credit_notes ORDER BY number",
        ))
        .await
        .expect("credit notes");
    rows.into_iter()
        .map(|row| {
            (
                row.try_get("", "number").expect("number"),
                row.try_get("", "file_key").expect("file key"),
            )
        })
        .collect()
}

/// What the fake gateway refunded: `(requests, total amount)`.
async fn gateway_refunds(razorpay: &RazorpayFake) -> (usize, i64) {
    let made = razorpay.refunds_made();
    let total = made.iter().map(|r| r["amount"].as_i64().unwrap_or(0)).sum();
    (made.len(), total)
}

/// How many refund requests the fake received (whatever it answered).
async fn refund_requests(razorpay: &RazorpayFake, payment_id: &str) -> usize {
    razorpay
        .bodies(&format!("/v1/payments/{payment_id}/refund"))
        .await
        .len()
}

async fn wait_for_refunds(razorpay: &RazorpayFake, count: usize) {
    eventually("the gateway refunds", async || {
        (razorpay.refunds_made().len() >= count).then_some(())
    })
    .await;
}

#[tokio::test]
async fn failed_then_captured_on_the_same_gateway_order_pays_it_once() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app
        .checkout_one(&buyer, &product(&app, "Ledger").await)
        .await;

    let failed = deliver(
        &app,
        &razorpay,
        "payment.failed",
        &checkout,
        &razorpay_id("pay"),
        PRICE,
    )
    .await;
    let captured = deliver(
        &app,
        &razorpay,
        "payment.captured",
        &checkout,
        &razorpay_id("pay"),
        PRICE,
    )
    .await;

    assert_eq!((failed, captured), (json!("processed"), json!("processed")));
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID", "{order}");
    assert_eq!(ledger(&app).await, (PRICE, 0));
    assert_eq!(gateway_refunds(&razorpay).await, (0, 0));
}

#[tokio::test]
async fn a_second_payment_for_a_paid_order_is_refunded_once_and_the_buyer_told() {
    let Some((razorpay, app)) = razorpay_app_with_mail(&[]).await else {
        return;
    };
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app
        .checkout_one(&buyer, &product(&app, "Twice").await)
        .await;
    let (first, second) = (razorpay_id("pay"), razorpay_id("pay"));

    deliver(
        &app,
        &razorpay,
        "payment.captured",
        &checkout,
        &first,
        PRICE,
    )
    .await;
    // The second payment is reported three times (two events, one redelivered).
    for event in ["payment.captured", "order.paid", "payment.captured"] {
        deliver(&app, &razorpay, event, &checkout, &second, PRICE).await;
    }

    wait_for_refunds(&razorpay, 1).await;
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["paymentId"], first.as_str());
    eventually("the refund to be recorded", async || {
        (ledger(&app).await == (2 * PRICE, PRICE)).then_some(())
    })
    .await;
    assert_eq!(gateway_refunds(&razorpay).await, (1, PRICE));
    assert_eq!(refund_requests(&razorpay, &second).await, 1);
    assert_eq!(refund_requests(&razorpay, &first).await, 0);
    // Welcome, order confirmation, refund notice.
    let mails = app.smtp().wait_for_messages(3).await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("refund") && m.text.contains("INR 499.00")),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_capture_for_an_expired_order_is_refunded_and_its_callback_says_so() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app.checkout_one(&buyer, &product(&app, "Late").await).await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    // The worker's sweep expired it (run here directly: it runs once a minute).
    let db = app.db().await;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "UPDATE orders SET status = 'EXPIRED', version = version + 1 \
             WHERE gateway_order_id = '{rzp_order}'"
        ),
    ))
    .await
    .expect("expire");
    let payment_id = razorpay_id("pay");
    razorpay.report_payment(&payment_id, rzp_order, PRICE, "captured");

    let callback = app
        .post_json(
            "/api/v1/payments/verify",
            &json!({
                "razorpay_order_id": rzp_order,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": razorpay.checkout_signature(rzp_order, &payment_id),
            }),
            &buyer,
        )
        .await;
    let webhook = deliver(
        &app,
        &razorpay,
        "payment.captured",
        &checkout,
        &payment_id,
        PRICE,
    )
    .await;

    assert_error(callback, 409, "payment_not_applied").await;
    assert_eq!(webhook, "processed");
    wait_for_refunds(&razorpay, 1).await;
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "EXPIRED");
    eventually("the refund to be recorded", async || {
        (ledger(&app).await == (PRICE, PRICE)).then_some(())
    })
    .await;
    assert_eq!(gateway_refunds(&razorpay).await, (1, PRICE));
    assert_eq!(refund_requests(&razorpay, &payment_id).await, 1);
    let receipt = razorpay.refunds_made()[0]["receipt"].clone();
    assert!(
        id(&receipt).starts_with("up_"),
        "our id is the receipt: {receipt}"
    );
}

#[tokio::test]
async fn concurrent_checkouts_of_one_cart_make_one_order() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    add_to_cart(&app, &buyer, &product(&app, "Once").await).await;

    let answers = join_all((0..6).map(|_| app.post("/api/v1/checkout", &buyer))).await;

    let mut created = 0;
    let mut orders = Vec::new();
    for res in answers {
        let status = res.status().as_u16();
        let body: Value = res.json().await.expect("a JSON body");
        assert!(status == 201 || status == 200, "{status} {body}");
        created += usize::from(status == 201);
        orders.push(body["orderId"].clone());
    }
    assert_eq!(created, 1, "one order made, the others returned it");
    assert!(orders.iter().all(|o| *o == orders[0]), "{orders:?}");
    let listed = expect_json(app.get("/api/v1/orders", &buyer).await, 200).await;
    assert_eq!(listed["meta"]["total"], 1, "{listed}");
    let again = expect_json(app.post("/api/v1/checkout", &buyer).await, 200).await;
    assert_eq!(again["orderId"], orders[0]);
    assert_eq!(gateway_refunds(&razorpay).await, (0, 0));
}

#[tokio::test]
async fn a_capture_for_a_product_already_owned_is_refunded_and_access_stays() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let (first_product, second_product) =
        (product(&app, "Owned").await, product(&app, "Extra").await);
    add_to_cart(&app, &buyer, &first_product).await;
    let first = expect_json(app.post("/api/v1/checkout", &buyer).await, 201).await;
    add_to_cart(&app, &buyer, &second_product).await;
    let second = expect_json(app.post("/api/v1/checkout", &buyer).await, 201).await;
    assert_ne!(
        first["orderId"], second["orderId"],
        "a changed cart is a new order"
    );
    let (pay_first, pay_second) = (razorpay_id("pay"), razorpay_id("pay"));

    deliver(
        &app,
        &razorpay,
        "payment.captured",
        &first,
        &pay_first,
        PRICE,
    )
    .await;
    deliver(
        &app,
        &razorpay,
        "payment.captured",
        &second,
        &pay_second,
        2 * PRICE,
    )
    .await;

    wait_for_refunds(&razorpay, 1).await;
    let second_order = app.order(&second["orderId"], &buyer).await;
    assert_eq!(second_order["status"], "PENDING_PAYMENT", "{second_order}");
    eventually("the refund to be recorded", async || {
        (ledger(&app).await == (3 * PRICE, 2 * PRICE)).then_some(())
    })
    .await;
    assert_eq!(gateway_refunds(&razorpay).await, (1, 2 * PRICE));
    assert_eq!(refund_requests(&razorpay, &pay_second).await, 1);
    let library = expect_json(app.get("/api/v1/me/library", &buyer).await, 200).await;
    assert_eq!(library["meta"]["total"], 1, "{library}");
}

#[tokio::test]
async fn concurrent_full_refunds_refund_once() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (buyer, checkout, payment_id) = paid_checkout(&app, &razorpay, "Refund").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/orders/{}/refund", id(&checkout["orderId"]));
    let body = json!({ "reason": "Asked by the buyer" });

    let answers = join_all((0..4).map(|_| app.post_json(&path, &body, &admin))).await;

    let mut statuses = Vec::new();
    for res in answers {
        let status = res.status().as_u16();
        let value: Value = res.json().await.expect("a JSON body");
        if status != 200 {
            assert_eq!(status, 409, "{value}");
            assert!(
                matches!(id(&value["error"]), "refund_in_progress" | "not_refundable"),
                "{value}"
            );
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    let order = app.order(&checkout["orderId"], &admin).await;
    assert_eq!(order["status"], "REFUNDED");
    let notes = eventually("the credit note to be rendered", async || {
        let notes = credit_notes(&app).await;
        (!notes.is_empty() && notes.iter().all(|(_, file)| file.is_some())).then_some(notes)
    })
    .await;
    let year = chrono::Utc::now().year();
    assert_eq!(
        notes,
        [(
            format!("CN-{year}-000001"),
            Some(format!("credit-notes/{year}/CN-{year}-000001.pdf"))
        )]
    );
    let refund_id = order["refunds"][0]["refundId"].clone();
    let note_path = format!(
        "/api/v1/orders/{}/refunds/{}/credit-note",
        id(&checkout["orderId"]),
        id(&refund_id)
    );
    let for_buyer = expect_json(app.get(&note_path, &buyer).await, 303).await;
    let pdf = app.follow_link(id(&for_buyer["url"])).await;
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.expect("a body").starts_with(b"%PDF"));
    let cso = app.sign_in_as(Role::Cso).await;
    assert_error(app.get(&note_path, &cso).await, 404, "not_found").await;
    assert_eq!(ledger(&app).await, (PRICE, PRICE));
    assert_eq!(gateway_refunds(&razorpay).await, (1, PRICE));
    assert_eq!(refund_requests(&razorpay, &payment_id).await, 1);
}

#[tokio::test]
async fn a_refund_retried_after_a_gateway_timeout_refunds_once() {
    let (razorpay, app) = razorpay_app(&[("RAZORPAY_TIMEOUT_SECS", "1")]).await;
    let (_, checkout, payment_id) = paid_checkout(&app, &razorpay, "Timeout").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/orders/{}/refund", id(&checkout["orderId"]));
    let body = json!({ "reason": "Asked by the buyer" });
    razorpay.answer_next_refund_late(Duration::from_secs(3));

    let timed_out = app.post_json(&path, &body, &admin).await;
    let retried = app.post_json(&path, &body, &admin).await;

    assert_error(timed_out, 503, "payment_gateway_unavailable").await;
    let order = expect_json(retried, 200).await;
    assert_eq!(order["status"], "REFUNDED", "{order}");
    assert_eq!(ledger(&app).await, (PRICE, PRICE));
    assert_eq!(gateway_refunds(&razorpay).await, (1, PRICE));
    assert_eq!(
        refund_requests(&razorpay, &payment_id).await,
        1,
        "never twice"
    );
    // The gateway's own report of the refund changes nothing more.
    let refund_id = razorpay.refunds_made()[0]["id"].clone();
    let res = razorpay
        .deliver(
            &app,
            &refund_event(
                &payment_id,
                id(&checkout["razorpayOrderId"]),
                id(&refund_id),
                PRICE,
            ),
            &razorpay_id("evt"),
        )
        .await;
    expect_json(res, 200).await;
    assert_eq!(ledger(&app).await, (PRICE, PRICE));
}

#[tokio::test]
async fn a_capture_after_the_refund_changes_nothing() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (_, checkout, payment_id) = paid_checkout(&app, &razorpay, "Reordered").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/orders/{}/refund", id(&checkout["orderId"]));
    expect_json(
        app.post_json(&path, &json!({ "reason": "Asked by the buyer" }), &admin)
            .await,
        200,
    )
    .await;

    // Razorpay's order.paid for the same payment arrives late.
    let late = deliver(&app, &razorpay, "order.paid", &checkout, &payment_id, PRICE).await;

    assert_eq!(late, "processed");
    let order = app.order(&checkout["orderId"], &admin).await;
    assert_eq!(order["status"], "REFUNDED");
    assert_eq!(ledger(&app).await, (PRICE, PRICE));
    assert_eq!(gateway_refunds(&razorpay).await, (1, PRICE));
}

#[tokio::test]
async fn a_signed_event_with_a_nul_byte_in_an_id_is_ignored_not_an_error() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app.checkout_one(&buyer, &product(&app, "Nul").await).await;
    let bad_order = format!("{}\u{0}", id(&checkout["razorpayOrderId"]));
    let event = razorpay_payment_event("payment.captured", &bad_order, &razorpay_id("pay"), PRICE);
    let event_with_nul_payment = razorpay_payment_event(
        "payment.captured",
        id(&checkout["razorpayOrderId"]),
        "pay_\u{0}1",
        PRICE,
    );

    let first = razorpay.deliver(&app, &event, &razorpay_id("evt")).await;
    let second = razorpay
        .deliver(&app, &event_with_nul_payment, &razorpay_id("evt"))
        .await;
    for res in [first, second] {
        assert_eq!(expect_json(res, 200).await["status"], "ignored");
    }
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(ledger(&app).await, (0, 0));
}

#[tokio::test]
async fn a_buyer_has_at_most_the_allowed_number_of_unpaid_orders() {
    let (_razorpay, app) = razorpay_app(&[("ORDER_PENDING_LIMIT", "2")]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    for title in ["One", "Two"] {
        add_to_cart(&app, &buyer, &product(&app, title).await).await;
        expect_json(app.post("/api/v1/checkout", &buyer).await, 201).await;
    }
    add_to_cart(&app, &buyer, &product(&app, "Three").await).await;

    let third = app.post("/api/v1/checkout", &buyer).await;

    assert_error(third, 429, "too_many_pending_orders").await;
    let listed = expect_json(app.get("/api/v1/orders", &buyer).await, 200).await;
    assert_eq!(listed["meta"]["total"], 2);
}

#[tokio::test]
async fn the_checkout_callback_applies_only_what_the_gateway_reports_as_captured() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app
        .checkout_one(&buyer, &product(&app, "Verify").await)
        .await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    let verify = async |payment_id: &str| {
        app.post_json(
            "/api/v1/payments/verify",
            &json!({
                "razorpay_order_id": rzp_order,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": razorpay.checkout_signature(rzp_order, payment_id),
            }),
            &buyer,
        )
        .await
    };
    let (authorized, other_order, unknown, captured) = (
        razorpay_id("pay"),
        razorpay_id("pay"),
        razorpay_id("pay"),
        razorpay_id("pay"),
    );
    razorpay.report_payment(&authorized, rzp_order, PRICE, "authorized");
    razorpay.report_payment(&other_order, "order_ELSEWHERE12", PRICE, "captured");
    razorpay.report_payment(&captured, rzp_order, PRICE, "captured");

    assert_error(verify(&authorized).await, 409, "payment_not_captured").await;
    assert_error(verify(&other_order).await, 409, "payment_mismatch").await;
    assert_error(verify(&unknown).await, 502, "payment_gateway_rejected").await;
    assert_eq!(
        app.order(&checkout["orderId"], &buyer).await["status"],
        "PENDING_PAYMENT"
    );
    let paid = expect_json(verify(&captured).await, 200).await;

    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["paymentId"], captured.as_str());
    assert_eq!(ledger(&app).await, (PRICE, 0));
}

#[tokio::test]
async fn a_refund_reported_before_its_capture_applies_the_capture_then_the_refund() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app
        .checkout_one(&buyer, &product(&app, "Out of order").await)
        .await;
    let payment_id = razorpay_id("pay");
    let refund = refund_event(
        &payment_id,
        id(&checkout["razorpayOrderId"]),
        &razorpay_id("rfnd"),
        PRICE,
    );

    let first = razorpay.deliver(&app, &refund, &razorpay_id("evt")).await;
    let late_capture = deliver(
        &app,
        &razorpay,
        "payment.captured",
        &checkout,
        &payment_id,
        PRICE,
    )
    .await;

    assert_eq!(expect_json(first, 200).await["status"], "processed");
    assert_eq!(late_capture, "processed");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "REFUNDED", "{order}");
    assert_eq!(order["paymentId"], payment_id.as_str());
    let library = expect_json(app.get("/api/v1/me/library", &buyer).await, 200).await;
    assert_eq!(library["meta"]["total"], 0, "{library}");
    assert_eq!(ledger(&app).await, (PRICE, PRICE));
    assert_eq!(
        gateway_refunds(&razorpay).await,
        (0, 0),
        "refunded in the dashboard"
    );
}
