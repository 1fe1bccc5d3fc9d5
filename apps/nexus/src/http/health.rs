//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Probe answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`.
    pub status: &'static str,
    /// Database state, for readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// Mounts the probes (outside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)));
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = HealthResponse)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse {
        status: "ok",
        database: None,
    })
}

/// The service can serve: the database answers. Otherwise 503 `service_unavailable` in the
/// uniform error body, with `Retry-After`.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses((status = 200, body = HealthResponse), (status = 503, body = crate::http::error::ErrorBody)))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match nexus_sea_support::db::ping(&state.db).await {
        Ok(()) => Ok(HttpResponse::Ok().json(HealthResponse {
            status: "ok",
            database: Some("ok"),
        })),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::unavailable("The database is not reachable"))
        }
    }
}
