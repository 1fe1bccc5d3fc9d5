//! Cart, checkout, payments (Razorpay webhooks and checkout callbacks on a wiremock fake,
//! and the development gateway), invoices, the library, downloads and refunds; and the whole
//! way from a manager's upload to a buyer's download.

use futures_util::future::join_all;
use nexus_tests::{
    NO_TOKEN, RazorpayFake, Role, Signed, TestApp, assert_error, assert_keys, eventually,
    expect_empty, expect_json, header, note, razorpay_id, razorpay_payment_event, spawn_app,
    spawn_app_with, spawn_app_with_smtp,
};
use reqwest::Response;
use serde_json::{Value, json};

const ORDER_VIEW: [&str; 16] = [
    "id",
    "userId",
    "lines",
    "total",
    "status",
    "gateway",
    "gatewayOrderId",
    "paymentId",
    "refunded",
    "refunds",
    "invoiceNumber",
    "invoiceReady",
    "createdAt",
    "paidAt",
    "updatedAt",
    "version",
];

/// The bytes of the product file: not valid UTF-8, so a lossy copy would show.
const FILE: &[u8] = b"%PDF-1.4\n% a template \xe2\x82\xb9 \x00\x01\x02\xff\n%%EOF\n";

fn id(value: &Value) -> &str {
    value.as_str().expect("an id is a string")
}

fn order_path(order_id: &Value) -> String {
    format!("/api/v1/orders/{}", id(order_id))
}

/// A Razorpay fake and an app using it (worker as configured by `extra`).
async fn razorpay_app(extra: &[(&str, &str)]) -> (RazorpayFake, TestApp) {
    let razorpay = RazorpayFake::start().await;
    let app = spawn_app_with(&[razorpay.vars().as_slice(), extra].concat()).await;
    (razorpay, app)
}

/// A published product of a new manager, and a new customer: `(product, buyer)`.
async fn product_and_buyer(app: &TestApp, price_minor: i64) -> (Value, Signed) {
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Invoice template", price_minor, FILE)
        .await;
    (product, app.sign_in_as(Role::Customer).await)
}

/// A checked-out order of `buyer` for `product` and a capture event for it: `(checkout,
/// payment_id)`.
async fn pay_by_webhook(
    app: &TestApp,
    razorpay: &RazorpayFake,
    checkout: &Value,
    event_id: &str,
) -> (Response, String) {
    let payment_id = razorpay_id("pay");
    let event = razorpay_payment_event(
        "payment.captured",
        id(&checkout["razorpayOrderId"]),
        &payment_id,
        checkout["amount"].as_i64().expect("an amount"),
    );
    (razorpay.deliver(app, &event, event_id).await, payment_id)
}

/// A PAID order of a new buyer for a new 49900-paise product: `(order, buyer, product)`.
async fn paid_order(app: &TestApp, razorpay: &RazorpayFake) -> (Value, Signed, Value) {
    let (product, buyer) = product_and_buyer(app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let (res, _) = pay_by_webhook(app, razorpay, &checkout, &razorpay_id("evt")).await;
    assert_eq!(expect_json(res, 200).await["status"], "processed");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID", "{order}");
    (order, buyer, product)
}

async fn library_products(app: &TestApp, token: &Signed) -> Vec<Value> {
    let page = expect_json(app.get("/api/v1/me/library", token).await, 200).await;
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("the library is not a page: {page}"))
        .iter()
        .map(|entry| entry["productId"].clone())
        .collect()
}

async fn jobs_of_kind(app: &TestApp, kind: &str) -> Value {
    let admin = app.admin().await;
    app.jobs(&format!("?kind={kind}"), &admin).await
}

/// Checks `res` has `status`, prints the exchange, and returns the body.
async fn logged(request: &str, body: Option<&Value>, res: Response, status: u16) -> Value {
    let value = expect_json(res, status).await;
    let sent = body.map(|b| format!(" {b}")).unwrap_or_default();
    note(&format!("> {request}{sent}\n< {status} {value}\n"));
    value
}

