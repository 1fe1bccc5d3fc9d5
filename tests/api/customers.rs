//! `/api/v1/customers`: creation, listing and CSO scoping, optimistic concurrency, deletion and
//! assignment.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, customer_body, detail_fields, etag,
    expect_empty, expect_json, header, spawn_app, unique_email,
};
use serde_json::{Value, json};

const CUSTOMERS: &str = "/api/v1/customers";

fn customer_path(customer: &Value) -> String {
    format!(
        "{CUSTOMERS}/{}",
        customer["id"].as_str().expect("a customer has an id")
    )
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a page has data")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

fn field_values<'a>(page: &'a Value, field: &str) -> Vec<&'a str> {
    page["data"]
        .as_array()
        .expect("a page has data")
        .iter()
        .map(|c| c[field].as_str().expect("a string field"))
        .collect()
}

fn timestamps(page: &Value, field: &str) -> Vec<DateTime<FixedOffset>> {
    field_values(page, field)
        .into_iter()
        .map(|t| DateTime::parse_from_rfc3339(t).expect("RFC 3339 timestamp"))
        .collect()
}

async fn list(app: &TestApp, query: &str, token: &Signed) -> Value {
    expect_json(app.get(&format!("{CUSTOMERS}{query}"), token).await, 200).await
}

/// A manager and two CSOs, for scoping tests.
async fn team(app: &TestApp) -> (Signed, Signed, Signed) {
    (
        app.sign_in_as(Role::Manager).await,
        app.sign_in_as(Role::Cso).await,
        app.sign_in_as(Role::Cso).await,
    )
}

fn assigned_to(first_name: &str, user: &Signed) -> Value {
    let mut body = customer_body(first_name);
    body["assignedTo"] = json!(user.user_id);
    body
}

#[tokio::test]
async fn creating_a_customer_returns_it_with_defaults_and_an_etag() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let body = customer_body("Alice");

    let res = app.post_json(CUSTOMERS, &body, &cso).await;

    assert_eq!(header(&res, "etag").as_deref(), Some("\"1\""));
    let customer = expect_json(res, 201).await;
    assert!(
        customer["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    assert_eq!(customer["firstName"], "Alice");
    assert_eq!(customer["lastName"], "Tester");
    assert_eq!(customer["email"], body["email"]);
    assert_eq!(customer["status"], "LEAD");
    assert_eq!(customer["tags"], json!([]));
    assert_eq!(customer["phone"], Value::Null);
    assert_eq!(customer["company"], Value::Null);
    assert_eq!(customer["assignedTo"], cso.user_id.as_str());
    assert_eq!(customer["createdBy"], cso.user_id.as_str());
    assert_eq!(customer["version"], 1);
    for key in ["createdAt", "updatedAt"] {
        let value = customer[key].as_str().expect("a timestamp");
        assert!(
            DateTime::parse_from_rfc3339(value).is_ok(),
            "{key}: {value}"
        );
    }
}

#[tokio::test]
async fn creating_a_customer_keeps_every_optional_field() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let mut body = assigned_to("Bob", &cso);
    body["phone"] = json!("+91 98765 43210");
    body["company"] = json!("Acme Ltd");
    body["status"] = json!("ACTIVE");
    body["tags"] = json!(["vip", "newsletter"]);

    let customer = app.create_customer(&manager, &body).await;

    assert_eq!(customer["status"], "ACTIVE");
    assert_eq!(customer["company"], "Acme Ltd");
    assert!(customer["phone"].as_str().is_some_and(|p| !p.is_empty()));
    // Tags are a set: the order they come back in is not part of the contract.
    let mut tags: Vec<&str> = customer["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t.as_str().expect("a tag"))
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, ["newsletter", "vip"]);
    assert_eq!(customer["assignedTo"], cso.user_id.as_str());
    assert_eq!(customer["createdBy"], manager.user_id.as_str());
    let seen = expect_json(app.get(&customer_path(&customer), &cso).await, 200).await;
    assert_eq!(seen, customer);
}

