//! Who is calling, for rate limits and lockouts: the client address, and the guards built on it.

use actix_web::HttpRequest;
use nexus_kernel::{FailureThrottle, LockoutPolicy};

use crate::proxy::{TrustedProxies, client_key};
use crate::settings::LimitSettings;

/// The client key: the peer address, or, when the peer is a trusted proxy, the right-most
/// forwarded hop that is not one; IPv6 clients by their /64.
#[must_use]
pub fn client_ip(req: &HttpRequest, proxies: &TrustedProxies) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".to_owned();
    };
    if proxies.is_empty() {
        return client_key(peer);
    }
    let values = |name: &str| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .map(|v| v.to_str().unwrap_or("unreadable"))
            .collect()
    };
    client_key(proxies.client(peer, &values("x-forwarded-for"), &values("forwarded")))
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

/// Lockouts after wrong passwords for one account: per account and client (tight, so the
/// client guessing is stopped) and per account from all clients (a far looser ceiling, so no
/// single client can lock the owner out). Only failures count.
pub struct PasswordGuard<'a> {
    throttle: &'a dyn FailureThrottle,
    pair: String,
    account: String,
    pair_policy: LockoutPolicy,
    account_policy: LockoutPolicy,
}

impl<'a> PasswordGuard<'a> {
    /// A guard for `scope` (`login`, `password`) on `account` from `client`.
    #[must_use]
    pub fn new(
        throttle: &'a dyn FailureThrottle,
        limits: &LimitSettings,
        scope: &str,
        account: &str,
        client: &str,
    ) -> Self {
        let policy = |free_failures| LockoutPolicy {
            free_failures,
            base_lock_secs: limits.login_lock_secs,
            max_lock_secs: limits.login_lock_max_secs,
            forget_after_secs: limits.login_lock_max_secs,
        };
        Self {
            throttle,
            pair: format!("lock:{scope}:{account}:{client}"),
            account: format!("lock:{scope}:{account}"),
            pair_policy: policy(limits.login_max_failures),
            account_policy: policy(limits.login_account_max_failures),
        }
    }

    /// Refuses with 429 and `Retry-After` while this client, or every client, is locked out
    /// of the account. Nothing is verified then, so a locked-out guesser learns nothing.
    ///
    /// # Errors
    /// 429 when locked, 500 when the throttle fails.
    pub async fn check(&self) -> Result<(), super::error::ApiError> {
        let internal = super::error::ApiError::internal;
        let pair = self
            .throttle
            .locked_for(&self.pair)
            .await
            .map_err(internal)?;
        let account = self
            .throttle
            .locked_for(&self.account)
            .await
            .map_err(internal)?;
        match pair.max(account) {
            0 => Ok(()),
            secs => {
                tracing::warn!("password attempts locked out");
                Err(super::error::ApiError::rate_limited(secs))
            }
        }
    }

    /// Counts a wrong password.
    ///
    /// # Errors
    /// 500 when the throttle fails.
    pub async fn failed(&self) -> Result<(), super::error::ApiError> {
        let internal = super::error::ApiError::internal;
        self.throttle
            .record_failure(&self.pair, self.pair_policy)
            .await
            .map_err(internal)?;
        self.throttle
            .record_failure(&self.account, self.account_policy)
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// Forgets this client's failures after the right password. The account-wide count
    /// stays: another client's guessing is not forgiven by the owner signing in.
    ///
    /// # Errors
    /// 500 when the throttle fails.
    pub async fn succeeded(&self) -> Result<(), super::error::ApiError> {
        self.throttle
            .clear(&self.pair)
            .await
            .map_err(super::error::ApiError::internal)
    }
}
