//! `/api/v1/products`: creating, uploading the file, the publish lifecycle, optimistic
//! updates, deleting, who may manage, and the public catalogue with its search.

use nexus_tests::{
    NO_TOKEN, PNG, Role, SearchIndexFake, Signed, TestApp, assert_error, assert_keys,
    detail_fields, etag, expect_empty, expect_json, header, product_body, spawn_app,
    spawn_app_with,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PRODUCTS: &str = "/api/v1/products";

const PRODUCT_VIEW: [&str; 17] = [
    "id",
    "slug",
    "title",
    "description",
    "price",
    "category",
    "tags",
    "status",
    "asset",
    "hasAsset",
    "previewImageUrl",
    "cover",
    "createdBy",
    "createdAt",
    "updatedAt",
    "publishedAt",
    "version",
];

const FILE: &[u8] = b"%PDF-1.4\n% slides\n%%EOF\n";

fn product_path(product: &Value) -> String {
    format!(
        "{PRODUCTS}/{}",
        product["id"].as_str().expect("a product has an id")
    )
}

async fn upload(app: &TestApp, product: &Value, token: &Signed) -> reqwest::Response {
    app.post_file(
        &format!("{}/asset", product_path(product)),
        "file",
        "slides.pdf",
        "application/pdf",
        FILE,
        token,
    )
    .await
}

async fn public_list(app: &TestApp, query: &str) -> Value {
    expect_json(app.get(&format!("{PRODUCTS}{query}"), NO_TOKEN).await, 200).await
}

fn titles(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|p| p["title"].as_str().expect("a title"))
        .collect()
}

#[tokio::test]
async fn a_manager_creates_a_draft_priced_in_paise_with_an_etag() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let body = product_body("Invoice template", 49_900);

    let res = app.post_json(PRODUCTS, &body, &manager).await;

    let etag_header = header(&res, "etag");
    let product = expect_json(res, 201).await;
    assert_keys(&product, &PRODUCT_VIEW);
    assert_eq!(product["status"], "DRAFT");
    assert_eq!(product["slug"], body["slug"]);
    assert_eq!(
        product["price"],
        json!({ "amountMinor": 49_900, "currency": "INR" })
    );
    assert_eq!(product["hasAsset"], false);
    assert_eq!(product["createdBy"], manager.user_id.as_str());
    assert_eq!(product["publishedAt"], Value::Null);
    assert_eq!(etag_header, Some(etag(&product["version"])));
}

#[tokio::test]
async fn creating_a_product_reports_each_invalid_field() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let body = json!({
        "slug": "Not a slug!",
        "title": " ",
        "priceMinor": -1,
        "category": "",
    });

    let res = app.post_json(PRODUCTS, &body, &manager).await;

    let error = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&error);
    fields.sort();
    assert_eq!(
        fields,
        ["category", "priceMinor", "slug", "title"],
        "{error}"
    );
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let body = product_body("Invoice template", 49_900);
    app.create_product(&manager, &body).await;

    let res = app.post_json(PRODUCTS, &body, &manager).await;

    assert_error(res, 409, "slug_taken").await;
}

#[tokio::test]
async fn uploading_the_file_records_its_name_type_size_and_sha256() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Slides", 9_900))
        .await;

    let res = upload(&app, &product, &manager).await;

    let uploaded = expect_json(res, 200).await;
    assert_eq!(uploaded["hasAsset"], true);
    assert_eq!(
        uploaded["asset"],
        json!({
            "fileName": "slides.pdf",
            "contentType": "application/pdf",
            "size": FILE.len(),
            "sha256": hex::encode(Sha256::digest(FILE)),
        })
    );
}