#[tokio::test]
async fn a_cso_cannot_create_a_customer_for_someone_else() {
    let app = spawn_app().await;
    let (_, cso, other) = team(&app).await;

    let res = app
        .post_json(CUSTOMERS, &assigned_to("Carol", &other), &cso)
        .await;

    assert_error(res, 403, "forbidden").await;
    assert_eq!(list(&app, "", &other).await["meta"]["total"], 0);
}

#[tokio::test]
async fn a_cso_may_name_themselves_as_assignee() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;

    let customer = app.create_customer(&cso, &assigned_to("Dave", &cso)).await;

    assert_eq!(customer["assignedTo"], cso.user_id.as_str());
}

#[tokio::test]
async fn creating_a_customer_with_a_taken_email_in_any_case_is_a_conflict() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app.create_customer(&manager, &customer_body("Erin")).await;
    let mut twin = customer_body("Erin");
    twin["email"] = json!(first["email"].as_str().expect("email").to_uppercase());

    let res = app.post_json(CUSTOMERS, &twin, &manager).await;

    assert_error(res, 409, "email_taken").await;
}

#[tokio::test]
async fn creating_a_customer_reports_every_invalid_field() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app
        .post_json(
            CUSTOMERS,
            &json!({ "firstName": "", "lastName": "Valid", "email": "not-an-email" }),
            &manager,
        )
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["email", "firstName"]);
}

#[tokio::test]
async fn creating_a_customer_with_an_unknown_status_is_rejected() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mut body = customer_body("Faye");
    body["status"] = json!("PROSPECT");

    let res = app.post_json(CUSTOMERS, &body, &manager).await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["status"]);
    assert_eq!(list(&app, "", &manager).await["meta"]["total"], 0);
}

#[tokio::test]
async fn customer_accounts_may_not_touch_the_crm() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let customer = app.create_customer(&manager, &customer_body("Gus")).await;
    let path = customer_path(&customer);

    let create = app
        .post_json(CUSTOMERS, &customer_body("Hal"), &buyer)
        .await;
    let index = app.get(CUSTOMERS, &buyer).await;
    let read = app.get(&path, &buyer).await;
    let update = app
        .patch_json(&path, &json!({ "firstName": "X" }), &buyer, Some("\"1\""))
        .await;
    let delete = app.delete(&path, &buyer).await;
    let assign = app
        .post_json(
            &format!("{path}/assign"),
            &json!({ "userId": buyer.user_id }),
            &buyer,
        )
        .await;

    for res in [create, index, read, update, delete, assign] {
        assert_error(res, 403, "forbidden").await;
    }
    let unchanged = expect_json(app.get(&path, &manager).await, 200).await;
    assert_eq!(unchanged, customer);
}

