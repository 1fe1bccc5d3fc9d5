//! SEO end to end: a product published with a bad title is audited through the outbox and
//! its SEO block names the finding; fixing it clears it; duplicate titles are flagged on
//! both items; a scan lists every public item worst first with the site score the mean;
//! an unpublished item leaves the report; who may read and scan. Blog posts are audited
//! too, and a link to a published post is not broken; a scan request is in the audit
//! trail; the public product answer carries its meta, canonical and `Product` JSON-LD.

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
async fn a_product_is_judged_by_the_meta_title_its_answer_serves() {
    let app = spawn_app_with(&[
        ("WORKER_POLL_MS", "50"),
        ("SITE_NAME", "Northwind Digital Goods"),
    ])
    .await;
    let manager = app.sign_in_as(Role::Manager).await;
    let editor = app.sign_in_as(Role::Editor).await;
    // 18 characters alone, too short for results; served as 44 with the site's name.
    let published = product(&app, &manager, "Budget planner kit").await;
    let public = expect_json(
        app.get(
            &format!(
                "/api/v1/products/{}",
                published["id"].as_str().expect("an id")
            ),
            NO_TOKEN,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        public["seo"]["metaTitle"],
        "Budget planner kit | Northwind Digital Goods"
    );
    assert_eq!(public["seo"]["metaTitleGenerated"], true);
    let block = block_when(
        &app,
        &editor,
        &item_path("product", &published),
        "the product's audit",
        |b| b["auditedAt"].is_string(),
    )
    .await;
    assert!(
        !rules(&block).contains(&"title_length".to_owned()),
        "judged by the bare title: {block}"
    );
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

const BASE: &str = "https://shop.example";

async fn put_review(app: &TestApp, product: &Value, body: &Value, who: &Signed) -> Value {
    let id = product["id"].as_str().expect("a product id");
    let res = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/products/{id}/review"),
            who,
        )
        .json(body)
        .send()
        .await
        .expect("the request reaches the app");
    expect_json(res, 201).await
}

#[tokio::test]
async fn a_product_answer_carries_generated_meta_its_canonical_and_a_product_with_its_offer() {
    let app = spawn_app_with(&[
        ("PUBLIC_BASE_URL", BASE),
        ("SITE_NAME", "Acme"),
        ("WORKER_POLL_MS", "50"),
    ])
    .await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.register_customer("Cara", "Buyer").await;
    let product = app
        .published_product(&manager, "Budget guide", 49_950, b"%PDF-1.4 budget")
        .await;
    let session = app.checkout_one(&buyer, &product).await;
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": session["orderId"] }),
            &buyer,
        )
        .await;
    expect_json(res, 200).await;
    let slug = product["slug"].as_str().expect("a slug");
    let detail_path = format!("/api/v1/products/{slug}");

    let detail = expect_json(app.get(&detail_path, NO_TOKEN).await, 200).await;
    let seo = &detail["seo"];
    assert_eq!(seo["metaTitle"], "Budget guide | Acme");
    assert_eq!(seo["metaTitleGenerated"], true);
    // "Budget guide: a digital download." is too short to describe anything.
    assert!(seo["metaDescription"].is_null(), "{seo}");
    assert_eq!(seo["metaDescriptionGenerated"], false);
    assert_eq!(seo["canonical"], format!("{BASE}/products/{slug}"));
    assert_eq!(seo["robots"], "index,follow");
    let ld = &seo["structuredData"];
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Product");
    assert_eq!(ld["name"], "Budget guide");
    assert_eq!(ld["sku"], product["id"]);
    assert_eq!(ld["offers"]["@type"], "Offer");
    assert_eq!(ld["offers"]["price"], "499.50");
    assert_eq!(ld["offers"]["priceCurrency"], "INR");
    assert_eq!(ld["offers"]["availability"], "https://schema.org/InStock");
    assert_eq!(ld["offers"]["url"], seo["canonical"]);
    assert!(ld.get("aggregateRating").is_none(), "{ld}");
    // The list keeps its shape: no SEO block there.
    let list = expect_json(app.get("/api/v1/products?limit=100", NO_TOKEN).await, 200).await;
    assert!(list["data"][0].get("seo").is_none());

    // A review, once published, gives the product its AggregateRating.
    let review = put_review(&app, &product, &json!({ "rating": 4 }), &buyer).await;
    let unpublished = expect_json(app.get(&detail_path, NO_TOKEN).await, 200).await;
    assert!(
        unpublished["seo"]["structuredData"]
            .get("aggregateRating")
            .is_none()
    );
    let res = app
        .post_json(
            &format!(
                "/api/v1/admin/reviews/{}/publish",
                review["id"].as_str().expect("an id")
            ),
            &json!({}),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    let rated = eventually("the product to carry its rating", async || {
        let body = expect_json(app.get(&detail_path, NO_TOKEN).await, 200).await;
        let rating = body["seo"]["structuredData"]["aggregateRating"].clone();
        rating.is_object().then_some(rating)
    })
    .await;
    assert_eq!(rated["@type"], "AggregateRating");
    assert_eq!(rated["ratingValue"], 4.0);
    assert_eq!(rated["reviewCount"], 1);
}

async fn team_member(app: &TestApp, who: &Signed) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/team",
            &json!({"name": "Asha Rao", "roleTitle": "Editor"}),
            who,
        )
        .await;
    expect_json(res, 201).await
}