#[tokio::test]
async fn an_upload_without_a_file_field_or_of_a_refused_type_is_an_error() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Slides", 9_900))
        .await;
    let path = format!("{}/asset", product_path(&product));

    let wrong_field = app
        .post_file(
            &path,
            "attachment",
            "slides.pdf",
            "application/pdf",
            FILE,
            &manager,
        )
        .await;
    let wrong_type = app
        .post_file(
            &path,
            "file",
            "run.sh",
            "text/x-shellscript",
            b"echo hi",
            &manager,
        )
        .await;

    let error = assert_error(wrong_field, 400, "validation_failed").await;
    assert_eq!(detail_fields(&error), ["file"]);
    assert_error(wrong_type, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn publishing_without_a_file_is_asset_missing() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Slides", 9_900))
        .await;

    let res = app
        .post(&format!("{}/publish", product_path(&product)), &manager)
        .await;

    assert_error(res, 409, "asset_missing").await;
    let listed = app.get(&product_path(&product), NO_TOKEN).await;
    assert_error(listed, 404, "not_found").await;
}

#[tokio::test]
async fn a_published_product_is_public_by_id_and_by_slug_without_its_file_details() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Invoice template", 49_900, FILE)
        .await;
    let slug = product["slug"].as_str().expect("a slug");

    let by_id = expect_json(app.get(&product_path(&product), NO_TOKEN).await, 200).await;
    let by_slug = expect_json(app.get(&format!("{PRODUCTS}/{slug}"), NO_TOKEN).await, 200).await;

    assert_eq!(product["status"], "PUBLISHED");
    assert!(product["publishedAt"].is_string(), "{product}");
    assert_eq!(by_id, by_slug);
    assert_eq!(by_id["id"], product["id"]);
    assert_eq!(by_id["asset"], Value::Null);
    assert_eq!(by_id["hasAsset"], true);
}

#[tokio::test]
async fn only_published_products_are_listed_publicly_and_staff_see_every_status() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let published = app
        .published_product(&manager, "Published deck", 9_900, FILE)
        .await;
    let archived = app
        .published_product(&manager, "Archived deck", 9_900, FILE)
        .await;
    let res = app
        .post(&format!("{}/archive", product_path(&archived)), &manager)
        .await;
    assert_eq!(expect_json(res, 200).await["status"], "ARCHIVED");
    app.create_product(&manager, &product_body("Draft deck", 9_900))
        .await;

    let public = public_list(&app, "").await;
    let res = app.get("/api/v1/admin/products", &manager).await;
    let staff = expect_json(res, 200).await;
    let res = app
        .get("/api/v1/admin/products?status=DRAFT", &manager)
        .await;
    let drafts = expect_json(res, 200).await;
    let archived_res = app.get(&product_path(&archived), NO_TOKEN).await;

    assert_eq!(titles(&public), ["Published deck"]);
    assert_eq!(public["data"][0]["id"], published["id"]);
    assert_eq!(staff["meta"]["total"], 3, "{staff}");
    assert_eq!(titles(&drafts), ["Draft deck"]);
    assert_error(archived_res, 404, "not_found").await;
}

#[tokio::test]
async fn the_catalogue_filters_by_price_category_and_tags_and_sorts_by_price() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    for (title, price, category, tag) in [
        ("Cheap", 1_000, "templates", "starter"),
        ("Middle", 5_000, "templates", "business"),
        ("Dear", 9_000, "ebooks", "business"),
    ] {
        let mut body = product_body(title, price);
        body["category"] = json!(category);
        body["tags"] = json!([tag]);
        let product = app.create_product(&manager, &body).await;
        expect_json(upload(&app, &product, &manager).await, 200).await;
        let res = app
            .post(&format!("{}/publish", product_path(&product)), &manager)
            .await;
        expect_json(res, 200).await;
    }

    let by_price = public_list(&app, "?sort=price").await;
    let by_price_desc = public_list(&app, "?sort=-price").await;
    let range = public_list(&app, "?minPrice=2000&maxPrice=9000&sort=price").await;
    let category = public_list(&app, "?category=templates&sort=price").await;
    let tagged = public_list(&app, "?tags=business&sort=-price").await;
    let bad_sort = app
        .get(&format!("{PRODUCTS}?sort=cheapest"), NO_TOKEN)
        .await;

    assert_eq!(titles(&by_price), ["Cheap", "Middle", "Dear"]);
    assert_eq!(titles(&by_price_desc), ["Dear", "Middle", "Cheap"]);
    assert_eq!(titles(&range), ["Middle", "Dear"]);
    assert_eq!(titles(&category), ["Cheap", "Middle"]);
    assert_eq!(titles(&tagged), ["Dear", "Middle"]);
    let error = assert_error(bad_sort, 400, "validation_failed").await;
    assert_eq!(detail_fields(&error), ["sort"]);
}