#[tokio::test]
async fn customer_endpoints_without_a_token_are_unauthorized() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.create_customer(&manager, &customer_body("Ian")).await;
    let path = customer_path(&customer);

    let create = app
        .post_json(CUSTOMERS, &customer_body("Jay"), NO_TOKEN)
        .await;
    let index = app.get(CUSTOMERS, NO_TOKEN).await;
    let read = app.get(&path, NO_TOKEN).await;
    let update = app
        .patch_json(&path, &json!({ "firstName": "X" }), NO_TOKEN, Some("\"1\""))
        .await;
    let delete = app.delete(&path, NO_TOKEN).await;
    let assign = app
        .post_json(
            &format!("{path}/assign"),
            &json!({ "userId": manager.user_id }),
            NO_TOKEN,
        )
        .await;

    for res in [create, index, read, update, delete, assign] {
        assert_error(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn listing_customers_pages_through_all_of_them() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mut created = Vec::new();
    for name in ["Kim", "Lee", "Max", "Ned", "Oli"] {
        let customer = app.create_customer(&manager, &customer_body(name)).await;
        created.push(customer["id"].as_str().expect("id").to_owned());
    }

    let first = list(&app, "?page=1&limit=2", &manager).await;
    let second = list(&app, "?page=2&limit=2", &manager).await;
    let third = list(&app, "?page=3&limit=2", &manager).await;
    let beyond = list(&app, "?page=4&limit=2", &manager).await;

    assert_eq!(
        first["meta"],
        json!({ "total": 5, "page": 1, "limit": 2, "totalPages": 3 })
    );
    assert_eq!(ids(&first).len(), 2);
    assert_eq!(ids(&second).len(), 2);
    assert_eq!(ids(&third).len(), 1);
    assert_eq!(ids(&beyond).len(), 0);
    assert_eq!(beyond["meta"]["total"], 5);
    let mut seen: Vec<String> = [first, second, third].iter().flat_map(ids).collect();
    seen.sort();
    created.sort();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn listing_customers_caps_the_page_size_at_100() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let page = list(&app, "?limit=1000", &manager).await;

    assert_eq!(page["meta"]["limit"], 100);
}

#[tokio::test]
async fn search_matches_names_and_email_case_insensitively() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let by_first = app
        .create_customer(
            &manager,
            &json!({ "firstName": "Zelda", "lastName": "Hyrule", "email": unique_email("zh") }),
        )
        .await;
    let by_last = app
        .create_customer(
            &manager,
            &json!({ "firstName": "Link", "lastName": "Zeldason", "email": unique_email("lz") }),
        )
        .await;
    let by_email = app
        .create_customer(
            &manager,
            &json!({ "firstName": "Navi", "lastName": "Fairy", "email": unique_email("zeldafan") }),
        )
        .await;
    app.create_customer(
        &manager,
        &json!({ "firstName": "Ganon", "lastName": "Dorf", "email": unique_email("gd") }),
    )
    .await;

    let page = list(&app, "?search=zElDa", &manager).await;

    let mut found = ids(&page);
    found.sort();
    let mut expected: Vec<String> = [by_first, by_last, by_email]
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(page["meta"]["total"], 3);
}

#[tokio::test]
async fn listing_customers_filters_by_status_and_assignee() {
    let app = spawn_app().await;
    let (manager, cso, _) = team(&app).await;
    let mut active = customer_body("Pam");
    active["status"] = json!("ACTIVE");
    let active = app.create_customer(&manager, &active).await;
    let lead = app
        .create_customer(&manager, &assigned_to("Quin", &cso))
        .await;

    let by_status = list(&app, "?status=ACTIVE", &manager).await;
    let by_assignee = list(&app, &format!("?assignedTo={}", cso.user_id), &manager).await;

    assert_eq!(ids(&by_status), [active["id"].as_str().expect("id")]);
    assert_eq!(by_status["meta"]["total"], 1);
    assert_eq!(ids(&by_assignee), [lead["id"].as_str().expect("id")]);
    assert_eq!(by_assignee["meta"]["total"], 1);
}

#[tokio::test]
async fn listing_customers_rejects_an_unknown_status_or_sort() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let status = app
        .get(&format!("{CUSTOMERS}?status=PROSPECT"), &manager)
        .await;
    let sort = app
        .get(&format!("{CUSTOMERS}?sort=passwordHash"), &manager)
        .await;

    assert_error(status, 400, "validation_failed").await;
    assert_error(sort, 400, "validation_failed").await;
}

#[tokio::test]
async fn listing_customers_sorts_newest_first_by_default() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mut created = Vec::new();
    for name in ["Rae", "Sam", "Tom"] {
        let customer = app.create_customer(&manager, &customer_body(name)).await;
        created.push(customer["id"].as_str().expect("id").to_owned());
        // Distinct creation times, so the order below is fully determined.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let default = list(&app, "", &manager).await;
    let ascending = list(&app, "?sort=createdAt", &manager).await;
    let descending = list(&app, "?sort=-createdAt", &manager).await;

    let newest_first = timestamps(&default, "createdAt");
    assert_eq!(newest_first.len(), 3);
    assert!(newest_first.windows(2).all(|w| w[0] >= w[1]), "{default}");
    assert!(
        timestamps(&ascending, "createdAt")
            .windows(2)
            .all(|w| w[0] <= w[1]),
        "{ascending}"
    );
    assert_eq!(ids(&descending), ids(&default));
    created.reverse();
    assert_eq!(ids(&default), created);
}

