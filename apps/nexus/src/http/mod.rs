//! The HTTP layer: routes, extractors, middleware and the error mapping.

pub mod audit;
pub mod auth;
pub mod customers;
pub mod enquiries;
pub mod error;
pub mod extract;
pub mod feedback;
pub mod feeds;
pub mod health;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod multipart;
pub mod oauth;
pub mod openapi;
pub mod orders;
pub mod page;
pub mod pages;
pub mod posts;
pub mod products;
pub mod redirects;
pub mod responses;
pub mod runtime;
pub mod schema;
pub mod seo;
pub mod site;
pub mod team;
pub mod users;

pub mod analytics;
pub mod dashboards;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::settings::HttpSettings;
use crate::state::AppState;
use error::ApiError;

/// Builds the actix application: middleware, `/api/v1`, probes, `/metrics`, docs, and the
/// fallback (a redirect rule's answer for a site path, else the uniform 404). Installs the metrics recorder if nothing did yet.
pub fn app(
    state: web::Data<AppState>,
    settings: HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"));
    if let Some(max_age) = settings.hsts_max_age {
        headers = headers.add((
            "Strict-Transport-Security",
            format!("max-age={max_age}; includeSubDomains"),
        ));
    }
    crate::observability::handle();
    let metrics_access = web::Data::new(metrics::MetricsAccess::public(
        settings.metrics_token.as_ref(),
    ));
    let currencies = state.products.currencies();
    let max_price_minor = state.products.max_price_minor();
    App::new()
        .app_data(state)
        .app_data(metrics_access)
        .app_data(
            web::JsonConfig::default()
                .limit(settings.body_limit_bytes)
                .error_handler(extract::json_error),
        )
        .app_data(web::PayloadConfig::default().limit(settings.body_limit_bytes))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        .app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .wrap(from_fn(middleware::envelope))
        .wrap(headers)
        .wrap(cors(&settings.cors_origins))
        .service(
            web::scope("/api/v1")
                .configure(auth::configure)
                .configure(users::configure)
                .configure(oauth::configure)
                .configure(customers::configure)
                .configure(enquiries::configure)
                .configure(responses::configure)
                .configure(jobs::configure)
                .configure(products::configure)
                .configure(orders::configure)
                .configure(analytics::configure)
                .configure(dashboards::configure)
                .configure(feedback::configure)
                .configure(pages::configure)
                .configure(seo::configure)
                .configure(team::configure)
                .configure(posts::configure)
                .configure(redirects::configure)
                .configure(audit::configure),
        )
        .configure(health::configure)
        .configure(metrics::configure)
        .configure(site::configure)
        .configure(feeds::configure)
        .service(web::resource("/docs").route(web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        })))
        .service(SwaggerUi::new("/docs/{_:.*}").url(
            "/api-docs/openapi.json",
            openapi::document(&currencies, max_price_minor),
        ))
        .default_service(web::to(redirects::fallback))
}

/// The application of the dedicated metrics listener (`METRICS_ADDR`): `GET /metrics`
/// (open unless `METRICS_TOKEN` is set) and the uniform 404 for anything else.
pub fn metrics_app(
    state: web::Data<AppState>,
    settings: HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    crate::observability::handle();
    App::new()
        .app_data(state)
        .app_data(web::Data::new(metrics::MetricsAccess::dedicated(
            settings.metrics_token.as_ref(),
        )))
        .wrap(from_fn(middleware::envelope))
        .configure(metrics::configure)
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::route_not_found())
        }))
}

fn cors(origins: &[String]) -> Cors {
    let base = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers(["authorization", "content-type", "if-match", "x-request-id"])
        .expose_headers(["etag", "x-request-id"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return base.allow_any_origin();
    }
    origins
        .iter()
        .fold(base, |cors, origin| cors.allowed_origin(origin))
}
