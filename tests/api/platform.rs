//! Cross-cutting behaviour: health probes, API docs, uniform errors for routing and body
//! problems, request ids and security headers.

use std::collections::HashSet;

use nexus_tests::{
    NO_TOKEN, TestApp, assert_error, expect_json, header, spawn_app, spawn_app_with, unique_email,
};
use reqwest::{Method, Response, header::HeaderValue};
use serde_json::json;

const LOGIN: &str = "/api/v1/auth/login";
const REGISTER: &str = "/api/v1/auth/register";

async fn post_raw(app: &TestApp, path: &str, content_type: Option<&str>, body: String) -> Response {
    let mut builder = app.request(Method::POST, path, NO_TOKEN).body(body);
    if let Some(content_type) = content_type {
        builder = builder.header("Content-Type", content_type);
    }
    builder.send().await.expect("the request reaches the app")
}

async fn get_with_request_id(app: &TestApp, path: &str, request_id: HeaderValue) -> Response {
    app.request(Method::GET, path, NO_TOKEN)
        .header("X-Request-Id", request_id)
        .send()
        .await
        .expect("the request reaches the app")
}

#[tokio::test]
async fn the_liveness_probe_answers_ok() {
    let app = spawn_app().await;

    let body = expect_json(app.get("/health/live", NO_TOKEN).await, 200).await;

    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_readiness_probe_reports_the_database_ok() {
    let app = spawn_app().await;

    let body = expect_json(app.get("/health/ready", NO_TOKEN).await, 200).await;

    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["database"]["status"], "ok");
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint_and_a_bearer_scheme() {
    let app = spawn_app().await;

    let doc = expect_json(app.get("/api-docs/openapi.json", NO_TOKEN).await, 200).await;

    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not OpenAPI 3: {}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("the document has paths");
    for (path, method) in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/users/me", "patch"),
        ("/api/v1/users/me/password", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/users/{id}", "patch"),
        ("/api/v1/customers", "get"),
        ("/api/v1/customers", "post"),
        ("/api/v1/customers/{id}", "get"),
        ("/api/v1/customers/{id}", "patch"),
        ("/api/v1/customers/{id}", "delete"),
        ("/api/v1/customers/{id}/assign", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "the document lacks {} {path}; it has {:?}",
            method.to_uppercase(),
            paths.keys().collect::<Vec<_>>()
        );
    }
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("the document has security schemes");
    assert!(
        schemes.values().any(|s| s["type"] == "http"
            && s["scheme"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case("bearer"))),
        "no bearer scheme in {schemes:?}"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_as_html() {
    let app = spawn_app().await;

    let res = app.get("/docs/", NO_TOKEN).await;

    assert_eq!(res.status(), 200);
    let content_type = header(&res, "content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = res.text().await.expect("the page can be read");
    assert!(html.to_lowercase().contains("swagger"), "{html}");
}

#[tokio::test]
async fn an_unknown_route_is_a_uniform_not_found() {
    let app = spawn_app().await;

    let api = app.get("/api/v1/no-such-thing?page=2", NO_TOKEN).await;
    let root = app.get("/no-such-thing", NO_TOKEN).await;

    assert_error(api, 404, "route_not_found").await;
    assert_error(root, 404, "route_not_found").await;
}

#[tokio::test]
async fn a_wrong_method_on_a_known_route_is_method_not_allowed() {
    let app = spawn_app().await;

    let res = app
        .request(Method::PUT, LOGIN, NO_TOKEN)
        .json(&json!({ "email": "a@example.com", "password": "whatever1" }))
        .send()
        .await
        .expect("the request reaches the app");

    assert_error(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_invalid_json() {
    let app = spawn_app().await;

    let res = post_raw(
        &app,
        LOGIN,
        Some("application/json"),
        r#"{"email": "a@example.com", "password": "#.to_owned(),
    )
    .await;

    assert_error(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn json_with_wrong_types_is_invalid_json() {
    let app = spawn_app().await;

    let res = app
        .post_json(
            REGISTER,
            &json!({ "email": 42, "password": ["x"], "firstName": true, "lastName": null }),
            NO_TOKEN,
        )
        .await;

    assert_error(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_unsupported_media_type() {
    let app = spawn_app().await;
    let body = json!({
        "email": unique_email("plain"), "password": "a good long password",
        "firstName": "Plain", "lastName": "Text",
    })
    .to_string();

    let text = post_raw(&app, REGISTER, Some("text/plain"), body.clone()).await;
    let untyped = post_raw(&app, REGISTER, None, body).await;

    assert_error(text, 415, "unsupported_media_type").await;
    assert_error(untyped, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_payload_too_large() {
    let app = spawn_app_with(&[("BODY_LIMIT_BYTES", "2048")]).await;
    let email = unique_email("big");
    let oversized = json!({
        "email": email, "password": "a good long password",
        "firstName": "x".repeat(4096), "lastName": "Big",
    });
    let small = json!({
        "email": email, "password": "a good long password",
        "firstName": "Small", "lastName": "Enough",
    });

    let too_large = app.post_json(REGISTER, &oversized, NO_TOKEN).await;
    let fits = app.post_json(REGISTER, &small, NO_TOKEN).await;

    assert_error(too_large, 413, "payload_too_large").await;
    expect_json(fits, 202).await;
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_kept() {
    let app = spawn_app().await;
    let longest = "r".repeat(128);

    for id in [
        "client-id-123",
        "01J9ZQ~weird:but/visible!",
        longest.as_str(),
    ] {
        let ok = get_with_request_id(
            &app,
            "/health/live",
            HeaderValue::from_str(id).expect("a valid header value"),
        )
        .await;
        let error = get_with_request_id(
            &app,
            "/api/v1/auth/me",
            HeaderValue::from_str(id).expect("a valid header value"),
        )
        .await;

        assert_eq!(header(&ok, "x-request-id").as_deref(), Some(id));
        assert_eq!(header(&error, "x-request-id").as_deref(), Some(id));
        let body = assert_error(error, 401, "unauthorized").await;
        assert_eq!(body["requestId"], id);
    }
}

#[tokio::test]
async fn a_request_id_is_generated_when_missing_and_differs_between_requests() {
    let app = spawn_app().await;
    let mut seen = HashSet::new();

    for _ in 0..5 {
        let res = app.get("/health/live", NO_TOKEN).await;

        let id = header(&res, "x-request-id").expect("a generated X-Request-Id");
        assert!(!id.is_empty() && id.len() <= 128, "{id:?}");
        assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id:?}");
        seen.insert(id);
    }

    assert_eq!(seen.len(), 5, "request ids repeat: {seen:?}");
}

#[tokio::test]
async fn an_unusable_client_request_id_is_replaced_by_a_generated_one() {
    let app = spawn_app().await;
    let too_long = "r".repeat(129);
    let candidates = [
        HeaderValue::from_str(&too_long).expect("a valid header value"),
        HeaderValue::from_static("has space"),
        HeaderValue::from_bytes("café".as_bytes()).expect("obs-text is a valid header value"),
    ];

    for sent in candidates {
        let res = get_with_request_id(&app, "/api/v1/auth/me", sent.clone()).await;

        let id = header(&res, "x-request-id").expect("a generated X-Request-Id");
        assert_ne!(id.as_bytes(), sent.as_bytes());
        assert!(!id.is_empty() && id.len() <= 128, "{id:?}");
        assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id:?}");
        let body = assert_error(res, 401, "unauthorized").await;
        assert_eq!(body["requestId"], id.as_str());
    }
}

#[tokio::test]
async fn security_headers_are_on_success_and_error_responses_and_hsts_is_off_by_default() {
    let app = spawn_app().await;

    let responses = [
        app.get("/health/live", NO_TOKEN).await,
        app.get("/api/v1/auth/me", NO_TOKEN).await,
        app.get("/no-such-thing", NO_TOKEN).await,
        app.request(Method::PUT, LOGIN, NO_TOKEN)
            .send()
            .await
            .expect("the request reaches the app"),
        post_raw(&app, LOGIN, Some("application/json"), "{".to_owned()).await,
    ];

    for res in &responses {
        let path = res.url().path();
        assert_eq!(
            header(res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path} {}",
            res.status()
        );
        assert_eq!(
            header(res, "x-frame-options").as_deref(),
            Some("DENY"),
            "{path} {}",
            res.status()
        );
        assert_eq!(
            header(res, "referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path} {}",
            res.status()
        );
        assert!(
            header(res, "x-request-id").is_some(),
            "{path} {}",
            res.status()
        );
        assert_eq!(header(res, "strict-transport-security"), None, "{path}");
    }
}

#[tokio::test]
async fn hsts_is_sent_when_a_max_age_is_configured() {
    let app = spawn_app_with(&[("HSTS_MAX_AGE", "31536000")]).await;

    let ok = app.get("/health/live", NO_TOKEN).await;
    let error = app.get("/no-such-thing", NO_TOKEN).await;

    for res in [ok, error] {
        let hsts = header(&res, "strict-transport-security").expect("an HSTS header");
        assert!(hsts.contains("max-age=31536000"), "{hsts}");
    }
}
