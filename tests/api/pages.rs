//! CMS pages end to end: publish → public read with ETag and 304 → an edit the public does
//! not see → publish again; optimistic versions and racing writers; the worker's scheduled
//! publication; signed previews (tampered, expired); versions, diff and restore; who may do
//! what; validation errors with block paths; the audit trail.

use std::time::Duration;

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, detail_fields, eventually, expect_json, header,
    spawn_app, spawn_app_with,
};
use reqwest::Response;
use serde_json::{Value, json};

fn page_body(key: &str, title: &str) -> Value {
    json!({
        "key": key,
        "slug": key,
        "title": title,
        "blocks": [
            {"type": "hero", "heading": title, "cta": {"label": "Shop", "href": "/products"}},
            {"type": "richText", "text": "Hello **world**"},
        ],
        "seo": {"metaTitle": title, "robots": "index,follow"},
    })
}

async fn create(app: &TestApp, who: &Signed, key: &str, title: &str) -> Value {
    let res = app
        .post_json("/api/v1/admin/pages", &page_body(key, title), who)
        .await;
    expect_json(res, 201).await
}

fn id(page: &Value) -> String {
    page["id"].as_str().expect("a page id").to_owned()
}

async fn act(app: &TestApp, who: &Signed, page: &Value, action: &str) -> Response {
    app.post_json(
        &format!("/api/v1/admin/pages/{}/{action}", id(page)),
        &json!({ "version": page["version"] }),
        who,
    )
    .await
}

async fn public(app: &TestApp, slug: &str, if_none_match: Option<&str>) -> Response {
    let mut req = app.request(
        reqwest::Method::GET,
        &format!("/api/v1/content/pages/{slug}"),
        NO_TOKEN,
    );
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    req.send().await.expect("answered")
}

