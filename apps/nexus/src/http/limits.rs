//! Abuse limits, in one place: who the client is, which rate limits each action counts
//! against (key and policy), and the lockouts after wrong passwords and codes. Handlers name
//! the action; they never build a key or pick a limit.

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use nexus_identity::ClientInfo;
use nexus_kernel::{FailureThrottle, LockoutPolicy, RateLimiter, UserId};

use super::error::ApiError;
use crate::proxy::{TrustedProxies, client_key};
use crate::settings::{LimitSettings, RateLimitName};
use crate::state::AppState;

/// The client key: the peer address, or, when the peer is a trusted proxy, the right-most
/// forwarded hop that is not one; IPv6 clients by their /64.
/// It also carries what a sign-in records about where it came from (the device label of
/// the `User-Agent` and the client's network), never the full address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client(String, ClientInfo);

impl Client {
    /// The key, as it appears in limiter keys.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where a sign-in from this client comes from, as its session records it.
    #[must_use]
    pub fn info(&self) -> &ClientInfo {
        &self.1
    }

    fn of(req: &HttpRequest, proxies: &TrustedProxies) -> Self {
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
            return Self("unknown".to_owned(), ClientInfo::new(user_agent, None));
        };
        if proxies.is_empty() {
            return Self(client_key(peer), ClientInfo::new(user_agent, Some(peer)));
        }
        let values = |name: &str| -> Vec<&str> {
            req.headers()
                .get_all(name)
                .map(|v| v.to_str().unwrap_or("unreadable"))
                .collect()
        };
        let ip = proxies.client(peer, &values("x-forwarded-for"), &values("forwarded"));
        Self(client_key(ip), ClientInfo::new(user_agent, Some(ip)))
    }
}

impl FromRequest for Client {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let client = req
            .app_data::<web::Data<AppState>>()
            .map(|state| Self::of(req, &state.limits.proxies))
            .ok_or_else(|| ApiError::internal("application state missing").into());
        std::future::ready(client)
    }
}

/// What a client asks to do that is rate-limited.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Create an account for `email`.
    Register {
        /// The address given.
        email: &'a str,
    },
    /// Sign in with a password.
    Login,
    /// Exchange a refresh token.
    Refresh,
    /// Change one's own password.
    ChangePassword,
    /// Send an enquiry.
    Enquiry,
    /// Ask for a one-time code for `email`.
    RequestOtp {
        /// The address given.
        email: &'a str,
    },
    /// Check a one-time code for `email`.
    VerifyOtp {
        /// The address given.
        email: &'a str,
    },
    /// Ask for a password-reset link for `email`.
    ForgotPassword {
        /// The address given.
        email: &'a str,
    },
    /// Ask to move one's sign-in address to `email`.
    ChangeEmail {
        /// The new address given.
        email: &'a str,
    },
    /// Use an e-mailed account link (a password reset).
    UseLink,
    /// Turn one's cart into an order.
    Checkout {
        /// The signed-in buyer.
        user: UserId,
    },
    /// Export everything about one's account.
    Export {
        /// The signed-in user.
        user: UserId,
    },
    /// Send a batch of page metrics.
    MetricsEvents,
    /// Send site feedback.
    Feedback,
}

/// A secret whose wrong guesses lock the guesser out for growing periods.
#[derive(Debug, Clone, Copy)]
pub enum Secret<'a> {
    /// The password of the account with this e-mail (sign-in).
    Password {
        /// The address given.
        email: &'a str,
    },
    /// The current password of a signed-in user (password change).
    CurrentPassword {
        /// The user.
        user: UserId,
    },
    /// A one-time code sent to this e-mail.
    Otp {
        /// The address given.
        email: &'a str,
    },
}

/// One counted limit: at most `limit` hits on `key` per `window_secs`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    name: RateLimitName,
    key: String,
    limit: u32,
    window_secs: u64,
}

