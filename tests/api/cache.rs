//! The cache of public catalog answers: `ETag`, `Cache-Control` and 304 on `If-None-Match`,
//! invalidation by the `invalidate_catalog_cache` delivery after a write, two instances
//! sharing one Redis, staff views never cached, a Redis outage answered from the database,
//! and the hit/miss counters of `/metrics`.
//!
//! Redis tests use the shared Redis (`TEST_REDIS_URL`) under a key prefix of their own, or a
//! private `redis-server` when they stop it; they are skipped (outside CI) without one.

use std::time::{Duration, Instant};

use nexus_tests::servers::{PrivateRedis, shared_redis, unique_redis_prefix};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, eventually, expect_json, header, note, spawn_app,
    spawn_app_with,
};
use reqwest::Response;
use serde_json::{Value, json};

const TOKEN: &str = "scrape-token-for-the-cache-tests";

/// `GET path` anonymously, with `If-None-Match: <tags>` when given.
async fn get_public(app: &TestApp, path: &str, if_none_match: Option<&str>) -> Response {
    let mut req = app.request(reqwest::Method::GET, path, NO_TOKEN);
    if let Some(tags) = if_none_match {
        req = req.header("If-None-Match", tags);
    }
    req.send().await.expect("the request is answered")
}

/// The body and `ETag` of a 200 public read.
async fn read(app: &TestApp, path: &str) -> (Value, String) {
    let res = get_public(app, path, None).await;
    let etag = header(&res, "etag").expect("a public read has an ETag");
    (expect_json(res, 200).await, etag)
}

/// Renames `product` (a staff body) to `title`, returning the new staff body.
async fn rename(app: &TestApp, staff: &Signed, product: &Value, title: &str) -> Value {
    let id = product["id"].as_str().expect("id");
    let body = json!({ "title": title, "version": product["version"] });
    let res = app
        .patch_json(&format!("/api/v1/products/{id}"), &body, staff, None)
        .await;
    expect_json(res, 200).await
}

fn titles(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a page has data")
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn catalog(app: &TestApp, title: &str) -> (Signed, Value) {
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, title, 49_900, b"%PDF-1.4 cached")
        .await;
    (manager, product)
}

/// Waits until every `invalidate_catalog_cache` delivery written so far is DONE, so no
/// invalidation lands in the middle of what the test does next.
async fn settled(app: &TestApp, admin: &Signed) {
    eventually("every cache invalidation is delivered", async || {
        let res = app
            .get(
                "/api/v1/admin/jobs?kind=invalidate_catalog_cache&limit=100",
                admin,
            )
            .await;
        let jobs = expect_json(res, 200).await;
        let data = jobs["data"].as_array().cloned().unwrap_or_default();
        (!data.is_empty() && data.iter().all(|j| j["state"] == "DONE")).then_some(())
    })
    .await;
}

/// The sum of the samples of `name` whose labels include all of `labels`.
fn total(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

async fn cache_count(app: &TestApp, outcome: &str) -> f64 {
    let res = app.get("/metrics", TOKEN).await;
    let text = res.text().await.expect("metrics");
    total(
        &text,
        "nexus_cache_requests_total",
        &[("cache", "products"), ("outcome", outcome)],
    )
}

#[tokio::test]
async fn public_reads_carry_a_strong_etag_and_revalidate_to_304() {
    let app = spawn_app().await;
    let (_, product) = catalog(&app, "Etag Guide").await;
    let detail = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));

    for path in ["/api/v1/products?limit=5", detail.as_str()] {
        let res = get_public(&app, path, None).await;
        let etag = header(&res, "etag").expect("ETag");
        assert_eq!(
            header(&res, "cache-control").as_deref(),
            Some("public, max-age=0, must-revalidate")
        );
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
            "{etag}"
        );
        expect_json(res, 200).await;

        for tags in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"something-else\", {etag}"),
            "*".to_owned(),
        ] {
            let res = get_public(&app, path, Some(&tags)).await;
            assert_eq!(res.status(), 304, "{path} with If-None-Match: {tags}");
            assert_eq!(header(&res, "etag").as_deref(), Some(etag.as_str()));
            assert!(header(&res, "cache-control").is_some());
            assert!(res.bytes().await.expect("body").is_empty());
        }
        let other = get_public(&app, path, Some("\"something-else\"")).await;
        assert_eq!(other.status(), 200);
    }
}

