//! The outermost middleware: request ids, one log line per request, request metrics, panic
//! containment and the uniform error envelope for every error response, whoever produced it.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use futures_util::FutureExt;
use tracing::Instrument;

use super::error::ApiError;

/// The request-id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, stored in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Keeps a client's id when it is 1..=128 visible ASCII characters; otherwise makes one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// Request id, logging, metrics, panic containment and error envelope, in one pass.
///
/// Metrics label a request by its route template (`/api/v1/customers/{id}`, never the raw
/// path, so ids cannot multiply the series), or [`crate::observability::UNMATCHED_ROUTE`].
///
/// # Errors
/// Never: every failure is turned into a response.
pub async fn envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let in_flight = crate::observability::InFlight::start();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| crate::observability::UNMATCHED_ROUTE.to_owned());
    let method_label = crate::observability::method_label(req.method());
    let request_id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let path = req.path().to_owned();
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %path,
        user_id = tracing::field::Empty,
    );

    // Events written while the request runs carry its id (the outbox reads the task-local).
    let outcome = AssertUnwindSafe(nexus_sea_support::scope_request_id(
        Some(request_id.clone()),
        next.call(req).instrument(span.clone()),
    ))
    .catch_unwind()
    .await;
    let mut res: ServiceResponse<BoxBody> = match outcome {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(err)) => ServiceResponse::new(detached_request(), err.error_response()),
        Err(_panic) => {
            span.in_scope(|| tracing::error!("handler panicked"));
            ServiceResponse::new(detached_request(), ApiError::panicked().error_response())
        }
    };

    let status = res.status();
    if status.is_client_error() || status.is_server_error() {
        let (body, cause) = {
            let api_error = res
                .response()
                .error()
                .and_then(|e| e.as_error::<ApiError>());
            let cause = api_error.and_then(ApiError::cause).map(|c| error_chain(c));
            let body = match api_error {
                Some(e) => e.body(&path, &request_id),
                None => ApiError::from_status(status).body(&path, &request_id),
            };
            (body, cause)
        };
        if let Some(cause) = cause {
            span.in_scope(|| tracing::error!(error = %cause, "request failed"));
        }
        let mut rebuilt = HttpResponse::build(status);
        for (name, value) in res.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rebuilt.append_header((name.clone(), value.clone()));
            }
        }
        let (request, _) = res.into_parts();
        res = ServiceResponse::new(request, rebuilt.json(body));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let elapsed = started.elapsed();
    crate::observability::record_request(method_label, &route, status.as_u16(), elapsed);
    drop(in_flight);
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), duration_ms, "request completed");
        } else {
            tracing::info!(status = status.as_u16(), duration_ms, "request completed");
        }
    });
    Ok(res)
}

/// A stand-in request for a response whose request was consumed by a panic or a service
/// error. Routing needs the real request uniquely owned, so it cannot be cloned up front;
/// only the response is sent to the client, so a detached request is enough to carry it.
fn detached_request() -> actix_web::HttpRequest {
    actix_web::test::TestRequest::default().to_http_request()
}

/// `a: b: c` for an error and its sources, for the log.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test, web};

    use super::*;

    async fn boom() -> HttpResponse {
        panic!("something broke inside");
    }

    #[actix_web::test]
    async fn a_panic_becomes_a_uniform_500_without_internals() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(envelope))
                .route("/boom", web::get().to(boom)),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/boom")
            .insert_header(("x-request-id", "abc-123"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 500);
        assert_eq!(
            res.headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok()),
            Some("abc-123")
        );
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["error"], "internal_error");
        assert_eq!(body["requestId"], "abc-123");
        assert_eq!(body["path"], "/boom");
        assert!(!body.to_string().contains("something broke"));
    }

    async fn echo_request_id() -> HttpResponse {
        HttpResponse::Ok().body(nexus_sea_support::current_request_id().unwrap_or_default())
    }

    #[actix_web::test]
    async fn the_handler_runs_with_the_request_id_that_events_carry() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(envelope))
                .route("/echo", web::get().to(echo_request_id)),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/echo")
            .insert_header(("x-request-id", "req-42"))
            .to_request();
        let body = test::call_and_read_body(&app, req).await;
        assert_eq!(body, "req-42");
    }

    #[actix_web::test]
    async fn an_overlong_request_id_is_replaced() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(envelope))
                .route("/ok", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/ok")
            .insert_header(("x-request-id", "x".repeat(200)))
            .to_request();
        let res = test::call_service(&app, req).await;
        let id = res
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(id.len(), 36);
    }
}