#[tokio::test]
async fn searching_finds_products_by_their_words_and_on_postgres_despite_typos() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    app.published_product(&manager, "Invoice template", 49_900, FILE)
        .await;
    app.published_product(&manager, "Pitch deck", 9_900, FILE)
        .await;

    let exact = public_list(&app, "?q=invoice").await;
    let nothing = public_list(&app, "?q=spreadsheet").await;

    assert_eq!(titles(&exact), ["Invoice template"]);
    assert_eq!(nothing["meta"]["total"], 0, "{nothing}");
    if app.on_postgres() {
        let fuzzy = public_list(&app, "?q=invoce%20tempate").await;
        assert_eq!(titles(&fuzzy), ["Invoice template"]);
    }
}

#[tokio::test]
async fn updating_a_product_needs_the_version_and_a_stale_one_is_a_conflict() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Slides", 9_900))
        .await;
    let path = product_path(&product);
    let version = product["version"].clone();

    let without = app
        .patch_json(&path, &json!({ "priceMinor": 12_900 }), &manager, None)
        .await;
    let with_etag = app
        .patch_json(
            &path,
            &json!({ "priceMinor": 12_900 }),
            &manager,
            Some(&etag(&version)),
        )
        .await;
    let stale = app
        .patch_json(
            &path,
            &json!({ "title": "Stale", "version": version }),
            &manager,
            None,
        )
        .await;

    assert_error(without, 428, "precondition_required").await;
    let updated = expect_json(with_etag, 200).await;
    assert_eq!(updated["price"]["amountMinor"], 12_900);
    assert_eq!(updated["version"], version.as_i64().expect("a number") + 1);
    assert_error(stale, 409, "conflict").await;
    let res = app.get("/api/v1/admin/products", &manager).await;
    assert_eq!(titles(&expect_json(res, 200).await), ["Slides"]);
}

#[tokio::test]
async fn an_unsold_product_can_be_deleted_but_an_ordered_one_is_sold() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let unsold = app
        .create_product(&manager, &product_body("Unsold", 9_900))
        .await;
    let ordered = app
        .published_product(&manager, "Ordered", 9_900, FILE)
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;
    app.checkout_one(&buyer, &ordered).await;

    let deleted = app.delete(&product_path(&unsold), &manager).await;
    let sold = app.delete(&product_path(&ordered), &manager).await;
    let unpublish = app
        .post(&format!("{}/unpublish", product_path(&ordered)), &manager)
        .await;

    expect_empty(deleted, 204).await;
    assert_error(sold, 409, "product_sold").await;
    assert_error(unpublish, 409, "product_sold").await;
    let res = app.get("/api/v1/admin/products", &manager).await;
    assert_eq!(titles(&expect_json(res, 200).await), ["Ordered"]);
}

#[tokio::test]
async fn an_unordered_product_can_be_unpublished_back_to_a_draft() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app.published_product(&manager, "Slides", 9_900, FILE).await;

    let res = app
        .post(&format!("{}/unpublish", product_path(&product)), &manager)
        .await;

    assert_eq!(expect_json(res, 200).await["status"], "DRAFT");
    assert_eq!(public_list(&app, "").await["meta"]["total"], 0);
}

