//! `/api/v1/enquiries` and `/api/v1/me/enquiries`: the public contact form, lead creation and
//! routing to officers, CSO scoping, status transitions and the per-IP rate limit.

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, assert_keys, customer_body, detail_fields,
    enquiry_body, expect_json, header, spawn_app, spawn_app_with, unique_email,
};
use serde_json::{Value, json};

const ENQUIRIES: &str = "/api/v1/enquiries";

/// Enough enquiries per IP for tests about something else than the limit.
const ROOMY: [(&str, &str); 1] = [("ENQUIRY_RATE_LIMIT", "50")];

const STAFF_VIEW: [&str; 12] = [
    "id",
    "customerId",
    "name",
    "email",
    "subject",
    "message",
    "productId",
    "status",
    "assignedTo",
    "createdAt",
    "updatedAt",
    "version",
];

fn enquiry_path(enquiry: &Value) -> String {
    format!(
        "{ENQUIRIES}/{}",
        enquiry["id"].as_str().expect("an enquiry has an id")
    )
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["data"]
        .as_array()
        .expect("a page has data")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted_ids<'a>(items: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut ids: Vec<String> = items
        .into_iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

async fn list(app: &TestApp, query: &str, token: &Signed) -> Value {
    expect_json(app.get(&format!("{ENQUIRIES}{query}"), token).await, 200).await
}

/// The enquiry as staff see it (read by the administrator, who sees everything).
async fn staff_view(app: &TestApp, receipt: &Value) -> Value {
    let admin = app.admin().await;
    expect_json(app.get(&enquiry_path(receipt), &admin).await, 200).await
}

async fn set_status(app: &TestApp, enquiry: &Value, status: &str, token: &Signed) -> Value {
    let res = app
        .patch_json(
            &enquiry_path(enquiry),
            &json!({ "status": status }),
            token,
            None,
        )
        .await;
    expect_json(res, 200).await
}

async fn deactivate(app: &TestApp, user: &Signed) {
    let admin = app.admin_token().await;
    let res = app
        .patch_json(
            &format!("/api/v1/users/{}", user.user_id),
            &json!({ "isActive": false }),
            &admin,
            None,
        )
        .await;
    expect_json(res, 200).await;
}

/// Where the next enquiry lands: its `assignedTo`.
async fn routed_to(app: &TestApp, name: &str) -> (Value, String) {
    let receipt = app.submit_enquiry(&enquiry_body(name)).await;
    let enquiry = staff_view(app, &receipt).await;
    let assignee = enquiry["assignedTo"]
        .as_str()
        .unwrap_or_else(|| panic!("enquiry is not assigned: {enquiry}"))
        .to_owned();
    (enquiry, assignee)
}

#[tokio::test]
async fn an_enquiry_from_a_new_address_creates_a_lead_assigned_to_the_cso() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let admin = app.admin().await;
    let body = enquiry_body("Grace Hopper");

    let res = app.post_json(ENQUIRIES, &body, NO_TOKEN).await;

    let receipt = expect_json(res, 201).await;
    // The public learns nothing about who handles it.
    assert_keys(&receipt, &["id", "subject", "status", "createdAt"]);
    assert_eq!(receipt["subject"], body["subject"]);
    assert_eq!(receipt["status"], "OPEN");
    assert!(
        chrono::DateTime::parse_from_rfc3339(receipt["createdAt"].as_str().expect("createdAt"))
            .is_ok()
    );
    let email = body["email"].as_str().expect("email");
    let leads = expect_json(
        app.get(&format!("/api/v1/customers?search={email}"), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(leads["meta"]["total"], 1, "{leads}");
    let lead = &leads["data"][0];
    assert_eq!(lead["email"], email);
    assert_eq!(lead["status"], "LEAD");
    assert_eq!(lead["assignedTo"], cso.user_id.as_str());
    let enquiry = expect_json(app.get(&enquiry_path(&receipt), &cso).await, 200).await;
    assert_keys(&enquiry, &STAFF_VIEW);
    assert_eq!(enquiry["id"], receipt["id"]);
    assert_eq!(enquiry["customerId"], lead["id"]);
    assert_eq!(enquiry["name"], "Grace Hopper");
    assert_eq!(enquiry["email"], email);
    assert_eq!(enquiry["subject"], body["subject"]);
    assert_eq!(enquiry["message"], body["message"]);
    assert_eq!(enquiry["productId"], Value::Null);
    assert_eq!(enquiry["status"], "OPEN");
    assert_eq!(enquiry["assignedTo"], cso.user_id.as_str());
    assert_eq!(enquiry["createdAt"], receipt["createdAt"]);
}

#[tokio::test]
async fn an_enquiry_from_a_known_customer_is_linked_to_them_without_a_new_lead() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&manager, &customer_body("Known")).await;
    let mut body = enquiry_body("Known Tester");
    body["email"] = customer["email"].clone();

    let receipt = app.submit_enquiry(&body).await;

    let enquiry = staff_view(&app, &receipt).await;
    assert_eq!(enquiry["customerId"], customer["id"]);
    let customers = expect_json(app.get("/api/v1/customers", &manager).await, 200).await;
    assert_eq!(customers["meta"]["total"], 1, "{customers}");
}