async fn published_post(app: &TestApp, who: &Signed, author: &Value, slug: &str) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({
                "slug": slug,
                "title": "How we plan small business budgets",
                "body": "Budgets are plans. See [the guides](/products) and [gone](/missing).",
                "authorId": author["id"],
            }),
            who,
        )
        .await;
    let draft = expect_json(res, 201).await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/admin/posts/{}/publish",
                draft["id"].as_str().expect("an id")
            ),
            &json!({ "version": draft["version"] }),
            who,
        )
        .await;
    expect_json(res, 200).await
}

#[tokio::test]
async fn a_published_post_is_audited_and_a_link_to_it_is_no_longer_broken() {
    let app = fast_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let author = team_member(&app, &editor).await;
    let post = published_post(&app, &editor, &author, "budgets").await;
    let path = item_path("post", &post);

    let block = block_when(&app, &editor, &path, "the post's audit", |b| {
        b["auditedAt"].is_string()
    })
    .await;
    assert_eq!(block["kind"], "post");
    assert_eq!(block["path"], "/blog/budgets");
    assert_eq!(block["slug"], "budgets");
    assert!(
        rules(&block).contains(&"thin_content".to_owned()),
        "{block}"
    );
    let broken = block["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "broken_internal_link")
        .expect("the dead link");
    let message = broken["message"].as_str().expect("present");
    assert!(
        message.contains("/missing") && !message.contains("/products"),
        "{message}"
    );

    // A page linking to the published post and to the blog finds both.
    let page = expect_json(
        app.post_json(
            "/api/v1/admin/pages",
            &json!({
                "key": "news",
                "slug": "news",
                "title": "News",
                "blocks": [{"type": "richText",
                    "text": "Read [budgets](/blog/budgets), [the blog](/blog) or [this](/blog/nothing-here)."}],
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
    let audited = block_when(
        &app,
        &editor,
        &item_path("page", &page),
        "the page's audit",
        |b| b["auditedAt"].is_string(),
    )
    .await;
    let message = audited["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "broken_internal_link")
        .and_then(|f| f["message"].as_str())
        .expect("the dead link")
        .to_owned();
    let broken: Vec<&str> = message
        .split_once(": ")
        .expect("a list of paths")
        .1
        .split(", ")
        .collect();
    assert_eq!(broken, ["/blog/nothing-here"], "{message}");

    // Unpublished: its audit goes.
    let current = expect_json(
        app.get(
            &format!("/api/v1/admin/posts/{}", post["id"].as_str().expect("id")),
            &editor,
        )
        .await,
        200,
    )
    .await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/admin/posts/{}/unpublish",
                post["id"].as_str().expect("id")
            ),
            &json!({ "version": current["version"] }),
            &editor,
        )
        .await;
    expect_json(res, 200).await;
    eventually("the unpublished post's audit to go", async || {
        (app.get(&path, &editor).await.status() == 404).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_scan_request_is_in_the_audit_trail_with_who_asked_and_when() {
    let app = spawn_app_with(&[("WORKER_IN_SERVE", "false")]).await;
    let admin = app.admin().await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    expect_json(app.post("/api/v1/seo/scan", &admin).await, 202).await;
    expect_json(app.post("/api/v1/seo/scan", &admin).await, 202).await;

    let trail = expect_json(
        app.get("/api/v1/admin/content/audit?entityKind=seo_scan", &admin)
            .await,
        200,
    )
    .await;
    let entries = trail["data"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{trail}");
    for entry in entries {
        assert_eq!(entry["entityKind"], "seo_scan");
        assert_eq!(entry["action"], "requested");
        assert_eq!(entry["actorId"], admin.user_id.as_str());
        let at: chrono::DateTime<chrono::Utc> = entry["at"]
            .as_str()
            .expect("a time")
            .parse()
            .expect("RFC 3339");
        assert!(at >= before && at <= chrono::Utc::now());
    }
    // Newest first: the second request found the first one waiting.
    assert_eq!(entries[0]["changes"]["status"], "ALREADY_QUEUED");
    assert_eq!(entries[1]["changes"]["status"], "QUEUED");
}
