//! Redirect rules end to end: editors' CRUD with versions (stale → 409, none → 428), loops
//! refused naming the cycle, chains over five refused, the fallback answering site paths
//! with 301/302/410 for GET and HEAD (query kept, trailing slash ignored, API and service
//! paths never redirected), who may do what, the audit trail, and a rule written through
//! one instance served by another.

use nexus_tests::servers::{shared_redis, unique_redis_prefix};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, detail_fields, etag, eventually, expect_json,
    header, note, spawn_app, spawn_app_with,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

async fn create(
    app: &TestApp,
    who: &Signed,
    source: &str,
    kind: u16,
    target: Option<&str>,
) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/redirects",
            &json!({ "source": source, "kind": kind, "target": target, "note": "moved" }),
            who,
        )
        .await;
    expect_json(res, 201).await
}

fn path_of(rule: &Value) -> String {
    format!(
        "/api/v1/admin/redirects/{}",
        rule["id"].as_str().expect("an id")
    )
}

async fn site(app: &TestApp, method: Method, path: &str) -> Response {
    app.request(method, path, NO_TOKEN)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn rules_are_created_read_listed_changed_and_deleted_with_versions_and_audit_entries() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let manager = app.sign_in_as(Role::Manager).await;

    let rule = create(&app, &editor, "/old-guide/", 301, Some("/guides/new")).await;
    assert_eq!(rule["source"], "/old-guide", "{rule}");
    assert_eq!(rule["kind"], 301);
    assert_eq!(rule["target"], "/guides/new");
    assert_eq!(rule["note"], "moved");
    assert_eq!(rule["version"], 1);
    assert_eq!(rule["createdBy"], editor.user_id.as_str());
    let gone = create(&app, &editor, "/retired", 410, None).await;
    assert_eq!(gone["target"], Value::Null);
    let path = path_of(&rule);

    let res = app.get(&path, &manager).await;
    assert_eq!(header(&res, "etag").as_deref(), Some("\"1\""));
    assert_eq!(expect_json(res, 200).await["source"], "/old-guide");

    // The list, filtered on source or target.
    let all = expect_json(app.get("/api/v1/admin/redirects", &editor).await, 200).await;
    assert_eq!(all["meta"]["total"], 2, "{all}");
    assert_eq!(all["data"][0]["source"], "/old-guide", "by source");
    let found = expect_json(
        app.get("/api/v1/admin/redirects?q=GUIDES", &editor).await,
        200,
    )
    .await;
    assert_eq!(found["meta"]["total"], 1, "{found}");
    let none = expect_json(app.get("/api/v1/admin/redirects?q=%25", &editor).await, 200).await;
    assert_eq!(none["meta"]["total"], 0, "a wildcard is literal: {none}");

    // The same source again is 409.
    let res = app
        .post_json(
            "/api/v1/admin/redirects",
            &json!({ "source": "/old-guide", "kind": 302, "target": "/x" }),
            &editor,
        )
        .await;
    assert_error(res, 409, "source_taken").await;

    // A change needs the version read; a stale one is 409.
    let body = json!({ "kind": 302, "target": "https://elsewhere.example/guide" });
    assert_error(
        app.patch_json(&path, &body, &editor, None).await,
        428,
        "precondition_required",
    )
    .await;
    let changed = expect_json(
        app.patch_json(&path, &body, &editor, Some("\"1\"")).await,
        200,
    )
    .await;
    assert_eq!(
        (changed["kind"].as_i64(), changed["version"].as_i64()),
        (Some(302), Some(2))
    );
    assert_eq!(changed["updatedBy"], editor.user_id.as_str());
    let stale = json!({ "note": null, "version": 1 });
    assert_error(
        app.patch_json(&path, &stale, &manager, None).await,
        409,
        "conflict",
    )
    .await;
    let to_gone = json!({ "kind": 410, "version": 2 });
    let changed = expect_json(app.patch_json(&path, &to_gone, &manager, None).await, 200).await;
    assert_eq!(
        changed["target"],
        Value::Null,
        "a 410 drops the target: {changed}"
    );

    // A delete needs the version too.
    assert_error(
        app.delete(&path, &editor).await,
        428,
        "precondition_required",
    )
    .await;
    assert_error(
        app.delete(&format!("{path}?version=1"), &editor).await,
        409,
        "conflict",
    )
    .await;
    let res = app
        .request(Method::DELETE, &path, &editor)
        .header("If-Match", etag(&changed["version"]))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    assert_error(app.get(&path, &editor).await, 404, "not_found").await;
    assert_error(
        app.get("/api/v1/admin/redirects/not-a-uuid", &editor).await,
        404,
        "not_found",
    )
    .await;

    // Every write left its audit entry, naming who.
    let audit = expect_json(
        app.get(
            &format!(
                "/api/v1/admin/content/audit?entityKind=redirect_rule&entityId={}&limit=50",
                rule["id"].as_str().expect("an id")
            ),
            &manager,
        )
        .await,
        200,
    )
    .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        ["deleted", "updated", "updated", "created"],
        "{audit}"
    );
    assert_eq!(
        audit["data"][3]["actorId"],
        editor.user_id.as_str(),
        "{audit}"
    );
    assert_eq!(
        audit["data"][0]["actorId"],
        editor.user_id.as_str(),
        "{audit}"
    );
}

