//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::analytics;
use super::audit;
use super::dashboards;
use super::error::ErrorBody;

use super::feedback;
use super::feeds;
use super::oauth;
use super::pages;
use super::posts;
use super::redirects;
use super::seo;
use super::team;
use super::{
    auth, customers, enquiries, health, jobs, metrics, orders, products, responses, site, users,
};

/// The API description served at `/api-docs/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Customer Nexus Hub API", description = "CRM, approvals, marketplace and content for a business selling digital resources."),
    paths(
        auth::handlers::register, auth::handlers::login, auth::handlers::refresh, auth::handlers::logout, auth::handlers::me,
        users::handlers::update_me, users::handlers::change_password, users::handlers::list_users, users::handlers::create_user,
        users::handlers::get_user, users::handlers::update_user,
        customers::handlers::list_customers, customers::handlers::create_customer, customers::handlers::get_customer,
        customers::handlers::update_customer, customers::handlers::delete_customer, customers::handlers::assign_customer,
        customers::handlers::link_account, customers::handlers::unlink_account,
        customers::notes::create_note, customers::notes::list_notes, customers::timeline::customer_timeline,
        auth::handlers::request_otp,
        auth::handlers::verify_otp,
        auth::handlers::forgot_password,
        auth::handlers::reset_password,
        auth::handlers::accept_invite,
        users::handlers::invite_user,
        users::handlers::resend_invite,
        users::handlers::change_email,
        users::handlers::confirm_email,
        users::handlers::list_sessions,
        users::handlers::revoke_session,
        users::handlers::revoke_other_sessions,
        users::handlers::start_totp,
        users::handlers::confirm_totp,
        users::handlers::disable_totp,
        auth::handlers::login_totp,
        users::privacy::export_me,
        users::privacy::erase_me,
        enquiries::handlers::create_enquiry,
        enquiries::handlers::list_enquiries,
        enquiries::handlers::get_enquiry,
        enquiries::handlers::update_enquiry,
        enquiries::handlers::my_enquiries,
        responses::handlers::create_response,
        responses::handlers::list_responses,
        responses::handlers::get_response,
        responses::handlers::update_response,
        responses::handlers::submit_response,
        responses::handlers::approve_response,
        responses::handlers::reject_response,
        responses::handlers::response_history,
        jobs::list_jobs,
        jobs::retry_job,
        products::handlers::list_products,
        products::handlers::get_product,
        products::handlers::create_product,
        products::handlers::update_product,
        products::handlers::delete_product,
        products::handlers::publish_product,
        products::handlers::archive_product,
        products::handlers::unpublish_product,
        products::handlers::upload_asset,
        products::handlers::get_product_cover,
        products::handlers::upload_product_cover,
        products::handlers::asset_upload_link,
        products::handlers::confirm_asset_upload,
        products::handlers::admin_list_products,
        orders::handlers::get_cart,
        orders::handlers::add_cart_item,
        orders::handlers::remove_cart_item,
        orders::handlers::clear_cart,
        orders::handlers::checkout,
        orders::handlers::list_orders,
        orders::handlers::get_order,
        orders::handlers::get_invoice,
        orders::handlers::get_credit_note,
        orders::handlers::refund_order,
        orders::handlers::verify_payment,
        orders::handlers::complete_dev_payment,
        orders::handlers::razorpay_webhook,
        orders::handlers::my_library,
        orders::handlers::download_product,
        orders::handlers::serve_file,
        health::live, health::ready, metrics::metrics,
        site::robots, site::sitemap, site::sitemap_part,
        analytics::ingest_events, analytics::top_pages, analytics::top_referrers, analytics::trend,
        analytics::conversions, analytics::campaigns,
        dashboards::my_dashboard,
        feedback::handlers::submit_feedback,
        feedback::handlers::list_published_feedback,
        feedback::handlers::admin_list_feedback,
        feedback::handlers::publish_feedback,
        feedback::handlers::hide_feedback,
        feedback::handlers::put_review,
        feedback::handlers::delete_review,
        feedback::handlers::product_reviews,
        feedback::handlers::my_reviews,
        feedback::handlers::admin_list_reviews,
        feedback::handlers::publish_review,
        feedback::handlers::hide_review,
        feedback::handlers::customer_feedback,
        pages::handlers::get_public_page, pages::handlers::get_preview,
        pages::handlers::list_pages, pages::handlers::create_page, pages::handlers::get_page,
        pages::handlers::update_page, pages::handlers::delete_page,
        pages::handlers::list_page_versions, pages::handlers::get_page_version,
        pages::handlers::restore_page_version, pages::handlers::diff_page_versions,
        pages::handlers::publish_page, pages::handlers::unpublish_page,
        pages::handlers::schedule_page, pages::handlers::preview_page,
        pages::handlers::list_content_audit,
        seo::handlers::seo_report, seo::handlers::get_seo_item, seo::handlers::request_seo_scan,
        redirects::handlers::list_redirects, redirects::handlers::create_redirect,
        redirects::handlers::get_redirect, redirects::handlers::update_redirect,
        redirects::handlers::delete_redirect,
        team::handlers::list_public_team, team::handlers::get_team_photo,
        team::handlers::list_team, team::handlers::create_team_member,
        team::handlers::get_team_member, team::handlers::update_team_member,
        team::handlers::delete_team_member, team::handlers::reorder_team,
        team::handlers::upload_team_photo,
        posts::handlers::list_public_posts, posts::handlers::get_public_post,
        posts::handlers::get_post_cover, posts::handlers::list_posts,
        posts::handlers::create_post, posts::handlers::get_post, posts::handlers::update_post,
        posts::handlers::delete_post, posts::handlers::publish_post,
        posts::handlers::unpublish_post, posts::handlers::schedule_post,
        posts::handlers::upload_post_cover,
        feeds::rss_feed, feeds::atom_feed,
        seo::handlers::get_site,
        oauth::handlers::start_oauth, oauth::handlers::oauth_callback,
        oauth::handlers::list_identities, oauth::handlers::unlink_identity,
        audit::list_audit,
    ),
    modifiers(&BearerAuth, &StandardErrors),
    tags(
        (name = "auth", description = "Sign-up, sign-in and sessions"),
        (name = "users", description = "Profiles and user administration"),
        (name = "customers", description = "The customer CRM"),
        (name = "enquiries", description = "Questions from the public and customers"),
        (name = "responses", description = "Staff responses and their four-eyes approval"),
        (name = "jobs", description = "Background work: the deliveries of events to subscribers, for administrators"),
        (name = "products", description = "The catalog of digital products"),
        (name = "cart", description = "The buyer's cart"),
        (name = "orders", description = "Checkout, payments, invoices, library and downloads"),
        (name = "health", description = "Probes and metrics"),
        (name = "site", description = "What search engines read: robots.txt and the sitemap"),
        (name = "analytics", description = "Privacy-first page metrics: public ingestion and staff reports"),
        (name = "dashboards", description = "The figures of the caller's role, computed when asked"),
        (name = "feedback", description = "Site feedback and its moderation"),
        (name = "reviews", description = "Product reviews, their moderation and ratings"),
        (name = "content", description = "CMS pages, team members and the blog: public reads, previews, editing, versions, publishing and the audit trail"),
        (name = "seo", description = "SEO: the site report, each item's findings, site scans and redirect rules"),
        (name = "audit", description = "The append-only audit log of staff actions, for administrators"),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` JWT security scheme, and `metrics_token` (the `METRICS_TOKEN` bearer
/// token of `GET /metrics`).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The `METRICS_TOKEN` configured on the server (not a user's JWT)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The uniform error responses every operation may answer, by status: the name under
/// `components.responses`, and the description.
const STANDARD_ERRORS: [(&str, &str, &str); 10] = [
    (
        "400",
        "BadRequest",
        "The request is malformed: a body that is not the expected JSON (`invalid_json`), or \
         invalid fields or query parameters (`validation_failed`, listed in `details`)",
    ),
    (
        "401",
        "Unauthorized",
        "No bearer token, or an invalid, expired or revoked one (`unauthorized`)",
    ),
    (
        "403",
        "Forbidden",
        "The caller's role or ownership does not allow this (`forbidden`, or a more specific code)",
    ),
    (
        "404",
        "NotFound",
        "No such resource, or one the caller may not see; a malformed id names none (`not_found`)",
    ),
    (
        "412",
        "PreconditionFailed",
        "`If-Match` is not an entity tag such as `\"3\"` (`invalid_if_match`)",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is larger than allowed (`payload_too_large`)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not sent as the documented content type (`unsupported_media_type`)",
    ),
    (
        "429",
        "TooManyRequests",
        "Too many requests from this client or for this address; retry after `Retry-After` \
         seconds (`rate_limited`)",
    ),
    (
        "500",
        "InternalError",
        "An unexpected failure; the body carries no internals, the request id finds the log \
         (`internal_error`)",
    ),
    (
        "503",
        "ServiceUnavailable",
        "The database or another service the request needs cannot be reached right now; \
         retry after `Retry-After` seconds (`service_unavailable`)",
    ),
];

