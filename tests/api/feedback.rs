//! Site feedback, product reviews, their moderation, product ratings and the CRM's view of
//! what a customer said.

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, customer_body, detail_fields, expect_empty,
    expect_json, spawn_app, spawn_app_with, unique_email,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const FEEDBACK: &str = "/api/v1/feedback";

async fn put_review(app: &TestApp, product: &Value, body: &Value, who: &Signed) -> Response {
    let id = product["id"].as_str().expect("a product id");
    app.request(Method::PUT, &format!("/api/v1/products/{id}/review"), who)
        .json(body)
        .send()
        .await
        .expect("the request reaches the app")
}

/// A product published by `manager` and bought (paid) by each of `buyers`.
async fn bought_by(app: &TestApp, manager: &Signed, buyers: &[&Signed]) -> Value {
    let product = app
        .published_product(manager, "Reviewed guide", 4_900, b"%PDF-1.4 reviewed")
        .await;
    for buyer in buyers {
        let session = app.checkout_one(*buyer, &product).await;
        let res = app
            .post_json(
                "/api/v1/payments/dev/complete",
                &json!({ "orderId": session["orderId"] }),
                *buyer,
            )
            .await;
        expect_json(res, 200).await;
    }
    product
}

fn text_has_no_address(body: &Value, addresses: &[&str]) {
    let text = body.to_string();
    for address in addresses {
        assert!(!text.contains(address), "{address} leaked in {text}");
    }
    assert!(!text.contains("\"email\""), "an email key leaked in {text}");
}

const METRICS_TOKEN: &str = "scrape-token-for-the-feedback-tests";

/// The value of the unlabelled counter `name` on `/metrics` (0 before its first increment).
async fn counter(app: &TestApp, name: &str) -> f64 {
    let res = app.get("/metrics", METRICS_TOKEN).await;
    let text = res.text().await.expect("metrics");
    text.lines()
        .filter(|l| l.split(' ').next() == Some(name))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_filled_spam_trap_is_answered_like_success_and_stores_nothing() {
    let app = spawn_app_with(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let spam_before = counter(&app, "nexus_feedback_spam_total").await;

    let trapped = app
        .post_json(
            FEEDBACK,
            &json!({ "message": "Buy cheap watches", "website": "http://spam.example" }),
            NO_TOKEN,
        )
        .await;
    let real = app
        .post_json(
            FEEDBACK,
            &json!({ "message": "Lovely shop", "website": "" }),
            NO_TOKEN,
        )
        .await;

    assert_eq!(
        expect_json(trapped, 202).await,
        json!({ "status": "received" })
    );
    assert_eq!(
        expect_json(real, 202).await,
        json!({ "status": "received" })
    );
    let queue = expect_json(app.get("/api/v1/admin/feedback", &manager).await, 200).await;
    assert_eq!(queue["meta"]["total"], 1, "{queue}");
    assert_eq!(queue["data"][0]["message"], "Lovely shop");
    assert_eq!(queue["data"][0]["status"], "NEW");
    let spam_after = counter(&app, "nexus_feedback_spam_total").await;
    assert!(
        (spam_after - spam_before - 1.0).abs() < f64::EPSILON,
        "{spam_before} -> {spam_after}"
    );
}

#[tokio::test]
async fn site_feedback_is_rate_limited_per_client() {
    let app = spawn_app_with(&[("FEEDBACK_RATE_LIMIT", "2")]).await;
    let body = json!({ "message": "Hello" });

    for _ in 0..2 {
        expect_json(app.post_json(FEEDBACK, &body, NO_TOKEN).await, 202).await;
    }
    let third = app.post_json(FEEDBACK, &body, NO_TOKEN).await;

    let error = assert_error(third, 429, "rate_limited").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("feedback")),
        "{error}"
    );
}

