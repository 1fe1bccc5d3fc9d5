//! Who is calling, for rate limits: the client IP.

use actix_web::HttpRequest;

/// The client IP: the peer address, or, behind a trusted proxy, the forwarded one.
#[must_use]
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy && let Some(ip) = req.connection_info().realip_remote_addr() {
        return ip.to_owned();
    }
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// Counts one attempt against `key` and turns a refusal into 429 with `Retry-After`.
///
/// # Errors
/// `ApiError` 429 when over the limit, 500 when the limiter fails.
pub async fn enforce(
    limiter: &dyn nexus_kernel::RateLimiter,
    key: &str,
    limit: u32,
    window_secs: u64,
) -> Result<(), super::error::ApiError> {
    let decision = limiter
        .hit(key, limit, std::time::Duration::from_secs(window_secs))
        .await
        .map_err(super::error::ApiError::internal)?;
    if decision.allowed {
        Ok(())
    } else {
        tracing::warn!(key, "rate limit reached");
        Err(super::error::ApiError::rate_limited(
            decision.retry_after_secs,
        ))
    }
}