/// Attaches the uniform error responses (shared `components.responses`) to every operation
/// according to what it takes: a body may be malformed (400), too large (413) or of another
/// type (415); query parameters may be invalid (400); a path id may name nothing (404); a bearer
/// token may be missing (401) or not allow the action (403); `If-Match` may be malformed (412);
/// anything may fail unexpectedly (500) or meet an unreachable database (503). A response an annotation already gives keeps its own
/// description; one without a description gets the standard one. New routes get all this
/// without touching this file.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        if !components
            .schemas
            .contains_key(&ErrorBody::name().into_owned())
        {
            let mut schemas = Vec::new();
            ErrorBody::schemas(&mut schemas);
            components.schemas.extend(schemas);
            components.schemas.insert(
                ErrorBody::name().into_owned(),
                <ErrorBody as utoipa::PartialSchema>::schema(),
            );
        }
        for (status, name, description) in STANDARD_ERRORS {
            components
                .responses
                .insert(name.to_owned(), error_response(status, description).into());
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                describe_if_match(operation);
                attach_errors(operation);
            }
        }
    }
}

/// The standard statuses an operation can answer, from its shape.
fn standard_statuses(operation: &Operation) -> Vec<&'static str> {
    let params = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some(p),
            RefOr::Ref(_) => None,
        });
    let (mut query, mut path, mut if_match) = (false, false, false);
    for p in params {
        match p.parameter_in {
            ParameterIn::Query | ParameterIn::QueryString => query = true,
            ParameterIn::Path => path = true,
            ParameterIn::Header if p.name.eq_ignore_ascii_case("if-match") => if_match = true,
            _ => {}
        }
    }
    let body = operation.request_body.is_some();
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut statuses = Vec::new();
    if body || query {
        statuses.push("400");
    }
    if secured {
        statuses.extend(["401", "403"]);
    }
    if path {
        statuses.push("404");
    }
    if if_match {
        statuses.push("412");
    }
    if body {
        statuses.extend(["413", "415"]);
    }
    statuses.extend(["500", "503"]);
    statuses
}