#[tokio::test]
async fn bad_rules_loops_and_long_chains_are_refused_with_what_is_wrong() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let post = async |body: Value| {
        app.post_json("/api/v1/admin/redirects", &body, &editor)
            .await
    };

    for (body, field) in [
        (
            json!({ "source": "old", "kind": 301, "target": "/new" }),
            "source",
        ),
        (
            json!({ "source": "/old?x=1", "kind": 301, "target": "/new" }),
            "source",
        ),
        (
            json!({ "source": "/api/v1/products", "kind": 301, "target": "/new" }),
            "source",
        ),
        (
            json!({ "source": "/health/live", "kind": 301, "target": "/new" }),
            "source",
        ),
        (
            json!({ "source": "/old", "kind": 303, "target": "/new" }),
            "kind",
        ),
        (json!({ "source": "/old", "kind": 301 }), "target"),
        (
            json!({ "source": "/old", "kind": 410, "target": "/new" }),
            "target",
        ),
        (
            json!({ "source": "/old", "kind": 302, "target": "javascript:alert(1)" }),
            "target",
        ),
        (
            json!({ "source": "/old", "kind": 302, "target": "//evil.example/x" }),
            "target",
        ),
        (
            json!({ "source": "/old", "kind": 301, "target": "/new", "note": "n".repeat(501) }),
            "note",
        ),
    ] {
        let err = assert_error(post(body.clone()).await, 400, "validation_failed").await;
        assert_eq!(detail_fields(&err), [field], "{body}");
    }
    let err = assert_error(
        post(json!({ "source": "/a/", "kind": 301, "target": "/a" })).await,
        409,
        "redirect_loop",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("/a -> /a"),
        "{err}"
    );

    // A cycle through the rules in force is named.
    create(&app, &editor, "/b", 301, Some("/c")).await;
    create(&app, &editor, "/c", 302, Some("/a?from=c")).await;
    let err = assert_error(
        post(json!({ "source": "/a", "kind": 301, "target": "/b" })).await,
        409,
        "redirect_loop",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("/a -> /b -> /c -> /a"),
        "{err}"
    );

    // Five redirects in a row land; a sixth, at either end, is refused.
    for i in 1..=4 {
        create(
            &app,
            &editor,
            &format!("/p{i}"),
            301,
            Some(&format!("/p{}", i + 1)),
        )
        .await;
    }
    create(&app, &editor, "/p5", 301, Some("/landing")).await;
    let err = assert_error(
        post(json!({ "source": "/p0", "kind": 301, "target": "/p1" })).await,
        409,
        "redirect_chain_too_long",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("/p0 -> /p1"),
        "{err}"
    );
    let last = expect_json(
        app.get("/api/v1/admin/redirects?q=landing", &editor).await,
        200,
    )
    .await;
    let last = &last["data"][0];
    let res = app
        .patch_json(
            &path_of(last),
            &json!({ "target": "/p6", "version": 1 }),
            &editor,
            None,
        )
        .await;
    assert_eq!(res.status(), 200, "still five");
    create(&app, &editor, "/p6", 410, None).await;
    let res = app
        .patch_json(
            &path_of(last),
            &json!({ "target": "/p7", "version": 2 }),
            &editor,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let err = assert_error(
        post(json!({ "source": "/p7", "kind": 301, "target": "/elsewhere" })).await,
        409,
        "redirect_chain_too_long",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("/p1 -> /p2"),
        "{err}"
    );
}