#[tokio::test]
async fn an_enquiry_keeps_the_product_it_is_about() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Cso).await;
    let product_id = uuid::Uuid::now_v7().to_string();
    let mut body = enquiry_body("Product Fan");
    body["productId"] = json!(product_id);

    let receipt = app.submit_enquiry(&body).await;

    let enquiry = staff_view(&app, &receipt).await;
    assert_eq!(enquiry["productId"], product_id.as_str());
}

#[tokio::test]
async fn an_invalid_enquiry_reports_every_invalid_field_and_creates_nothing() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app
        .post_json(
            ENQUIRIES,
            &json!({
                "name": "", "email": "not-an-email", "subject": " ", "message": "",
                "productId": "not-a-uuid",
            }),
            NO_TOKEN,
        )
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["email", "message", "name", "productId", "subject"]);
    assert_eq!(list(&app, "", &manager).await["meta"]["total"], 0);
    let customers = expect_json(app.get("/api/v1/customers", &manager).await, 200).await;
    assert_eq!(customers["meta"]["total"], 0);
}

#[tokio::test]
async fn an_overlong_subject_or_message_is_a_validation_error() {
    let app = spawn_app().await;
    let mut body = enquiry_body("Verbose");
    body["subject"] = json!("s".repeat(201));
    body["message"] = json!("m".repeat(5001));

    let res = app.post_json(ENQUIRIES, &body, NO_TOKEN).await;

    let body = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["message", "subject"]);
}

#[tokio::test]
async fn enquiries_go_to_the_active_cso_with_the_fewest_open_enquiries() {
    let app = spawn_app_with(&ROOMY).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app.sign_in_as(Role::Cso).await;
    let (a1, to_a1) = routed_to(&app, "Alpha One").await;
    let (a2, to_a2) = routed_to(&app, "Alpha Two").await;
    let second = app.sign_in_as(Role::Cso).await;
    let idle = app.sign_in_as(Role::Cso).await;
    deactivate(&app, &idle).await;

    // `second` has none open, `first` two; the inactive officer never gets any.
    let (_, to_b1) = routed_to(&app, "Bravo One").await;
    let (_, to_b2) = routed_to(&app, "Bravo Two").await;
    // Only OPEN enquiries count: once `first` closes theirs, they are the least busy.
    set_status(&app, &a1, "CLOSED", &manager).await;
    set_status(&app, &a2, "ANSWERED", &manager).await;
    let (_, to_c) = routed_to(&app, "Charlie").await;

    assert_eq!(
        [to_a1, to_a2],
        [first.user_id.clone(), first.user_id.clone()]
    );
    assert_eq!(
        [to_b1, to_b2],
        [second.user_id.clone(), second.user_id.clone()]
    );
    assert_eq!(to_c, first.user_id);
}

