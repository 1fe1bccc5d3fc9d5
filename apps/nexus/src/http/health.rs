//! Liveness and readiness probes.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Longest a readiness check may take before its dependency counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`.
    pub status: &'static str,
}

/// One dependency's state, as the readiness probe found it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// `ok`, or `down` when it failed or did not answer within 2 seconds.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// How long the check took, in milliseconds.
    pub latency_ms: u64,
    /// Whether the service cannot serve without it (then `down` makes the probe 503).
    pub required: bool,
}

/// Readiness answer: every configured dependency, by name (`database`, `redis`,
/// `meilisearch`, `objectStore`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessResponse {
    /// `ok`, or `degraded` when a dependency that is not required is down.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The checks, by dependency.
    pub checks: BTreeMap<&'static str, CheckResult>,
}

/// A probe of one dependency.
pub type Probe = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Something the service depends on, with a way to check it.
pub trait Dependency: Send + Sync {
    /// The name in the readiness answer.
    fn name(&self) -> &'static str;
    /// Whether the service cannot serve without it.
    fn required(&self) -> bool;
    /// Checks it once; `Err` says why, for the log only.
    fn check(&self) -> Probe;
}

/// The configured dependencies, in the order they are reported.
#[derive(Clone, Default)]
pub struct Dependencies(Vec<Arc<dyn Dependency>>);

impl std::fmt::Debug for Dependencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|d| d.name()))
            .finish()
    }
}

impl Dependencies {
    /// Adds one.
    #[must_use]
    pub fn with(mut self, dependency: Arc<dyn Dependency>) -> Self {
        self.0.push(dependency);
        self
    }

    /// Checks every dependency at once, each bounded by [`CHECK_TIMEOUT`].
    pub async fn check_all(&self) -> BTreeMap<&'static str, CheckResult> {
        let checks = self.0.iter().map(|dependency| async move {
            let started = Instant::now();
            let outcome = tokio::time::timeout(CHECK_TIMEOUT, dependency.check()).await;
            let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let status = match outcome {
                Ok(Ok(())) => "ok",
                Ok(Err(reason)) => {
                    tracing::warn!(dependency = dependency.name(), %reason, "readiness check failed");
                    "down"
                }
                Err(_) => {
                    tracing::warn!(
                        dependency = dependency.name(),
                        "readiness check timed out"
                    );
                    "down"
                }
            };
            (
                dependency.name(),
                CheckResult {
                    status,
                    latency_ms,
                    required: dependency.required(),
                },
            )
        });
        futures_util::future::join_all(checks)
            .await
            .into_iter()
            .collect()
    }
}

/// Mounts the probes (outside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)));
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = HealthResponse)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// The service can serve: every configured dependency (the database always; Redis,
/// Meilisearch and S3 storage when configured) is checked at once, each within 2 seconds,
/// and reported with its state and latency. 200 `ok`, or 200 `degraded` when only a
/// dependency that is not required (Redis, Meilisearch, S3 storage: each shared by every
/// instance) is down. When a required one (the database) is down: 503 `service_unavailable` in the uniform error body with
/// `Retry-After`, its `message` naming each required dependency that is down
/// (`Not ready: database cannot be reached`).
#[utoipa::path(get, path = "/health/ready", tag = "health", responses(
    (status = 200, body = ReadinessResponse),
    (status = 503, description = "A required dependency is down (`service_unavailable`); the message names each", body = crate::http::error::ErrorBody)))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let checks = state.dependencies.check_all().await;
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, c)| c.required && c.status != "ok")
        .map(|(name, _)| *name)
        .collect();
    if !failed.is_empty() {
        return Err(ApiError::dependencies_unavailable(&failed));
    }
    let degraded = checks.values().any(|c| c.status != "ok");
    Ok(HttpResponse::Ok().json(ReadinessResponse {
        status: if degraded { "degraded" } else { "ok" },
        checks,
    }))
}