#[tokio::test]
async fn csos_and_customers_may_not_manage_products() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Slides", 9_900))
        .await;
    let path = product_path(&product);

    for role in [Role::Cso, Role::Customer] {
        let user = app.sign_in_as(role).await;
        let create = app
            .post_json(PRODUCTS, &product_body("Mine", 100), &user)
            .await;
        let asset = upload(&app, &product, &user).await;
        let publish = app.post(&format!("{path}/publish"), &user).await;
        let patch = app
            .patch_json(&path, &json!({ "title": "Mine" }), &user, Some("\"1\""))
            .await;
        let delete = app.delete(&path, &user).await;
        let admin_list = app.get("/api/v1/admin/products", &user).await;
        for res in [create, asset, publish, patch, delete, admin_list] {
            assert_error(res, 403, "forbidden").await;
        }
    }
    let anonymous = app
        .post_json(PRODUCTS, &product_body("Anon", 100), NO_TOKEN)
        .await;
    assert_error(anonymous, 401, "unauthorized").await;
    let res = app.get("/api/v1/admin/products", &manager).await;
    let unchanged = expect_json(res, 200).await;
    assert_eq!(unchanged["data"][0]["status"], "DRAFT");
    assert_eq!(unchanged["data"][0]["hasAsset"], false);
}

#[tokio::test]
async fn an_admin_may_manage_products_too() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    let product = app
        .published_product(&admin, "Admin deck", 9_900, FILE)
        .await;

    assert_eq!(product["status"], "PUBLISHED");
    assert_eq!(product["createdBy"], admin.user_id.as_str());
}

#[tokio::test]
async fn public_product_views_carry_no_staff_id() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.sign_in_as(Role::Customer).await;
    let product = app
        .published_product(&manager, "Staff free deck", 9_900, FILE)
        .await;
    let slug = product["slug"].as_str().expect("a slug");
    let mut views = Vec::new();
    for token in [None, Some(customer.token.as_str())] {
        views.push(public_list(&app, "").await);
        for path in [product_path(&product), format!("{PRODUCTS}/{slug}")] {
            views.push(expect_json(app.get(&path, token).await, 200).await);
        }
    }

    assert_eq!(
        product["createdBy"],
        manager.user_id.as_str(),
        "staff keep it"
    );
    for view in &views {
        let text = view.to_string();
        assert!(!text.contains("createdBy"), "{text}");
        assert!(!text.contains(&manager.user_id), "{text}");
    }
    assert_eq!(views[0]["data"][0]["id"], product["id"]);
}

// ---- the Meilisearch index: kept in step by `index_product`, rebuilt by `nexus reindex` --

/// An app searching with the Meilisearch fake, its worker polling fast.
async fn spawn_app_with_search_index() -> (TestApp, SearchIndexFake) {
    let index = SearchIndexFake::start().await;
    let app = spawn_app_with(&[
        ("MEILI_URL", index.url().as_str()),
        ("WORKER_POLL_MS", "50"),
    ])
    .await;
    (app, index)
}

fn id_of(product: &Value) -> String {
    product["id"]
        .as_str()
        .expect("a product has an id")
        .to_owned()
}

