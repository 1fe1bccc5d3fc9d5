//! Settings for [`RazorpayGateway`](crate::RazorpayGateway) and their checks.

use std::fmt;
use std::time::Duration;

/// Razorpay's API origin, used unless a test points the gateway at a fake.
pub const DEFAULT_API_BASE: &str = "https://api.razorpay.com";

/// How long one call to Razorpay may take, connect to last byte, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Credentials and endpoint for the Razorpay gateway.
///
/// `Debug` prints both secrets as `[redacted]`.
#[derive(Clone)]
pub struct RazorpayConfig {
    /// Public key id (`rzp_test_…` or `rzp_live_…`); the browser checkout needs it.
    pub key_id: String,
    /// Key secret: the API password and the key of checkout signatures.
    pub key_secret: String,
    /// Webhook secret chosen in the Razorpay dashboard: the key of webhook signatures.
    pub webhook_secret: String,
    /// API origin without a path, normally [`DEFAULT_API_BASE`].
    pub api_base: String,
    /// Limit for one API call, connect to last byte.
    pub timeout: Duration,
}

impl RazorpayConfig {
    /// Settings for Razorpay's real API with the default timeout.
    #[must_use]
    pub fn new(
        key_id: impl Into<String>,
        key_secret: impl Into<String>,
        webhook_secret: impl Into<String>,
    ) -> Self {
        Self {
            key_id: key_id.into(),
            key_secret: key_secret.into(),
            webhook_secret: webhook_secret.into(),
            api_base: DEFAULT_API_BASE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for RazorpayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RazorpayConfig")
            .field("key_id", &self.key_id)
            .field("key_secret", &"[redacted]")
            .field("webhook_secret", &"[redacted]")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A [`RazorpayConfig`] the gateway cannot work with. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRazorpayConfig {
    /// The key id is empty.
    #[error("the Razorpay key id must not be empty")]
    EmptyKeyId,
    /// The key secret is empty.
    #[error("the Razorpay key secret must not be empty")]
    EmptyKeySecret,
    /// The webhook secret is empty: every forged webhook would verify.
    #[error("the Razorpay webhook secret must not be empty")]
    EmptyWebhookSecret,
    /// The API base is not an `http`/`https` origin without credentials, query or fragment.
    #[error("the Razorpay API base must be an http(s) origin such as https://api.razorpay.com")]
    ApiBase,
    /// The timeout is zero.
    #[error("the Razorpay timeout must be greater than zero")]
    ZeroTimeout,
    /// The HTTP client could not be built (TLS set-up).
    #[error("the Razorpay HTTP client could not be built: {0}")]
    HttpClient(String),
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Self {
        Self(value)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