#[tokio::test]
async fn bad_input_is_a_400_in_the_uniform_body() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app
        .post_json(
            FEEDBACK,
            &json!({ "message": "  ", "email": "not-an-address", "page": "//evil.example/x", "rating": 9 }),
            NO_TOKEN,
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    assert_eq!(fields, ["email", "message", "page", "rating"], "{body}");

    let res = app
        .post_json(FEEDBACK, &json!({ "message": "x".repeat(5001) }), NO_TOKEN)
        .await;
    assert_error(res, 400, "validation_failed").await;
    let res = app
        .post_json(FEEDBACK, &json!({ "message": 12 }), NO_TOKEN)
        .await;
    assert_error(res, 400, "invalid_json").await;
    let res = app
        .get("/api/v1/admin/feedback?status=DONE", &manager)
        .await;
    assert_error(res, 400, "validation_failed").await;
    let res = app
        .post_json(
            &format!("/api/v1/admin/feedback/{}/hide", uuid::Uuid::now_v7()),
            &json!({ "reason": " " }),
            &manager,
        )
        .await;
    assert_error(res, 400, "validation_failed").await;
    let res = app
        .post_json(
            &format!("/api/v1/admin/feedback/{}/publish", uuid::Uuid::now_v7()),
            &json!({}),
            &manager,
        )
        .await;
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn moderators_publish_and_hide_feedback_with_versions_and_the_public_never_sees_addresses() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let address = unique_email("sender");
    let res = app
        .post_json(
            FEEDBACK,
            &json!({ "message": "Great guides", "name": "Sam", "email": address, "page": "/guides?x=1", "rating": 5 }),
            NO_TOKEN,
        )
        .await;
    expect_json(res, 202).await;
    assert_error(
        app.get("/api/v1/admin/feedback", &cso).await,
        403,
        "forbidden",
    )
    .await;
    let queue = expect_json(
        app.get("/api/v1/admin/feedback?status=NEW", &editor).await,
        200,
    )
    .await;
    let item = &queue["data"][0];
    assert_eq!(item["email"], json!(address), "{queue}");
    let id = item["id"].as_str().expect("an id").to_owned();
    let version = item["version"].clone();

    let published = app
        .post_json(
            &format!("/api/v1/admin/feedback/{id}/publish"),
            &json!({ "version": version }),
            &editor,
        )
        .await;
    let published = expect_json(published, 200).await;
    let stale = app
        .post_json(
            &format!("/api/v1/admin/feedback/{id}/hide"),
            &json!({ "reason": "Spam", "version": version }),
            &editor,
        )
        .await;
    let again = app
        .post_json(
            &format!("/api/v1/admin/feedback/{id}/publish"),
            &json!({}),
            &editor,
        )
        .await;

    assert_eq!(published["status"], "PUBLISHED");
    assert_error(stale, 409, "conflict").await;
    assert_error(again, 409, "invalid_transition").await;
    let public = expect_json(app.get(FEEDBACK, NO_TOKEN).await, 200).await;
    assert_eq!(public["meta"]["total"], 1, "{public}");
    assert_eq!(public["data"][0]["message"], "Great guides");
    assert_eq!(public["data"][0]["name"], "Sam");
    text_has_no_address(&public, &[&address]);

    let hidden = app
        .post_json(
            &format!("/api/v1/admin/feedback/{id}/hide"),
            &json!({ "reason": "Mentions a competitor", "version": published["version"] }),
            &editor,
        )
        .await;
    assert_eq!(expect_json(hidden, 200).await["status"], "HIDDEN");
    let public = expect_json(app.get(FEEDBACK, NO_TOKEN).await, 200).await;
    assert_eq!(public["meta"]["total"], 0, "{public}");
    assert_eq!(
        moderation_history(&app).await,
        [
            ("PUBLISH".to_owned(), None, editor.user_id.clone()),
            (
                "HIDE".to_owned(),
                Some("Mentions a competitor".to_owned()),
                editor.user_id.clone()
            ),
        ]
    );
}

/// Every line of the moderation history: action, reason and moderator, oldest first.
async fn moderation_history(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.db().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT action, reason, moderator_id FROM feedback_moderations ORDER BY at, action DESC",
        ))
        .await
        .expect("the moderation history");
    let history = rows
        .iter()
        .map(|row| {
            let moderator: uuid::Uuid = row.try_get("", "moderator_id").expect("a moderator");
            (
                row.try_get("", "action").expect("an action"),
                row.try_get("", "reason").expect("a reason column"),
                moderator.to_string(),
            )
        })
        .collect();
    let _ = db.close().await;
    history
}