#[tokio::test]
async fn listing_customers_sorts_by_last_name_and_email_in_both_directions() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    for (last, local) in [("Brown", "c"), ("Adams", "b"), ("Clark", "a")] {
        app.create_customer(
            &manager,
            &json!({ "firstName": "Sorty", "lastName": last, "email": unique_email(local) }),
        )
        .await;
    }

    let by_last = list(&app, "?sort=lastName", &manager).await;
    let by_last_desc = list(&app, "?sort=-lastName", &manager).await;
    let by_last_desc_long = list(&app, "?sort=lastName:desc", &manager).await;
    let by_email = list(&app, "?sort=email", &manager).await;
    let by_email_desc = list(&app, "?sort=email:desc", &manager).await;

    assert_eq!(
        field_values(&by_last, "lastName"),
        ["Adams", "Brown", "Clark"]
    );
    assert_eq!(
        field_values(&by_last_desc, "lastName"),
        ["Clark", "Brown", "Adams"]
    );
    assert_eq!(ids(&by_last_desc_long), ids(&by_last_desc));
    assert_eq!(
        field_values(&by_email, "lastName"),
        ["Clark", "Adams", "Brown"]
    );
    assert_eq!(
        field_values(&by_email_desc, "lastName"),
        ["Brown", "Adams", "Clark"]
    );
}

#[tokio::test]
async fn listing_customers_sorts_by_update_time() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app.create_customer(&manager, &customer_body("Uma")).await;
    app.create_customer(&manager, &customer_body("Vic")).await;
    app.create_customer(&manager, &customer_body("Wes")).await;
    // The update must happen at a later instant than every creation.
    tokio::time::sleep(Duration::from_millis(20)).await;
    expect_json(
        app.patch_json(
            &customer_path(&first),
            &json!({ "company": "Touched" }),
            &manager,
            Some("\"1\""),
        )
        .await,
        200,
    )
    .await;

    let recent_first = list(&app, "?sort=-updatedAt", &manager).await;
    let oldest_first = list(&app, "?sort=updatedAt", &manager).await;

    assert_eq!(ids(&recent_first)[0], first["id"].as_str().expect("id"));
    assert!(
        timestamps(&recent_first, "updatedAt")
            .windows(2)
            .all(|w| w[0] >= w[1])
    );
    assert!(
        timestamps(&oldest_first, "updatedAt")
            .windows(2)
            .all(|w| w[0] <= w[1])
    );
}

#[tokio::test]
async fn a_cso_lists_only_customers_assigned_to_them() {
    let app = spawn_app().await;
    let (manager, cso, other) = team(&app).await;
    let mine_a = app
        .create_customer(&manager, &assigned_to("Xena", &cso))
        .await;
    let mine_b = app.create_customer(&cso, &customer_body("Yuri")).await;
    app.create_customer(&manager, &assigned_to("Zack", &other))
        .await;
    app.create_customer(&manager, &customer_body("Abe")).await;

    let mine = list(&app, "", &cso).await;
    let everyone = list(&app, "", &manager).await;
    let searched = list(&app, "?search=zack", &cso).await;
    let filtered = list(&app, &format!("?assignedTo={}", other.user_id), &cso).await;

    let mut expected = vec![
        mine_a["id"].as_str().expect("id").to_owned(),
        mine_b["id"].as_str().expect("id").to_owned(),
    ];
    expected.sort();
    let mut found = ids(&mine);
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(mine["meta"]["total"], 2);
    assert_eq!(everyone["meta"]["total"], 4);
    assert_eq!(searched["meta"]["total"], 0);
    assert_eq!(filtered["meta"]["total"], 0);
    assert_eq!(ids(&filtered).len(), 0);
}