#[tokio::test]
async fn a_manager_uploads_a_template_and_a_customer_finds_buys_pays_and_downloads_it() {
    let razorpay = RazorpayFake::start().await;
    let Some(app) = spawn_app_with_smtp(&razorpay.vars()).await else {
        return;
    };
    let manager = app.sign_in_as(Role::Manager).await;

    // 1. The manager creates the product, uploads its file and publishes it.
    let body = json!({
        "slug": "invoice-template",
        "title": "Invoice template",
        "description": "A clean invoice template for freelancers, with GST fields.",
        "priceMinor": 49_900,
        "category": "Templates",
        "tags": ["invoice", "business"],
    });
    let res = app.post_json("/api/v1/products", &body, &manager).await;
    let draft = logged("POST /api/v1/products (MANAGER)", Some(&body), res, 201).await;
    assert_eq!(draft["status"], "DRAFT");
    let product_path = format!("/api/v1/products/{}", id(&draft["id"]));
    let res = app
        .post_file(
            &format!("{product_path}/asset"),
            "file",
            "invoice-template.pdf",
            "application/pdf",
            FILE,
            &manager,
        )
        .await;
    let uploaded = logged(
        &format!(
            "POST {product_path}/asset (MANAGER, multipart field `file`: invoice-template.pdf, {} bytes)",
            FILE.len()
        ),
        None,
        res,
        200,
    )
    .await;
    assert_eq!(uploaded["asset"]["size"], FILE.len());
    let res = app.post(&format!("{product_path}/publish"), &manager).await;
    let published = logged(
        &format!("POST {product_path}/publish (MANAGER)"),
        None,
        res,
        200,
    )
    .await;
    assert_eq!(published["status"], "PUBLISHED");

    // 2. A customer registers and finds it, on PostgreSQL even with typos.
    let buyer = app.register_customer("Ada", "Lovelace").await;
    note(&format!(
        "> POST /api/v1/auth/register {{\"firstName\":\"Ada\",\"lastName\":\"Lovelace\",\"email\":\"{}\",...}}\n< 201\n",
        buyer.email
    ));
    let mut queries = vec!["invoice"];
    if app.on_postgres() {
        queries.push("invoce tempate");
    }
    for q in queries {
        let res = app.get(&format!("/api/v1/products?q={q}"), &buyer).await;
        let found = logged(&format!("GET /api/v1/products?q={q}"), None, res, 200).await;
        assert_eq!(found["meta"]["total"], 1, "q={q}: {found}");
        assert_eq!(found["data"][0]["id"], draft["id"], "q={q}");
        assert_eq!(
            found["data"][0]["asset"],
            Value::Null,
            "public view: {found}"
        );
    }

    // 3. Cart and checkout: the Razorpay order is created for the total.
    let body = json!({ "productId": draft["id"] });
    let res = app.post_json("/api/v1/cart/items", &body, &buyer).await;
    let cart = logged("POST /api/v1/cart/items", Some(&body), res, 200).await;
    assert_eq!(
        cart["total"],
        json!({ "amountMinor": 49_900, "currency": "INR" })
    );
    let res = app.post("/api/v1/checkout", &buyer).await;
    let checkout = logged("POST /api/v1/checkout", None, res, 201).await;
    assert_keys(
        &checkout,
        &[
            "orderId",
            "keyId",
            "razorpayOrderId",
            "amount",
            "currency",
            "gateway",
        ],
    );
    assert_eq!(checkout["gateway"], "razorpay");
    assert_eq!(checkout["keyId"], "rzp_test_x");
    assert_eq!(checkout["amount"], 49_900);
    assert_eq!(checkout["currency"], "INR");
    let created = razorpay.bodies("/v1/orders").await;
    note(&format!(
        "(Razorpay fake received POST /v1/orders {created:?})\n"
    ));
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["amount"], 49_900);
    assert_eq!(created[0]["receipt"], checkout["orderId"]);
    let rzp_order = id(&checkout["razorpayOrderId"]).to_owned();
    assert!(rzp_order.starts_with("order_"), "{rzp_order}");
    let path = order_path(&checkout["orderId"]);
    let pending = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(pending["status"], "PENDING_PAYMENT");
    assert_eq!(pending["gatewayOrderId"], rzp_order.as_str());

    // 4. Razorpay reports the capture.
    let payment_id = razorpay_id("pay");
    let event_id = razorpay_id("evt");
    let event = razorpay_payment_event("payment.captured", &rzp_order, &payment_id, 49_900);
    let res = razorpay.deliver(&app, &event, &event_id).await;
    logged(
        &format!(
            "POST /api/v1/webhooks/razorpay (X-Razorpay-Event-Id: {event_id}, X-Razorpay-Signature: <hex HMAC-SHA256>)"
        ),
        Some(&event),
        res,
        200,
    )
    .await;
    let res = app.get(&path, &buyer).await;
    let paid = logged(&format!("GET {path}"), None, res, 200).await;
    assert_keys(&paid, &ORDER_VIEW);
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["paymentId"], payment_id.as_str());
    assert!(paid["paidAt"].is_string(), "{paid}");
    let year = chrono::Utc::now().format("%Y");
    let number = paid["invoiceNumber"]
        .as_str()
        .expect("an invoice number")
        .to_owned();
    assert_eq!(number, format!("INV-{year}-000001"));

    // 5. The invoice PDF, once the worker made it.
    eventually("the invoice to be ready", async || {
        let order = app.order(&checkout["orderId"], &buyer).await;
        (order["invoiceReady"] == true).then_some(())
    })
    .await;
    let res = app.get(&format!("{path}/invoice"), &buyer).await;
    let location = header(&res, "location").expect("a Location header");
    let link = logged(&format!("GET {path}/invoice"), None, res, 303).await;
    assert_eq!(link["url"], location.as_str());
    let res = app.follow_link(&location).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type").as_deref(),
        Some("application/pdf")
    );
    let pdf = res.bytes().await.expect("the PDF");
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("the invoice is a readable PDF");
    let head: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(25)
        .collect();
    note(&format!(
        "> GET {location}\n< 200 application/pdf, {} bytes; its text begins:\n{}\n",
        pdf.len(),
        head.join("\n")
    ));
    for expected in [
        number.as_str(),
        "Ada Lovelace",
        "Invoice template",
        &payment_id,
    ] {
        assert!(
            text.contains(expected),
            "the invoice lacks {expected:?}:\n{text}"
        );
    }

    // 6. One confirmation e-mail besides the welcome.
    let mail = eventually("the order confirmation at the SMTP sink", async || {
        app.smtp()
            .messages()
            .into_iter()
            .find(|m| m.subject.to_lowercase().contains("order"))
    })
    .await;
    note(&format!(
        "--- the confirmation as received by the SMTP sink ---\nTo: {}\nSubject: {}\n\n{}\n--- end ---",
        mail.to, mail.subject, mail.text
    ));
    assert_eq!(mail.rcpt_tos, [buyer.email.as_str()]);
    let mails = app.smtp().wait_for_messages(2).await;
    let to_buyer: Vec<_> = mails
        .iter()
        .filter(|m| m.rcpt_tos == [buyer.email.as_str()])
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(to_buyer.len(), 2, "welcome and confirmation: {to_buyer:?}");
    assert_eq!(
        to_buyer
            .iter()
            .filter(|s| s.to_lowercase().contains("order"))
            .count(),
        1,
        "{to_buyer:?}"
    );

    // 7. The library, the download and the cart.
    let res = app.get("/api/v1/me/library", &buyer).await;
    let library = logged("GET /api/v1/me/library", None, res, 200).await;
    assert_eq!(library["meta"]["total"], 1, "{library}");
    assert_eq!(library["data"][0]["productId"], draft["id"]);
    assert_eq!(library["data"][0]["orderId"], checkout["orderId"]);
    let res = app.get(&format!("{product_path}/download"), &buyer).await;
    let download = logged(&format!("GET {product_path}/download"), None, res, 200).await;
    let url = id(&download["url"]);
    let res = app.follow_link(url).await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.expect("the file");
    note(&format!(
        "> GET {url}\n< 200, {} bytes, identical to the upload\n",
        bytes.len()
    ));
    assert_eq!(bytes.as_ref(), FILE);
    let res = app.get("/api/v1/cart", &buyer).await;
    let cart = logged("GET /api/v1/cart", None, res, 200).await;
    assert_eq!(cart["items"], json!([]), "{cart}");
}

