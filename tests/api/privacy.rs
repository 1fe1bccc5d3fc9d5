//! "My data": the export of everything about the caller and the erasure of their account
//! (orders and invoices kept, everything personal anonymised, subscribers run).

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, customer_body, eventually, expect_empty,
    expect_json, header, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};

const EXPORT: &str = "/api/v1/users/me/export";
const ERASE: &str = "/api/v1/users/me/erase";

/// A product published by `manager`, bought and paid by `buyer`; returns the paid order
/// (as `buyer` sees it) once its invoice is rendered.
async fn paid_order(
    app: &TestApp,
    manager: &Signed,
    buyer: &Signed,
    title: &str,
) -> (Value, Value) {
    let product = app
        .published_product(manager, title, 4_900, b"%PDF-1.4 privacy")
        .await;
    let session = app.checkout_one(buyer, &product).await;
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": session["orderId"] }),
            buyer,
        )
        .await;
    expect_json(res, 200).await;
    let order = eventually("the invoice to be ready", async || {
        let order = app.order(&session["orderId"], buyer).await;
        (order["invoiceReady"] == true).then_some(order)
    })
    .await;
    (product, order)
}

async fn review(app: &TestApp, product: &Value, who: &Signed, body: &str) {
    let id = product["id"].as_str().expect("a product id");
    let res = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/products/{id}/review"),
            who,
        )
        .json(&json!({ "rating": 5, "title": "Five stars", "body": body }))
        .send()
        .await
        .expect("the request reaches the app");
    expect_json(res, 201).await;
}

async fn enquire(app: &TestApp, from: &Signed, subject: &str) {
    let res = app
        .post_json(
            "/api/v1/enquiries",
            &json!({
                "name": "Cara Buyer",
                "email": from.email,
                "subject": subject,
                "message": "Is there a bulk licence?",
            }),
            NO_TOKEN,
        )
        .await;
    expect_json(res, 201).await;
}

async fn export(app: &TestApp, who: &Signed) -> (Option<String>, Value) {
    let res = app.get(EXPORT, who).await;
    let disposition = header(&res, "content-disposition");
    (disposition, expect_json(res, 200).await)
}

fn strings(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i[key].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_export_holds_my_orders_invoices_reviews_and_enquiries_and_no_secret() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.register_customer("Cara", "Buyer").await;
    let stranger = app.register_customer("Otto", "Outsider").await;
    app.verify_email(&buyer).await;
    let (product, order) = paid_order(&app, &manager, &buyer, "Export guide").await;
    let (other_product, other_order) = paid_order(&app, &manager, &stranger, "Other guide").await;
    review(&app, &product, &buyer, "Clear and useful").await;
    review(&app, &other_product, &stranger, "Otto's private opinion").await;
    expect_json(
        app.post_json(
            "/api/v1/feedback",
            &json!({ "message": "Lovely shop, says Cara" }),
            &buyer,
        )
        .await,
        202,
    )
    .await;
    enquire(&app, &buyer, "Cara asks about licences").await;
    enquire(&app, &stranger, "Otto asks something else").await;

    let (disposition, doc) = export(&app, &buyer).await;

    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        disposition.as_deref(),
        Some(format!("attachment; filename=\"nexus-export-{date}.json\"").as_str())
    );
    assert_eq!(doc["format"], "nexus-export/1");
    assert_eq!(doc["profile"]["email"], buyer.email.as_str());
    assert_eq!(doc["profile"]["firstName"], "Cara");
    assert_eq!(doc["hasPassword"], true);
    assert_eq!(doc["truncated"], false);
    assert_eq!(
        strings(&doc["orders"], "id"),
        [order["id"].as_str().expect("an id")]
    );
    let line = &doc["orders"][0]["lines"][0];
    assert_eq!(line["title"], "Export guide", "{doc}");
    assert_eq!(doc["payments"][0]["paymentId"], order["paymentId"]);
    assert_eq!(doc["payments"][0]["amount"]["amountMinor"], 4_900);
    let invoice = &doc["invoices"][0];
    assert_eq!(invoice["number"], order["invoiceNumber"]);
    assert_eq!(invoice["amount"]["amountMinor"], 4_900);
    let download = invoice["downloadPath"].as_str().expect("a download path");
    assert_eq!(
        download,
        format!(
            "/api/v1/orders/{}/invoice",
            order["id"].as_str().expect("an id")
        )
    );
    assert_eq!(app.get(download, &buyer).await.status(), 303);
    assert_eq!(
        strings(&doc["library"], "productId"),
        [product["id"].as_str().expect("an id")]
    );
    let kinds = strings(&doc["feedback"], "kind");
    assert!(
        kinds.contains(&"REVIEW".to_owned()) && kinds.contains(&"SITE".to_owned()),
        "{doc}"
    );
    assert!(strings(&doc["feedback"], "text").contains(&"Clear and useful".to_owned()));
    assert_eq!(
        strings(&doc["enquiries"], "subject"),
        ["Cara asks about licences"]
    );
    // Nothing secret, nothing of anyone else.
    let text = doc.to_string();
    for secret in [
        buyer.password.as_str(),
        buyer.token.as_str(),
        buyer.refresh_token.as_str(),
        "$2",
        "passwordHash",
    ] {
        assert!(!text.contains(secret), "{secret:?} in the export: {text}");
    }
    for foreign in [
        stranger.email.as_str(),
        other_order["id"].as_str().expect("an id"),
        other_order["invoiceNumber"].as_str().expect("an id"),
        "Otto's private opinion",
        "Otto asks something else",
    ] {
        assert!(
            !text.contains(foreign),
            "{foreign:?} in Cara's export: {text}"
        );
    }

    // The stranger's own export holds theirs and not Cara's.
    let (_, theirs) = export(&app, &stranger).await;
    assert_eq!(
        strings(&theirs["orders"], "id"),
        [other_order["id"].as_str().expect("an id")]
    );
    // Not verified: enquiries sent from the address are not theirs to read.
    assert_eq!(theirs["enquiries"], json!([]));
    assert!(!theirs.to_string().contains("Clear and useful"));

    assert_error(app.get(EXPORT, NO_TOKEN).await, 401, "unauthorized").await;
}