/// The limits of each action, as one table. Each key starts with the limit's name.
///
/// Registration and code requests are limited per client and also per address from all
/// clients together (`OTP_ADDRESS_RATE_LIMIT`, looser): each registration of a taken address
/// mails its owner, one client cannot use up an address's budget and lock its owner out,
/// and many clients together still cannot grind through codes. Checkout is limited per
/// signed-in user, not per client address: buyers behind one shared address do not share a
/// budget.
fn policies(settings: &LimitSettings, client: &Client, action: Action<'_>) -> Vec<Policy> {
    use RateLimitName as N;
    let client = client.as_str();
    let policy = |name: RateLimitName, scope: &str| {
        let rule = settings.rule(name);
        Policy {
            name,
            key: format!("{}:{scope}", name.as_str()),
            limit: rule.limit,
            window_secs: rule.window_secs,
        }
    };
    match action {
        Action::Register { email } => vec![
            policy(N::Register, client),
            policy(N::RegisterAddress, &address(email)),
        ],
        Action::Login => vec![policy(N::Login, client)],
        Action::Refresh => vec![policy(N::Refresh, client)],
        Action::ChangePassword => vec![policy(N::PasswordChange, client)],
        Action::Enquiry => vec![policy(N::Enquiry, client)],
        Action::RequestOtp { email } => vec![
            policy(N::OtpRequest, client),
            policy(N::OtpRequestAddress, &address(email)),
        ],
        Action::VerifyOtp { email } => vec![
            policy(N::OtpCheck, client),
            policy(N::OtpCheckAddress, &address(email)),
        ],
        // A reset link is mail to an address like a code: it shares the code requests'
        // budgets, per client and per address, so neither can be used to flood a mailbox.
        Action::ForgotPassword { email } | Action::ChangeEmail { email } => vec![
            policy(N::OtpRequest, client),
            policy(N::OtpRequestAddress, &address(email)),
        ],
        // Link tokens are 256 random bits: the per-client check limit only keeps floods off.
        Action::UseLink => vec![policy(N::OtpCheck, client)],
        Action::Checkout { user } => vec![policy(N::Checkout, &user.to_string())],
        Action::Export { user } => vec![policy(N::Export, &user.to_string())],
        Action::MetricsEvents => vec![policy(N::MetricsEvents, client)],
        Action::Feedback => vec![policy(N::Feedback, client)],
    }
}

/// Counts one rejection by the limit `name` in `nexus_rate_limit_rejections_total`.
fn count_rejection(name: &'static str) {
    metrics::counter!("nexus_rate_limit_rejections_total", "limit" => name).increment(1);
}

