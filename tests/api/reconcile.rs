//! Payment reconciliation: an order whose webhook (and browser callback) never came is asked
//! about at the wiremock Razorpay fake `PAYMENT_RECONCILE_AFTER_SECS` after checkout, and a
//! captured payment is applied through the webhook's path, exactly once, whatever else
//! reports it and whenever.

use std::time::Duration;

use futures_util::future::join_all;
use nexus_tests::{
    RazorpayFake, Role, Signed, TestApp, eventually, expect_json, razorpay_id,
    razorpay_payment_event, spawn_app_with, spawn_app_with_smtp,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PRICE: i64 = 49_900;
const FILE: &[u8] = b"%PDF-1.4\n% a reconciled file\n%%EOF\n";

/// The reconciliation runs one second after checkout; the expiry stays an hour away.
const RECONCILE_SOON: (&str, &str) = ("PAYMENT_RECONCILE_AFTER_SECS", "1");

fn id(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
}

/// The app on the fake with the real SMTP sink, a fast worker and quick retries (`None` when
/// the sink cannot run outside CI).
async fn app_with_mail(extra: &[(&str, &str)]) -> Option<(RazorpayFake, TestApp)> {
    let razorpay = RazorpayFake::start().await;
    let settings = [razorpay.vars().as_slice(), &[RECONCILE_SOON], extra].concat();
    let app = spawn_app_with_smtp(&settings).await?;
    Some((razorpay, app))
}

/// The app on the fake, without mail, with a fast worker and quick retries.
async fn app(extra: &[(&str, &str)]) -> (RazorpayFake, TestApp) {
    let razorpay = RazorpayFake::start().await;
    let settings = [
        razorpay.vars().as_slice(),
        &[
            RECONCILE_SOON,
            ("WORKER_POLL_MS", "50"),
            ("JOB_BACKOFF_BASE_SECS", "1"),
            ("JOB_BACKOFF_MAX_SECS", "2"),
        ],
        extra,
    ]
    .concat();
    let app = spawn_app_with(&settings).await;
    (razorpay, app)
}

/// A new buyer's checkout of a new product: `(buyer, checkout)`.
async fn checkout(app: &TestApp, title: &str) -> (Signed, Value) {
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app.published_product(&manager, title, PRICE, FILE).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    (buyer, checkout)
}

/// The jobs of `kind` (deliveries to that subscriber), newest first.
async fn jobs(app: &TestApp, kind: &str) -> Vec<Value> {
    let admin = app.admin().await;
    let page = app.jobs(&format!("?kind={kind}&limit=100"), &admin).await;
    page["data"].as_array().cloned().unwrap_or_default()
}

/// Waits until the one `reconcile_payment` job is DONE and returns it.
async fn reconciled(app: &TestApp) -> Value {
    eventually("the reconcile_payment job to be DONE", async || {
        let jobs = jobs(app, "reconcile_payment").await;
        assert!(jobs.len() <= 1, "one reconciliation per order: {jobs:?}");
        jobs.into_iter().find(|j| j["state"] == "DONE")
    })
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.db().await;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("a count")
}

/// Orders holding an invoice number.
async fn invoices(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) AS n FROM orders WHERE invoice_number IS NOT NULL",
    )
    .await
}

/// Payments recorded as unapplied (to be refunded).
async fn unapplied(app: &TestApp) -> i64 {
    count(app, "SELECT COUNT(*) AS n FROM unapplied_payments").await
}

/// The order confirmations the buyer received at the SMTP sink.
fn confirmations(app: &TestApp, buyer: &Signed) -> usize {
    app.smtp()
        .messages()
        .iter()
        .filter(|m| m.rcpt_tos == [buyer.email.as_str()])
        .filter(|m| m.subject.to_lowercase().contains("order"))
        .count()
}

/// Waits until every confirmation job is DONE, so that a mail it would send has been sent.
async fn confirmations_sent(app: &TestApp) -> usize {
    eventually("the confirmation jobs to be DONE", async || {
        let jobs = jobs(app, "send_order_confirmation").await;
        jobs.iter()
            .all(|j| j["state"] == "DONE")
            .then_some(jobs.len())
    })
    .await
}

async fn library_size(app: &TestApp, buyer: &Signed) -> Value {
    let library = expect_json(app.get("/api/v1/me/library", buyer).await, 200).await;
    library["meta"]["total"].clone()
}

async fn deliver_capture(
    app: &TestApp,
    razorpay: &RazorpayFake,
    rzp_order: &str,
    payment_id: &str,
) -> Value {
    let body = razorpay_payment_event("payment.captured", rzp_order, payment_id, PRICE);
    let res = razorpay.deliver(app, &body, &razorpay_id("evt")).await;
    expect_json(res, 200).await["status"].clone()
}