#[tokio::test]
async fn a_change_reaches_the_public_reads_after_its_invalidation_with_a_new_etag() {
    let app = spawn_app().await;
    let (manager, product) = catalog(&app, "Before Guide").await;
    let id = product["id"].as_str().expect("id");
    let detail = format!("/api/v1/products/{id}");
    let (_, list_tag) = read(&app, "/api/v1/products").await;
    let (_, detail_tag) = read(&app, &detail).await;

    rename(&app, &manager, &product, "After Guide").await;

    let changed = eventually("the public detail shows the new title", async || {
        let res = get_public(&app, &detail, Some(&detail_tag)).await;
        (res.status() == 200).then_some(res)
    })
    .await;
    let new_tag = header(&changed, "etag").expect("ETag");
    let body = expect_json(changed, 200).await;
    assert_eq!(body["title"], "After Guide");
    assert_ne!(new_tag, detail_tag);
    let (list, new_list_tag) = read(&app, "/api/v1/products").await;
    assert_eq!(titles(&list), ["After Guide"]);
    assert_ne!(new_list_tag, list_tag);
    let admin = app.admin().await;
    let job = eventually("the invalidation delivery is done", async || {
        let res = app
            .get("/api/v1/admin/jobs?kind=invalidate_catalog_cache", &admin)
            .await;
        let jobs = expect_json(res, 200).await;
        jobs["data"]
            .as_array()
            .and_then(|d| d.iter().find(|j| j["state"] == "DONE").cloned())
    })
    .await;
    assert_eq!(job["kind"], "invalidate_catalog_cache");
}

#[tokio::test]
async fn without_its_invalidation_a_cached_answer_stays_and_staff_views_are_never_cached() {
    let Some(redis) = shared_redis() else { return };
    let prefix = unique_redis_prefix();
    // No worker here: the change's invalidation waits in the outbox, so the public answer
    // stays as cached; a worker started later delivers it.
    let app = spawn_app_with(&[
        ("REDIS_URL", &redis),
        ("REDIS_KEY_PREFIX", &prefix),
        ("WORKER_IN_SERVE", "false"),
    ])
    .await;
    let (manager, product) = catalog(&app, "Cached Guide").await;
    let id = product["id"].as_str().expect("id");
    let detail = format!("/api/v1/products/{id}");
    // Read first as staff: the public route gives staff the public answer, never theirs.
    let as_staff = expect_json(app.get(&detail, &manager).await, 200).await;
    assert!(as_staff.get("createdBy").is_none(), "{as_staff}");
    let (before, tag) = read(&app, &detail).await;
    assert!(before.get("createdBy").is_none());
    assert!(before["asset"].is_null());
    let publish_time_read = read(&app, "/api/v1/products").await;

    rename(&app, &manager, &product, "Renamed Guide").await;

    let admin_list = app.get("/api/v1/admin/products", &manager).await;
    assert!(header(&admin_list, "cache-control").is_none_or(|c| !c.contains("public")));
    let admin_list = expect_json(admin_list, 200).await;
    assert_eq!(
        titles(&admin_list),
        ["Renamed Guide"],
        "staff read the database"
    );
    let (stale, stale_tag) = read(&app, &detail).await;
    assert_eq!(
        stale["title"], "Cached Guide",
        "no invalidation delivered yet"
    );
    assert_eq!(stale_tag, tag);
    assert_eq!(read(&app, "/api/v1/products").await, publish_time_read);

    let worker = app.spawn_another(&[("WORKER_IN_SERVE", "true")]).await;
    let fresh = eventually("the invalidation reaches the first instance", async || {
        let (body, etag) = read(&app, &detail).await;
        (body["title"] == "Renamed Guide").then_some(etag)
    })
    .await;
    assert_ne!(fresh, tag);
    drop(worker);
}