#[tokio::test]
async fn a_webhook_with_a_bad_or_missing_signature_is_refused_and_changes_nothing() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let event = razorpay_payment_event(
        "payment.captured",
        id(&checkout["razorpayOrderId"]),
        &razorpay_id("pay"),
        49_900,
    )
    .to_string();
    let other_secret = RazorpayFake::start().await.sign_webhook(&event);
    let of_other_body = razorpay.sign_webhook(&format!("{event} "));

    let missing = app.post_webhook(&event, None, &razorpay_id("evt")).await;
    let garbage = app
        .post_webhook(&event, Some("not-hex"), &razorpay_id("evt"))
        .await;
    let wrong_key = app
        .post_webhook(&event, Some(&other_secret), &razorpay_id("evt"))
        .await;
    let wrong_body = app
        .post_webhook(&event, Some(&of_other_body), &razorpay_id("evt"))
        .await;

    for res in [missing, garbage, wrong_key, wrong_body] {
        assert_error(res, 400, "invalid_signature").await;
    }
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["invoiceNumber"], Value::Null);
    assert!(library_products(&app, &buyer).await.is_empty());
}

#[tokio::test]
async fn a_rejected_event_can_still_be_delivered_with_its_event_id_later() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let event = razorpay_payment_event(
        "payment.captured",
        id(&checkout["razorpayOrderId"]),
        &razorpay_id("pay"),
        49_900,
    );
    let event_id = razorpay_id("evt");

    let forged = app
        .post_webhook(&event.to_string(), Some(&"0".repeat(64)), &event_id)
        .await;
    let genuine = razorpay.deliver(&app, &event, &event_id).await;

    assert_error(forged, 400, "invalid_signature").await;
    assert_eq!(expect_json(genuine, 200).await["status"], "processed");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID");
}

