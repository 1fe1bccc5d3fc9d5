//! `GET /metrics`: the Prometheus text, behind `METRICS_TOKEN` on the public port, or on its
//! own listener (`METRICS_ADDR`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;
use crate::settings::Secret;
use crate::state::AppState;

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Who may read `/metrics` on one listener.
#[derive(Clone)]
pub struct MetricsAccess {
    /// SHA-256 of `METRICS_TOKEN`: compared by digest, so neither the token's length nor
    /// its bytes leak through timing.
    token: Option<[u8; 32]>,
    /// Served without a token when none is configured (the dedicated listener); otherwise
    /// such a listener answers 404, as if the route did not exist.
    open_without_token: bool,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("token", &self.token.map(|_| "[redacted]"))
            .field("open_without_token", &self.open_without_token)
            .finish()
    }
}

/// What a request to `/metrics` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The metrics.
    Granted,
    /// 401: a token is required and this one is missing or wrong.
    Denied,
    /// 404: this listener does not serve metrics.
    Hidden,
}

impl MetricsAccess {
    /// The public port: served only with the token, and not at all without one.
    #[must_use]
    pub fn public(token: Option<&Secret>) -> Self {
        Self {
            token: token.map(|t| digest(t.expose())),
            open_without_token: false,
        }
    }

    /// The dedicated `METRICS_ADDR` listener: open, unless a token is configured.
    #[must_use]
    pub fn dedicated(token: Option<&Secret>) -> Self {
        Self {
            token: token.map(|t| digest(t.expose())),
            open_without_token: true,
        }
    }

    /// Judges the `Authorization` header of a request.
    #[must_use]
    pub fn verdict(&self, authorization: Option<&str>) -> Verdict {
        let Some(expected) = &self.token else {
            return if self.open_without_token {
                Verdict::Granted
            } else {
                Verdict::Hidden
            };
        };
        let presented = authorization.and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| digest(token.trim()))
        });
        match presented {
            Some(presented) if constant_time_eq(&presented, expected) => Verdict::Granted,
            _ => Verdict::Denied,
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Mounts `GET /metrics` (at the root, beside the probes).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(metrics)));
}

/// Prometheus metrics in the text exposition format: HTTP traffic by route template, the
/// database pool, the outbox backlog, webhook events, rate-limit rejections and the build.
/// On the public port it needs `Authorization: Bearer <METRICS_TOKEN>` and answers 404
/// when no token is configured; on the `METRICS_ADDR` listener it is open unless a token
/// is configured.
#[utoipa::path(get, path = "/metrics", tag = "health", security(("metrics_token" = [])),
    responses(
        (status = 200, description = "The metrics (Prometheus text format 0.0.4)", content_type = "text/plain", body = String),
        (status = 401, description = "`METRICS_TOKEN` is configured and the bearer token is missing or wrong (`unauthorized`)", body = crate::http::error::ErrorBody),
        (status = 404, description = "No `METRICS_TOKEN` is configured, so the public port does not serve metrics (`route_not_found`)", body = crate::http::error::ErrorBody),
    ))]
pub async fn metrics(
    state: web::Data<AppState>,
    access: Option<web::Data<MetricsAccess>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let verdict = access.map_or(Verdict::Hidden, |a| a.verdict(authorization));
    match verdict {
        Verdict::Hidden => return Err(ApiError::route_not_found()),
        Verdict::Denied => return Err(ApiError::unauthorized()),
        Verdict::Granted => {}
    }
    crate::observability::collect(&state.db, state.deliveries.as_ref()).await;
    let text = crate::observability::handle().render();
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_port_hides_metrics_without_a_token_and_checks_one_when_set() {
        let token = Secret::new("a-scrape-token-of-some-length");

        assert_eq!(MetricsAccess::public(None).verdict(None), Verdict::Hidden);
        let public = MetricsAccess::public(Some(&token));
        assert_eq!(
            public.verdict(Some("Bearer a-scrape-token-of-some-length")),
            Verdict::Granted
        );
        assert_eq!(
            public.verdict(Some("bearer a-scrape-token-of-some-length")),
            Verdict::Granted
        );
        for wrong in [
            None,
            Some("Bearer a-scrape-token-of-some-lengt"),
            Some("Bearer "),
            Some("Basic a-scrape-token-of-some-length"),
            Some("a-scrape-token-of-some-length"),
        ] {
            assert_eq!(public.verdict(wrong), Verdict::Denied, "{wrong:?}");
        }
    }

    #[test]
    fn the_dedicated_listener_is_open_unless_a_token_is_set() {
        let token = Secret::new("a-scrape-token-of-some-length");

        assert_eq!(
            MetricsAccess::dedicated(None).verdict(None),
            Verdict::Granted
        );
        assert_eq!(
            MetricsAccess::dedicated(Some(&token)).verdict(None),
            Verdict::Denied
        );
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = Secret::new("a-scrape-token-of-some-length");
        let shown = format!("{:?}", MetricsAccess::public(Some(&token)));
        assert!(!shown.contains("scrape"), "{shown}");
    }
}
