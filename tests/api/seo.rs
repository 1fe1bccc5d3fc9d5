//! SEO end to end: a product published with a bad title is audited through the outbox and
//! its SEO block names the finding; fixing it clears it; duplicate titles are flagged on
//! both items; a scan lists every public item worst first with the site score the mean;
//! an unpublished item leaves the report; who may read and scan.

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, eventually, expect_json, product_body,
    spawn_app_with,
};
use serde_json::{Value, json};

const GOOD_TITLE: &str = "A complete guide to planning small business budgets";

async fn fast_app() -> TestApp {
    spawn_app_with(&[("WORKER_POLL_MS", "50")]).await
}

async fn product(app: &TestApp, who: &Signed, title: &str) -> Value {
    let draft = app.create_product(who, &product_body(title, 49_900)).await;
    let id = draft["id"].as_str().expect("an id");
    let slug = draft["slug"].as_str().expect("a slug");
    let res = app
        .post_file(
            &format!("/api/v1/products/{id}/asset"),
            "file",
            &format!("{slug}.pdf"),
            "application/pdf",
            b"%PDF-1.4 guide",
            who,
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .post(&format!("/api/v1/products/{id}/publish"), who)
        .await;
    expect_json(res, 200).await
}

fn rules(block: &Value) -> Vec<String> {
    block["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().expect("a rule").to_owned())
        .collect()
}

/// The item's SEO block once `ready` holds for it.
async fn block_when(
    app: &TestApp,
    who: &Signed,
    path: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    eventually(what, async || {
        let res = app.get(path, who).await;
        if res.status() != 200 {
            return None;
        }
        let body: Value = res.json().await.ok()?;
        ready(&body).then_some(body)
    })
    .await
}

fn item_path(kind: &str, item: &Value) -> String {
    format!(
        "/api/v1/seo/items/{kind}/{}",
        item["id"].as_str().expect("an id")
    )
}

#[tokio::test]
async fn a_published_product_is_audited_through_the_outbox_and_a_fixed_title_clears_the_finding() {
    let app = fast_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let published = product(&app, &manager, "Guide").await;
    let path = item_path("product", &published);

    let block = block_when(&app, &editor, &path, "the product's audit", |b| {
        b["audited_at"].is_null() && b["auditedAt"].is_string()
    })
    .await;
    assert_eq!(block["kind"], "product");
    assert_eq!(
        block["path"],
        format!("/products/{}", published["slug"].as_str().expect("present"))
    );
    assert!(
        rules(&block).contains(&"title_length".to_owned()),
        "{block}"
    );
    let score = block["score"].as_u64().expect("a score");
    assert!(score < 100);
    let finding = &block["findings"][0];
    assert!(finding["severity"].is_string() && finding["message"].is_string());

    let res = app
        .patch_json(
            &format!(
                "/api/v1/products/{}",
                published["id"].as_str().expect("present")
            ),
            &json!({ "title": GOOD_TITLE, "version": published["version"] }),
            &manager,
            None,
        )
        .await;
    expect_json(res, 200).await;
    let fixed = block_when(&app, &editor, &path, "the finding to go", |b| {
        !rules(b).contains(&"title_length".to_owned())
    })
    .await;
    assert_eq!(fixed["title"], GOOD_TITLE);
    assert!(fixed["score"].as_u64().expect("present") > score);
}

#[tokio::test]
async fn duplicate_titles_are_flagged_on_both_items_and_cleared_when_one_goes() {
    let app = fast_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = product(&app, &manager, GOOD_TITLE).await;
    let second = product(&app, &manager, GOOD_TITLE).await;
    let dup = |b: &Value| rules(b).contains(&"duplicate_title".to_owned());
    for item in [&first, &second] {
        block_when(
            &app,
            &manager,
            &item_path("product", item),
            "both duplicates flagged",
            dup,
        )
        .await;
    }
    // The second leaves the site: the first is no longer a duplicate, the second has no block.
    let res = app
        .post(
            &format!(
                "/api/v1/products/{}/unpublish",
                second["id"].as_str().expect("present")
            ),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    block_when(
        &app,
        &manager,
        &item_path("product", &first),
        "the duplicate finding to go",
        |b| !dup(b),
    )
    .await;
    let res = app.get(&item_path("product", &second), &manager).await;
    assert_error(res, 404, "not_found").await;
}

async fn report(app: &TestApp, who: &Signed, query: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/seo/report{query}"), who).await,
        200,
    )
    .await
}

#[tokio::test]
async fn a_scan_lists_every_public_item_worst_first_with_the_mean_as_site_score() {
    let app = fast_app().await;
    let admin = app.admin().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let empty = report(&app, &editor, "").await;
    assert_eq!(empty["score"], 100);
    assert_eq!(empty["items"], 0);
    assert_eq!(empty["meta"]["total"], 0);

    let products = [
        product(&app, &admin, "Guide").await,
        product(&app, &admin, GOOD_TITLE).await,
    ];
    let page = expect_json(
        app.post_json(
            "/api/v1/admin/pages",
            &json!({
                "key": "about",
                "slug": "about",
                "title": "About us",
                "blocks": [{"type": "richText", "text": "We write [guides](/nowhere) for [everyone](/products)."}],
                "seo": {"metaTitle": "About the people who write our business guides"},
            }),
            &editor,
        )
        .await,
        201,
    )
    .await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/admin/pages/{}/publish",
                page["id"].as_str().expect("present")
            ),
            &json!({ "version": page["version"] }),
            &editor,
        )
        .await;
    expect_json(res, 200).await;

    // Wipe what the subscribers stored, so only the scan can fill the report again.
    let db = app.db().await;
    sea_orm::ConnectionTrait::execute_unprepared(&db, "DELETE FROM seo_audits")
        .await
        .expect("cleared");
    let res = app.post("/api/v1/seo/scan", &editor).await;
    let queued = expect_json(res, 202).await;
    assert!(
        ["QUEUED", "ALREADY_QUEUED"].contains(&queued["status"].as_str().expect("present")),
        "{queued}"
    );
    let full = eventually("the scan to audit all three items", async || {
        let body = report(&app, &editor, "?limit=100").await;
        (body["items"] == 3).then_some(body)
    })
    .await;
    let data = full["data"].as_array().expect("items");
    assert_eq!(data.len(), 3);
    assert_eq!(full["meta"]["total"], 3);
    let scores: Vec<u64> = data
        .iter()
        .map(|i| i["score"].as_u64().expect("present"))
        .collect();
    let mut sorted = scores.clone();
    sorted.sort_unstable();
    assert_eq!(scores, sorted, "worst first");
    assert_eq!(full["score"], scores.iter().sum::<u64>() / 3);
    let errors: usize = data
        .iter()
        .flat_map(|i| i["findings"].as_array().expect("present"))
        .filter(|f| f["severity"] == "ERROR")
        .count();
    assert_eq!(full["counts"]["error"], errors as u64);
    let about = data.iter().find(|i| i["kind"] == "page").expect("the page");
    assert_eq!(about["path"], "/about");
    let broken = about["findings"]
        .as_array()
        .expect("present")
        .iter()
        .find(|f| f["rule"] == "broken_internal_link")
        .expect("the dead link");
    let message = broken["message"].as_str().expect("present");
    assert!(
        message.contains("/nowhere") && !message.contains("/products"),
        "{message}"
    );
    for item in &products {
        let id = item["id"].as_str().expect("present");
        assert!(data.iter().any(|i| i["id"] == id), "{id} in the report");
    }
    // Paging: one item a page, the worst first.
    let first = report(&app, &editor, "?limit=1").await;
    assert_eq!(first["data"].as_array().expect("present").len(), 1);
    assert_eq!(first["data"][0]["score"], scores[0]);
    assert_eq!(first["meta"]["totalPages"], 3);

    // Unpublished: gone from the report.
    let res = app
        .post(
            &format!(
                "/api/v1/products/{}/unpublish",
                products[0]["id"].as_str().expect("present")
            ),
            &admin,
        )
        .await;
    expect_json(res, 200).await;
    eventually("the unpublished product to leave the report", async || {
        let body = report(&app, &editor, "?limit=100").await;
        let gone = body["items"] == 2
            && !body["data"]
                .as_array()?
                .iter()
                .any(|i| i["id"] == products[0]["id"]);
        gone.then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_second_scan_request_while_one_waits_queues_nothing_more() {
    // No worker in this process: the first scan stays queued.
    let app = spawn_app_with(&[("WORKER_IN_SERVE", "false")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let first = expect_json(app.post("/api/v1/seo/scan", &editor).await, 202).await;
    assert_eq!(first["status"], "QUEUED");
    let second = expect_json(app.post("/api/v1/seo/scan", &editor).await, 202).await;
    assert_eq!(second["status"], "ALREADY_QUEUED");
}

#[tokio::test]
async fn seo_routes_need_the_seo_permissions_and_unknown_items_are_404() {
    let app = fast_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.register_customer("Ravi", "Kumar").await;
    for who in [&cso, &customer] {
        assert_error(app.get("/api/v1/seo/report", who).await, 403, "forbidden").await;
        assert_error(app.post("/api/v1/seo/scan", who).await, 403, "forbidden").await;
    }
    assert_error(
        app.get("/api/v1/seo/report", NO_TOKEN).await,
        401,
        "unauthorized",
    )
    .await;
    let editor = app.sign_in_as(Role::Editor).await;
    let unknown = format!("/api/v1/seo/items/product/{}", uuid::Uuid::now_v7());
    assert_error(app.get(&unknown, &editor).await, 404, "not_found").await;
    let bad_kind = format!("/api/v1/seo/items/widget/{}", uuid::Uuid::now_v7());
    assert_error(app.get(&bad_kind, &editor).await, 404, "not_found").await;
    assert_error(
        app.get("/api/v1/seo/items/page/not-an-id", &editor).await,
        404,
        "not_found",
    )
    .await;
}