#[tokio::test]
async fn an_admin_sees_every_customer() {
    let app = spawn_app().await;
    let (manager, cso, _) = team(&app).await;
    let admin = app.admin().await;
    app.create_customer(&cso, &customer_body("Bea")).await;
    app.create_customer(&manager, &customer_body("Cal")).await;

    assert_eq!(list(&app, "", &admin).await["meta"]["total"], 2);
}

#[tokio::test]
async fn reading_a_customer_returns_it_with_its_version_as_etag() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Dee")).await;

    let res = app.get(&customer_path(&customer), &cso).await;

    assert_eq!(header(&res, "etag"), Some(etag(&customer["version"])));
    assert_eq!(expect_json(res, 200).await, customer);
}

#[tokio::test]
async fn another_csos_customer_looks_exactly_like_a_missing_one() {
    let app = spawn_app().await;
    let (_, cso, other) = team(&app).await;
    let theirs = app.create_customer(&other, &customer_body("Eve")).await;

    let hidden_id = theirs["id"].as_str().expect("id");
    let missing_id = uuid::Uuid::now_v7().to_string();

    let hidden = app.get(&customer_path(&theirs), &cso).await;
    let missing = app.get(&format!("{CUSTOMERS}/{missing_id}"), &cso).await;

    let hidden = assert_error(hidden, 404, "not_found").await;
    let missing = assert_error(missing, 404, "not_found").await;
    // The messages may name the id asked for, but must not differ otherwise.
    let message = |body: &Value, id: &str| {
        body["message"]
            .as_str()
            .expect("a message")
            .replace(id, "<id>")
    };
    assert_eq!(message(&hidden, hidden_id), message(&missing, &missing_id));
}

#[tokio::test]
async fn a_malformed_customer_id_is_not_found() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app.get(&format!("{CUSTOMERS}/not-a-uuid"), &manager).await;

    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn updating_with_if_match_changes_the_given_fields_and_bumps_the_version() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let mut body = customer_body("Fay");
    body["phone"] = json!("+91 98765 43210");
    body["company"] = json!("Old Co");
    body["tags"] = json!(["old"]);
    let customer = app.create_customer(&cso, &body).await;
    let path = customer_path(&customer);
    let new_email = unique_email("fay.new");

    let res = app
        .patch_json(
            &path,
            &json!({
                "lastName": "Renamed", "email": new_email, "status": "ACTIVE",
                "tags": ["new", "vip"], "company": null,
            }),
            &cso,
            Some(&etag(&customer["version"])),
        )
        .await;

    assert_eq!(header(&res, "etag").as_deref(), Some("\"2\""));
    let updated = expect_json(res, 200).await;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["firstName"], "Fay");
    assert_eq!(updated["lastName"], "Renamed");
    assert_eq!(updated["email"], new_email.as_str());
    assert_eq!(updated["status"], "ACTIVE");
    assert_eq!(updated["tags"], json!(["new", "vip"]));
    assert_eq!(updated["company"], Value::Null);
    assert_eq!(updated["phone"], customer["phone"]);
    assert_eq!(updated["createdAt"], customer["createdAt"]);
    assert_eq!(expect_json(app.get(&path, &cso).await, 200).await, updated);
}

#[tokio::test]
async fn updating_with_a_version_in_the_body_works_without_if_match() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let mut body = customer_body("Gil");
    body["phone"] = json!("+91 98765 43210");
    let customer = app.create_customer(&manager, &body).await;

    let res = app
        .patch_json(
            &customer_path(&customer),
            &json!({ "phone": null, "version": customer["version"] }),
            &manager,
            None,
        )
        .await;

    assert_eq!(header(&res, "etag").as_deref(), Some("\"2\""));
    let updated = expect_json(res, 200).await;
    assert_eq!(updated["phone"], Value::Null);
    assert_eq!(updated["version"], 2);
}