#[tokio::test]
async fn product_writes_reach_the_search_index_through_the_index_product_subscriber() {
    let (app, index) = spawn_app_with_search_index().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let live = app
        .published_product(&manager, "Sales deck", 49_900, FILE)
        .await;
    let draft = app
        .create_product(&manager, &product_body("Draft notes", 100))
        .await;
    let id = id_of(&live);
    index
        .wait_until("the published product", |docs| {
            docs.get(&id).is_some_and(|d| d["status"] == "PUBLISHED")
        })
        .await;

    let res = app
        .patch_json(
            &product_path(&live),
            &json!({ "title": "Sales deck, revised" }),
            &manager,
            Some(&etag(&live["version"])),
        )
        .await;
    expect_json(res, 200).await;
    let docs = index
        .wait_until("the new title", |docs| {
            docs.get(&id)
                .is_some_and(|d| d["title"] == "Sales deck, revised")
        })
        .await;

    // Drafts never enter the index.
    assert!(!docs.contains_key(&id_of(&draft)), "{docs:?}");
    let res = app
        .post(&format!("{}/unpublish", product_path(&live)), &manager)
        .await;
    expect_json(res, 200).await;
    index
        .wait_until("the unpublished product gone", |docs| {
            !docs.contains_key(&id)
        })
        .await;
    let jobs = expect_json(
        app.get(
            "/api/v1/admin/jobs?kind=index_product",
            &app.sign_in_as(Role::Admin).await,
        )
        .await,
        200,
    )
    .await;
    assert!(
        jobs["meta"]["total"].as_u64().is_some_and(|n| n >= 4),
        "create, upload, publish, edit and unpublish each make a delivery: {jobs}"
    );
}

#[tokio::test]
async fn reindex_brings_an_emptied_index_back_to_the_published_products() {
    let (app, index) = spawn_app_with_search_index().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mut published = Vec::new();
    for title in ["Sales deck", "Pitch deck", "Board deck"] {
        let product = app.published_product(&manager, title, 9_900, FILE).await;
        published.push(id_of(&product));
    }
    let draft = app
        .create_product(&manager, &product_body("Draft notes", 100))
        .await;
    let gone = app
        .published_product(&manager, "Old deck", 9_900, FILE)
        .await;
    let res = app
        .post(&format!("{}/archive", product_path(&gone)), &manager)
        .await;
    expect_json(res, 200).await;
    published.sort();
    index
        .wait_until("the published products", |docs| {
            docs.keys().cloned().collect::<Vec<_>>() == published
        })
        .await;
    index.empty();
    // A stale document (a draft once wrongly sent) that the rebuild must drop.
    let draft_id = id_of(&draft);
    index.put(json!({ "id": draft_id, "status": "PUBLISHED" }));

    let output = app.run_nexus(&["reindex"], &[]).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("indexed 3/3"), "{stdout}");
    let docs = index.documents();
    assert_eq!(docs.keys().cloned().collect::<Vec<_>>(), published);
    assert!(!docs.contains_key(&draft_id));
    assert!(docs.values().all(|d| d["status"] == "PUBLISHED"));
}