#[tokio::test]
async fn a_buyer_reviews_an_owned_product_once_and_a_stranger_is_refused() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.register_customer("Cara", "Buyer").await;
    let stranger = app.register_customer("Otto", "Outsider").await;
    let product = bought_by(&app, &manager, &[&buyer]).await;

    let created = put_review(
        &app,
        &product,
        &json!({ "rating": 4, "title": "Good", "body": "Helpful" }),
        &buyer,
    )
    .await;
    let created = expect_json(created, 201).await;
    let no_version = put_review(
        &app,
        &product,
        &json!({ "rating": 5, "body": "Even better" }),
        &buyer,
    )
    .await;
    let edited = put_review(
        &app,
        &product,
        &json!({ "rating": 5, "body": "Even better", "version": created["version"] }),
        &buyer,
    )
    .await;
    let refused = put_review(
        &app,
        &product,
        &json!({ "rating": 1, "body": "Never bought" }),
        &stranger,
    )
    .await;
    let invalid = put_review(
        &app,
        &product,
        &json!({ "rating": 0, "title": "t".repeat(121) }),
        &buyer,
    )
    .await;

    assert_eq!(created["status"], "PENDING");
    assert_error(no_version, 428, "precondition_required").await;
    let edited = expect_json(edited, 200).await;
    assert_eq!(edited["id"], created["id"]);
    assert_eq!(edited["rating"], 5);
    assert_error(refused, 403, "not_owner").await;
    let body = assert_error(invalid, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    assert_eq!(fields, ["rating", "title"]);
    let mine = expect_json(app.get("/api/v1/me/reviews", &buyer).await, 200).await;
    assert_eq!(mine["meta"]["total"], 1, "{mine}");
    assert_eq!(mine["data"][0]["body"], "Even better");
}

#[tokio::test]
async fn racing_edits_of_one_review_give_one_success_and_one_conflict() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.register_customer("Rae", "Racer").await;
    let product = bought_by(&app, &manager, &[&buyer]).await;
    let created = expect_json(
        put_review(&app, &product, &json!({ "rating": 3 }), &buyer).await,
        201,
    )
    .await;
    let version = created["version"].clone();

    let first = json!({ "rating": 4, "version": version });
    let second = json!({ "rating": 5, "version": version });
    let (a, b) = tokio::join!(
        put_review(&app, &product, &first, &buyer),
        put_review(&app, &product, &second, &buyer),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let loser = if a.status() == 409 { a } else { b };
    assert_error(loser, 409, "conflict").await;
    let mine = expect_json(app.get("/api/v1/me/reviews", &buyer).await, 200).await;
    assert_eq!(mine["meta"]["total"], 1);
    assert_eq!(
        mine["data"][0]["version"],
        version.as_i64().expect("a version") + 1
    );
}

async fn rating_of(app: &TestApp, product: &Value) -> (Value, Value) {
    let slug = product["slug"].as_str().expect("a slug");
    let detail = expect_json(
        app.get(&format!("/api/v1/products/{slug}"), NO_TOKEN).await,
        200,
    )
    .await;
    let list = expect_json(app.get("/api/v1/products?limit=100", NO_TOKEN).await, 200).await;
    let in_list = list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["id"] == product["id"])
        .map(|p| p["rating"].clone())
        .unwrap_or(Value::Null);
    (detail["rating"].clone(), in_list)
}

