//! `GET /api/v1/admin/audit`: staff actions done through the API land in the audit log
//! with their actor, request id and changes, never a secret; the filters and pages work;
//! only administrators read it and nothing changes or deletes it.

use nexus_tests::{
    NO_TOKEN, PNG, Role, Signed, TestApp, assert_error, customer_body, etag, expect_json,
    product_body, spawn_app, unique_email,
};
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

const AUDIT: &str = "/api/v1/admin/audit";

/// Sends `method path` with a JSON body (when given) and `X-Request-Id: request_id`.
async fn send_with_id(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: &Signed,
    request_id: &str,
) -> Value {
    let mut builder = app
        .request(method, path, token)
        .header("X-Request-Id", request_id);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let res = builder.send().await.expect("the request reaches the app");
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    assert!(
        (200..300).contains(&status),
        "{path} answered {status}: {text}"
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The entries `query` selects, newest first (one page of up to 100).
async fn entries(app: &TestApp, admin: &Signed, query: &str) -> Vec<Value> {
    let body = expect_json(app.get(&format!("{AUDIT}?{query}"), admin).await, 200).await;
    body["data"].as_array().expect("a data list").clone()
}

/// The one entry of `action` on `target_id`.
async fn only_entry(app: &TestApp, admin: &Signed, action: &str, target_id: &str) -> Value {
    let found = entries(app, admin, &format!("action={action}&targetId={target_id}")).await;
    assert_eq!(found.len(), 1, "{action} on {target_id}: {found:?}");
    found[0].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

fn request_id() -> String {
    Uuid::now_v7().to_string()
}

#[tokio::test]
async fn staff_actions_are_recorded_with_actor_request_id_and_changes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;

    // A customer is assigned to another officer.
    let customer = app.create_customer(&cso, &customer_body("Audited")).await;
    let rid = request_id();
    send_with_id(
        &app,
        Method::POST,
        &format!("/api/v1/customers/{}/assign", id(&customer)),
        Some(&json!({ "userId": other_cso.user_id })),
        &manager,
        &rid,
    )
    .await;
    let assigned = only_entry(&app, &admin, "customers.assigned", &id(&customer)).await;
    assert_eq!(assigned["actorId"], manager.user_id, "{assigned}");
    assert_eq!(assigned["actorRole"], "MANAGER", "{assigned}");
    assert_eq!(assigned["requestId"], rid, "{assigned}");
    assert_eq!(assigned["targetKind"], "customer", "{assigned}");
    assert_eq!(
        assigned["summary"]["values"]["assignedTo"],
        json!({ "from": cso.user_id, "to": other_cso.user_id }),
        "{assigned}"
    );
    let created = only_entry(&app, &admin, "customers.created", &id(&customer)).await;
    assert_eq!(created["actorId"], cso.user_id, "{created}");
    assert_eq!(created["actorRole"], "CSO", "{created}");

    // A user's role changes.
    let rid = request_id();
    send_with_id(
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{}", other_cso.user_id),
        Some(&json!({ "role": "MANAGER" })),
        &admin,
        &rid,
    )
    .await;
    let role = only_entry(&app, &admin, "users.role_changed", &other_cso.user_id).await;
    assert_eq!(role["actorRole"], "ADMIN", "{role}");
    assert_eq!(role["requestId"], rid, "{role}");
    assert_eq!(
        role["summary"]["values"]["role"],
        json!({ "from": "CSO", "to": "MANAGER" }),
        "{role}"
    );

    // A response is approved.
    let (_, response) = app.pending_response(&cso).await;
    let rid = request_id();
    send_with_id(
        &app,
        Method::POST,
        &format!("/api/v1/responses/{}/approve", id(&response)),
        Some(&json!({ "notes": "Fine" })),
        &manager,
        &rid,
    )
    .await;
    let approved = only_entry(&app, &admin, "approvals.approved", &id(&response)).await;
    assert_eq!(approved["actorId"], manager.user_id, "{approved}");
    assert_eq!(approved["requestId"], rid, "{approved}");
    assert_eq!(
        approved["summary"]["values"]["status"],
        json!({ "from": "PENDING_APPROVAL", "to": "APPROVED" }),
        "{approved}"
    );
    let submitted = only_entry(&app, &admin, "responses.submitted", &id(&response)).await;
    assert_eq!(submitted["actorId"], cso.user_id, "{submitted}");

    // A price changes.
    let product = app
        .create_product(&manager, &product_body("Audited guide", 9_900))
        .await;
    let rid = request_id();
    let res = app
        .request(
            Method::PATCH,
            &format!("/api/v1/products/{}", id(&product)),
            &manager,
        )
        .header("X-Request-Id", rid.as_str())
        .header("If-Match", etag(&product["version"]))
        .json(&json!({ "priceMinor": 12_900 }))
        .send()
        .await
        .expect("the request reaches the app");
    expect_json(res, 200).await;
    let price = only_entry(&app, &admin, "products.price_changed", &id(&product)).await;
    assert_eq!(price["requestId"], rid, "{price}");
    assert_eq!(
        price["summary"]["values"]["priceMinor"],
        json!({ "from": 9_900, "to": 12_900 }),
        "{price}"
    );

    // An order is refunded.
    let sold = app
        .published_product(&manager, "Refunded guide", 1_500, b"%PDF-1.4 audit")
        .await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let session = app.checkout_one(&buyer, &sold).await;
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": session["orderId"] }),
            &buyer,
        )
        .await;
    expect_json(res, 200).await;
    let order_id = session["orderId"].as_str().expect("an order id").to_owned();
    let rid = request_id();
    send_with_id(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/refund"),
        Some(&json!({ "amountMinor": 500, "reason": "Goodwill" })),
        &admin,
        &rid,
    )
    .await;
    let refund = only_entry(&app, &admin, "orders.refund_requested", &order_id).await;
    assert_eq!(refund["requestId"], rid, "{refund}");
    assert_eq!(refund["summary"]["amountMinor"], 500, "{refund}");
    assert_eq!(refund["summary"]["reason"], "Goodwill", "{refund}");
    assert_eq!(
        refund["summary"]["values"]["refundedMinor"],
        json!({ "from": 0, "to": 500 }),
        "{refund}"
    );

    // A page is edited.
    let key = format!("audit-{}", Uuid::now_v7().simple());
    let page = expect_json(
        app.post_json(
            "/api/v1/admin/pages",
            &json!({ "key": key, "slug": key, "title": "Before", "blocks": [] }),
            &manager,
        )
        .await,
        201,
    )
    .await;
    let rid = request_id();
    send_with_id(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/pages/{}", id(&page)),
        Some(&json!({ "title": "After", "version": page["version"] })),
        &manager,
        &rid,
    )
    .await;
    let edited = only_entry(&app, &admin, "pages.updated", &id(&page)).await;
    assert_eq!(edited["actorId"], manager.user_id, "{edited}");
    assert_eq!(edited["actorRole"], "MANAGER", "{edited}");
    assert_eq!(edited["requestId"], rid, "{edited}");
    assert_eq!(
        edited["summary"]["values"]["title"],
        json!({ "from": "Before", "to": "After" }),
        "{edited}"
    );
    // The content history route still reads its own trail.
    let history = expect_json(
        app.get(
            &format!("/api/v1/admin/content/audit?entityId={}", id(&page)),
            &manager,
        )
        .await,
        200,
    )
    .await;
    assert!(
        history["data"].as_array().is_some_and(|d| d.len() >= 2),
        "{history}"
    );
}

#[tokio::test]
async fn a_staff_password_and_its_hash_appear_in_no_entry() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let password = format!("Secret-{}", Uuid::new_v4().simple());
    let email = unique_email("audited");
    let created = expect_json(
        app.post_json(
            "/api/v1/users",
            &json!({
                "email": email,
                "password": password,
                "firstName": "Ada",
                "lastName": "Audit",
                "role": "CSO",
            }),
            &admin,
        )
        .await,
        201,
    )
    .await;
    let user_id = id(&created);
    let staff = app.login(&email, &password).await;
    // A password change by the user goes through the same table without a trace.
    let res = app
        .post_json(
            "/api/v1/users/me/password",
            &json!({ "currentPassword": password, "newPassword": format!("{password}-2") }),
            &staff,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());

    let entry = only_entry(&app, &admin, "users.created", &user_id).await;
    assert_eq!(entry["summary"]["values"]["email"]["to"], email, "{entry}");
    assert_eq!(entry["summary"]["values"]["role"]["to"], "CSO", "{entry}");
    let hash: String = {
        let db = app.db().await;
        let row = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                db.get_database_backend(),
                if app.on_postgres() {
                    "SELECT password_hash FROM users WHERE email = $1"
                } else {
                    "SELECT password_hash FROM users WHERE email = ?"
                },
                [email.clone().into()],
            ))
            .await
            .expect("query")
            .expect("the user");
        row.try_get("", "password_hash").expect("a hash")
    };
    let everything = expect_json(app.get(&format!("{AUDIT}?limit=100"), &admin).await, 200)
        .await
        .to_string();
    assert!(!everything.contains(&password), "the password is logged");
    assert!(!everything.contains(&hash), "the hash is logged");
    assert!(!everything.contains("$2"), "a bcrypt hash is logged");
}

