//! Page metrics end to end: public batches in, the worker's roll-up, the staff reports with
//! exact numbers, validation, bots, the rate limit, and that no address or user agent is
//! stored anywhere.

use chrono::{Duration, Utc};
use nexus_tests::{
    NO_TOKEN, Role, TestApp, assert_error, detail_fields, eventually, expect_json, spawn_app_with,
};
use reqwest::{Method, Response};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

/// A browser's user agent with a marker no stored value may contain.
const UA_A: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0 marker-a7c1";
const UA_B: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15 marker-b9d2";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Every table of page metrics.
const METRIC_TABLES: [&str; 8] = [
    "metric_events",
    "metric_daily_paths",
    "metric_daily_referrers",
    "metric_daily_events",
    "metric_daily_utm",
    "metric_daily_totals",
    "metric_visitors",
    "metric_salts",
];

async fn fast_app(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("METRICS_ROLLUP_SECS", "1"), ("WORKER_POLL_MS", "50")];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

async fn send(app: &TestApp, user_agent: &str, body: &Value) -> Response {
    app.request(Method::POST, "/api/v1/metrics/events", NO_TOKEN)
        .header("User-Agent", user_agent)
        .json(body)
        .send()
        .await
        .expect("the request is sent")
}

fn pageview(path: &str) -> Value {
    json!({ "type": "pageview", "path": path })
}

fn named(name: &str) -> Value {
    json!({ "type": "event", "name": name, "path": "/checkout" })
}

async fn rows(db: &DatabaseConnection, table: &str) -> u64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    u64::try_from(row.try_get::<i64>("", "n").expect("n")).expect("count")
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

fn range_query() -> String {
    let today = Utc::now().date_naive();
    format!("from={}&to={}", today - Duration::days(1), today)
}

/// Every text value of every metric table.
async fn stored_text(db: &DatabaseConnection) -> Vec<String> {
    let mut out = Vec::new();
    for table in METRIC_TABLES {
        let all = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT * FROM {table}"),
            ))
            .await
            .expect("rows");
        for row in &all {
            for column in row.column_names() {
                if let Ok(Some(text)) = row.try_get::<Option<String>>("", &column) {
                    out.push(text);
                }
            }
        }
    }
    out
}

fn assert_private(texts: &[String]) {
    assert!(!texts.is_empty(), "the scan read something");
    for text in texts {
        for secret in [
            "127.0.0.1",
            "marker-a7c1",
            "marker-b9d2",
            "Mozilla",
            "Firefox",
        ] {
            assert!(!text.contains(secret), "{secret:?} is stored: {text:?}");
        }
    }
}