async fn job_done(app: &TestApp, admin: &Signed, kind: &str) {
    eventually(&format!("the {kind} delivery to be done"), async || {
        let jobs = app.jobs(&format!("?kind={kind}"), admin).await;
        let states = strings(&jobs["data"], "state");
        (!states.is_empty() && states.iter().all(|s| s == "DONE")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn erasure_leaving_invoices_intact_anonymises_the_account_and_runs_its_subscribers() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.register_customer("Cara", "Buyer").await;
    app.verify_email(&buyer).await;
    let mut record = customer_body("Cara");
    record["email"] = json!(buyer.email);
    record["phone"] = json!("+919876543210");
    let crm = app.create_customer(&manager, &record).await;
    assert_eq!(crm["accountId"], json!(buyer.user_id), "{crm}");
    enquire(&app, &buyer, "Cara asks before erasing").await;
    let (product, order) = paid_order(&app, &manager, &buyer, "Kept guide").await;
    review(&app, &product, &buyer, "Stays as product feedback").await;
    expect_json(
        app.post_json(
            "/api/v1/feedback",
            &json!({ "message": "Nice", "name": "Cara Buyer", "email": buyer.email }),
            &buyer,
        )
        .await,
        202,
    )
    .await;
    let spare = app
        .published_product(&manager, "Left in the cart", 1_000, b"%PDF-1.4 cart")
        .await;
    expect_json(
        app.post_json(
            "/api/v1/cart/items",
            &json!({ "productId": spare["id"] }),
            &buyer,
        )
        .await,
        200,
    )
    .await;
    let order_path = format!("/api/v1/orders/{}", order["id"].as_str().expect("an id"));
    let before = expect_json(app.get(&order_path, &admin).await, 200).await;

    expect_empty(
        app.post_json(ERASE, &json!({ "password": buyer.password }), &buyer)
            .await,
        204,
    )
    .await;

    // The account: anonymised, inactive, no way in.
    let user_path = format!("/api/v1/users/{}", buyer.user_id);
    let erased = expect_json(app.get(&user_path, &admin).await, 200).await;
    let email = erased["email"].as_str().expect("an address");
    assert!(
        email.starts_with("erased+") && email.ends_with("@erased.invalid"),
        "{erased}"
    );
    assert_eq!(erased["firstName"], "Erased");
    assert_eq!(erased["lastName"], "Customer");
    assert_eq!(erased["isActive"], false);
    assert_eq!(erased["emailVerified"], false);
    assert_error(
        app.post_json(
            "/api/v1/auth/login",
            &json!({ "email": buyer.email, "password": buyer.password }),
            NO_TOKEN,
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({ "refreshToken": buyer.refresh_token }),
            NO_TOKEN,
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(app.get(EXPORT, &buyer).await, 401, "unauthorized").await;

    // The order, its payment and its invoice: kept, same number and amount, the PDF
    // still downloads for staff.
    let after = expect_json(app.get(&order_path, &admin).await, 200).await;
    for key in [
        "invoiceNumber",
        "total",
        "status",
        "paymentId",
        "paidAt",
        "userId",
    ] {
        assert_eq!(after[key], before[key], "{key}: {after}");
    }
    let res = app.get(&format!("{order_path}/invoice"), &admin).await;
    let location = header(&res, "location").expect("a link to the invoice");
    assert_eq!(res.status(), 303);
    let pdf = app.follow_link(&location).await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(
        header(&pdf, "content-type").as_deref(),
        Some("application/pdf")
    );
    assert!(!pdf.bytes().await.expect("the PDF").is_empty());

    // The subscribers ran.
    for kind in [
        "drop_erased_cart",
        "anonymise_erased_feedback",
        "unlink_erased_customer",
    ] {
        job_done(&app, &admin, kind).await;
    }
    let customer = expect_json(
        app.get(
            &format!("/api/v1/customers/{}", crm["id"].as_str().expect("an id")),
            &manager,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(customer["accountId"], Value::Null, "{customer}");
    assert_eq!(customer["firstName"], "Erased");
    assert_eq!(customer["phone"], Value::Null);
    assert!(!customer.to_string().contains(&buyer.email), "{customer}");
    let enquiries = expect_json(app.get("/api/v1/enquiries?limit=100", &admin).await, 200).await;
    let kept = enquiries["data"]
        .as_array()
        .expect("enquiries")
        .iter()
        .find(|e| e["subject"] == "Cara asks before erasing")
        .expect("the enquiry is kept")
        .clone();
    assert_eq!(kept["name"], "Erased Customer", "{kept}");
    assert_ne!(kept["email"], buyer.email.as_str(), "{kept}");
    let feedback = expect_json(
        app.get("/api/v1/admin/feedback?limit=100", &admin).await,
        200,
    )
    .await;
    let sent = &feedback["data"][0];
    assert_eq!(sent["message"], "Nice");
    assert_eq!(sent["name"], Value::Null, "{sent}");
    assert_eq!(sent["email"], Value::Null, "{sent}");
    let reviews = expect_json(
        app.get("/api/v1/admin/reviews?limit=100", &admin).await,
        200,
    )
    .await;
    assert!(
        reviews.to_string().contains("Stays as product feedback"),
        "{reviews}"
    );
    assert!(!reviews.to_string().contains(&buyer.email), "{reviews}");

    // The old address is free: a new, separate account.
    expect_json(
        app.register_at(&buyer.email, "a new life begins").await,
        202,
    )
    .await;
    let again = app.login(&buyer.email, "a new life begins").await;
    assert_ne!(again.user_id, buyer.user_id);
    let (_, fresh) = export(&app, &again).await;
    assert_eq!(fresh["orders"], json!([]), "{fresh}");
}

#[tokio::test]
async fn a_wrong_or_missing_password_erases_nothing() {
    let app = spawn_app().await;
    let buyer = app.register_customer("Cara", "Buyer").await;

    assert_error(
        app.post_json(ERASE, &json!({ "password": "not my password" }), &buyer)
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_json(ERASE, &json!({}), &buyer).await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_json(ERASE, &json!({ "code": "123456" }), &buyer)
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_json(ERASE, &json!({ "password": buyer.password }), NO_TOKEN)
            .await,
        401,
        "unauthorized",
    )
    .await;

    let (_, doc) = export(&app, &buyer).await;
    assert_eq!(doc["profile"]["email"], buyer.email.as_str());
    assert_eq!(doc["profile"]["isActive"], true);
    app.login(&buyer.email, &buyer.password).await;
}

#[tokio::test]
async fn staff_and_the_last_administrator_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for role in [Role::Manager, Role::Cso, Role::Editor] {
        let staff = app.sign_in_as(role).await;
        assert_error(
            app.post_json(ERASE, &json!({ "password": staff.password }), &staff)
                .await,
            409,
            "staff_account",
        )
        .await;
    }
    assert_error(
        app.post_json(ERASE, &json!({ "password": admin.password }), &admin)
            .await,
        409,
        "staff_account",
    )
    .await;
    // The administrator is untouched and still signs in; staff can export their own data.
    let again = app.admin().await;
    let (_, doc) = export(&app, &again).await;
    assert_eq!(doc["profile"]["role"], "ADMIN");
}

#[tokio::test]
async fn exports_are_limited_per_user_and_a_refusal_names_the_limit() {
    let app = spawn_app_with(&[
        ("EXPORT_RATE_LIMIT", "2"),
        ("EXPORT_RATE_WINDOW_SECS", "3600"),
    ])
    .await;
    let first = app.register_customer("Ema", "Exporter").await;
    let second = app.register_customer("Ned", "Neighbour").await;
    for _ in 0..2 {
        assert_eq!(app.get(EXPORT, &first).await.status(), 200);
    }

    let refused = app.get(EXPORT, &first).await;

    let retry_after = header(&refused, "retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let body = assert_error(refused, 429, "rate_limited").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("limit export)")),
        "{body}"
    );
    // Another account has its own budget.
    assert_eq!(app.get(EXPORT, &second).await.status(), 200);
}