#[tokio::test]
async fn updating_with_a_stale_version_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.create_customer(&manager, &customer_body("Hex")).await;
    let path = customer_path(&customer);
    expect_json(
        app.patch_json(
            &path,
            &json!({ "lastName": "First" }),
            &manager,
            Some("\"1\""),
        )
        .await,
        200,
    )
    .await;

    let by_header = app
        .patch_json(
            &path,
            &json!({ "lastName": "Lost" }),
            &manager,
            Some("\"1\""),
        )
        .await;
    let by_body = app
        .patch_json(
            &path,
            &json!({ "lastName": "Lost", "version": 1 }),
            &manager,
            None,
        )
        .await;

    assert_error(by_header, 409, "conflict").await;
    assert_error(by_body, 409, "conflict").await;
    let current = expect_json(app.get(&path, &manager).await, 200).await;
    assert_eq!(current["lastName"], "First");
    assert_eq!(current["version"], 2);
}

#[tokio::test]
async fn updating_without_any_version_requires_a_precondition() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.create_customer(&manager, &customer_body("Ida")).await;
    let path = customer_path(&customer);

    let res = app
        .patch_json(&path, &json!({ "lastName": "Blind" }), &manager, None)
        .await;

    assert_error(res, 428, "precondition_required").await;
    let current = expect_json(app.get(&path, &manager).await, 200).await;
    assert_eq!(current, customer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_updates_of_one_version_give_one_success_and_one_conflict() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.create_customer(&manager, &customer_body("Jon")).await;
    let path = customer_path(&customer);
    let if_match = etag(&customer["version"]);

    let (body_a, body_b) = (json!({ "lastName": "A" }), json!({ "lastName": "B" }));

    let (a, b) = tokio::join!(
        app.patch_json(&path, &body_a, &manager, Some(&if_match)),
        app.patch_json(&path, &body_b, &manager, Some(&if_match)),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let (winner, loser) = if a.status() == 200 { (a, b) } else { (b, a) };
    let winner = expect_json(winner, 200).await;
    assert_error(loser, 409, "conflict").await;
    let current = expect_json(app.get(&path, &manager).await, 200).await;
    assert_eq!(current["version"], 2);
    assert_eq!(current["lastName"], winner["lastName"]);
}

#[tokio::test]
async fn updating_a_customer_validates_the_fields() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.create_customer(&manager, &customer_body("Kai")).await;

    let res = app
        .patch_json(
            &customer_path(&customer),
            &json!({ "email": "nope" }),
            &manager,
            Some("\"1\""),
        )
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["email"]);
}

#[tokio::test]
async fn updating_a_customer_to_a_taken_email_is_a_conflict() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app.create_customer(&manager, &customer_body("Lia")).await;
    let second = app.create_customer(&manager, &customer_body("Mia")).await;
    let taken = first["email"].as_str().expect("email").to_uppercase();

    let res = app
        .patch_json(
            &customer_path(&second),
            &json!({ "email": taken }),
            &manager,
            Some("\"1\""),
        )
        .await;

    assert_error(res, 409, "email_taken").await;
}

#[tokio::test]
async fn a_cso_updates_their_own_customer_but_not_another_csos() {
    let app = spawn_app().await;
    let (_, cso, other) = team(&app).await;
    let mine = app.create_customer(&cso, &customer_body("Nia")).await;
    let theirs = app.create_customer(&other, &customer_body("Oto")).await;

    let own = app
        .patch_json(
            &customer_path(&mine),
            &json!({ "status": "ACTIVE" }),
            &cso,
            Some("\"1\""),
        )
        .await;
    let foreign = app
        .patch_json(
            &customer_path(&theirs),
            &json!({ "status": "CHURNED" }),
            &cso,
            Some("\"1\""),
        )
        .await;

    assert_eq!(expect_json(own, 200).await["status"], "ACTIVE");
    assert_error(foreign, 404, "not_found").await;
    let untouched = expect_json(app.get(&customer_path(&theirs), &other).await, 200).await;
    assert_eq!(untouched, theirs);
}