#[tokio::test]
async fn the_lead_of_an_enquiry_goes_to_the_same_officer_as_the_enquiry() {
    let app = spawn_app_with(&ROOMY).await;
    let admin = app.admin().await;
    let first = app.sign_in_as(Role::Cso).await;
    routed_to(&app, "Busy One").await;
    let second = app.sign_in_as(Role::Cso).await;

    let (enquiry, assignee) = routed_to(&app, "Fresh Lead").await;

    assert_eq!(assignee, second.user_id);
    assert_ne!(assignee, first.user_id);
    let lead = expect_json(
        app.get(
            &format!(
                "/api/v1/customers/{}",
                enquiry["customerId"].as_str().expect("customerId")
            ),
            &admin,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(lead["assignedTo"], second.user_id.as_str());
    assert_eq!(lead["status"], "LEAD");
}

#[tokio::test]
async fn without_an_active_cso_enquiries_go_to_a_manager_or_admin() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    deactivate(&app, &cso).await;

    let (enquiry, assignee) = routed_to(&app, "Nobody Home").await;

    assert!(
        [manager.user_id.as_str(), admin.user_id.as_str()].contains(&assignee.as_str()),
        "assigned to {assignee}, neither the manager nor the admin"
    );
    let lead = expect_json(
        app.get(
            &format!(
                "/api/v1/customers/{}",
                enquiry["customerId"].as_str().expect("customerId")
            ),
            &admin,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(lead["assignedTo"], assignee.as_str());
}

#[tokio::test]
async fn a_cso_sees_only_enquiries_assigned_to_them() {
    let app = spawn_app_with(&ROOMY).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mine = app.sign_in_as(Role::Cso).await;
    let (own, _) = routed_to(&app, "Mine Only").await;
    let other = app.sign_in_as(Role::Cso).await;
    let (theirs, to) = routed_to(&app, "Theirs Only").await;
    assert_eq!(to, other.user_id);

    let page = list(&app, "", &mine).await;
    let everyone = list(&app, "", &manager).await;
    let searched = list(&app, "?search=theirs", &mine).await;
    let filtered = list(&app, &format!("?assignedTo={}", other.user_id), &mine).await;
    let hidden = app.get(&enquiry_path(&theirs), &mine).await;
    let patched = app
        .patch_json(
            &enquiry_path(&theirs),
            &json!({ "status": "CLOSED" }),
            &mine,
            None,
        )
        .await;

    assert_eq!(ids(&page), sorted_ids([&own]));
    assert_eq!(page["meta"]["total"], 1);
    assert_keys(&page["data"][0], &STAFF_VIEW);
    assert_eq!(everyone["meta"]["total"], 2);
    assert_eq!(searched["meta"]["total"], 0);
    assert_eq!(filtered["meta"]["total"], 0);
    assert_error(hidden, 404, "not_found").await;
    assert_error(patched, 404, "not_found").await;
    let unchanged = staff_view(&app, &theirs).await;
    assert_eq!(unchanged["status"], "OPEN");
}

#[tokio::test]
async fn listing_enquiries_filters_by_status_assignee_and_search() {
    let app = spawn_app_with(&ROOMY).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app.sign_in_as(Role::Cso).await;
    let (zebra, _) = routed_to(&app, "Zebra Stripes").await;
    let second = app.sign_in_as(Role::Cso).await;
    let (yak, _) = routed_to(&app, "Yak Wool").await;
    // `second` has no OPEN enquiry left, so the next one is theirs too.
    set_status(&app, &yak, "ANSWERED", &manager).await;
    let (xerus, _) = routed_to(&app, "Xerus Burrow").await;

    let open = list(&app, "?status=OPEN", &manager).await;
    let answered = list(&app, "?status=ANSWERED", &manager).await;
    let by_first = list(&app, &format!("?assignedTo={}", first.user_id), &manager).await;
    let by_second = list(&app, &format!("?assignedTo={}", second.user_id), &manager).await;
    let by_name = list(&app, "?search=zEbRa", &manager).await;
    let paged = list(&app, "?page=2&limit=2", &manager).await;

    assert_eq!(ids(&open), sorted_ids([&zebra, &xerus]));
    assert_eq!(ids(&answered), sorted_ids([&yak]));
    assert_eq!(ids(&by_first), sorted_ids([&zebra]));
    assert_eq!(ids(&by_second), sorted_ids([&yak, &xerus]));
    assert_eq!(ids(&by_name), sorted_ids([&zebra]));
    assert_eq!(
        paged["meta"],
        json!({ "total": 3, "page": 2, "limit": 2, "totalPages": 2 })
    );
    assert_eq!(ids(&paged).len(), 1);
}

#[tokio::test]
async fn listing_enquiries_rejects_an_unknown_status() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app
        .get(&format!("{ENQUIRIES}?status=PENDING"), &manager)
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["status"]);
}

#[tokio::test]
async fn an_enquiry_moves_to_answered_and_closed_and_may_be_reopened() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let receipt = app.submit_enquiry(&enquiry_body("Round Trip")).await;
    let path = enquiry_path(&receipt);

    let answered = set_status(&app, &receipt, "ANSWERED", &cso).await;
    let back_open = set_status(&app, &receipt, "OPEN", &cso).await;
    set_status(&app, &receipt, "ANSWERED", &cso).await;
    let closed = set_status(&app, &receipt, "CLOSED", &cso).await;
    let to_answered = app
        .patch_json(&path, &json!({ "status": "ANSWERED" }), &cso, None)
        .await;
    let reopened_res = app
        .patch_json(&path, &json!({ "status": "OPEN" }), &cso, None)
        .await;

    assert_eq!(answered["status"], "ANSWERED");
    assert_eq!(back_open["status"], "OPEN");
    assert_eq!(closed["status"], "CLOSED");
    let versions: Vec<i64> = [&answered, &back_open, &closed]
        .iter()
        .map(|e| e["version"].as_i64().expect("version"))
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    let refused = assert_error(to_answered, 409, "invalid_transition").await;
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("CLOSED")),
        "{refused}"
    );
    let reopened = expect_json(reopened_res, 200).await;
    assert_eq!(reopened["status"], "OPEN");
    assert!(reopened["version"].as_i64().expect("version") > versions[2]);
    let seen = expect_json(app.get(&path, &cso).await, 200).await;
    assert_eq!(seen, reopened);
}