#[tokio::test]
async fn filters_select_and_pages_walk_the_log_newest_first() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    for name in ["One", "Two", "Three"] {
        app.create_customer(&manager, &customer_body(name)).await;
    }
    let all = entries(&app, &admin, "limit=100").await;
    assert!(all.len() >= 4, "{all:?}");

    // By actor: only the manager's three customers.
    let mine = entries(&app, &admin, &format!("actor={}", manager.user_id)).await;
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert!(mine.iter().all(|e| e["action"] == "customers.created"));
    // By target kind and action.
    let users = entries(&app, &admin, "targetKind=user&action=users.created").await;
    assert!(
        users.iter().any(|e| e["targetId"] == manager.user_id),
        "{users:?}"
    );
    assert!(users.iter().all(|e| e["targetKind"] == "user"));
    // By time: `from` in the future and `to` in the past select nothing; both around now
    // select everything.
    assert!(
        entries(&app, &admin, "from=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    assert!(
        entries(&app, &admin, "to=2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    let around = entries(
        &app,
        &admin,
        "from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z&limit=100",
    )
    .await;
    assert_eq!(around.len(), all.len());

    // Newest first, and pages of one walk the same entries without a repeat.
    let times: Vec<&str> = all
        .iter()
        .map(|e| e["occurredAt"].as_str().expect("a time"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("{AUDIT}?limit=1"),
            Some(c) => format!("{AUDIT}?limit=1&cursor={c}"),
        };
        let page = expect_json(app.get(&path, &admin).await, 200).await;
        walked.extend(page["data"].as_array().expect("data").iter().map(id));
        match page["meta"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(walked.len() <= all.len(), "the walk does not end");
    }
    assert_eq!(walked, all.iter().map(id).collect::<Vec<_>>());

    assert_error(
        app.get(&format!("{AUDIT}?cursor=bm90LWEtY3Vyc29y"), &admin)
            .await,
        400,
        "invalid_cursor",
    )
    .await;
    let bad_actor = app.get(&format!("{AUDIT}?actor=nobody"), &admin).await;
    assert_eq!(bad_actor.status(), 400);
}

#[tokio::test]
async fn only_administrators_read_the_log_and_nothing_changes_it() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let admin = app.admin().await;

    assert_error(app.get(AUDIT, NO_TOKEN).await, 401, "unauthorized").await;
    assert_error(app.get(AUDIT, &manager).await, 403, "forbidden").await;

    // No route changes or deletes the log.
    let entry = entries(&app, &admin, "limit=1").await;
    let entry_id = id(&entry[0]);
    for method in [Method::DELETE, Method::PUT, Method::PATCH] {
        let res = app
            .request(method.clone(), &format!("{AUDIT}/{entry_id}"), &admin)
            .send()
            .await
            .expect("the request reaches the app");
        assert!(
            res.status() == 404 || res.status() == 405,
            "{method} answered {}",
            res.status()
        );
        let res = app
            .request(method.clone(), AUDIT, &admin)
            .send()
            .await
            .expect("the request reaches the app");
        assert!(
            res.status() == 404 || res.status() == 405,
            "{method} on the list answered {}",
            res.status()
        );
    }

    // And the database itself refuses to rewrite or delete it.
    let db = app.db().await;
    let update = db
        .execute_unprepared("UPDATE audit_log SET action = 'forged'")
        .await;
    let delete = db.execute_unprepared("DELETE FROM audit_log").await;
    assert!(update.is_err(), "an UPDATE of audit_log went through");
    assert!(delete.is_err(), "a DELETE from audit_log went through");
    assert_eq!(
        entries(&app, &admin, "limit=1").await[0]["id"],
        entry[0]["id"]
    );
}

#[tokio::test]
async fn a_product_file_and_cover_upload_are_recorded_with_what_changed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Uploaded guide", 4_900))
        .await;
    let pid = id(&product);

    let res = app
        .post_file(
            &format!("/api/v1/products/{pid}/asset"),
            "file",
            "guide.pdf",
            "application/pdf",
            b"%PDF-1.4 audited upload",
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .post_file(
            &format!("/api/v1/products/{pid}/cover"),
            "file",
            "cover.png",
            "image/png",
            PNG,
            &manager,
        )
        .await;
    expect_json(res, 200).await;

    let file = only_entry(&app, &admin, "products.file_attached", &pid).await;
    assert_eq!(file["actorId"], manager.user_id.as_str(), "{file}");
    assert_eq!(
        file["summary"]["values"]["fileName"],
        json!({ "from": null, "to": "guide.pdf" }),
        "{file}"
    );
    assert_eq!(
        file["summary"]["values"]["fileSize"]["to"],
        b"%PDF-1.4 audited upload".len(),
        "{file}"
    );
    let cover = only_entry(&app, &admin, "products.cover_changed", &pid).await;
    let fields = cover["summary"]["fields"].as_array().expect("fields");
    assert!(fields.iter().any(|f| f == "coverKey"), "{cover}");
    assert!(
        !fields.iter().any(|f| f == "fileName"),
        "only the cover changed: {cover}"
    );
}

#[tokio::test]
async fn a_filter_longer_than_documented_is_refused_on_its_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (field, max) in [("targetKind", 50), ("targetId", 200), ("action", 100)] {
        let res = app
            .get(&format!("{AUDIT}?{field}={}", "a".repeat(max + 1)), &admin)
            .await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(body["details"][0]["field"], field, "{body}");
        let res = app
            .get(&format!("{AUDIT}?{field}={}", "a".repeat(max)), &admin)
            .await;
        assert_eq!(res.status(), 200, "{field} at its limit is a filter");
    }
}