#[tokio::test]
async fn ten_deliveries_of_one_event_pay_the_order_once() {
    let (razorpay, app) = razorpay_app(&[("WORKER_IN_SERVE", "false")]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let payment_id = razorpay_id("pay");
    let event = razorpay_payment_event(
        "payment.captured",
        id(&checkout["razorpayOrderId"]),
        &payment_id,
        49_900,
    );
    let event_id = razorpay_id("evt");

    let mut statuses = Vec::new();
    let mut versions = Vec::new();
    for _ in 0..10 {
        let res = razorpay.deliver(&app, &event, &event_id).await;
        statuses.push(expect_json(res, 200).await["status"].clone());
        versions.push(app.order(&checkout["orderId"], &buyer).await);
    }

    assert_eq!(statuses[0], "processed");
    assert!(
        statuses[1..].iter().all(|s| s == "duplicate"),
        "{statuses:?}"
    );
    let first = &versions[0];
    assert_eq!(first["status"], "PAID");
    for order in &versions[1..] {
        assert_eq!(order["invoiceNumber"], first["invoiceNumber"]);
        assert_eq!(order["version"], first["version"]);
        assert_eq!(order["paidAt"], first["paidAt"]);
    }
    assert_eq!(
        jobs_of_kind(&app, "send_order_confirmation").await["meta"]["total"],
        1
    );
    assert_eq!(
        jobs_of_kind(&app, "generate_invoice").await["meta"]["total"],
        1
    );
    assert_eq!(
        library_products(&app, &buyer).await,
        [product["id"].clone()]
    );
}

#[tokio::test]
async fn a_second_capture_under_a_new_event_id_changes_nothing_on_a_paid_order() {
    let (razorpay, app) = razorpay_app(&[("WORKER_IN_SERVE", "false")]).await;
    let (order, _buyer, _) = paid_order(&app, &razorpay).await;
    let event = razorpay_payment_event(
        "order.paid",
        id(&order["gatewayOrderId"]),
        id(&order["paymentId"]),
        49_900,
    );

    let res = razorpay.deliver(&app, &event, &razorpay_id("evt")).await;

    assert_eq!(expect_json(res, 200).await["status"], "processed");
    let admin = app.admin().await;
    let again = app.order(&order["id"], &admin).await;
    assert_eq!(again["version"], order["version"]);
    assert_eq!(again["invoiceNumber"], order["invoiceNumber"]);
    assert_eq!(
        jobs_of_kind(&app, "send_order_confirmation").await["meta"]["total"],
        1
    );
}

#[tokio::test]
async fn an_order_paid_event_pays_the_order_like_a_capture() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let payment_id = razorpay_id("pay");
    let event = razorpay_payment_event(
        "order.paid",
        id(&checkout["razorpayOrderId"]),
        &payment_id,
        49_900,
    );

    let res = razorpay.deliver(&app, &event, &razorpay_id("evt")).await;

    assert_eq!(expect_json(res, 200).await["status"], "processed");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["paymentId"], payment_id.as_str());
}

#[tokio::test]
async fn a_captured_amount_that_differs_from_the_order_total_is_refunded_and_leaves_it_unpaid() {
    let (razorpay, app) = razorpay_app(&[("WORKER_POLL_MS", "50")]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let order_id = id(&checkout["razorpayOrderId"]);

    let mut answers = Vec::new();
    for amount in [100, 49_899, 49_901] {
        let event =
            razorpay_payment_event("payment.captured", order_id, &razorpay_id("pay"), amount);
        let res = razorpay.deliver(&app, &event, &razorpay_id("evt")).await;
        answers.push(expect_json(res, 200).await);
    }

    assert!(
        answers.iter().all(|a| a["status"] == "processed"),
        "{answers:?}"
    );
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["paymentId"], Value::Null);
    assert_eq!(order["invoiceNumber"], Value::Null);
    assert!(library_products(&app, &buyer).await.is_empty());
    let refunds = eventually("the three payments to be refunded", async || {
        let made = razorpay.refunds_made();
        (made.len() == 3).then_some(made)
    })
    .await;
    let mut amounts: Vec<i64> = refunds
        .iter()
        .map(|r| r["amount"].as_i64().unwrap_or(0))
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, [100, 49_899, 49_901]);
}

