//! What the OpenAPI document promises, held against the API where fuzzing found it breaking
//! its word: requests that match the document are accepted, and what it rules out is refused.

use nexus_tests::{
    NO_TOKEN, Role, assert_error, customer_body, etag, expect_json, product_body, spawn_app,
};
use serde_json::json;

#[tokio::test]
async fn an_inverted_price_range_is_an_empty_search_not_an_error() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.published_product(&admin, "Range guide", 5_000, b"%PDF-1.4 range")
        .await;

    let res = app
        .get("/api/v1/products?minPrice=9000&maxPrice=2000", NO_TOKEN)
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["meta"]["total"], 0);
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_invalid_json() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;

    let res = app
        .patch_json("/api/v1/users/me", &json!([null, null]), &cso, None)
        .await;

    assert_error(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn integers_written_as_whole_floats_are_accepted() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut body = product_body("Float price", 0);
    body["priceMinor"] = json!(1500.0);

    let res = app.post_json("/api/v1/products", &body, &admin).await;

    let product = expect_json(res, 201).await;
    assert_eq!(product["price"]["amountMinor"], 1500);
}

#[tokio::test]
async fn if_match_outside_the_documented_grammar_is_412_and_a_bare_version_works() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Tagged")).await;
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().expect("id"));
    let change = json!({"company": "Renamed Ltd"});

    for malformed in ["\"+1\"", "\"1", "\"\"1\"\"", "*"] {
        let res = app.patch_json(&path, &change, &cso, Some(malformed)).await;
        assert_error(res, 412, "invalid_if_match").await;
    }
    let bare = customer["version"].to_string();
    let res = app.patch_json(&path, &change, &cso, Some(&bare)).await;
    let updated = expect_json(res, 200).await;
    let res = app
        .patch_json(&path, &change, &cso, Some(&etag(&updated["version"])))
        .await;
    expect_json(res, 200).await;
}

#[tokio::test]
async fn an_approval_with_a_json_null_body_approves_without_notes() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let (_, pending) = app.pending_response(&cso).await;
    let id = pending["id"].as_str().expect("id");

    let res = app
        .post_json(
            &format!("/api/v1/responses/{id}/approve"),
            &serde_json::Value::Null,
            &manager,
        )
        .await;

    let approved = expect_json(res, 200).await;
    assert_ne!(approved["status"], "PENDING_APPROVAL");
    assert!(approved["decisionNotes"].is_null());
}
