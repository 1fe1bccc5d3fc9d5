//! Named rate limits: shared by every instance through Redis, counted in process without it,
//! and the checkout limit. (Each limit's own behaviour is tested with its area: auth, otp,
//! enquiries; a Redis outage is in `faults`.)
//!
//! Redis tests use the shared Redis (`TEST_REDIS_URL`) under a key prefix of their own; the
//! keys they leave expire with their window.

use nexus_tests::servers::{shared_redis, unique_redis_prefix};
use nexus_tests::{NO_TOKEN, Role, TestApp, assert_error, expect_json, header, spawn_app_with};
use reqwest::Response;
use serde_json::{Value, json};

async fn admin_login(app: &TestApp) -> Response {
    let body = json!({ "email": app.admin_email, "password": app.admin_password });
    app.post_json("/api/v1/auth/login", &body, NO_TOKEN).await
}

/// Asserts a 429 of the limit `name` in the uniform body with a `Retry-After` of at most
/// `window` seconds.
async fn assert_limited(res: Response, name: &str, window: u64) -> Value {
    let retry_after = header(&res, "retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=window).contains(&retry_after), "{retry_after}");
    let body = assert_error(res, 429, "rate_limited").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("limit {name})"))),
        "the body names the limit {name}: {body}"
    );
    body
}

#[tokio::test]
async fn two_instances_sharing_redis_count_one_login_limit_together() {
    let Some(redis) = shared_redis() else { return };
    let prefix = unique_redis_prefix();
    let a = spawn_app_with(&[
        ("REDIS_URL", &redis),
        ("REDIS_KEY_PREFIX", &prefix),
        ("LOGIN_RATE_LIMIT", "4"),
        ("LOGIN_RATE_WINDOW_SECS", "120"),
    ])
    .await;
    let b = a.spawn_another(&[]).await;

    let mut statuses = Vec::new();
    for app in [&a, &b, &a, &b] {
        statuses.push(admin_login(app).await.status().as_u16());
    }
    let fifth_on_a = admin_login(&a).await;
    let fifth_on_b = admin_login(&b).await;

    assert_eq!(statuses, [200; 4], "four logins across the two instances");
    assert_limited(fifth_on_a, "login", 120).await;
    assert_limited(fifth_on_b, "login", 120).await;
    drop(b);
}

#[tokio::test]
async fn instances_without_redis_each_count_alone() {
    let a = spawn_app_with(&[("LOGIN_RATE_LIMIT", "2"), ("LOGIN_RATE_WINDOW_SECS", "120")]).await;
    let b = a.spawn_another(&[]).await;

    let on_a: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..2 {
            v.push(admin_login(&a).await.status().as_u16());
        }
        v
    };
    let on_b = admin_login(&b).await.status().as_u16();
    let third_on_a = admin_login(&a).await;

    assert_eq!(on_a, [200, 200]);
    assert_eq!(on_b, 200, "the other instance has its own count");
    assert_limited(third_on_a, "login", 120).await;
    drop(b);
}

#[tokio::test]
async fn the_family_limit_still_applies_when_no_named_limit_is_set() {
    // A deployed configuration with only AUTH_RATE_LIMIT keeps its meaning for login.
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT", "1"), ("AUTH_RATE_WINDOW_SECS", "60")]).await;

    let first = admin_login(&app).await;
    let second = admin_login(&app).await;

    expect_json(first, 200).await;
    assert_limited(second, "login", 60).await;
}

#[tokio::test]
async fn checkouts_are_limited_per_user() {
    let app = spawn_app_with(&[
        ("CHECKOUT_RATE_LIMIT", "2"),
        ("CHECKOUT_RATE_WINDOW_SECS", "300"),
    ])
    .await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Limited Guide", 19_900, b"%PDF-1.4 limited")
        .await;
    let buyer = app.register_customer("Eager", "Buyer").await;
    let other = app.register_customer("Calm", "Buyer").await;
    let add = json!({ "productId": product["id"] });
    expect_json(app.post_json("/api/v1/cart/items", &add, &buyer).await, 200).await;

    let first = app.post("/api/v1/checkout", &buyer).await;
    let again = app.post("/api/v1/checkout", &buyer).await;
    let third = app.post("/api/v1/checkout", &buyer).await;
    let other_buyer = app.checkout_one(&other, &product).await;

    expect_json(first, 201).await;
    expect_json(again, 200).await;
    assert_limited(third, "checkout", 300).await;
    assert!(
        other_buyer["orderId"].is_string(),
        "another user has a budget of their own: {other_buyer}"
    );
}