#[tokio::test]
async fn a_failed_attempt_leaves_the_order_payable_and_a_retry_pays_it() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    let failed = razorpay_payment_event("payment.failed", rzp_order, &razorpay_id("pay"), 49_900);

    let res = razorpay.deliver(&app, &failed, &razorpay_id("evt")).await;

    assert_eq!(expect_json(res, 200).await["status"], "processed");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert!(library_products(&app, &buyer).await.is_empty());
    let (res, payment_id) = pay_by_webhook(&app, &razorpay, &checkout, &razorpay_id("evt")).await;
    assert_eq!(expect_json(res, 200).await["status"], "processed");
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["paymentId"], payment_id.as_str());
    assert_eq!(
        library_products(&app, &buyer).await,
        [product["id"].clone()]
    );
}

#[tokio::test]
async fn a_signed_event_that_cannot_be_used_is_acknowledged_as_ignored() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let body = r#"{"entity":"event","event":"payment.captured","payload":{}}"#;

    let no_payment = app
        .post_webhook(
            body,
            Some(&razorpay.sign_webhook(body)),
            &razorpay_id("evt"),
        )
        .await;
    let no_event_id = app
        .post_webhook(body, Some(&razorpay.sign_webhook(body)), "")
        .await;
    let mut odd_currency = razorpay_payment_event(
        "payment.captured",
        &razorpay_id("order"),
        &razorpay_id("pay"),
        100,
    );
    odd_currency["payload"]["payment"]["entity"]["currency"] = json!("₹");
    let unknown_currency = razorpay
        .deliver(&app, &odd_currency, &razorpay_id("evt"))
        .await;

    assert_eq!(expect_json(no_payment, 200).await["status"], "ignored");
    assert_eq!(expect_json(no_event_id, 200).await["status"], "ignored");
    assert_eq!(
        expect_json(unknown_currency, 200).await["status"],
        "ignored"
    );
}

#[tokio::test]
async fn another_users_order_invoice_and_download_look_missing() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (order, buyer, product) = paid_order(&app, &razorpay).await;
    eventually("the invoice to be ready", async || {
        (app.order(&order["id"], &buyer).await["invoiceReady"] == true).then_some(())
    })
    .await;
    let stranger = app.sign_in_as(Role::Customer).await;
    let path = order_path(&order["id"]);
    let download = format!("/api/v1/products/{}/download", id(&product["id"]));

    let order_res = app.get(&path, &stranger).await;
    let invoice_res = app.get(&format!("{path}/invoice"), &stranger).await;
    let download_res = app.get(&download, &stranger).await;
    let listed = expect_json(app.get("/api/v1/orders", &stranger).await, 200).await;
    let anonymous = app.get(&path, NO_TOKEN).await;

    assert_error(order_res, 404, "not_found").await;
    assert_error(invoice_res, 404, "not_found").await;
    assert_error(download_res, 404, "not_found").await;
    assert_eq!(listed["meta"]["total"], 0, "{listed}");
    assert_error(anonymous, 401, "unauthorized").await;
    assert_eq!(
        app.get(&format!("{path}/invoice"), &buyer).await.status(),
        303
    );
}

#[tokio::test]
async fn managers_list_every_order_and_customers_and_csos_only_their_own() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (first, first_buyer, _) = paid_order(&app, &razorpay).await;
    let (second, _, _) = paid_order(&app, &razorpay).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;

    let own = expect_json(app.get("/api/v1/orders", &first_buyer).await, 200).await;
    let all = expect_json(app.get("/api/v1/orders", &manager).await, 200).await;
    let cso_list = expect_json(app.get("/api/v1/orders", &cso).await, 200).await;
    let cso_read = app.get(&order_path(&first["id"]), &cso).await;
    let cso_invoice = app
        .get(&format!("{}/invoice", order_path(&first["id"])), &cso)
        .await;

    assert_eq!(
        cso_list["meta"]["total"], 0,
        "a CSO lists only their own: {cso_list}"
    );
    assert_error(cso_read, 404, "not_found").await;
    assert_error(cso_invoice, 404, "not_found").await;
    assert_eq!(own["meta"]["total"], 1);
    assert_eq!(own["data"][0]["id"], first["id"]);
    assert_eq!(all["meta"]["total"], 2);
    let ids: Vec<&Value> = all["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert!(
        ids.contains(&&first["id"]) && ids.contains(&&second["id"]),
        "{all}"
    );
}

#[tokio::test]
async fn the_invoice_is_not_ready_until_the_invoice_job_ran() {
    let (razorpay, app) = razorpay_app(&[("WORKER_IN_SERVE", "false")]).await;
    let (order, buyer, _) = paid_order(&app, &razorpay).await;

    let res = app
        .get(&format!("{}/invoice", order_path(&order["id"])), &buyer)
        .await;

    assert_eq!(order["invoiceReady"], false);
    assert!(order["invoiceNumber"].is_string(), "{order}");
    assert_error(res, 409, "invoice_not_ready").await;
}