#[tokio::test]
async fn site_paths_get_the_rules_answers_for_get_and_head_and_api_paths_never_do() {
    let app = spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;
    let moved = create(&app, &editor, "/old-shop", 301, Some("/products?sort=new")).await;
    create(
        &app,
        &editor,
        "/sale/",
        302,
        Some("https://offers.example/sale"),
    )
    .await;
    create(&app, &editor, "/discontinued", 410, None).await;

    let res = site(&app, Method::GET, "/old-shop?utm=x&page=2").await;
    assert_eq!(res.status(), 301);
    assert_eq!(
        header(&res, "location").as_deref(),
        Some("/products?sort=new&utm=x&page=2"),
        "the query is kept"
    );
    let res = site(&app, Method::HEAD, "/old-shop/").await;
    assert_eq!(res.status(), 301, "HEAD, trailing slash ignored");
    assert_eq!(
        header(&res, "location").as_deref(),
        Some("/products?sort=new")
    );
    let res = site(&app, Method::GET, "/sale?x=1").await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        header(&res, "location").as_deref(),
        Some("https://offers.example/sale")
    );
    let res = site(&app, Method::HEAD, "/sale").await;
    assert_eq!(res.status(), 302);
    assert_error(site(&app, Method::GET, "/discontinued").await, 410, "gone").await;
    let res = site(&app, Method::HEAD, "/discontinued/").await;
    assert_eq!(res.status(), 410);

    // Other methods, other paths and API paths are the usual 404.
    assert_error(
        site(&app, Method::POST, "/old-shop").await,
        404,
        "route_not_found",
    )
    .await;
    assert_error(
        site(&app, Method::GET, "/old-shop/more").await,
        404,
        "route_not_found",
    )
    .await;
    assert_error(
        site(&app, Method::GET, "/api/v1/nothing-here").await,
        404,
        "route_not_found",
    )
    .await;
    // A deleted rule answers 404 again.
    let res = app
        .request(
            Method::DELETE,
            &format!("{}?version=1", path_of(&moved)),
            &editor,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    assert_error(
        site(&app, Method::GET, "/old-shop").await,
        404,
        "route_not_found",
    )
    .await;
}

#[tokio::test]
async fn only_editors_managers_and_administrators_manage_redirects() {
    let app = spawn_app().await;
    for role in [Role::Editor, Role::Manager, Role::Admin] {
        let who = app.sign_in_as(role).await;
        let res = app.get("/api/v1/admin/redirects", &who).await;
        assert_eq!(res.status(), 200, "{role:?}");
    }
    for role in [Role::Cso, Role::Customer] {
        let who = app.sign_in_as(role).await;
        let res = app
            .post_json(
                "/api/v1/admin/redirects",
                &json!({ "source": "/x", "kind": 410 }),
                &who,
            )
            .await;
        assert_error(res, 403, "forbidden").await;
    }
    assert_error(
        app.get("/api/v1/admin/redirects", NO_TOKEN).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_rule_written_through_one_instance_is_served_by_another() {
    let Some(redis) = shared_redis() else { return };
    let prefix = unique_redis_prefix();
    let mut app = spawn_app_with(&[
        ("REDIS_URL", redis.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
        ("WORKER_IN_SERVE", "false"),
    ])
    .await;
    if !app.on_postgres() {
        note("two instances need PostgreSQL (TEST_DATABASE_URL): SQLite serves one process");
        return;
    }
    let (_a, a) = app.spawn_server(&[]).await;
    let (_b, b) = app.spawn_server(&[]).await;
    let _worker = app.spawn_worker(&[("WORKER_POLL_MS", "100")]);
    let editor = app.sign_in_as(Role::Editor).await;

    // B has read the (empty) rules before the write.
    app.address.clone_from(&b);
    assert_error(
        site(&app, Method::GET, "/moved").await,
        404,
        "route_not_found",
    )
    .await;

    app.address.clone_from(&a);
    let rule = create(&app, &editor, "/moved", 301, Some("/here")).await;
    app.address.clone_from(&b);
    eventually("B to serve the rule written through A", async || {
        let res = site(&app, Method::GET, "/moved").await;
        (res.status() == 301).then_some(())
    })
    .await;

    // A delete through A is honoured by B as well.
    app.address.clone_from(&a);
    let res = app
        .request(
            Method::DELETE,
            &format!("{}?version=1", path_of(&rule)),
            &editor,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    app.address.clone_from(&b);
    eventually("B to drop the rule deleted through A", async || {
        let res = site(&app, Method::GET, "/moved").await;
        (res.status() == 404).then_some(())
    })
    .await;
}