/// States the grammar of `If-Match` wherever an operation takes it.
fn describe_if_match(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(p) = parameter
            && p.parameter_in == ParameterIn::Header
            && p.name.eq_ignore_ascii_case("if-match")
        {
            let mut schema = Object::with_type(Type::String);
            schema.pattern = Some(super::extract::IF_MATCH_PATTERN.to_owned());
            schema.examples = vec![serde_json::json!("\"3\"")];
            p.schema = Some(schema.into());
        }
    }
}

fn attach_errors(operation: &mut Operation) {
    let statuses = standard_statuses(operation);
    let responses = &mut operation.responses.responses;
    for (status, name, _) in STANDARD_ERRORS {
        let reference = || RefOr::Ref(Ref::from_response_name(name));
        match responses.get_mut(status) {
            // Declared without words: the shared response says it.
            Some(RefOr::T(response)) if response.description.is_empty() => {
                *responses.get_mut(status).expect("present") = reference();
            }
            Some(_) => {}
            None if statuses.contains(&status) => {
                responses.insert(status.to_owned(), reference());
            }
            None => {}
        }
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = reason(status).to_owned();
        }
    }
}

/// The reason phrase of a status, as the description of a response without one.
fn reason(status: &str) -> &'static str {
    status
        .parse::<u16>()
        .ok()
        .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Response")
}

/// One uniform error response: the `ErrorBody` JSON, `X-Request-Id`, and `Retry-After` on
/// 429 and 503.
fn error_response(status: &str, description: &str) -> Response {
    let mut builder = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .header(
            "X-Request-Id",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::String)))
                .description(Some("The request id, also in the body"))
                .build(),
        );
    if status == "429" || status == "503" {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    builder.build()
}