#[tokio::test]
async fn a_tampered_download_link_is_not_found() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (_, buyer, product) = paid_order(&app, &razorpay).await;
    let res = app
        .get(
            &format!("/api/v1/products/{}/download", id(&product["id"])),
            &buyer,
        )
        .await;
    let link = expect_json(res, 200).await;
    let url = id(&link["url"]).to_owned();
    assert!(url.contains("/api/v1/files/"), "{url}");
    let flip = |c: char| if c == '0' { '1' } else { '0' };
    let sig_at = url.find("sig=").expect("a signed link") + 4;
    let mut forged_sig = url.clone();
    let c = forged_sig.chars().nth(sig_at).expect("a signature");
    forged_sig.replace_range(sig_at..=sig_at, &flip(c).to_string());
    let later = url.replace("expires=", "expires=1");
    let other_key = url.replacen("/api/v1/files/", "/api/v1/files/x", 1);

    for forged in [forged_sig, later, other_key] {
        let res = app.follow_link(&forged).await;
        assert_error(res, 404, "not_found").await;
    }
    let genuine = app.follow_link(&url).await;
    assert_eq!(genuine.status(), 200);
}

#[tokio::test]
async fn an_archived_unpublished_or_unknown_product_cannot_be_added_to_the_cart() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let archived = app
        .published_product(&manager, "Old deck", 9_900, FILE)
        .await;
    let archived_res = app
        .post(
            &format!("/api/v1/products/{}/archive", id(&archived["id"])),
            &manager,
        )
        .await;
    expect_json(archived_res, 200).await;
    let draft = app
        .create_product(&manager, &nexus_tests::product_body("Draft deck", 9_900))
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;

    let mut answers = Vec::new();
    for product_id in [
        archived["id"].clone(),
        draft["id"].clone(),
        json!(uuid::Uuid::new_v4()),
    ] {
        answers.push(
            app.post_json(
                "/api/v1/cart/items",
                &json!({ "productId": product_id }),
                &buyer,
            )
            .await,
        );
    }

    for res in answers {
        assert_error(res, 409, "product_unavailable").await;
    }
    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    assert_eq!(cart["items"], json!([]));
    assert_eq!(cart["total"]["amountMinor"], 0);
}

#[tokio::test]
async fn a_product_archived_after_it_was_put_in_the_cart_is_flagged_and_blocks_checkout() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Pitch deck", 9_900, FILE)
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let added = app
        .post_json(
            "/api/v1/cart/items",
            &json!({ "productId": product["id"] }),
            &buyer,
        )
        .await;
    expect_json(added, 200).await;
    let archived = app
        .post(
            &format!("/api/v1/products/{}/archive", id(&product["id"])),
            &manager,
        )
        .await;
    expect_json(archived, 200).await;

    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    let checkout = app.post("/api/v1/checkout", &buyer).await;

    assert_keys(
        &cart["items"][0],
        &["productId", "title", "price", "available", "issue"],
    );
    assert_eq!(cart["items"][0]["available"], false, "{cart}");
    assert!(cart["items"][0]["issue"].is_string(), "{cart}");
    let body = assert_error(checkout, 409, "cart_not_purchasable").await;
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&id(&product["id"]).to_string()),
        "the message names the blocking product: {body}"
    );
}

#[tokio::test]
async fn an_owned_product_cannot_be_added_to_the_cart_again() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Pitch deck", 9_900, FILE)
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let paid = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": checkout["orderId"] }),
            &buyer,
        )
        .await;
    expect_json(paid, 200).await;

    let res = app
        .post_json(
            "/api/v1/cart/items",
            &json!({ "productId": product["id"] }),
            &buyer,
        )
        .await;

    assert_error(res, 409, "already_owned").await;
}

#[tokio::test]
async fn items_can_be_removed_from_the_cart_and_the_cart_emptied() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let one = app
        .published_product(&manager, "Deck one", 10_000, FILE)
        .await;
    let two = app
        .published_product(&manager, "Deck two", 2_500, FILE)
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;
    for product in [&one, &two] {
        let res = app
            .post_json(
                "/api/v1/cart/items",
                &json!({ "productId": product["id"] }),
                &buyer,
            )
            .await;
        expect_json(res, 200).await;
    }
    let both = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;

    let res = app
        .delete(&format!("/api/v1/cart/items/{}", id(&one["id"])), &buyer)
        .await;
    let without_one = expect_json(res, 200).await;
    expect_empty(app.delete("/api/v1/cart", &buyer).await, 204).await;
    let emptied = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    let checkout = app.post("/api/v1/checkout", &buyer).await;

    assert_eq!(
        both["total"],
        json!({ "amountMinor": 12_500, "currency": "INR" })
    );
    assert_eq!(without_one["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(without_one["items"][0]["productId"], two["id"]);
    assert_eq!(without_one["total"]["amountMinor"], 2_500);
    assert_eq!(emptied["items"], json!([]));
    assert_error(checkout, 409, "cart_empty").await;
}

#[tokio::test]
async fn a_checkout_callback_with_the_right_signature_pays_the_order() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    let payment_id = razorpay_id("pay");
    razorpay.report_payment(&payment_id, rzp_order, 49_900, "captured");
    let body = json!({
        "razorpay_order_id": rzp_order,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": razorpay.checkout_signature(rzp_order, &payment_id),
    });

    let res = app
        .post_json("/api/v1/payments/verify", &body, &buyer)
        .await;

    let order = expect_json(res, 200).await;
    assert_keys(&order, &ORDER_VIEW);
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["paymentId"], payment_id.as_str());
    assert!(order["invoiceNumber"].is_string(), "{order}");
    assert_eq!(
        library_products(&app, &buyer).await,
        [product["id"].clone()]
    );
}