#[tokio::test]
async fn reindex_without_meilisearch_has_nothing_to_rebuild() {
    let app = spawn_app().await;

    let output = app.run_nexus(&["reindex"], &[]).await;

    assert!(output.status.success(), "{}", output.status);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("no search index to rebuild"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[tokio::test]
async fn a_cover_must_be_an_image_is_public_once_published_and_replacing_it_deletes_the_old() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let draft = app
        .create_product(&manager, &product_body("Cover story", 9_900))
        .await;
    let path = format!("{}/cover", product_path(&draft));
    assert_eq!(draft["cover"], Value::Null);

    // Not an image, whatever the declared type says; too large; another part beside it.
    for (bytes, declared) in [
        (&b"<svg onload='alert(1)'/>"[..], "image/svg+xml"),
        (&b"GIF89a\x01\0\x01\0"[..], "image/png"),
    ] {
        let res = app
            .post_file(&path, "file", "c.png", declared, bytes, &manager)
            .await;
        assert_error(res, 415, "unsupported_media_type").await;
    }
    let big = [PNG, &vec![0_u8; 2 * 1024 * 1024][..]].concat();
    let res = app
        .post_file(&path, "file", "c.png", "image/png", &big, &manager)
        .await;
    assert_error(res, 413, "payload_too_large").await;
    // Who may not manage products is refused before the body counts.
    for role in [Role::Customer, Role::Cso, Role::Editor] {
        let token = app.sign_in_as(role).await;
        let res = app
            .post_file(&path, "file", "c.png", "image/png", PNG, &token)
            .await;
        assert_error(res, 403, "forbidden").await;
    }
    // A stale version is a conflict and stores nothing.
    let mut body = b"--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(PNG);
    body.extend_from_slice(b"\r\n--b0--\r\n");
    let res = app
        .request(reqwest::Method::POST, &path, &manager)
        .header("Content-Type", "multipart/form-data; boundary=b0")
        .header("If-Match", "\"7\"")
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_error(res, 409, "conflict").await;

    let res = app
        .post_file(
            &path,
            "file",
            "c.png",
            "application/octet-stream",
            PNG,
            &manager,
        )
        .await;
    let saved = expect_json(res, 200).await;
    assert_eq!(saved["cover"]["contentType"], "image/png");
    assert_eq!(saved["cover"]["size"], PNG.len());
    assert_eq!(saved["cover"]["url"], path);
    assert_eq!(saved["version"], 2);
    // A draft's cover is not public.
    assert_error(app.get(&path, NO_TOKEN).await, 404, "not_found").await;

    let res = upload(&app, &draft, &manager).await;
    expect_json(res, 200).await;
    let res = app
        .post(&format!("{}/publish", product_path(&draft)), &manager)
        .await;
    expect_json(res, 200).await;
    let slug = draft["slug"].as_str().expect("a slug");
    for reference in [path.clone(), format!("{PRODUCTS}/{slug}/cover")] {
        let res = app.get(&reference, NO_TOKEN).await;
        assert_eq!(res.status(), 302, "{reference}");
        let location = header(&res, "location").expect("a Location");
        let image = app.follow_link(&location).await;
        assert_eq!(image.status(), 200);
        assert_eq!(image.bytes().await.expect("bytes").as_ref(), PNG);
    }
    // The public answers show it, and search engines are given it as the image.
    let public = expect_json(app.get(&product_path(&draft), NO_TOKEN).await, 200).await;
    assert_eq!(public["cover"]["url"], path);
    assert!(
        public["seo"]["socialImage"]
            .as_str()
            .is_some_and(|u| u.starts_with("http") && u.ends_with(&path)),
        "{public}"
    );
    let listed = public_list(&app, "?q=Cover").await;
    assert_eq!(listed["data"][0]["cover"]["url"], path, "{listed}");

    // A replaced cover is deleted from the store: its old link finds nothing.
    let old = header(&app.get(&path, NO_TOKEN).await, "location").expect("a Location");
    let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    let res = app
        .post_file(&path, "file", "c.jpg", "image/jpeg", jpeg, &manager)
        .await;
    let saved = expect_json(res, 200).await;
    assert_eq!(saved["cover"]["contentType"], "image/jpeg");
    assert_eq!(
        app.follow_link(&old).await.status(),
        404,
        "the old cover is still stored"
    );

    // An archived product's cover cannot change.
    let res = app
        .post(&format!("{}/archive", product_path(&draft)), &manager)
        .await;
    expect_json(res, 200).await;
    let res = app
        .post_file(&path, "file", "c.png", "image/png", PNG, &manager)
        .await;
    assert_error(res, 409, "invalid_transition").await;
}

#[tokio::test]
async fn deleting_a_product_deletes_its_cover() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Short lived", 9_900, FILE)
        .await;
    let path = format!("{}/cover", product_path(&product));
    let res = app
        .post_file(&path, "file", "c.png", "image/png", PNG, &manager)
        .await;
    expect_json(res, 200).await;
    let location = header(&app.get(&path, NO_TOKEN).await, "location").expect("a Location");
    assert_eq!(app.follow_link(&location).await.status(), 200);
    let res = app.delete(&product_path(&product), &manager).await;
    expect_empty(res, 204).await;
    assert_eq!(app.follow_link(&location).await.status(), 404);
    assert_error(app.get(&path, NO_TOKEN).await, 404, "not_found").await;
}