#[tokio::test]
async fn updating_an_unknown_customer_is_not_found() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app
        .patch_json(
            &format!("{CUSTOMERS}/{}", uuid::Uuid::now_v7()),
            &json!({ "lastName": "Ghost" }),
            &manager,
            Some("\"1\""),
        )
        .await;

    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn managers_and_admins_delete_customers() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let admin = app.admin().await;
    let first = app.create_customer(&manager, &customer_body("Pia")).await;
    let second = app.create_customer(&manager, &customer_body("Rex")).await;

    expect_empty(app.delete(&customer_path(&first), &manager).await, 204).await;
    expect_empty(app.delete(&customer_path(&second), &admin).await, 204).await;

    assert_error(
        app.get(&customer_path(&first), &manager).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete(&customer_path(&second), &admin).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(list(&app, "", &manager).await["meta"]["total"], 0);
}

#[tokio::test]
async fn a_cso_cannot_delete_customers_and_cannot_see_others() {
    let app = spawn_app().await;
    let (_, cso, other) = team(&app).await;
    let mine = app.create_customer(&cso, &customer_body("Sol")).await;
    let theirs = app.create_customer(&other, &customer_body("Tia")).await;

    let own = app.delete(&customer_path(&mine), &cso).await;
    let foreign = app.delete(&customer_path(&theirs), &cso).await;

    assert_error(own, 403, "forbidden").await;
    assert_error(foreign, 404, "not_found").await;
    expect_json(app.get(&customer_path(&mine), &cso).await, 200).await;
    expect_json(app.get(&customer_path(&theirs), &other).await, 200).await;
}

#[tokio::test]
async fn assigning_a_customer_moves_it_between_csos() {
    let app = spawn_app().await;
    let (manager, cso, other) = team(&app).await;
    let customer = app.create_customer(&cso, &customer_body("Ugo")).await;
    let path = customer_path(&customer);

    let res = app
        .post_json(
            &format!("{path}/assign"),
            &json!({ "userId": other.user_id }),
            &manager,
        )
        .await;

    let assigned = expect_json(res, 200).await;
    assert_eq!(assigned["id"], customer["id"]);
    assert_eq!(assigned["assignedTo"], other.user_id.as_str());
    expect_json(app.get(&path, &other).await, 200).await;
    assert_eq!(list(&app, "", &other).await["meta"]["total"], 1);
    assert_error(app.get(&path, &cso).await, 404, "not_found").await;
    assert_eq!(list(&app, "", &cso).await["meta"]["total"], 0);
}

#[tokio::test]
async fn an_admin_may_assign_a_customer_to_a_manager() {
    let app = spawn_app().await;
    let (manager, cso, _) = team(&app).await;
    let admin = app.admin().await;
    let customer = app.create_customer(&cso, &customer_body("Val")).await;

    let res = app
        .post_json(
            &format!("{}/assign", customer_path(&customer)),
            &json!({ "userId": manager.user_id }),
            &admin,
        )
        .await;

    assert_eq!(
        expect_json(res, 200).await["assignedTo"],
        manager.user_id.as_str()
    );
}

#[tokio::test]
async fn a_cso_cannot_assign_customers() {
    let app = spawn_app().await;
    let (_, cso, other) = team(&app).await;
    let customer = app.create_customer(&cso, &customer_body("Wyn")).await;

    let res = app
        .post_json(
            &format!("{}/assign", customer_path(&customer)),
            &json!({ "userId": other.user_id }),
            &cso,
        )
        .await;

    assert_error(res, 403, "forbidden").await;
    let current = expect_json(app.get(&customer_path(&customer), &cso).await, 200).await;
    assert_eq!(current["assignedTo"], cso.user_id.as_str());
}