#[tokio::test]
async fn a_checkout_callback_with_a_wrong_signature_is_refused_and_changes_nothing() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    let payment_id = razorpay_id("pay");
    let signed_for_other_payment = razorpay.checkout_signature(rzp_order, &razorpay_id("pay"));
    let signed_with_webhook_secret = razorpay.sign_webhook(&format!("{rzp_order}|{payment_id}"));

    let mut answers = Vec::new();
    for signature in [
        signed_for_other_payment,
        signed_with_webhook_secret,
        "abc".to_owned(),
    ] {
        let body = json!({
            "razorpay_order_id": rzp_order,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": signature,
        });
        answers.push(
            app.post_json("/api/v1/payments/verify", &body, &buyer)
                .await,
        );
    }

    for res in answers {
        assert_error(res, 400, "invalid_signature").await;
    }
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["paymentId"], Value::Null);
    assert!(library_products(&app, &buyer).await.is_empty());
}

#[tokio::test]
async fn a_correctly_signed_callback_for_another_users_order_is_not_found() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let rzp_order = id(&checkout["razorpayOrderId"]);
    let payment_id = razorpay_id("pay");
    let stranger = app.sign_in_as(Role::Customer).await;
    let body = json!({
        "razorpay_order_id": rzp_order,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": razorpay.checkout_signature(rzp_order, &payment_id),
    });

    let res = app
        .post_json("/api/v1/payments/verify", &body, &stranger)
        .await;

    assert_error(res, 404, "not_found").await;
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
}

async fn refund(app: &TestApp, order: &Value, body: &Value, token: &Signed) -> Response {
    app.post_json(&format!("{}/refund", order_path(&order["id"])), body, token)
        .await
}

#[tokio::test]
async fn an_admin_refunds_part_then_the_rest_and_the_product_leaves_the_library() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (order, buyer, product) = paid_order(&app, &razorpay).await;
    let admin = app.admin().await;
    let payment_id = id(&order["paymentId"]).to_owned();

    let res = refund(
        &app,
        &order,
        &json!({ "amountMinor": 10_000, "reason": "goodwill" }),
        &admin,
    )
    .await;
    let partial = expect_json(res, 200).await;
    let library_after_partial = library_products(&app, &buyer).await;
    let res = refund(&app, &order, &json!({ "reason": "customer asked" }), &admin).await;
    let full = expect_json(res, 200).await;

    assert_eq!(partial["status"], "PARTIALLY_REFUNDED");
    assert_eq!(
        partial["refunded"],
        json!({ "amountMinor": 10_000, "currency": "INR" })
    );
    assert_eq!(library_after_partial, [product["id"].clone()]);
    assert_eq!(full["status"], "REFUNDED");
    assert_eq!(full["refunded"]["amountMinor"], 49_900);
    assert!(library_products(&app, &buyer).await.is_empty());
    let download = app
        .get(
            &format!("/api/v1/products/{}/download", id(&product["id"])),
            &buyer,
        )
        .await;
    assert_error(download, 404, "not_found").await;
    let asked = razorpay
        .bodies(&format!("/v1/payments/{payment_id}/refund"))
        .await;
    let amounts: Vec<&Value> = asked.iter().map(|b| &b["amount"]).collect();
    assert_eq!(amounts, [&json!(10_000), &json!(39_900)]);
}