#[tokio::test]
async fn a_payment_whose_webhook_never_came_is_applied_once_and_a_late_webhook_changes_nothing() {
    let Some((razorpay, app)) = app_with_mail(&[]).await else {
        return;
    };
    let (buyer, checkout) = checkout(&app, "Reconciled").await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    let payment_id = razorpay_id("pay");
    // Razorpay took the money; neither the webhook nor the browser's callback arrives.
    razorpay.report_payment(&payment_id, rzp_order, PRICE, "captured");

    let paid = eventually("the order to be paid by reconciliation", async || {
        let order = app.order(&checkout["orderId"], &buyer).await;
        (order["status"] == "PAID").then_some(order)
    })
    .await;
    let job = reconciled(&app).await;

    assert_eq!(paid["paymentId"], payment_id.as_str(), "{paid}");
    assert!(paid["invoiceNumber"].is_string(), "{paid}");
    assert_eq!(job["attempts"], 1, "{job}");
    assert_eq!(razorpay.order_payment_listings(), 1);
    assert_eq!(library_size(&app, &buyer).await, 1);
    assert_eq!(invoices(&app).await, 1);
    assert_eq!(confirmations_sent(&app).await, 1);
    eventually("the confirmation at the SMTP sink", async || {
        (confirmations(&app, &buyer) == 1).then_some(())
    })
    .await;

    // (b) The webhook arrives after all, twice: acknowledged, and nothing more happens.
    for _ in 0..2 {
        let status = deliver_capture(&app, &razorpay, rzp_order, &payment_id).await;
        assert_eq!(status, "processed");
    }
    // A payment applied again would have queued its mail in the webhook's own transaction.
    assert_eq!(jobs(&app, "send_order_confirmation").await.len(), 1);
    assert_eq!(jobs(&app, "generate_invoice").await.len(), 1);
    assert_eq!(confirmations_sent(&app).await, 1);
    assert_eq!(confirmations(&app, &buyer), 1);
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["invoiceNumber"], paid["invoiceNumber"]);
    assert_eq!(order["version"], paid["version"], "{order}");
    assert_eq!(invoices(&app).await, 1);
    assert_eq!(unapplied(&app).await, 0);
    assert!(razorpay.refunds_made().is_empty());
}