async fn rating_becomes(app: &TestApp, product: &Value, expected: Value) {
    nexus_tests::eventually(&format!("the rating to read {expected}"), async || {
        let (detail, listed) = rating_of(app, product).await;
        (detail == expected && listed == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn publishing_reviews_rates_the_product_hiding_and_deleting_take_it_back() {
    let app = spawn_app_with(&[("WORKER_POLL_MS", "50")]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cara = app.register_customer("Cara", "buyer").await;
    let dan = app.register_customer("Dan", "Dealer").await;
    let product = bought_by(&app, &manager, &[&cara, &dan]).await;
    // Read once, so the cache holds the product without reviews.
    rating_becomes(&app, &product, json!({ "average": 0.0, "count": 0 })).await;
    let five = expect_json(
        put_review(
            &app,
            &product,
            &json!({ "rating": 5, "title": "Superb", "body": "Clear and short" }),
            &cara,
        )
        .await,
        201,
    )
    .await;
    let two = expect_json(
        put_review(&app, &product, &json!({ "rating": 2 }), &dan).await,
        201,
    )
    .await;
    let pid = product["id"].as_str().expect("an id");
    let reviews = format!("/api/v1/products/{pid}/reviews");
    assert_eq!(
        expect_json(app.get(&reviews, NO_TOKEN).await, 200).await["meta"]["total"],
        0
    );

    for review in [&five, &two] {
        let id = review["id"].as_str().expect("an id");
        let res = app
            .post_json(
                &format!("/api/v1/admin/reviews/{id}/publish"),
                &json!({}),
                &manager,
            )
            .await;
        assert_eq!(expect_json(res, 200).await["status"], "PUBLISHED");
    }
    rating_becomes(&app, &product, json!({ "average": 3.5, "count": 2 })).await;
    let public = expect_json(app.get(&reviews, NO_TOKEN).await, 200).await;
    assert_eq!(public["meta"]["total"], 2, "{public}");
    let reviewers: Vec<&str> = public["data"]
        .as_array()
        .expect("reviews")
        .iter()
        .filter_map(|r| r["reviewer"].as_str())
        .collect();
    assert!(
        reviewers.contains(&"Cara B.") && reviewers.contains(&"Dan D."),
        "{public}"
    );
    text_has_no_address(&public, &[&cara.email, &dan.email]);

    let id = five["id"].as_str().expect("an id");
    let hidden = app
        .post_json(
            &format!("/api/v1/admin/reviews/{id}/hide"),
            &json!({ "reason": "Personal data" }),
            &manager,
        )
        .await;
    assert_eq!(expect_json(hidden, 200).await["status"], "HIDDEN");
    rating_becomes(&app, &product, json!({ "average": 2.0, "count": 1 })).await;
    let queue = expect_json(
        app.get(
            &format!("/api/v1/admin/reviews?status=HIDDEN&productId={pid}"),
            &manager,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(queue["meta"]["total"], 1, "{queue}");

    expect_empty(
        app.delete(&format!("/api/v1/products/{pid}/review"), &dan)
            .await,
        204,
    )
    .await;
    rating_becomes(&app, &product, json!({ "average": 0.0, "count": 0 })).await;
    let gone = app
        .delete(&format!("/api/v1/products/{pid}/review"), &dan)
        .await;
    assert_error(gone, 404, "not_found").await;
}

#[tokio::test]
async fn the_crm_shows_a_customers_feedback_to_whoever_may_see_the_customer() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let buyer = app.register_customer("Cara", "Buyer").await;
    let mut record = customer_body("Cara");
    record["email"] = json!(buyer.email);
    record["assignedTo"] = json!(cso.user_id);
    let customer = app.create_customer(&manager, &record).await;
    let path = format!(
        "/api/v1/customers/{}/feedback",
        customer["id"].as_str().expect("an id")
    );
    // Signed in without giving an address, anonymous with it, and a review.
    expect_json(
        app.post_json(FEEDBACK, &json!({ "message": "From my account" }), &buyer)
            .await,
        202,
    )
    .await;
    expect_json(
        app.post_json(
            FEEDBACK,
            &json!({ "message": "From the form", "email": buyer.email.to_uppercase() }),
            NO_TOKEN,
        )
        .await,
        202,
    )
    .await;
    expect_json(
        app.post_json(FEEDBACK, &json!({ "message": "Someone else" }), NO_TOKEN)
            .await,
        202,
    )
    .await;
    let product = bought_by(&app, &manager, &[&buyer]).await;
    expect_json(
        put_review(
            &app,
            &product,
            &json!({ "rating": 4, "body": "Nice" }),
            &buyer,
        )
        .await,
        201,
    )
    .await;

    let seen = expect_json(app.get(&path, &cso).await, 200).await;
    let page = expect_json(
        app.get(&format!("{path}?limit=2&page=2"), &manager).await,
        200,
    )
    .await;

    assert_eq!(seen["meta"]["total"], 3, "{seen}");
    let kinds: Vec<&str> = seen["data"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["REVIEW", "SITE", "SITE"], "newest first: {seen}");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
    assert_error(app.get(&path, &other_cso).await, 404, "not_found").await;
    assert_error(app.get(&path, &editor).await, 403, "forbidden").await;
    assert_error(app.get(&path, &buyer).await, 403, "forbidden").await;
}