#[tokio::test]
async fn batches_are_rolled_up_by_the_worker_and_the_reports_show_exact_numbers() {
    let app = fast_app(&[]).await;
    let first_a = json!({ "events": [
        { "type": "pageview", "path": "/", "referrer": "https://www.google.com/search?q=nexus" },
        pageview("/pricing?utm_source=news&utm_medium=email&utm_campaign=spring&private=1"),
        named("add_to_cart"),
        named("purchase"),
    ]});
    let res = send(&app, UA_A, &first_a).await;
    let body = expect_json(res, 202).await;
    assert_eq!(body, json!({ "accepted": 4, "dropped": 0 }));
    let first_b = json!({ "events": [pageview("/"), pageview("/#top"), named("add_to_cart")] });
    expect_json(send(&app, UA_B, &first_b).await, 202).await;

    let editor = app.sign_in_as(Role::Editor).await;
    let q = range_query();
    let trend = eventually("the first roll-up", async || {
        let res = app
            .get(&format!("/api/v1/analytics/trend?{q}"), &editor)
            .await;
        let body = expect_json(res, 200).await;
        let days = body["data"].as_array()?.clone();
        (days.last()?["views"] == 4).then_some(days)
    })
    .await;
    assert_eq!(trend.len(), 2, "yesterday and today, zeros filled");
    assert_eq!(trend[0]["views"], 0);
    assert_eq!(
        trend[1],
        json!({ "day": today(), "views": 4, "visitors": 2 })
    );

    let pages = expect_json(
        app.get(&format!("/api/v1/analytics/pages?{q}"), &editor)
            .await,
        200,
    )
    .await;
    assert_eq!(
        pages["data"],
        json!([
            { "path": "/", "views": 3, "visitors": 2 },
            { "path": "/pricing", "views": 1, "visitors": 1 },
        ])
    );
    assert_eq!(pages["meta"]["total"], 2);
    let referrers = expect_json(
        app.get(&format!("/api/v1/analytics/referrers?{q}"), &editor)
            .await,
        200,
    )
    .await;
    assert_eq!(
        referrers["data"],
        json!([{ "host": "google.com", "views": 1 }])
    );
    let campaigns = expect_json(
        app.get(&format!("/api/v1/analytics/campaigns?{q}"), &editor)
            .await,
        200,
    )
    .await;
    assert_eq!(
        campaigns["data"],
        json!([{ "source": "news", "medium": "email", "campaign": "spring", "views": 1 }])
    );
    let funnel = expect_json(
        app.get(&format!("/api/v1/analytics/conversions?{q}"), &editor)
            .await,
        200,
    )
    .await;
    assert_eq!(
        funnel,
        json!({ "viewers": 2, "carts": 2, "purchases": 1, "cartRate": 1.0,
                "purchaseRate": 0.5, "conversionRate": 0.5 })
    );

    // A second roll-up on the same day: a returning visitor adds views, not visitors.
    let again = json!({ "events": [pageview("/"), pageview("/")] });
    expect_json(send(&app, UA_A, &again).await, 202).await;
    let pages = eventually("the second roll-up", async || {
        let res = app
            .get(&format!("/api/v1/analytics/pages?{q}"), &editor)
            .await;
        let body = expect_json(res, 200).await;
        (body["data"][0]["views"] == 5).then_some(body)
    })
    .await;
    assert_eq!(
        pages["data"][0],
        json!({ "path": "/", "views": 5, "visitors": 2 })
    );
    let db = app.db().await;
    assert_eq!(
        rows(&db, "metric_events").await,
        0,
        "rolled-up rows are deleted"
    );
}

#[tokio::test]
async fn no_raw_address_or_user_agent_is_stored_in_any_metric_table() {
    // Without a worker: the raw rows are scanned first, then the rolled-up ones.
    let app = fast_app(&[("WORKER_IN_SERVE", "false")]).await;
    let batch = json!({ "events": [
        { "type": "pageview", "path": "/a", "referrer": "https://other.example.org/x",
          "utmSource": "s", "utmTerm": "t", "utmContent": "c" },
        named("signup"),
    ]});
    expect_json(send(&app, UA_A, &batch).await, 202).await;
    expect_json(send(&app, UA_B, &batch).await, 202).await;
    let db = app.db().await;
    assert_eq!(rows(&db, "metric_events").await, 4);
    assert_private(&stored_text(&db).await);

    let rolled = fast_app(&[]).await;
    expect_json(send(&rolled, UA_A, &batch).await, 202).await;
    let db = rolled.db().await;
    eventually("the roll-up", async || {
        (rows(&db, "metric_events").await == 0 && rows(&db, "metric_visitors").await > 0)
            .then_some(())
    })
    .await;
    assert_private(&stored_text(&db).await);
}