#[tokio::test]
async fn refunding_more_than_is_left_is_refund_too_large_and_changes_nothing() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (order, _, _) = paid_order(&app, &razorpay).await;
    let admin = app.admin().await;
    let partial = refund(
        &app,
        &order,
        &json!({ "amountMinor": 40_000, "reason": "goodwill" }),
        &admin,
    )
    .await;
    expect_json(partial, 200).await;

    let res = refund(
        &app,
        &order,
        &json!({ "amountMinor": 9_901, "reason": "again" }),
        &admin,
    )
    .await;

    assert_error(res, 422, "refund_too_large").await;
    let after = app.order(&order["id"], &admin).await;
    assert_eq!(after["status"], "PARTIALLY_REFUNDED");
    assert_eq!(after["refunded"]["amountMinor"], 40_000);
    assert_eq!(
        razorpay
            .bodies(&format!("/v1/payments/{}/refund", id(&order["paymentId"])))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn only_an_admin_may_refund() {
    let (razorpay, app) = razorpay_app(&[]).await;
    let (order, buyer, _) = paid_order(&app, &razorpay).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let body = json!({ "reason": "please" });

    let by_manager = refund(&app, &order, &body, &manager).await;
    let by_buyer = refund(&app, &order, &body, &buyer).await;

    assert_error(by_manager, 403, "forbidden").await;
    assert_error(by_buyer, 403, "forbidden").await;
    assert_eq!(app.order(&order["id"], &buyer).await["status"], "PAID");
}

#[tokio::test]
async fn refunding_an_unpaid_order_is_not_refundable() {
    let (_razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let admin = app.admin().await;

    let res = app
        .post_json(
            &format!("{}/refund", order_path(&checkout["orderId"])),
            &json!({ "reason": "never paid" }),
            &admin,
        )
        .await;

    assert_error(res, 409, "not_refundable").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_get_consecutive_invoice_numbers_without_gaps() {
    let (razorpay, app) = razorpay_app(&[("WORKER_IN_SERVE", "false")]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Invoice template", 49_900, FILE)
        .await;
    let mut checkouts = Vec::new();
    for _ in 0..8 {
        let buyer = app.sign_in_as(Role::Customer).await;
        let checkout = app.checkout_one(&buyer, &product).await;
        checkouts.push(checkout);
    }

    let answers = join_all(checkouts.iter().map(|checkout| async {
        let (res, _) = pay_by_webhook(&app, &razorpay, checkout, &razorpay_id("evt")).await;
        expect_json(res, 200).await
    }))
    .await;

    assert!(
        answers.iter().all(|a| a["status"] == "processed"),
        "{answers:?}"
    );
    let admin = app.admin().await;
    let mut numbers = Vec::new();
    for checkout in &checkouts {
        let order = app.order(&checkout["orderId"], &admin).await;
        assert_eq!(order["status"], "PAID", "{order}");
        numbers.push(
            order["invoiceNumber"]
                .as_str()
                .expect("a number")
                .to_owned(),
        );
    }
    numbers.sort();
    let year = chrono::Utc::now().format("%Y");
    let expected: Vec<String> = (1..=8).map(|n| format!("INV-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn without_razorpay_the_development_gateway_pays_an_order_locally() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Pitch deck", 9_900, FILE)
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;

    let checkout = app.checkout_one(&buyer, &product).await;
    let body = json!({ "orderId": checkout["orderId"] });
    let by_stranger = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &body,
            &app.sign_in_as(Role::Customer).await,
        )
        .await;
    let res = app
        .post_json("/api/v1/payments/dev/complete", &body, &buyer)
        .await;

    assert_eq!(checkout["gateway"], "development");
    assert_eq!(checkout["amount"], 9_900);
    assert_error(by_stranger, 404, "not_found").await;
    let order = expect_json(res, 200).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["gateway"], "development");
    assert!(order["paymentId"].is_string(), "{order}");
    assert_eq!(
        library_products(&app, &buyer).await,
        [product["id"].clone()]
    );
}

#[tokio::test]
async fn with_razorpay_configured_the_development_completion_is_refused() {
    let (_razorpay, app) = razorpay_app(&[]).await;
    let (product, buyer) = product_and_buyer(&app, 49_900).await;
    let checkout = app.checkout_one(&buyer, &product).await;

    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": checkout["orderId"] }),
            &buyer,
        )
        .await;

    assert_error(res, 409, "dev_gateway_only").await;
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn checking_out_an_empty_cart_is_cart_empty() {
    let app = spawn_app().await;
    let buyer = app.sign_in_as(Role::Customer).await;

    let res = app.post("/api/v1/checkout", &buyer).await;

    assert_error(res, 409, "cart_empty").await;
}

#[tokio::test]
async fn cart_and_checkout_need_a_signed_in_user() {
    let app = spawn_app().await;

    let cart = app.get("/api/v1/cart", NO_TOKEN).await;
    let checkout = app.post("/api/v1/checkout", NO_TOKEN).await;
    let library = app.get("/api/v1/me/library", NO_TOKEN).await;

    assert_error(cart, 401, "unauthorized").await;
    assert_error(checkout, 401, "unauthorized").await;
    assert_error(library, 401, "unauthorized").await;
}