/// The document as this instance serves it: [`ApiDoc`] with the product `currency` fields
/// narrowed to the configured `STORE_CURRENCIES` (in any letter case, surrounding spaces
/// allowed, as the API reads them) and `priceMinor` bounded by `MAX_PRICE_MINOR`, so a client
/// sees exactly what is accepted.
#[must_use]
pub fn document(
    currencies: &[nexus_kernel::Currency],
    max_price_minor: i64,
) -> utoipa::openapi::OpenApi {
    let doc = ApiDoc::openapi();
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    let pattern = currency_pattern(currencies);
    let codes = currencies
        .iter()
        .map(nexus_kernel::Currency::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    for schema in ["CreateProductRequest", "UpdateProductRequest"] {
        let price = format!("/components/schemas/{schema}/properties/priceMinor");
        if let Some(serde_json::Value::Object(property)) = value.pointer_mut(&price) {
            property.insert("maximum".to_owned(), serde_json::json!(max_price_minor));
        }
        let pointer = format!("/components/schemas/{schema}/properties/currency");
        if let Some(property) = value.pointer_mut(&pointer) {
            set_patterns(property, &pattern);
            if let Some(object) = property.as_object_mut() {
                object.insert(
                    "description".to_owned(),
                    serde_json::Value::String(format!(
                        "Currency: one of {codes} (default {})",
                        currencies.first().map_or("INR", |c| c.as_str())
                    )),
                );
            }
        }
    }
    if let Some(event) = value.pointer_mut("/components/schemas/MetricEventRequest") {
        // A named event needs its name; a page view may go without one.
        let fields = event.take();
        *event = serde_json::json!({"allOf": [fields, {"anyOf": [
            {"type": "object", "properties": {"type": {"type": "string", "enum": ["pageview"]}}},
            {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        ]}]});
    }
    serde_json::from_value(value).unwrap_or(doc)
}

/// `^\s*(?:[Ii][Nn][Rr]|[Uu][Ss][Dd])\s*$` for INR and USD.
fn currency_pattern(currencies: &[nexus_kernel::Currency]) -> String {
    let alternatives = currencies
        .iter()
        .map(|c| {
            c.as_str()
                .chars()
                .map(|ch| format!("[{}{}]", ch.to_ascii_uppercase(), ch.to_ascii_lowercase()))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|");
    format!(r"^\s*(?:{alternatives})\s*$")
}

/// Replaces every `pattern` in a schema (a nullable field may nest its string schema).
fn set_patterns(schema: &mut serde_json::Value, pattern: &str) {
    match schema {
        serde_json::Value::Object(map) => {
            if map.contains_key("pattern") {
                map.insert(
                    "pattern".to_owned(),
                    serde_json::Value::String(pattern.to_owned()),
                );
            }
            for child in map.values_mut() {
                set_patterns(child, pattern);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                set_patterns(item, pattern);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod currency_tests {
    use nexus_kernel::Currency;

    use super::*;

    #[test]
    fn the_served_document_names_exactly_the_store_currencies() {
        let usd = Currency::parse("USD").expect("valid");
        let doc = serde_json::to_value(document(&[Currency::INR, usd], 5_000)).expect("json");

        for schema in ["CreateProductRequest", "UpdateProductRequest"] {
            let property = &doc["components"]["schemas"][schema]["properties"]["currency"];
            let text = property.to_string();
            assert!(
                text.contains(r"^\\s*(?:[Ii][Nn][Rr]|[Uu][Ss][Dd])\\s*$"),
                "{schema}: {text}"
            );
            assert!(
                !text.contains("A-Za-z"),
                "the generic pattern is gone: {text}"
            );
            assert!(
                property["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("INR, USD")),
                "{property}"
            );
        }
    }
}

#[cfg(test)]
mod metric_event_tests {
    use nexus_kernel::Currency;

    use super::document;

    #[test]
    fn an_event_needs_a_name_and_the_path_and_campaign_patterns_agree_with_the_domain() {
        let doc = serde_json::to_value(document(&[Currency::INR], 5_000)).expect("json");
        let event = &doc["components"]["schemas"]["MetricEventRequest"];
        assert_eq!(
            event["allOf"][1]["anyOf"][1]["required"],
            serde_json::json!(["name"])
        );
        let pattern = event["allOf"][0]["properties"]["path"]["pattern"]
            .as_str()
            .expect("a path pattern");
        let re = regex::Regex::new(pattern).expect("compiles");
        for value in [
            "/",
            "/shop?utm_source=x",
            "/a#b",
            "//evil.example",
            "/\\evil",
            "shop",
            "/a b",
            "/r\u{18}",
            "/\u{1d}x",
            "/x\u{85}",
            "",
        ] {
            assert_eq!(
                re.is_match(value),
                nexus_analytics::PagePath::parse(value).is_ok(),
                "{value:?}"
            );
        }
        let pattern = event["allOf"][0]["properties"]["utmTerm"]["pattern"]
            .as_str()
            .expect("a campaign pattern");
        let re = regex::Regex::new(pattern).expect("compiles");
        for value in [
            "",
            "spring sale",
            " \tnews\r\n",
            "\u{85}x\u{3000}",
            "a\tb",
            "\u{1f}x",
            "x\u{7f}",
            "\u{90}",
            "\u{1c}",
            &format!(" {} ", "x".repeat(99)),
        ] {
            assert_eq!(
                re.is_match(value) && value.chars().count() <= 100,
                nexus_analytics::UtmValue::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }
}