#[tokio::test]
async fn assigning_to_anyone_but_an_active_crm_staff_user_is_an_invalid_assignee() {
    let app = spawn_app().await;
    let (manager, cso, retired) = team(&app).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    // An editor is staff but does not work the CRM.
    let editor = app.sign_in_as(Role::Editor).await;
    let admin = app.admin_token().await;
    expect_json(
        app.patch_json(
            &format!("/api/v1/users/{}", retired.user_id),
            &json!({ "isActive": false }),
            &admin,
            None,
        )
        .await,
        200,
    )
    .await;
    let customer = app.create_customer(&cso, &customer_body("Xia")).await;
    let assign = format!("{}/assign", customer_path(&customer));
    let unknown = uuid::Uuid::now_v7().to_string();

    for user_id in [&buyer.user_id, &editor.user_id, &retired.user_id, &unknown] {
        let res = app
            .post_json(&assign, &json!({ "userId": user_id }), &manager)
            .await;

        assert_error(res, 422, "invalid_assignee").await;
    }
    let current = expect_json(app.get(&customer_path(&customer), &cso).await, 200).await;
    assert_eq!(current["assignedTo"], cso.user_id.as_str());
}

#[tokio::test]
async fn a_manager_may_create_a_customer_for_a_cso_but_not_for_a_buyer() {
    let app = spawn_app().await;
    let (manager, cso, _) = team(&app).await;
    let buyer = app.sign_in_as(Role::Customer).await;

    let for_cso = app
        .post_json(CUSTOMERS, &assigned_to("Yan", &cso), &manager)
        .await;
    let for_buyer = app
        .post_json(CUSTOMERS, &assigned_to("Zed", &buyer), &manager)
        .await;

    assert_eq!(
        expect_json(for_cso, 201).await["assignedTo"],
        cso.user_id.as_str()
    );
    assert_error(for_buyer, 422, "invalid_assignee").await;
}

#[tokio::test]
async fn assigning_an_unknown_customer_is_not_found() {
    let app = spawn_app().await;
    let (manager, cso, _) = team(&app).await;

    let res = app
        .post_json(
            &format!("{CUSTOMERS}/{}/assign", uuid::Uuid::now_v7()),
            &json!({ "userId": cso.user_id }),
            &manager,
        )
        .await;

    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_customer_with_a_sent_response_is_kept_with_its_history() {
    let app = spawn_app().await;
    let (manager, cso, _) = team(&app).await;
    let (customer, response) = app.pending_response(&cso).await;
    let id = response["id"].as_str().expect("a response has an id");
    let res = app
        .post_json(
            &format!("/api/v1/responses/{id}/approve"),
            &json!({}),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    let total_before = list(&app, "", &manager).await["meta"]["total"].clone();

    let res = app.delete(&customer_path(&customer), &manager).await;

    assert_error(res, 409, "customer_has_history").await;
    expect_json(app.get(&customer_path(&customer), &manager).await, 200).await;
    let history = expect_json(
        app.get(&format!("/api/v1/responses/{id}/history"), &manager)
            .await,
        200,
    )
    .await;
    // Created, submitted, approved; and sent, when the worker has mailed it already.
    let states: Vec<&str> = history
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|h| h["to"].as_str())
        .collect();
    assert!(
        states == ["DRAFT", "PENDING_APPROVAL", "APPROVED"]
            || states == ["DRAFT", "PENDING_APPROVAL", "APPROVED", "SENT"],
        "created, submitted, approved (and perhaps sent): {history}"
    );
    assert_eq!(
        list(&app, "", &manager).await["meta"]["total"],
        total_before
    );
}

#[tokio::test]
async fn a_customer_with_an_enquiry_is_not_deleted() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let body = nexus_tests::enquiry_body("Nia");
    app.submit_enquiry(&body).await;
    let page = list(&app, "", &manager).await;
    let customer = page["data"][0].clone();
    assert_eq!(customer["email"], body["email"], "{page}");

    let res = app.delete(&customer_path(&customer), &manager).await;

    assert_error(res, 409, "customer_has_history").await;
    expect_json(app.get(&customer_path(&customer), &manager).await, 200).await;
}