#[tokio::test]
async fn the_public_sees_the_published_snapshot_with_etags_until_the_next_publication() {
    let app = spawn_app_with(&[("WORKER_POLL_MS", "50")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let page = create(&app, &editor, "about", "About us").await;
    assert_eq!(page["status"], "DRAFT");
    assert_error(public(&app, "about", None).await, 404, "not_found").await;

    let published = expect_json(act(&app, &editor, &page, "publish").await, 200).await;
    assert_eq!(published["status"], "PUBLISHED");
    let res = public(&app, "about", None).await;
    let tag = header(&res, "etag").expect("an ETag");
    let body = expect_json(res, 200).await;
    assert_eq!(body["title"], "About us");
    assert_eq!(body["blocks"][0]["type"], "hero");
    assert_eq!(body["seo"]["robots"], "index,follow");
    let res = public(&app, "about", Some(&tag)).await;
    assert_eq!(res.status(), 304);

    // An edit changes the draft only.
    let res = app
        .patch_json(
            &format!("/api/v1/admin/pages/{}", id(&page)),
            &json!({ "title": "About the team", "version": published["version"] }),
            &editor,
            None,
        )
        .await;
    let edited = expect_json(res, 200).await;
    assert_eq!(edited["title"], "About the team");
    assert_eq!(edited["published"]["version"], published["version"]);
    let body = expect_json(public(&app, "about", None).await, 200).await;
    assert_eq!(body["title"], "About us");

    expect_json(act(&app, &editor, &edited, "publish").await, 200).await;
    let (fresh, new_tag) = eventually("the new publication to be served", async || {
        let res = public(&app, "about", Some(&tag)).await;
        if res.status() != 200 {
            return None;
        }
        let new_tag = header(&res, "etag")?;
        Some((expect_json(res, 200).await, new_tag))
    })
    .await;
    assert_eq!(fresh["title"], "About the team");
    assert_ne!(new_tag, tag);
    assert_eq!(public(&app, "about", Some(&new_tag)).await.status(), 304);
    // Another locale has nothing there.
    let res = app
        .get("/api/v1/content/pages/about?locale=en-IN", NO_TOKEN)
        .await;
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_stale_version_is_409_and_of_two_racing_edits_one_wins() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let page = create(&app, &editor, "pricing", "Pricing").await;
    let path = format!("/api/v1/admin/pages/{}", id(&page));

    let (body_a, body_b) = (
        json!({"title": "A", "version": 1}),
        json!({"title": "B", "version": 1}),
    );
    let a = app.patch_json(&path, &body_a, &editor, None);
    let b = app.patch_json(&path, &body_b, &manager, None);
    let (a, b) = tokio::join!(a, b);
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let loser = if a.status() == 409 { a } else { b };
    assert_error(loser, 409, "conflict").await;

    let stale = app
        .patch_json(&path, &json!({"title": "C", "version": 1}), &editor, None)
        .await;
    assert_error(stale, 409, "conflict").await;
    let stale_publish = app
        .post_json(&format!("{path}/publish"), &json!({"version": 1}), &editor)
        .await;
    assert_error(stale_publish, 409, "conflict").await;
    let without = app
        .patch_json(&path, &json!({"title": "D"}), &editor, None)
        .await;
    assert_error(without, 428, "precondition_required").await;
    let current = expect_json(app.get(&path, &editor).await, 200).await;
    assert_eq!(current["version"], 2);
}

#[tokio::test]
async fn the_worker_publishes_a_scheduled_page_when_its_time_comes() {
    let app = spawn_app_with(&[("WORKER_POLL_MS", "50")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let page = create(&app, &editor, "launch", "Launch day").await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let res = app
        .post_json(
            &format!("/api/v1/admin/pages/{}/schedule", id(&page)),
            &json!({ "version": 1, "publishAt": at }),
            &editor,
        )
        .await;
    let scheduled = expect_json(res, 200).await;
    assert_eq!(scheduled["status"], "SCHEDULED");
    assert_error(public(&app, "launch", None).await, 404, "not_found").await;

    let body = eventually("the scheduled page to be public", async || {
        let res = public(&app, "launch", None).await;
        if res.status() == 200 {
            Some(expect_json(res, 200).await)
        } else {
            None
        }
    })
    .await;
    assert_eq!(body["title"], "Launch day");
    let now = expect_json(
        app.get(&format!("/api/v1/admin/pages/{}", id(&page)), &editor)
            .await,
        200,
    )
    .await;
    assert_eq!(now["status"], "PUBLISHED");
    assert!(now["publishAt"].is_null());
    let audit = expect_json(
        app.get(
            &format!(
                "/api/v1/admin/content/audit?entityKind=page&entityId={}",
                id(&page)
            ),
            &editor,
        )
        .await,
        200,
    )
    .await;
    let newest = &audit["data"][0];
    assert_eq!(newest["action"], "published");
    assert!(newest["actorId"].is_null(), "the scheduler acted: {newest}");

    // A time in the past, or an end before the start, is refused.
    let res = app
        .post_json(
            &format!("/api/v1/admin/pages/{}/schedule", id(&page)),
            &json!({ "version": now["version"], "unpublishAt": "2000-01-01T00:00:00Z" }),
            &editor,
        )
        .await;
    let err = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&err), ["unpublishAt"]);
}

#[tokio::test]
async fn a_preview_link_shows_the_draft_and_refuses_tampering_and_expiry() {
    let app = spawn_app_with(&[("PREVIEW_TTL_SECS", "2")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let page = create(&app, &editor, "secret-sale", "Secret sale").await;
    let res = app
        .post(
            &format!("/api/v1/admin/pages/{}/preview", id(&page)),
            &editor,
        )
        .await;
    let link = expect_json(res, 200).await;
    let token = link["token"].as_str().expect("a token").to_owned();
    assert_eq!(
        link["url"].as_str(),
        Some(format!("/api/v1/content/preview/{token}").as_str())
    );

    let res = app
        .get(&format!("/api/v1/content/preview/{token}"), NO_TOKEN)
        .await;
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    let shown = expect_json(res, 200).await;
    assert_eq!(shown["title"], "Secret sale");
    assert_eq!(shown["version"], 1);

    let mut tampered = token.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == '0' { '1' } else { '0' });
    let res = app
        .get(&format!("/api/v1/content/preview/{tampered}"), NO_TOKEN)
        .await;
    assert_error(res, 404, "not_found").await;
    let forged = token.replacen(".1.", ".2.", 1);
    let res = app
        .get(&format!("/api/v1/content/preview/{forged}"), NO_TOKEN)
        .await;
    assert_error(res, 404, "not_found").await;

    tokio::time::sleep(Duration::from_secs(3)).await;
    let res = app
        .get(&format!("/api/v1/content/preview/{token}"), NO_TOKEN)
        .await;
    assert_error(res, 410, "preview_expired").await;
}

#[tokio::test]
async fn versions_diff_and_restore() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let page = create(&app, &editor, "faq", "Questions").await;
    let path = format!("/api/v1/admin/pages/{}", id(&page));
    let mut blocks = page["blocks"].as_array().cloned().expect("blocks");
    blocks[1] = json!({"type": "richText", "text": "Changed"});
    blocks.push(json!({"type": "faq", "items": [{"question": "Why?", "answer": "Because."}]}));
    let res = app
        .patch_json(
            &path,
            &json!({"title": "Answers", "blocks": blocks, "version": 1}),
            &editor,
            None,
        )
        .await;
    expect_json(res, 200).await;

    let diff = expect_json(
        app.get(&format!("{path}/diff?from=1&to=2"), &editor).await,
        200,
    )
    .await;
    let fields: Vec<&str> = diff["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["title"]);
    assert_eq!(diff["fields"][0]["old"], "Questions");
    assert_eq!(diff["fields"][0]["new"], "Answers");
    assert_eq!(
        diff["blocks"],
        json!({"added": [2], "removed": [], "changed": [1]})
    );

    let restored = expect_json(
        app.post_json(
            &format!("{path}/versions/1/restore"),
            &json!({"version": 2}),
            &editor,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(restored["version"], 3);
    assert_eq!(restored["title"], "Questions");
    assert_eq!(restored["blocks"], page["blocks"]);
    let versions = expect_json(
        app.get(&format!("{path}/versions?limit=2"), &editor).await,
        200,
    )
    .await;
    assert_eq!(versions["meta"]["total"], 3);
    assert_eq!(versions["data"][0]["number"], 3);
    assert_eq!(versions["data"].as_array().map(Vec::len), Some(2));
    let v2 = expect_json(app.get(&format!("{path}/versions/2"), &editor).await, 200).await;
    assert_eq!(v2["content"]["title"], "Answers");
    assert_error(
        app.get(&format!("{path}/versions/9"), &editor).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&format!("{path}/diff?from=1&to=9"), &editor).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn only_editors_managers_and_admins_work_on_pages() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.register_customer("Cara", "Buyer").await;
    let manager = app.sign_in_as(Role::Manager).await;
    let admin = app.admin().await;
    for who in [&cso, &customer] {
        let res = app
            .post_json("/api/v1/admin/pages", &page_body("nope", "Nope"), who)
            .await;
        assert_error(res, 403, "forbidden").await;
        assert_error(app.get("/api/v1/admin/pages", who).await, 403, "forbidden").await;
        assert_error(
            app.get("/api/v1/admin/content/audit", who).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_error(
        app.get("/api/v1/admin/pages", NO_TOKEN).await,
        401,
        "unauthorized",
    )
    .await;
    let made = create(&app, &manager, "terms", "Terms").await;
    expect_json(act(&app, &admin, &made, "publish").await, 200).await;
    let listed = expect_json(
        app.get("/api/v1/admin/pages?status=published&q=TERM", &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(listed["meta"]["total"], 1);
    let bad = app.get("/api/v1/admin/pages?status=LIVE", &admin).await;
    assert_error(bad, 400, "validation_failed").await;
}

#[tokio::test]
async fn bad_blocks_and_fields_are_400_with_their_paths() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let mut body = page_body("Bad Key", "Bad");
    body["slug"] = json!("bad");
    body["blocks"] = json!([
        {"type": "richText", "text": "fine"},
        {"type": "faq", "items": [{"question": "", "answer": "a"}]},
        {"type": "callToAction", "label": "Go", "href": "javascript:alert(1)"},
        {"type": "carousel"},
    ]);
    let res = app.post_json("/api/v1/admin/pages", &body, &editor).await;
    let err = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        detail_fields(&err),
        [
            "key",
            "blocks[1].items[0].question",
            "blocks[2].href",
            "blocks[3]"
        ]
    );
    let taken = create(&app, &editor, "home", "Home").await;
    let mut same_key = page_body("home", "Again");
    same_key["slug"] = json!("home-again");
    let res = app
        .post_json("/api/v1/admin/pages", &same_key, &editor)
        .await;
    assert_error(res, 409, "key_taken").await;
    let mut same_slug = page_body("home-2", "Again");
    same_slug["slug"] = json!("home");
    let res = app
        .post_json("/api/v1/admin/pages", &same_slug, &editor)
        .await;
    assert_error(res, 409, "slug_taken").await;
    let res = app.get("/api/v1/admin/pages/not-a-uuid", &editor).await;
    assert_error(res, 404, "not_found").await;
    assert_eq!(taken["version"], 1);
}

#[tokio::test]
async fn a_published_page_is_unpublished_before_it_is_deleted_and_the_audit_keeps_it_all() {
    let app = spawn_app_with(&[("WORKER_POLL_MS", "50")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let page = create(&app, &editor, "old-news", "Old news").await;
    let path = format!("/api/v1/admin/pages/{}", id(&page));
    let published = expect_json(act(&app, &editor, &page, "publish").await, 200).await;
    assert_error(app.delete(&path, &editor).await, 409, "invalid_transition").await;

    let unpublished = expect_json(act(&app, &editor, &published, "unpublish").await, 200).await;
    assert_eq!(unpublished["status"], "DRAFT");
    assert!(unpublished["published"].is_null());
    eventually("the page to leave the public cache", async || {
        (public(&app, "old-news", None).await.status() == 404).then_some(())
    })
    .await;
    assert_eq!(app.delete(&path, &editor).await.status(), 204);
    assert_error(app.get(&path, &editor).await, 404, "not_found").await;

    let audit = expect_json(
        app.get(
            &format!("/api/v1/admin/content/audit?entityId={}", id(&page)),
            &editor,
        )
        .await,
        200,
    )
    .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["deleted", "unpublished", "published", "created"]);
    assert_eq!(audit["data"][3]["actorId"], json!(editor.user_id));
    assert_eq!(audit["data"][2]["changes"]["status"]["to"], "PUBLISHED");
}

#[tokio::test]
async fn two_workers_publish_a_batch_of_scheduled_pages_exactly_once() {
    let app = spawn_app_with(&[("WORKER_POLL_MS", "20")]).await;
    let other = app.spawn_another(&[("WORKER_POLL_MS", "20")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let mut ids = Vec::new();
    for i in 0..6 {
        let page = create(&app, &editor, &format!("batch-{i}"), "Batch").await;
        let res = app
            .post_json(
                &format!("/api/v1/admin/pages/{}/schedule", id(&page)),
                &json!({ "version": 1, "publishAt": at }),
                &editor,
            )
            .await;
        expect_json(res, 200).await;
        ids.push(id(&page));
    }

    for page_id in &ids {
        let path = format!("/api/v1/admin/pages/{page_id}");
        let page = eventually("the scheduled page to be published", async || {
            let page = expect_json(app.get(&path, &editor).await, 200).await;
            (page["status"] == "PUBLISHED").then_some(page)
        })
        .await;
        // Created (1), scheduled (2), published once (3).
        assert_eq!(page["version"], 3, "{page}");
        let audit = expect_json(
            app.get(
                &format!("/api/v1/admin/content/audit?entityId={page_id}"),
                &editor,
            )
            .await,
            200,
        )
        .await;
        let published = audit["data"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["action"] == "published")
            .count();
        assert_eq!(published, 1, "{audit}");
    }
    drop(other);
}

#[tokio::test]
async fn the_public_page_has_generated_meta_until_the_editor_sets_it_and_an_absolute_canonical() {
    let app = spawn_app_with(&[
        ("WORKER_POLL_MS", "50"),
        ("PUBLIC_BASE_URL", "https://shop.example"),
        ("SITE_NAME", "Acme"),
    ])
    .await;
    let editor = app.sign_in_as(Role::Editor).await;
    let text = "Plans for teams of every size, billed monthly or yearly, with no surprises.";
    let res = app
        .post_json(
            "/api/v1/admin/pages",
            &json!({
                "key": "pricing",
                "slug": "pricing",
                "title": "Pricing",
                "blocks": [{"type": "richText", "text": text}],
                "seo": {"socialImage": "/media/pricing.png"},
            }),
            &editor,
        )
        .await;
    let page = expect_json(res, 201).await;
    let published = expect_json(act(&app, &editor, &page, "publish").await, 200).await;
    let res = public(&app, "pricing", None).await;
    let tag = header(&res, "etag").expect("an ETag");
    let body = expect_json(res, 200).await;
    let seo = &body["seo"];
    assert_eq!(seo["metaTitle"], "Pricing | Acme");
    assert_eq!(seo["metaTitleGenerated"], true);
    assert_eq!(seo["metaDescription"], text);
    assert_eq!(seo["metaDescriptionGenerated"], true);
    assert_eq!(seo["canonical"], "https://shop.example/pricing");
    assert_eq!(seo["robots"], "index,follow");
    assert_eq!(seo["socialImage"], "https://shop.example/media/pricing.png");
    let ld = &seo["structuredData"];
    assert_eq!(ld["@type"], "WebPage");
    assert_eq!(ld["name"], "Pricing");
    assert_eq!(ld["url"], "https://shop.example/pricing");
    assert_eq!(ld["inLanguage"], "en");
    assert_eq!(ld["description"], text);
    // The rest of the answer keeps its shape.
    assert_eq!(body["title"], "Pricing");
    assert_eq!(body["blocks"][0]["type"], "richText");
    assert_eq!(body["version"], published["published"]["version"]);

    // The editor's own text replaces the generated one, as written.
    let res = app
        .patch_json(
            &format!("/api/v1/admin/pages/{}", id(&page)),
            &json!({
                "seo": {
                    "metaTitle": "Prices for every team",
                    "metaDescription": "What each plan costs, and what it includes.",
                    "canonical": "/plans",
                    "robots": "noindex,follow",
                },
                "version": published["version"],
            }),
            &editor,
            None,
        )
        .await;
    let edited = expect_json(res, 200).await;
    expect_json(act(&app, &editor, &edited, "publish").await, 200).await;
    let fresh = eventually("the editor's meta to be served", async || {
        let res = public(&app, "pricing", Some(&tag)).await;
        (res.status() == 200).then_some(())?;
        Some(expect_json(res, 200).await)
    })
    .await;
    let seo = &fresh["seo"];
    assert_eq!(seo["metaTitle"], "Prices for every team");
    assert_eq!(seo["metaTitleGenerated"], false);
    assert_eq!(
        seo["metaDescription"],
        "What each plan costs, and what it includes."
    );
    assert_eq!(seo["metaDescriptionGenerated"], false);
    assert_eq!(seo["canonical"], "https://shop.example/plans");
    assert_eq!(seo["robots"], "noindex,follow");
    assert!(seo.get("socialImage").is_none(), "{seo}");
}
