//! `GET /metrics` (Prometheus text, behind `METRICS_TOKEN` or on `METRICS_ADDR`) and the
//! per-dependency readiness report of `GET /health/ready`.
//!
//! The metrics recorder is process-global and every app of this test binary records into
//! it, so assertions read a counter before and after the test's own traffic, under labels
//! only this test produces, rather than expecting exact totals.

use nexus_tests::{
    NO_TOKEN, SearchIndexFake, TestApp, assert_error, expect_json, header, spawn_app,
    spawn_app_with,
};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

const TOKEN: &str = "scrape-token-for-the-tests-0123";

/// The value of the sample of `name` whose labels include every pair of `labels`, if any.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .find_map(|line| line.rsplit_once(' ')?.1.parse().ok())
}

/// The sum of every sample of `name` whose labels include every pair of `labels`.
fn total(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let res = app.get("/metrics", TOKEN).await;
    assert_eq!(res.status(), 200);
    let content_type = header(&res, "content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    res.text().await.expect("the metrics can be read")
}

#[tokio::test]
async fn without_a_token_the_public_port_does_not_serve_metrics() {
    let app = spawn_app().await;

    let res = app.get("/metrics", NO_TOKEN).await;

    assert_error(res, 404, "route_not_found").await;
}

#[tokio::test]
async fn a_missing_or_wrong_metrics_token_is_unauthorized_in_the_uniform_body() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let admin = app.admin().await;

    let missing = app.get("/metrics", NO_TOKEN).await;
    let wrong = app.get("/metrics", "scrape-token-for-the-tests-0124").await;
    let a_users_token = app.get("/metrics", &admin).await;

    for res in [missing, wrong, a_users_token] {
        let body = assert_error(res, 401, "unauthorized").await;
        assert!(!body.to_string().contains(TOKEN), "{body}");
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_template_never_by_raw_path() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let route = [
        ("method", "GET"),
        ("route", "/api/v1/products/{id}"),
        ("status", "404"),
    ];
    let before = scrape(&app).await;
    let slugs: Vec<String> = (0..3)
        .map(|_| format!("no-such-product-{}", Uuid::new_v4().simple()))
        .collect();
    for slug in &slugs {
        let res = app.get(&format!("/api/v1/products/{slug}"), NO_TOKEN).await;
        assert_eq!(res.status(), 404);
    }
    let stray = format!("/stray-{}", Uuid::new_v4().simple());
    assert_eq!(app.get(&stray, NO_TOKEN).await.status(), 404);

    let after = scrape(&app).await;

    let grown = sample(&after, "nexus_http_requests_total", &route).unwrap_or_default()
        - sample(&before, "nexus_http_requests_total", &route).unwrap_or_default();
    assert!(grown >= 3.0, "grew by {grown}:\n{after}");
    assert!(
        sample(&after, "nexus_http_request_duration_seconds_count", &route)
            .is_some_and(|n| n >= 3.0),
        "no latency histogram for the route:\n{after}"
    );
    assert!(
        after.contains("nexus_http_request_duration_seconds_bucket{"),
        "the latency is a histogram with buckets"
    );
    assert!(
        sample(
            &after,
            "nexus_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        )
        .is_some(),
        "unmatched paths share one label"
    );
    for raw in slugs.iter().chain([&stray]) {
        assert!(!after.contains(raw.as_str()), "{raw} became a label");
    }
    assert!(
        sample(&after, "nexus_http_requests_in_flight", &[]).is_some_and(|n| n >= 1.0),
        "the scrape itself is in flight:\n{after}"
    );
}

#[tokio::test]
async fn metrics_show_the_build_the_pool_and_the_outbox_backlog() {
    // No worker: the welcome mail of a registration stays PENDING.
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN), ("WORKER_IN_SERVE", "false")]).await;
    app.register_customer("Gauge", "Reader").await;

    let text = scrape(&app).await;

    assert_eq!(
        sample(
            &text,
            "nexus_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0),
        "{text}"
    );
    assert!(sample(&text, "nexus_db_pool_connections", &[("state", "in_use")]).is_some());
    assert!(sample(&text, "nexus_db_pool_connections", &[("state", "idle")]).is_some());
    assert_eq!(
        sample(&text, "nexus_db_pool_max_connections", &[]),
        Some(5.0)
    );
    assert!(
        sample(&text, "nexus_outbox_deliveries", &[("state", "pending")]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "nexus_outbox_oldest_due_age_seconds",
            &[("state", "pending")]
        )
        .is_some()
    );
    assert_eq!(
        sample(&text, "nexus_outbox_deliveries", &[("state", "dead")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "nexus_outbox_dead_deliveries", &[]),
        Some(0.0)
    );
    assert_eq!(sample(&text, "nexus_outbox_backlog_up", &[]), Some(1.0));

    // A delivery given up on shows as dead at the next scrape.
    let db = app.db().await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "UPDATE event_deliveries SET state = 'DEAD' WHERE id IN \
         (SELECT id FROM event_deliveries WHERE state = 'PENDING' LIMIT 1)",
    )
    .await
    .expect("a delivery is marked dead");

    let text = scrape(&app).await;

    assert_eq!(
        sample(&text, "nexus_outbox_dead_deliveries", &[]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "nexus_outbox_deliveries", &[("state", "dead")]),
        Some(1.0)
    );
}

