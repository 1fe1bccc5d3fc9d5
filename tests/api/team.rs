//! Team members end to end: staff CRUD with versions (a stale one is 409), reorder, the
//! cached public list (ETag, 304, only visible members in order), photos (images only, by
//! their bytes; served through a short-lived link), who may do what, and the audit trail.

use nexus_tests::{
    NO_TOKEN, PNG, Role, Signed, TestApp, assert_error, detail_fields, etag, eventually,
    expect_json, header, spawn_app_with,
};
use reqwest::Response;
use serde_json::{Value, json};

async fn create(app: &TestApp, who: &Signed, name: &str, visible: bool) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/team",
            &json!({
                "name": name,
                "roleTitle": "Engineer",
                "bio": format!("{name} builds things."),
                "links": [{"label": "Site", "url": "https://example.com/me"}],
                "visible": visible,
            }),
            who,
        )
        .await;
    expect_json(res, 201).await
}

fn id(m: &Value) -> String {
    m["id"].as_str().expect("an id").to_owned()
}

async fn public(app: &TestApp, if_none_match: Option<&str>) -> Response {
    let mut req = app.request(reqwest::Method::GET, "/api/v1/content/team", NO_TOKEN);
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    req.send().await.expect("answered")
}

fn names(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn the_public_list_shows_visible_members_in_order_and_follows_every_change() {
    let app = spawn_app_with(&[("WORKER_POLL_MS", "50")]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let asha = create(&app, &editor, "Asha", true).await;
    let _ben = create(&app, &editor, "Ben", false).await;
    let chen = create(&app, &editor, "Chen", true).await;
    assert_eq!(
        (asha["position"].as_i64(), chen["position"].as_i64()),
        (Some(0), Some(2))
    );
    assert_eq!(asha["version"], 1);

    let res = public(&app, None).await;
    let tag = header(&res, "etag").expect("an ETag");
    let body = expect_json(res, 200).await;
    assert_eq!(
        names(&body),
        ["Asha", "Chen"],
        "hidden members are not public"
    );
    assert_eq!(body["meta"]["total"], 2);
    assert!(
        body["data"][0].get("visible").is_none(),
        "staff fields stay private"
    );
    assert_eq!(body["data"][0]["links"][0]["url"], "https://example.com/me");
    assert_eq!(public(&app, Some(&tag)).await.status(), 304);

    // Reorder: Chen first; the public list follows once the cache moves on.
    let res = app
        .post_json(
            "/api/v1/admin/team/reorder",
            &json!({"order": [
                {"id": id(&chen), "version": chen["version"]},
                {"id": id(&asha), "version": asha["version"]},
            ]}),
            &editor,
        )
        .await;
    let saved = expect_json(res, 200).await;
    assert_eq!(saved[0]["position"], 0);
    assert_eq!(saved[1]["position"], 1);
    let after = eventually("the public list shows the new order", async || {
        let res = public(&app, Some(&tag)).await;
        (res.status() == 200).then_some(())?;
        let body = expect_json(res, 200).await;
        (names(&body) == ["Chen", "Asha"]).then_some(body)
    })
    .await;
    assert_eq!(after["meta"]["total"], 2);

    // Hiding a member takes it off the public list.
    let res = app
        .patch_json(
            &format!("/api/v1/admin/team/{}", id(&chen)),
            &json!({"visible": false}),
            &editor,
            Some(&etag(&saved[0]["version"])),
        )
        .await;
    let hidden = expect_json(res, 200).await;
    assert_eq!(hidden["visible"], false);
    eventually("the hidden member leaves the public list", async || {
        let body = expect_json(public(&app, None).await, 200).await;
        (names(&body) == ["Asha"]).then_some(())
    })
    .await;

    // Paging.
    let body = expect_json(
        app.get("/api/v1/admin/team?page=2&limit=1", &editor).await,
        200,
    )
    .await;
    assert_eq!(body["meta"]["total"], 3);
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn updates_need_the_version_read_and_a_stale_one_is_a_conflict() {
    let app = spawn_app_with(&[]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let m = create(&app, &manager, "Dana", true).await;
    let path = format!("/api/v1/admin/team/{}", id(&m));

    assert_error(
        app.patch_json(&path, &json!({"name": "Dana K"}), &manager, None)
            .await,
        428,
        "precondition_required",
    )
    .await;
    let res = app
        .patch_json(
            &path,
            &json!({"name": "Dana K", "version": 1}),
            &manager,
            None,
        )
        .await;
    assert_eq!(header(&res, "etag").as_deref(), Some("\"2\""));
    assert_eq!(expect_json(res, 200).await["name"], "Dana K");
    assert_error(
        app.patch_json(&path, &json!({"bio": "late"}), &manager, Some("\"1\""))
            .await,
        409,
        "conflict",
    )
    .await;

    // Two racing writers at the same version: one wins, one is told.
    let (bio_a, bio_b) = (json!({"bio": "a"}), json!({"bio": "b"}));
    let (a, b) = tokio::join!(
        app.patch_json(&path, &bio_a, &manager, Some("\"2\"")),
        app.patch_json(&path, &bio_b, &manager, Some("\"2\"")),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);

    // Bad input is a 400 with every field named.
    let res = app
        .post_json(
            "/api/v1/admin/team",
            &json!({"name": " ", "roleTitle": "x", "links": [{"label": "x", "url": "javascript:alert(1)"}]}),
            &manager,
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    assert_eq!(fields, ["links[0].url", "name"]);

    // A stale reorder changes nothing.
    let res = app
        .post_json(
            "/api/v1/admin/team/reorder",
            &json!({"order": [{"id": id(&m), "version": 1}]}),
            &manager,
        )
        .await;
    assert_error(res, 409, "conflict").await;

    // Delete at a stale version is 409; at the current one, 204, then 404.
    let del = |tag: &'static str| {
        app.request(reqwest::Method::DELETE, &path, &manager)
            .header("If-Match", tag)
            .send()
    };
    assert_error(del("\"1\"").await.expect("sent"), 409, "conflict").await;
    let current = expect_json(app.get(&path, &manager).await, 200).await;
    let res = app
        .request(reqwest::Method::DELETE, &path, &manager)
        .header("If-Match", etag(&current["version"]))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    assert_error(app.get(&path, &manager).await, 404, "not_found").await;

    // Every write left its audit entry.
    let audit = expect_json(
        app.get(
            &format!(
                "/api/v1/admin/content/audit?entityKind=team_member&entityId={}&limit=50",
                id(&m)
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
    assert_eq!(actions.first(), Some(&"deleted"));
    assert_eq!(actions.last(), Some(&"created"));
    assert_eq!(
        actions.len(),
        4,
        "created, updated, one racing update, deleted: {actions:?}"
    );
}

#[tokio::test]
async fn a_photo_must_be_an_image_and_is_served_through_a_short_lived_link() {
    let app = spawn_app_with(&[]).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let m = create(&app, &editor, "Esha", true).await;
    let path = format!("/api/v1/admin/team/{}/photo", id(&m));

    // Not an image, whatever the declared type says.
    for (bytes, declared) in [
        (
            &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"[..],
            "image/svg+xml",
        ),
        (&b"GIF89a\x01\0\x01\0"[..], "image/png"),
        (&b"%PDF-1.7"[..], "image/jpeg"),
    ] {
        let res = app
            .post_file(&path, "file", "me.png", declared, bytes, &editor)
            .await;
        assert_error(res, 415, "unsupported_media_type").await;
    }
    let big = [PNG, &vec![0_u8; 2 * 1024 * 1024][..]].concat();
    let res = app
        .post_file(&path, "file", "me.png", "image/png", &big, &editor)
        .await;
    assert_error(res, 413, "payload_too_large").await;
    // The image and another part: refused, not half-read.
    let mut body = b"--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(PNG);
    body.extend_from_slice(
        b"\r\n--b0\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--b0--\r\n",
    );
    let res = app
        .request(reqwest::Method::POST, &path, &editor)
        .header("Content-Type", "multipart/form-data; boundary=b0")
        .body(body)
        .send()
        .await
        .expect("answered");
    let err = expect_json(res, 400).await;
    assert_eq!(detail_fields(&err), ["file"]);
    let public_photo = format!("/api/v1/content/team/{}/photo", id(&m));
    assert_error(app.get(&public_photo, NO_TOKEN).await, 404, "not_found").await;

    // Who may not upload is refused before the body counts.
    let customer = app.sign_in_as(Role::Customer).await;
    let res = app
        .post_file(&path, "file", "me.png", "image/png", PNG, &customer)
        .await;
    assert_error(res, 403, "forbidden").await;

    let res = app
        .post_file(
            &path,
            "file",
            "me.png",
            "application/octet-stream",
            PNG,
            &editor,
        )
        .await;
    let saved = expect_json(res, 200).await;
    assert_eq!(saved["photo"]["contentType"], "image/png");
    assert_eq!(saved["photo"]["size"], PNG.len());
    assert_eq!(saved["version"], 2);

    let res = app.get(&public_photo, NO_TOKEN).await;
    assert_eq!(res.status(), 302);
    let location = header(&res, "location").expect("a Location");
    let file = app.follow_link(&location).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), PNG);

    let list = expect_json(public(&app, None).await, 200).await;
    assert_eq!(list["data"][0]["photoUrl"], public_photo);

    // A hidden member's photo is not public either.
    let res = app
        .patch_json(
            &format!("/api/v1/admin/team/{}", id(&m)),
            &json!({"visible": false}),
            &editor,
            Some("\"2\""),
        )
        .await;
    expect_json(res, 200).await;
    assert_error(app.get(&public_photo, NO_TOKEN).await, 404, "not_found").await;

    // A replaced photo is deleted from the store: its old link finds nothing.
    let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    let res = app
        .post_file(&path, "file", "me.jpg", "image/jpeg", jpeg, &editor)
        .await;
    let saved = expect_json(res, 200).await;
    assert_eq!(saved["photo"]["contentType"], "image/jpeg");
    let gone = app.follow_link(&location).await;
    assert_eq!(gone.status(), 404, "the replaced photo is still stored");
}