#[tokio::test]
async fn an_unknown_enquiry_status_is_a_validation_error_and_changes_nothing() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let receipt = app.submit_enquiry(&enquiry_body("Odd Status")).await;

    let res = app
        .patch_json(
            &enquiry_path(&receipt),
            &json!({ "status": "PENDING" }),
            &cso,
            None,
        )
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["status"]);
    assert_eq!(staff_view(&app, &receipt).await["status"], "OPEN");
}

#[tokio::test]
async fn customer_accounts_may_not_use_the_staff_enquiry_routes() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let mut body = enquiry_body("Own Enquiry");
    body["email"] = json!(buyer.email);
    let receipt = app.submit_enquiry(&body).await;
    let path = enquiry_path(&receipt);

    let index = app.get(ENQUIRIES, &buyer).await;
    let read = app.get(&path, &buyer).await;
    let update = app
        .patch_json(&path, &json!({ "status": "CLOSED" }), &buyer, None)
        .await;

    for res in [index, read, update] {
        assert_error(res, 403, "forbidden").await;
    }
    assert_eq!(staff_view(&app, &receipt).await["status"], "OPEN");
}

#[tokio::test]
async fn staff_enquiry_routes_without_a_token_are_unauthorized() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Cso).await;
    let receipt = app.submit_enquiry(&enquiry_body("Anonymous")).await;
    let path = enquiry_path(&receipt);

    let index = app.get(ENQUIRIES, NO_TOKEN).await;
    let read = app.get(&path, NO_TOKEN).await;
    let update = app
        .patch_json(&path, &json!({ "status": "CLOSED" }), NO_TOKEN, None)
        .await;
    let mine = app.get("/api/v1/me/enquiries", NO_TOKEN).await;

    for res in [index, read, update, mine] {
        assert_error(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn a_customer_sees_only_their_own_enquiries_under_me() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let mut body = enquiry_body("Buyer Self");
    body["email"] = json!(buyer.email);
    let own = app.submit_enquiry(&body).await;
    app.submit_enquiry(&enquiry_body("Someone Else")).await;
    set_status(&app, &own, "ANSWERED", &cso).await;
    app.verify_email(&buyer).await;

    let res = app.get("/api/v1/me/enquiries", &buyer).await;
    let staff = app.get("/api/v1/me/enquiries", &cso).await;

    let page = expect_json(res, 200).await;
    assert_eq!(page["meta"]["total"], 1, "{page}");
    let mine = &page["data"][0];
    assert_keys(
        mine,
        &[
            "id",
            "subject",
            "message",
            "status",
            "createdAt",
            "updatedAt",
        ],
    );
    assert_eq!(mine["id"], own["id"]);
    assert_eq!(mine["subject"], body["subject"]);
    assert_eq!(mine["message"], body["message"]);
    assert_eq!(mine["status"], "ANSWERED");
    assert_error(staff, 403, "forbidden").await;
}

#[tokio::test]
async fn too_many_enquiries_from_one_address_are_rate_limited() {
    let app = spawn_app_with(&[("ENQUIRY_RATE_LIMIT", "2")]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    app.submit_enquiry(&enquiry_body("First Try")).await;
    app.submit_enquiry(&enquiry_body("Second Try")).await;

    let res = app
        .post_json(ENQUIRIES, &enquiry_body("Third Try"), NO_TOKEN)
        .await;

    let retry_after = header(&res, "retry-after").expect("a Retry-After header");
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not whole seconds: {retry_after:?}"));
    assert!((1..=600).contains(&seconds), "Retry-After: {seconds}");
    assert_error(res, 429, "rate_limited").await;
    assert_eq!(list(&app, "", &manager).await["meta"]["total"], 2);
}

#[tokio::test]
async fn registering_someone_elses_address_does_not_reveal_their_enquiries() {
    let app = spawn_app().await;
    app.sign_in_as(Role::Cso).await;
    let victim = unique_email("victim");
    let mut body = enquiry_body("Victim Person");
    body["email"] = json!(victim);
    let sent = app.submit_enquiry(&body).await;
    expect_json(app.register_at(&victim, "squatter password 1").await, 202).await;
    let squatter = app.login(&victim, "squatter password 1").await;

    let before = app.get("/api/v1/me/enquiries", &squatter).await;
    // Only the owner of the mailbox can read the code that verifies the address.
    app.verify_email(&squatter).await;
    let after = app.get("/api/v1/me/enquiries", &squatter).await;

    assert_error(before, 403, "email_unverified").await;
    let page = expect_json(after, 200).await;
    assert_eq!(page["meta"]["total"], 1, "{page}");
    assert_eq!(page["data"][0]["id"], sent["id"]);
}
