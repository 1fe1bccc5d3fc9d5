//! What a cart may hold: products priced in the store's currencies below the price ceiling,
//! one currency per cart, and totals that always add up, even for carts filled before these
//! rules (played by changing prices below the API).

use nexus_tests::{Role, Signed, TestApp, assert_error, expect_json, product_body, spawn_app_with};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};

/// The bytes of every product file here.
const FILE: &[u8] = b"%PDF-1.4\n% cart test\n%%EOF\n";

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id is a string")
}

/// Sets a product's stored price below the API, as a catalog filled before the rules
/// could have it.
async fn store_price(app: &TestApp, product: &Value, minor: i64, currency: &str) {
    let product_id = uuid::Uuid::parse_str(id(product)).expect("a UUID");
    let db = app.db().await;
    let update = Query::update()
        .table(Alias::new("products"))
        .value(Alias::new("price_minor"), minor)
        .value(Alias::new("currency"), currency)
        .and_where(Expr::col(Alias::new("id")).eq(product_id))
        .to_owned();
    let changed = db
        .execute(&update)
        .await
        .expect("the product can be updated");
    assert_eq!(changed.rows_affected(), 1);
    let _ = db.close().await;
}

/// Attaches the file to `draft` and publishes it; returns the published product.
async fn publish(app: &TestApp, manager: &Signed, draft: &Value) -> Value {
    let res = app
        .post_file(
            &format!("/api/v1/products/{}/asset", id(draft)),
            "file",
            "guide.pdf",
            "application/pdf",
            FILE,
            manager,
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .post(&format!("/api/v1/products/{}/publish", id(draft)), manager)
        .await;
    expect_json(res, 200).await
}

async fn add_to_cart(app: &TestApp, buyer: &Signed, product: &Value) -> reqwest::Response {
    app.post_json(
        "/api/v1/cart/items",
        &json!({ "productId": product["id"] }),
        buyer,
    )
    .await
}

#[tokio::test]
async fn prices_outside_the_store_currencies_or_above_the_ceiling_are_refused() {
    let app = spawn_app_with(&[]).await;
    let manager = app.sign_in_as(Role::Manager).await;

    let mut dollars = product_body("Dollar template", 1_000);
    dollars["currency"] = json!("USD");
    let res = app.post_json("/api/v1/products", &dollars, &manager).await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(body["details"][0]["field"], "currency", "{body}");
    assert!(
        body["message"].as_str().unwrap_or_default().contains("INR")
            || body["details"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("INR"),
        "the accepted currencies are named: {body}"
    );

    for price in [10_000_000_001_i64, i64::MAX] {
        let res = app
            .post_json(
                "/api/v1/products",
                &product_body("Gold template", price),
                &manager,
            )
            .await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(body["details"][0]["field"], "priceMinor", "{body}");
    }

    // The ceiling itself is a valid price, and editing a price is held to the same rule.
    let ok = app
        .create_product(&manager, &product_body("Costly template", 10_000_000_000))
        .await;
    let res = app
        .patch_json(
            &format!("/api/v1/products/{}", id(&ok)),
            &json!({ "priceMinor": i64::MAX, "version": ok["version"] }),
            &manager,
            Some(&format!("\"{}\"", ok["version"])),
        )
        .await;
    assert_error(res, 400, "validation_failed").await;
    let res = app.get("/api/v1/admin/products?limit=100", &manager).await;
    let listed = expect_json(res, 200).await;
    let stored = listed["data"]
        .as_array()
        .expect("a page")
        .iter()
        .find(|p| p["id"] == ok["id"])
        .cloned()
        .expect("the product is listed");
    assert_eq!(
        stored["price"]["amountMinor"], 10_000_000_000_i64,
        "nothing was lost: {stored}"
    );
}

#[tokio::test]
async fn a_cart_holds_one_currency_and_names_the_conflict() {
    let app = spawn_app_with(&[("STORE_CURRENCIES", "INR,USD")]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let rupees = app
        .published_product(&manager, "Rupee template", 49_900, FILE)
        .await;
    let mut body = product_body("Dollar template", 1_500);
    body["currency"] = json!("USD");
    let dollars = publish(&app, &manager, &app.create_product(&manager, &body).await).await;
    let buyer = app.sign_in_as(Role::Customer).await;

    expect_json(add_to_cart(&app, &buyer, &rupees).await, 200).await;
    let conflict = assert_error(
        add_to_cart(&app, &buyer, &dollars).await,
        409,
        "currency_conflict",
    )
    .await;
    let message = conflict["message"].as_str().expect("a message");
    assert!(
        message.contains("INR") && message.contains("USD") && message.contains(id(&dollars)),
        "the conflict is named: {message}"
    );

    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(1), "{cart}");
    assert_eq!(cart["total"]["amountMinor"], 49_900, "{cart}");
    assert_eq!(cart["total"]["currency"], "INR", "{cart}");
    let checkout = expect_json(app.post("/api/v1/checkout", &buyer).await, 201).await;
    assert_eq!(checkout["amount"], 49_900);
    assert_eq!(checkout["currency"], "INR");
}

#[tokio::test]
async fn a_cart_filled_before_the_rules_still_shows_and_its_checkout_is_a_clear_conflict() {
    let app = spawn_app_with(&[]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app
        .published_product(&manager, "First template", 1_000, FILE)
        .await;
    let second = app
        .published_product(&manager, "Second template", 1_000, FILE)
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;
    expect_json(add_to_cart(&app, &buyer, &first).await, 200).await;
    expect_json(add_to_cart(&app, &buyer, &second).await, 200).await;

    // Two products at the largest amount there is: their sum cannot be held.
    store_price(&app, &first, i64::MAX, "INR").await;
    store_price(&app, &second, i64::MAX, "INR").await;
    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    let issues: Vec<_> = cart["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["issue"].clone())
        .collect();
    assert_eq!(
        issues,
        vec![Value::Null, json!("total_too_large")],
        "{cart}"
    );
    assert_eq!(cart["total"]["amountMinor"], i64::MAX, "{cart}");
    assert_error(
        app.post("/api/v1/checkout", &buyer).await,
        409,
        "cart_total_too_large",
    )
    .await;

    // The same cart with one product in another currency.
    store_price(&app, &first, 1_000, "INR").await;
    store_price(&app, &second, 1_000, "USD").await;
    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    assert_eq!(cart["items"][1]["issue"], "other_currency", "{cart}");
    assert_eq!(cart["total"]["amountMinor"], 1_000, "{cart}");
    assert_error(
        app.post("/api/v1/checkout", &buyer).await,
        409,
        "currency_conflict",
    )
    .await;

    // Nothing was ordered, and the cart is intact.
    let orders = expect_json(app.get("/api/v1/orders", &buyer).await, 200).await;
    assert_eq!(orders["meta"]["total"], 0, "{orders}");
    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_partial_refund_is_made_in_the_orders_currency() {
    let app = spawn_app_with(&[("STORE_CURRENCIES", "USD")]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mut body = product_body("Dollar guide", 2_500);
    body.as_object_mut().expect("an object").remove("currency");
    let draft = app.create_product(&manager, &body).await;
    assert_eq!(
        draft["price"]["currency"], "USD",
        "the store currency is the default"
    );
    let product = publish(&app, &manager, &draft).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let session = app.checkout_one(&buyer, &product).await;
    assert_eq!(session["currency"], "USD");
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": session["orderId"] }),
            &buyer,
        )
        .await;
    expect_json(res, 200).await;

    let admin = app.admin().await;
    let order_id = session["orderId"].as_str().expect("an order id");
    let res = app
        .post_json(
            &format!("/api/v1/orders/{order_id}/refund"),
            &json!({ "amountMinor": 1_000, "reason": "Part of the bundle was missing" }),
            &admin,
        )
        .await;
    let order = expect_json(res, 200).await;

    assert_eq!(order["status"], "PARTIALLY_REFUNDED", "{order}");
    assert_eq!(order["refunded"]["amountMinor"], 1_000, "{order}");
    assert_eq!(order["refunded"]["currency"], "USD", "{order}");
    assert_eq!(order["refunds"][0]["amount"]["currency"], "USD", "{order}");
}