/// An address as the limits count it: trimmed and lower-cased.
fn address(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The name of a secret's lockout, as logs, metrics and 429 bodies show it.
fn lockout_name(secret: Secret<'_>) -> &'static str {
    match secret {
        Secret::Password { .. } => "login_lockout",
        Secret::CurrentPassword { .. } => "password_change_lockout",
        Secret::Otp { .. } => "otp_lockout",
    }
}

/// The two lockout keys of a secret: per account and client, and per account.
fn lockout_keys(secret: Secret<'_>, client: &Client) -> (String, String) {
    let (scope, account) = match secret {
        Secret::Password { email } => ("login", address(email)),
        Secret::CurrentPassword { user } => ("password", user.to_string()),
        Secret::Otp { email } => ("otp", address(email)),
    };
    (
        format!("lock:{scope}:{account}:{}", client.as_str()),
        format!("lock:{scope}:{account}"),
    )
}

/// The abuse limits of this instance: the rate limiter, the failure throttle and their
/// settings.
pub struct Limits<'a> {
    limiter: &'a dyn RateLimiter,
    failures: &'a dyn FailureThrottle,
    settings: &'a LimitSettings,
}

impl<'a> Limits<'a> {
    /// Limits over these stores and settings.
    #[must_use]
    pub fn new(
        limiter: &'a dyn RateLimiter,
        failures: &'a dyn FailureThrottle,
        settings: &'a LimitSettings,
    ) -> Self {
        Self {
            limiter,
            failures,
            settings,
        }
    }

    /// Counts one `action` by `client` against each of its limits, in order; a refusal is
    /// logged and counted in `nexus_rate_limit_rejections_total` under the limit's name.
    ///
    /// # Errors
    /// 429 `rate_limited` with `Retry-After`, naming the first limit reached; 500 only if
    /// the in-process limiter fails (a failing Redis falls back to it, see
    /// [`crate::rate_limit::FallbackRateLimiter`]).
    pub async fn admit(&self, client: &Client, action: Action<'_>) -> Result<(), ApiError> {
        for p in policies(self.settings, client, action) {
            let decision = self
                .limiter
                .hit(
                    &p.key,
                    p.limit,
                    std::time::Duration::from_secs(p.window_secs),
                )
                .await
                .map_err(ApiError::internal)?;
            if !decision.allowed {
                let limit = p.name.as_str();
                tracing::warn!(limit, "rate limit reached");
                count_rejection(limit);
                return Err(ApiError::rate_limited(limit, decision.retry_after_secs));
            }
        }
        Ok(())
    }

    /// Runs `attempt`, a check of `secret` by `client`, under its lockouts: per account and
    /// client (tight, so the client guessing is stopped) and per account from all clients (a
    /// far looser ceiling, so no single client can lock the owner out). While either is
    /// locked, `attempt` is not run at all, so a locked-out guesser learns nothing. A
    /// failure for which `wrong` holds counts; success forgets this client's failures (the
    /// account-wide count stays: another client's guessing is not forgiven by the owner).
    ///
    /// # Errors
    /// 429 `rate_limited` with `Retry-After` while locked; 500 (or 503) when the throttle
    /// fails. The attempt's own outcome is the inner result.
    pub async fn guarded<T, E>(
        &self,
        client: &Client,
        secret: Secret<'_>,
        attempt: impl Future<Output = Result<T, E>>,
        wrong: impl FnOnce(&E) -> bool,
    ) -> Result<Result<T, E>, ApiError> {
        let (pair, account) = lockout_keys(secret, client);
        let locked = self
            .failures
            .locked_for(&pair)
            .await
            .map_err(ApiError::internal)?
            .max(
                self.failures
                    .locked_for(&account)
                    .await
                    .map_err(ApiError::internal)?,
            );
        if locked > 0 {
            let limit = lockout_name(secret);
            tracing::warn!(limit, "secret attempts locked out");
            count_rejection(limit);
            return Err(ApiError::rate_limited(limit, locked));
        }
        let outcome = attempt.await;
        match &outcome {
            Ok(_) => self
                .failures
                .clear(&pair)
                .await
                .map_err(ApiError::internal)?,
            Err(e) if wrong(e) => {
                let policy = |free_failures| LockoutPolicy {
                    free_failures,
                    base_lock_secs: self.settings.login_lock_secs,
                    max_lock_secs: self.settings.login_lock_max_secs,
                    forget_after_secs: self.settings.login_lock_max_secs,
                };
                self.failures
                    .record_failure(&pair, policy(self.settings.login_max_failures))
                    .await
                    .map_err(ApiError::internal)?;
                self.failures
                    .record_failure(&account, policy(self.settings.login_account_max_failures))
                    .await
                    .map_err(ApiError::internal)?;
            }
            Err(_) => {}
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LimitSettings {
        crate::settings::Settings::from_map(&std::collections::HashMap::new())
            .expect("defaults")
            .limits
    }

    #[test]
    fn each_action_counts_against_its_own_keys() {
        let s = settings();
        let client = Client("10.0.0.1".to_owned(), ClientInfo::default());
        let keys = |action| {
            policies(&s, &client, action)
                .into_iter()
                .map(|p| p.key)
                .collect::<Vec<_>>()
        };

        let user = UserId::new();

        assert_eq!(
            keys(Action::Register {
                email: " Ada@Example.com "
            }),
            ["register:10.0.0.1", "register_address:ada@example.com"]
        );
        assert_eq!(keys(Action::Login), ["login:10.0.0.1"]);
        assert_eq!(keys(Action::Refresh), ["refresh:10.0.0.1"]);
        assert_eq!(keys(Action::ChangePassword), ["password_change:10.0.0.1"]);
        assert_eq!(keys(Action::Enquiry), ["enquiry:10.0.0.1"]);
        assert_eq!(
            keys(Action::RequestOtp { email: "A@b.co" }),
            ["otp_request:10.0.0.1", "otp_request_address:a@b.co"]
        );
        assert_eq!(
            keys(Action::VerifyOtp { email: "A@b.co" }),
            ["otp_check:10.0.0.1", "otp_check_address:a@b.co"]
        );
        assert_eq!(
            keys(Action::Checkout { user }),
            [format!("checkout:{user}")]
        );
    }

    #[test]
    fn lockouts_are_per_account_and_client_and_per_account() {
        let client = Client("10.0.0.1".to_owned(), ClientInfo::default());

        let (pair, account) = lockout_keys(Secret::Otp { email: "A@b.co" }, &client);

        assert_eq!(pair, "lock:otp:a@b.co:10.0.0.1");
        assert_eq!(account, "lock:otp:a@b.co");
    }
}
