//! Settings for [`MeiliProductSearch`](crate::MeiliProductSearch) and their checks.

use std::fmt;
use std::time::Duration;

/// The index products live in unless configured otherwise.
pub const DEFAULT_INDEX: &str = "products";

/// How long one call to Meilisearch may take, connect to last byte, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A Meilisearch API key. `Debug` prints `[redacted]`; the key only ever leaves through
/// the `Authorization` header.
#[derive(Clone)]
pub struct MeiliApiKey(String);

impl MeiliApiKey {
    /// Wraps a key.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MeiliApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where Meilisearch is and how to talk to it.
#[derive(Debug, Clone)]
pub struct MeiliConfig {
    /// Base URL, `http(s)://host[:port][/prefix]` (the app's `MEILI_URL`).
    pub url: String,
    /// Sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<MeiliApiKey>,
    /// Index uid, normally [`DEFAULT_INDEX`].
    pub index: String,
    /// Limit for one call, connect to last byte.
    pub timeout: Duration,
}

impl MeiliConfig {
    /// Settings for the Meilisearch at `url`, without a key, on the default index and
    /// timeout.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: None,
            index: DEFAULT_INDEX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A [`MeiliConfig`] the adapter cannot work with. Messages never contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMeiliConfig {
    /// The URL is not an `http`/`https` URL without credentials, query or fragment.
    #[error("the Meilisearch URL must be an http(s) URL such as http://localhost:7700")]
    Url,
    /// The index uid is not 1 to 400 of `a-z A-Z 0-9 - _`.
    #[error("the Meilisearch index must be 1 to 400 letters, digits, '-' or '_'")]
    Index,
    /// The API key is set but empty.
    #[error("the Meilisearch API key must not be empty when set")]
    EmptyApiKey,
    /// The timeout is zero.
    #[error("the Meilisearch timeout must be greater than zero")]
    ZeroTimeout,
    /// The HTTP client could not be built (TLS set-up).
    #[error("the Meilisearch HTTP client could not be built: {0}")]
    HttpClient(String),
}