#[tokio::test]
async fn an_invalid_event_refuses_the_batch_with_its_field_path_and_stores_nothing() {
    let app = fast_app(&[("WORKER_IN_SERVE", "false")]).await;
    let batch = json!({ "events": [
        pageview("/ok"),
        pageview("/ok"),
        pageview("/ok"),
        { "type": "pageview", "path": "https://evil.example/" },
        { "type": "event", "name": "Add To Cart", "path": "/" },
    ]});
    let body = assert_error(send(&app, UA_A, &batch).await, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["events[3].path", "events[4].name"]);

    let too_many: Vec<Value> = (0..51).map(|_| pageview("/")).collect();
    let body = assert_error(
        send(&app, UA_A, &json!({ "events": too_many })).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(detail_fields(&body), ["events"]);
    let body = assert_error(
        send(&app, UA_A, &json!({ "events": [] })).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(detail_fields(&body), ["events"]);
    let long_utm =
        json!({ "events": [{ "type": "pageview", "path": "/", "utmCampaign": "x".repeat(101) }] });
    let body = assert_error(send(&app, UA_A, &long_utm).await, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["events[0].utmCampaign"]);

    let db = app.db().await;
    assert_eq!(rows(&db, "metric_events").await, 0);

    let fifty: Vec<Value> = (0..50).map(|_| pageview("/")).collect();
    let res = send(&app, UA_A, &json!({ "events": fifty })).await;
    assert_eq!(expect_json(res, 202).await["accepted"], 50);
    assert_eq!(
        rows(&db, "metric_events").await,
        50,
        "one batch, one statement, all stored"
    );
}

#[tokio::test]
async fn a_bots_batch_is_accepted_but_dropped() {
    let app = fast_app(&[("WORKER_IN_SERVE", "false")]).await;
    let batch = json!({ "events": [pageview("/"), pageview("/b")] });
    for ua in [GOOGLEBOT, "curl/8.5.0", "python-requests/2.31"] {
        let res = send(&app, ua, &batch).await;
        assert_eq!(
            expect_json(res, 202).await,
            json!({ "accepted": 0, "dropped": 2 }),
            "{ua}"
        );
    }
    let db = app.db().await;
    assert_eq!(rows(&db, "metric_events").await, 0);
}

#[tokio::test]
async fn reports_are_for_analytics_readers_with_a_valid_range() {
    let app = fast_app(&[("WORKER_IN_SERVE", "false")]).await;
    let q = range_query();
    let editor = app.sign_in_as(Role::Editor).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.register_customer("Cleo", "Reader").await;
    for report in ["pages", "referrers", "trend", "conversions", "campaigns"] {
        let path = format!("/api/v1/analytics/{report}?{q}");
        expect_json(app.get(&path, &editor).await, 200).await;
        expect_json(app.get(&path, &manager).await, 200).await;
        assert_error(app.get(&path, &cso).await, 403, "forbidden").await;
        assert_error(app.get(&path, &customer).await, 403, "forbidden").await;
        assert_error(app.get(&path, NO_TOKEN).await, 401, "unauthorized").await;
    }
    let bad = [
        ("from=2026-03-02&to=2026-03-01", "to"),
        ("from=2024-01-01&to=2025-01-01", "to"),
        ("from=2026-13-01&to=2026-03-01", "from"),
        ("to=2026-03-01", "from"),
    ];
    for (query, field) in bad {
        let res = app
            .get(&format!("/api/v1/analytics/pages?{query}"), &editor)
            .await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(detail_fields(&body), [field], "{query}");
    }
    let year = app
        .get(
            "/api/v1/analytics/trend?from=2024-01-01&to=2024-12-31",
            &editor,
        )
        .await;
    let body = expect_json(year, 200).await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(366));
}

#[tokio::test]
async fn the_metrics_events_limit_answers_429() {
    let app = fast_app(&[
        ("METRICS_EVENTS_RATE_LIMIT", "2"),
        ("WORKER_IN_SERVE", "false"),
    ])
    .await;
    let batch = json!({ "events": [pageview("/")] });
    for _ in 0..2 {
        expect_json(send(&app, UA_A, &batch).await, 202).await;
    }
    let body = assert_error(send(&app, UA_A, &batch).await, 429, "rate_limited").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("metrics_events")),
        "{body}"
    );
}
