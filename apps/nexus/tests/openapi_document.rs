//! The OpenAPI document is complete enough for client generators: every operation has an
//! operationId and tags, every response a description, and the uniform error responses are
//! attached where an operation can answer them.

use nexus::http::openapi::ApiDoc;
use serde_json::Value;
use utoipa::OpenApi;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the document serializes")
}

/// Every operation as (`METHOD path`, operation).
fn operations(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((format!("{} {path}", method.to_uppercase()), op.clone()));
            }
        }
    }
    out
}

/// The description of a response, following a `$ref` into `components.responses`.
fn description<'a>(doc: &'a Value, response: &'a Value) -> Option<&'a str> {
    let response = match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.strip_prefix("#/components/responses/")?;
            doc.pointer(&format!("/components/responses/{name}"))?
        }
        None => response,
    };
    response["description"]
        .as_str()
        .filter(|d| !d.trim().is_empty())
}

#[test]
fn the_document_is_openapi_3_1_with_operations() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(operations(&doc).len() > 50);
}

#[test]
fn every_operation_has_an_operation_id_and_tags() {
    let doc = document();
    let mut ids = std::collections::HashSet::new();
    for (name, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{name} has no operationId");
        assert!(
            ids.insert(id.to_owned()),
            "{name}: operationId {id} is used twice"
        );
        let tags = op["tags"].as_array().map_or(0, Vec::len);
        assert!(tags > 0, "{name} has no tags");
    }
}

#[test]
fn every_response_has_a_description() {
    let doc = document();
    for (name, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{name} documents no response");
        for (status, response) in responses {
            assert!(
                description(&doc, response).is_some(),
                "{name} {status} has no description"
            );
        }
    }
}

#[test]
fn standard_errors_follow_what_an_operation_takes() {
    let doc = document();
    for (name, op) in operations(&doc) {
        let has = |status: &str| op["responses"].get(status).is_some();
        let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
        let takes = |place: &str| params.iter().any(|p| p["in"] == place);
        assert!(has("500"), "{name} lacks 500");
        if op
            .get("security")
            .is_some_and(|s| s.as_array().is_some_and(|s| !s.is_empty()))
        {
            assert!(
                has("401") && has("403"),
                "{name} is secured but lacks 401/403"
            );
        }
        if op.get("requestBody").is_some() {
            assert!(
                has("400") && has("413") && has("415"),
                "{name} takes a body but lacks 400/413/415"
            );
        }
        if takes("query") {
            assert!(has("400"), "{name} takes a query but lacks 400");
        }
        if takes("path") {
            assert!(has("404"), "{name} takes a path id but lacks 404");
        }
        if params.iter().any(|p| p["name"] == "If-Match") {
            assert!(has("412"), "{name} takes If-Match but lacks 412");
        }
    }
}

#[test]
fn rate_limited_operations_document_429_with_retry_after() {
    let doc = document();
    for path in [
        "/api/v1/enquiries",
        "/api/v1/auth/otp/request",
        "/api/v1/auth/otp/verify",
    ] {
        assert!(
            doc.pointer(&format!(
                "/paths/{}/post/responses/429",
                path.replace('/', "~1")
            ))
            .is_some(),
            "{path} lacks 429"
        );
    }
    assert!(
        doc.pointer("/components/responses/TooManyRequests/headers/Retry-After")
            .is_some()
    );
}

#[test]
fn closed_sets_and_formats_are_stated() {
    let doc = document();
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    assert_eq!(
        schema("OtpPurposeDto")["enum"],
        serde_json::json!(["VERIFY_EMAIL", "LOGIN"])
    );
    assert!(schema("CustomerStatusDto")["enum"].is_array());
    assert!(schema("RoleDto")["enum"].is_array());
    let register = schema("RegisterRequest");
    assert_eq!(register["properties"]["email"]["format"], "email");
    assert_eq!(register["properties"]["password"]["minLength"], 8);
    assert!(register["properties"]["firstName"]["pattern"].is_string());
    assert!(schema("CreateProductRequest")["properties"]["slug"]["pattern"].is_string());
    // `page` and `limit` take any u32 (the API clamps), not only int32.
    let users = doc
        .pointer("/paths/~1api~1v1~1users/get/parameters")
        .expect("params");
    let page = users
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "page"))
        .expect("page");
    assert_eq!(page["schema"]["maximum"].as_f64(), Some(4_294_967_295.0));
    assert_ne!(page["schema"]["format"], "int32");
    // If-Match states the grammar the extractor accepts.
    let patch = doc
        .pointer("/paths/~1api~1v1~1customers~1{id}/patch/parameters")
        .and_then(Value::as_array)
        .expect("params");
    let if_match = patch
        .iter()
        .find(|p| p["name"] == "If-Match")
        .expect("If-Match");
    assert_eq!(
        if_match["schema"]["pattern"],
        nexus::http::extract::IF_MATCH_PATTERN
    );
}