#[tokio::test]
async fn two_instances_sharing_redis_see_a_change_once_it_is_invalidated() {
    let Some(redis) = shared_redis() else { return };
    let prefix = unique_redis_prefix();
    let a = spawn_app_with(&[
        ("REDIS_URL", &redis),
        ("REDIS_KEY_PREFIX", &prefix),
        ("WORKER_POLL_MS", "50"),
    ])
    .await;
    // b runs no worker: only a delivers the invalidation, so b learns of it through Redis.
    let b = a.spawn_another(&[("WORKER_IN_SERVE", "false")]).await;
    let (manager, product) = catalog(&a, "Shared Guide").await;
    let detail = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    let admin = a.admin().await;
    let done = async || {
        let res = a
            .get(
                "/api/v1/admin/jobs?kind=invalidate_catalog_cache&state=DONE",
                &admin,
            )
            .await;
        expect_json(res, 200).await["meta"]["total"]
            .as_u64()
            .unwrap_or(0)
    };
    let delivered = eventually("the publish invalidation is delivered", async || {
        let n = done().await;
        (n > 0).then_some(n)
    })
    .await;
    let (on_b, _) = read(&b, &detail).await;
    let (on_a, _) = read(&a, &detail).await;
    assert_eq!(on_a, on_b, "one shared answer");

    rename(&a, &manager, &product, "Shared Guide v2").await;
    eventually("the rename's invalidation is delivered", async || {
        (done().await > delivered).then_some(())
    })
    .await;
    let invalidated = Instant::now();
    let seen = eventually("the other instance shows the change", async || {
        let (body, _) = read(&b, &detail).await;
        (body["title"] == "Shared Guide v2").then_some(Instant::now())
    })
    .await;
    note(&format!(
        "b saw the change {:?} after the invalidation was recorded",
        seen.duration_since(invalidated)
    ));
    drop(b);
}

#[tokio::test]
async fn with_redis_down_public_reads_are_answered_from_the_database() {
    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let app = spawn_app_with(&[("REDIS_URL", &redis.url()), ("METRICS_TOKEN", TOKEN)]).await;
    let (_, product) = catalog(&app, "Outage Guide").await;
    let detail = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    let (cached, _) = read(&app, &detail).await;
    let bypassed_before = cache_count(&app, "bypass").await;

    redis.stop().await;

    // The first reads may still use the generation read just before (it is reused for a
    // fraction of a second); after that, every read goes to the database.
    eventually("reads bypass the cache", async || {
        let mut answers = Vec::new();
        for path in [detail.as_str(), "/api/v1/products"] {
            let res = app
                .request(reqwest::Method::GET, path, NO_TOKEN)
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .expect("answered during the outage");
            answers.push(expect_json(res, 200).await);
        }
        assert_eq!(answers[0], cached);
        assert_eq!(titles(&answers[1]), ["Outage Guide"]);
        (cache_count(&app, "bypass").await > bypassed_before).then_some(())
    })
    .await;

    redis.start_again().await;
    eventually("reads use the cache again", async || {
        let hits = cache_count(&app, "hit").await;
        let (body, _) = read(&app, &detail).await;
        assert_eq!(body, cached);
        (cache_count(&app, "hit").await > hits).then_some(())
    })
    .await;
}

#[tokio::test]
async fn metrics_count_cache_misses_and_hits() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let (_, product) = catalog(&app, "Counted Guide").await;
    settled(&app, &app.admin().await).await;
    // Each test has its own query, so its key is missed once whatever ran before.
    let path = format!(
        "/api/v1/products?q={}",
        product["title"].as_str().expect("title").replace(' ', "+")
    );
    let (misses, hits) = (
        cache_count(&app, "miss").await,
        cache_count(&app, "hit").await,
    );

    let first = read(&app, &path).await;
    let second = read(&app, &path).await;
    let third = read(&app, &path).await;

    assert_eq!(first, second);
    assert_eq!(second, third);
    assert_eq!(cache_count(&app, "miss").await, misses + 1.0);
    assert_eq!(cache_count(&app, "hit").await, hits + 2.0);
}
