//! Abuse limits, in one place: who the client is, which rate limits each action counts
//! against (key and policy), and the lockouts after wrong passwords and codes. Handlers name
//! the action; they never build a key or pick a limit.

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use nexus_kernel::{FailureThrottle, LockoutPolicy, RateLimiter, UserId};

use super::error::ApiError;
use crate::proxy::{TrustedProxies, client_key};
use crate::settings::LimitSettings;
use crate::state::AppState;

/// The client key: the peer address, or, when the peer is a trusted proxy, the right-most
/// forwarded hop that is not one; IPv6 clients by their /64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client(String);

impl Client {
    /// The key, as it appears in limiter keys.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of(req: &HttpRequest, proxies: &TrustedProxies) -> Self {
        let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
            return Self("unknown".to_owned());
        };
        if proxies.is_empty() {
            return Self(client_key(peer));
        }
        let values = |name: &str| -> Vec<&str> {
            req.headers()
                .get_all(name)
                .map(|v| v.to_str().unwrap_or("unreadable"))
                .collect()
        };
        Self(client_key(proxies.client(
            peer,
            &values("x-forwarded-for"),
            &values("forwarded"),
        )))
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
    key: String,
    limit: u32,
    window_secs: u64,
}

/// The limits of each action, as one table.
///
/// Registration and code requests are limited per client and also per address from all
/// clients together (`OTP_ADDRESS_RATE_LIMIT`, looser): each registration of a taken address
/// mails its owner, one client cannot use up an address's budget and lock its owner out,
/// and many clients together still cannot grind through codes.
fn policies(settings: &LimitSettings, client: &Client, action: Action<'_>) -> Vec<Policy> {
    let client = client.as_str();
    let policy = |key: String, limit, window_secs| Policy {
        key,
        limit,
        window_secs,
    };
    let auth = |name: &str| {
        policy(
            format!("auth:{name}:{client}"),
            settings.auth,
            settings.auth_window_secs,
        )
    };
    let otp = |name: &str, email: &str| {
        vec![
            policy(
                format!("otp:{name}:ip:{client}"),
                settings.otp,
                settings.otp_window_secs,
            ),
            policy(
                format!("otp:{name}:email:{}", address(email)),
                settings.otp_per_address,
                settings.otp_window_secs,
            ),
        ]
    };
    match action {
        Action::Register { email } => vec![
            auth("register"),
            policy(
                format!("auth:register:email:{}", address(email)),
                settings.otp_per_address,
                settings.otp_window_secs,
            ),
        ],
        Action::Login => vec![auth("login")],
        Action::Refresh => vec![auth("refresh")],
        Action::ChangePassword => vec![auth("password")],
        Action::Enquiry => vec![policy(
            format!("enquiry:{client}"),
            settings.enquiries,
            settings.enquiry_window_secs,
        )],
        Action::RequestOtp { email } => otp("request", email),
        Action::VerifyOtp { email } => otp("verify", email),
    }
}

/// An address as the limits count it: trimmed and lower-cased.
fn address(email: &str) -> String {
    email.trim().to_lowercase()
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

    /// Counts one `action` by `client` against each of its limits, in order.
    ///
    /// # Errors
    /// 429 `rate_limited` with `Retry-After` at the first limit reached; 500 (or 503) when
    /// the limiter fails.
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
                tracing::warn!(key = %p.key, "rate limit reached");
                return Err(ApiError::rate_limited(decision.retry_after_secs));
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
            tracing::warn!("secret attempts locked out");
            return Err(ApiError::rate_limited(locked));
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
        let client = Client("10.0.0.1".to_owned());
        let keys = |action| {
            policies(&s, &client, action)
                .into_iter()
                .map(|p| p.key)
                .collect::<Vec<_>>()
        };

        assert_eq!(
            keys(Action::Register {
                email: " Ada@Example.com "
            }),
            [
                "auth:register:10.0.0.1",
                "auth:register:email:ada@example.com"
            ]
        );
        assert_eq!(keys(Action::Login), ["auth:login:10.0.0.1"]);
        assert_eq!(keys(Action::Refresh), ["auth:refresh:10.0.0.1"]);
        assert_eq!(keys(Action::ChangePassword), ["auth:password:10.0.0.1"]);
        assert_eq!(keys(Action::Enquiry), ["enquiry:10.0.0.1"]);
        assert_eq!(
            keys(Action::VerifyOtp { email: "A@b.co" }),
            ["otp:verify:ip:10.0.0.1", "otp:verify:email:a@b.co"]
        );
    }

    #[test]
    fn lockouts_are_per_account_and_client_and_per_account() {
        let client = Client("10.0.0.1".to_owned());

        let (pair, account) = lockout_keys(Secret::Otp { email: "A@b.co" }, &client);

        assert_eq!(pair, "lock:otp:a@b.co:10.0.0.1");
        assert_eq!(account, "lock:otp:a@b.co");
    }
}