#[tokio::test]
async fn webhook_events_are_counted_by_type_and_outcome() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let labels = [
        ("type", "refund.processed"),
        ("outcome", "invalid_signature"),
    ];
    let before = total(&scrape(&app).await, "nexus_webhook_events_total", &labels);

    let res = app
        .request(Method::POST, "/api/v1/webhooks/razorpay", NO_TOKEN)
        .header("X-Razorpay-Signature", "00")
        .header("X-Razorpay-Event-Id", "evt_forged")
        .json(&json!({ "event": "refund.processed", "payload": {} }))
        .send()
        .await
        .expect("the request reaches the app");
    assert_error(res, 400, "invalid_signature").await;
    let invented = app
        .request(Method::POST, "/api/v1/webhooks/razorpay", NO_TOKEN)
        .header("X-Razorpay-Signature", "00")
        .json(&json!({ "event": "invented.by.a.stranger" }))
        .send()
        .await
        .expect("the request reaches the app");
    assert_eq!(invented.status(), 400);

    let text = scrape(&app).await;
    let after = total(&text, "nexus_webhook_events_total", &labels);
    assert!(after - before >= 1.0, "{text}");
    assert!(!text.contains("invented.by.a.stranger"), "{text}");
    assert!(
        sample(&text, "nexus_webhook_events_total", &[("type", "other")]).is_some(),
        "unknown event types share one label"
    );
}

#[tokio::test]
async fn what_others_record_through_the_metrics_facade_is_served() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let limit = format!("test-{}", Uuid::new_v4().simple());
    // As the rate limiter records its rejections.
    metrics::counter!("nexus_rate_limit_rejections_total", "limit" => limit.clone()).increment(2);

    let text = scrape(&app).await;

    assert_eq!(
        sample(
            &text,
            "nexus_rate_limit_rejections_total",
            &[("limit", &limit)]
        ),
        Some(2.0),
        "{text}"
    );
}

#[tokio::test]
async fn a_separate_metrics_address_serves_only_metrics_and_needs_no_token() {
    let app = spawn_app_with(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let port = app.metrics_port.expect("a metrics listener");
    let client = reqwest::Client::new();
    let at = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let metrics = client.get(at("/metrics")).send().await.expect("metrics");
    let api = client
        .get(at("/api/v1/products"))
        .send()
        .await
        .expect("api");
    let public = app.get("/metrics", NO_TOKEN).await;

    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("the metrics can be read");
    assert!(text.contains("nexus_build_info"), "{text}");
    assert_error(api, 404, "route_not_found").await;
    assert_error(public, 404, "route_not_found").await;
}

#[tokio::test]
async fn with_a_token_the_separate_address_asks_for_it_too() {
    let app = spawn_app_with(&[("METRICS_ADDR", "127.0.0.1:0"), ("METRICS_TOKEN", TOKEN)]).await;
    let port = app.metrics_port.expect("a metrics listener");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/metrics");

    let without = client.get(&url).send().await.expect("metrics");
    let with = client
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics");

    assert_error(without, 401, "unauthorized").await;
    assert_eq!(with.status(), 200);
}

#[tokio::test]
async fn readiness_lists_only_the_configured_dependencies() {
    let app = spawn_app().await;

    let body = expect_json(app.get("/health/ready", NO_TOKEN).await, 200).await;

    assert_eq!(body["status"], "ok");
    let checks = body["checks"].as_object().expect("checks");
    assert_eq!(
        checks.keys().collect::<Vec<_>>(),
        ["database"],
        "no Redis, Meilisearch or S3 is configured"
    );
    assert_eq!(checks["database"]["status"], "ok");
    assert_eq!(checks["database"]["required"], true);
    assert!(checks["database"]["latencyMs"].is_u64(), "{body}");
}

#[cfg(unix)]
#[tokio::test]
async fn readiness_reports_each_dependency_and_degrades_while_a_shared_one_is_down() {
    use nexus_tests::servers::PrivateRedis;

    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let search = SearchIndexFake::start().await;
    let app = spawn_app_with(&[("REDIS_URL", &redis.url()), ("MEILI_URL", &search.url())]).await;

    let body = expect_json(app.get("/health/ready", NO_TOKEN).await, 200).await;
    assert_eq!(body["status"], "ok", "{body}");
    for (name, required) in [("database", true), ("redis", false), ("meilisearch", false)] {
        assert_eq!(body["checks"][name]["status"], "ok", "{name}: {body}");
        assert_eq!(body["checks"][name]["required"], required, "{name}");
    }

    // Meilisearch only serves search: down, the service is degraded but still ready.
    search.go_down().await;
    let body = expect_json(app.get("/health/ready", NO_TOKEN).await, 200).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["meilisearch"]["status"], "down");
    assert_eq!(body["checks"]["redis"]["status"], "ok");

    // Redis is shared by every instance: down, carts answer 503 and limits count in process,
    // and taking this instance out of rotation would not help: degraded, still ready.
    redis.stop().await;
    let body = expect_json(app.get("/health/ready", NO_TOKEN).await, 200).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["redis"]["status"], "down", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "ok", "{body}");

    // Back up: reported ok again (the connection manager reconnects by itself).
    redis.start_again().await;
    nexus_tests::eventually("Redis reported up again", async || {
        let body = expect_json(app.get("/health/ready", NO_TOKEN).await, 200).await;
        (body["checks"]["redis"]["status"] == "ok").then_some(())
    })
    .await;
}