#[tokio::test]
async fn reconciliation_and_the_webhook_at_the_same_time_have_one_effect() {
    let Some((razorpay, app)) = app_with_mail(&[]).await else {
        return;
    };
    let (buyer, checkout) = checkout(&app, "Raced").await;
    let rzp_order = id(&checkout["razorpayOrderId"]).to_owned();
    let payment_id = razorpay_id("pay");
    razorpay.report_payment(&payment_id, &rzp_order, PRICE, "captured");
    // Razorpay lists the captured payment at once but its answer takes two seconds: the
    // webhook (twice) and the buyer's callback land while the reconciliation waits for it.
    razorpay.answer_next_order_payment_listing_late(Duration::from_secs(2));

    eventually("the reconciliation to ask Razorpay", async || {
        (razorpay.order_payment_listings() == 1).then_some(())
    })
    .await;
    let callback_body = json!({
        "razorpay_order_id": rzp_order,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": razorpay.checkout_signature(&rzp_order, &payment_id),
    });
    let webhooks =
        join_all((0..2).map(|_| deliver_capture(&app, &razorpay, &rzp_order, &payment_id)));
    let callback = app.post_json("/api/v1/payments/verify", &callback_body, &buyer);
    let (webhooks, callback) = tokio::join!(webhooks, callback);
    let job = reconciled(&app).await;

    assert!(webhooks.iter().all(|s| *s == "processed"), "{webhooks:?}");
    let confirmed = expect_json(callback, 200).await;
    assert_eq!(confirmed["status"], "PAID", "{confirmed}");
    assert_eq!(job["attempts"], 1, "{job}");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["paymentId"], payment_id.as_str());
    assert_eq!(invoices(&app).await, 1);
    assert_eq!(
        unapplied(&app).await,
        0,
        "the paying payment is never refunded"
    );
    assert!(razorpay.refunds_made().is_empty());
    assert_eq!(library_size(&app, &buyer).await, 1);
    assert_eq!(jobs(&app, "generate_invoice").await.len(), 1);
    assert_eq!(confirmations_sent(&app).await, 1);
    eventually("the confirmation at the SMTP sink", async || {
        (confirmations(&app, &buyer) == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn nothing_captured_leaves_the_order_pending_until_it_expires_as_before() {
    let (razorpay, app) = app(&[]).await;
    let (buyer, checkout) = checkout(&app, "Unpaid").await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    // A declined attempt only.
    razorpay.report_payment(&razorpay_id("pay"), rzp_order, PRICE, "failed");

    reconciled(&app).await;
    let pending = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(pending["status"], "PENDING_PAYMENT", "{pending}");
    assert_eq!(razorpay.order_payment_listings(), 1);
    assert_eq!(invoices(&app).await, 0);
    assert_eq!(library_size(&app, &buyer).await, 0);

    // The expiry falls due (an hour later: brought forward here), asks Razorpay once more
    // and, still nothing captured, expires the order.
    let db = app.db().await;
    let due = db
        .execute_raw(Statement::from_string(
            db.get_database_backend(),
            "UPDATE event_deliveries SET run_at = created_at \
             WHERE subscriber = 'expire_order' AND state = 'PENDING'",
        ))
        .await
        .expect("bring the expiry forward");
    assert_eq!(due.rows_affected(), 1);
    let expired = eventually("the order to expire", async || {
        let order = app.order(&checkout["orderId"], &buyer).await;
        (order["status"] == "EXPIRED").then_some(order)
    })
    .await;

    assert_eq!(expired["paymentId"], Value::Null);
    assert_eq!(razorpay.order_payment_listings(), 2);
    assert_eq!(unapplied(&app).await, 0);
    assert!(razorpay.refunds_made().is_empty());
}

#[tokio::test]
async fn an_order_paid_at_razorpay_is_paid_not_expired_when_the_expiry_comes_first() {
    // The reconciliation is far off; the expiry comes first and asks Razorpay itself.
    let (razorpay, app) = app(&[("PAYMENT_RECONCILE_AFTER_SECS", "3000")]).await;
    let (buyer, checkout) = checkout(&app, "Saved").await;
    let payment_id = razorpay_id("pay");
    razorpay.report_payment(
        &payment_id,
        id(&checkout["razorpayOrderId"]),
        PRICE,
        "captured",
    );

    let db = app.db().await;
    let due = db
        .execute_raw(Statement::from_string(
            db.get_database_backend(),
            "UPDATE event_deliveries SET run_at = created_at \
             WHERE subscriber = 'expire_order' AND state = 'PENDING'",
        ))
        .await
        .expect("bring the expiry forward");
    assert_eq!(due.rows_affected(), 1);
    let paid = eventually(
        "the order to be paid by the expiry's question",
        async || {
            let order = app.order(&checkout["orderId"], &buyer).await;
            (order["status"] != "PENDING_PAYMENT").then_some(order)
        },
    )
    .await;

    assert_eq!(paid["status"], "PAID", "{paid}");
    assert_eq!(paid["paymentId"], payment_id.as_str());
    assert_eq!(invoices(&app).await, 1);
    assert_eq!(unapplied(&app).await, 0);
    assert_eq!(library_size(&app, &buyer).await, 1);
}

#[tokio::test]
async fn a_razorpay_error_is_retried_and_the_payment_applied_later() {
    let (razorpay, app) = app(&[]).await;
    let (buyer, checkout) = checkout(&app, "Retried").await;
    let payment_id = razorpay_id("pay");
    razorpay.report_payment(
        &payment_id,
        id(&checkout["razorpayOrderId"]),
        PRICE,
        "captured",
    );
    razorpay.fail_next_order_payment_listings(2);

    let job = reconciled(&app).await;
    let order = app.order(&checkout["orderId"], &buyer).await;

    assert_eq!(job["attempts"], 3, "two 500s, then the answer: {job}");
    assert_eq!(razorpay.order_payment_listings(), 3);
    assert_eq!(order["status"], "PAID", "{order}");
    assert_eq!(order["paymentId"], payment_id.as_str());
    assert_eq!(invoices(&app).await, 1);
    assert_eq!(library_size(&app, &buyer).await, 1);
    assert_eq!(unapplied(&app).await, 0);
}

#[tokio::test]
async fn a_captured_amount_that_does_not_match_is_refunded_like_a_webhooks() {
    let (razorpay, app) = app(&[]).await;
    let (buyer, checkout) = checkout(&app, "Short").await;
    let payment_id = razorpay_id("pay");
    let short = PRICE - 100;
    razorpay.report_payment(
        &payment_id,
        id(&checkout["razorpayOrderId"]),
        short,
        "captured",
    );

    reconciled(&app).await;
    let refund = eventually("the refund at Razorpay", async || {
        razorpay.refunds_made().first().cloned()
    })
    .await;
    eventually("the refund to be recorded", async || {
        let refunded = count(
            &app,
            "SELECT COUNT(*) AS n FROM unapplied_payments WHERE refund_id IS NOT NULL",
        )
        .await;
        (refunded == 1).then_some(())
    })
    .await;

    assert_eq!(refund["payment_id"], payment_id.as_str());
    assert_eq!(refund["amount"], short);
    assert!(id(&refund["receipt"]).starts_with("up_"), "{refund}");
    assert_eq!(razorpay.refunds_made().len(), 1);
    assert_eq!(unapplied(&app).await, 1);
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT", "{order}");
    assert_eq!(invoices(&app).await, 0);
    assert_eq!(library_size(&app, &buyer).await, 0);
    // The webhook for the same payment, late, refunds nothing more.
    let body = razorpay_payment_event(
        "payment.captured",
        id(&checkout["razorpayOrderId"]),
        &payment_id,
        short,
    );
    let res = razorpay.deliver(&app, &body, &razorpay_id("evt")).await;
    assert_eq!(expect_json(res, 200).await["status"], "processed");
    assert_eq!(unapplied(&app).await, 1);
    assert_eq!(jobs(&app, "refund_unapplied_payment").await.len(), 1);
}
