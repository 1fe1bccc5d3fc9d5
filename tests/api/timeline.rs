//! The people view of the CRM: the link between a buyer account and a customer, notes on a
//! customer, and the customer timeline.

use nexus_tests::{
    Role, Signed, TestApp, assert_error, customer_body, eventually, expect_json, spawn_app,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("an id")
}

async fn put_account(app: &TestApp, customer: &Value, user_id: &str, who: &Signed) -> Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/customers/{}/account", id(customer)),
        who,
    )
    .json(&json!({ "userId": user_id }))
    .send()
    .await
    .expect("the request reaches the app")
}

/// A CRM customer of `cso` with `email`.
async fn customer_at(app: &TestApp, cso: &Signed, email: &str) -> Value {
    let mut body = customer_body("Linked");
    body["email"] = json!(email);
    app.create_customer(cso, &body).await
}

async fn customer(app: &TestApp, customer: &Value, who: &Signed) -> Value {
    let res = app
        .get(&format!("/api/v1/customers/{}", id(customer)), who)
        .await;
    expect_json(res, 200).await
}

#[tokio::test]
async fn an_account_is_linked_to_the_customer_with_its_address_once_it_verifies_it() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let crm = customer_at(&app, &cso, &buyer.email).await;
    assert_eq!(crm["accountId"], Value::Null, "unverified: {crm}");
    // Nothing links an unverified address, however long one waits for the worker.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(customer(&app, &crm, &cso).await["accountId"], Value::Null);

    app.verify_email(&buyer).await;

    let linked = eventually("the account linked to the customer", async || {
        let now = customer(&app, &crm, &cso).await;
        (now["accountId"] == json!(buyer.user_id)).then_some(now)
    })
    .await;
    assert!(linked["version"].as_i64() > crm["version"].as_i64());
}

#[tokio::test]
async fn a_customer_created_for_a_verified_address_is_linked_at_once() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    app.verify_email(&buyer).await;

    let crm = customer_at(&app, &cso, &buyer.email).await;

    assert_eq!(crm["accountId"], json!(buyer.user_id), "{crm}");
}

#[tokio::test]
async fn staff_link_and_unlink_an_account_by_hand_within_their_scope() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let first = app.create_customer(&cso, &customer_body("First")).await;
    let second = app.create_customer(&cso, &customer_body("Second")).await;

    let res = put_account(&app, &first, &buyer.user_id, &cso).await;
    let linked = expect_json(res, 200).await;
    assert_eq!(linked["accountId"], json!(buyer.user_id));
    // Again: nothing changes.
    let res = put_account(&app, &first, &buyer.user_id, &cso).await;
    assert_eq!(expect_json(res, 200).await["version"], linked["version"]);

    let res = put_account(&app, &second, &buyer.user_id, &manager).await;
    assert_error(res, 409, "account_already_linked").await;
    let res = put_account(&app, &second, &cso.user_id, &manager).await;
    assert_error(res, 422, "invalid_account").await;
    let res = put_account(&app, &second, &uuid::Uuid::now_v7().to_string(), &manager).await;
    assert_error(res, 422, "invalid_account").await;
    let res = put_account(&app, &second, &buyer.user_id, &other_cso).await;
    assert_error(res, 404, "not_found").await;
    let res = put_account(&app, &second, &buyer.user_id, &buyer).await;
    assert_error(res, 403, "forbidden").await;

    let path = format!("/api/v1/customers/{}/account", id(&first));
    assert_error(app.delete(&path, &other_cso).await, 404, "not_found").await;
    let unlinked = expect_json(app.delete(&path, &cso).await, 200).await;
    assert_eq!(unlinked["accountId"], Value::Null);

    // Free again, the account links to the second customer.
    let res = put_account(&app, &second, &buyer.user_id, &manager).await;
    assert_eq!(
        expect_json(res, 200).await["accountId"],
        json!(buyer.user_id)
    );
}

async fn add_note(app: &TestApp, customer: &Value, body: &str, who: &Signed) -> Response {
    app.post_json(
        &format!("/api/v1/customers/{}/notes", id(customer)),
        &json!({ "body": body }),
        who,
    )
    .await
}

#[tokio::test]
async fn staff_add_notes_and_read_them_newest_first() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let crm = app.create_customer(&cso, &customer_body("Noted")).await;

    let first = expect_json(
        add_note(&app, &crm, "Called; wants a quote.", &cso).await,
        201,
    )
    .await;
    let second = expect_json(
        add_note(&app, &crm, "  Quote sent.\nFollow up Friday.  ", &manager).await,
        201,
    )
    .await;

    assert_eq!(first["authorId"], json!(cso.user_id));
    assert_eq!(second["body"], "Quote sent.\nFollow up Friday.");
    let res = app
        .get(&format!("/api/v1/customers/{}/notes", id(&crm)), &cso)
        .await;
    let page = expect_json(res, 200).await;
    assert_eq!(page["meta"]["total"], 2);
    let ids: Vec<&Value> = page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| &n["id"])
        .collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    let res = app
        .get(
            &format!("/api/v1/customers/{}/notes?page=2&limit=1", id(&crm)),
            &cso,
        )
        .await;
    assert_eq!(expect_json(res, 200).await["data"][0]["id"], first["id"]);
}

#[tokio::test]
async fn a_note_is_plain_text_of_at_most_4000_characters() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let crm = app.create_customer(&cso, &customer_body("Strict")).await;

    for bad in ["   ", "bell\u{7}", &"x".repeat(4001)] {
        let res = add_note(&app, &crm, bad, &cso).await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(body["details"][0]["field"], "body", "{body}");
    }
    expect_json(add_note(&app, &crm, &"x".repeat(4000), &cso).await, 201).await;
}

#[tokio::test]
async fn notes_are_scoped_like_their_customer() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let crm = app.create_customer(&cso, &customer_body("Private")).await;
    let path = format!("/api/v1/customers/{}/notes", id(&crm));

    assert_error(
        add_note(&app, &crm, "Peek", &other_cso).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.get(&path, &other_cso).await, 404, "not_found").await;
    assert_error(
        add_note(&app, &crm, "Peek", &editor).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(app.get(&path, &buyer).await, 403, "forbidden").await;
    let res = app.get(&path, &cso).await;
    assert_eq!(expect_json(res, 200).await["meta"]["total"], 0);
}
