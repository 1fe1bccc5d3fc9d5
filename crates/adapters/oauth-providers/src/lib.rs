#![doc = include_str!("../README.md")]

mod github;
mod google;
mod http;

use std::time::Duration;

pub use github::{GitHubConfig, GitHubProvider};
pub use google::{GoogleConfig, GoogleProvider};

/// The client registration shared by both providers.
#[derive(Clone)]
pub struct ClientRegistration {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
    /// The exact redirect URI registered with the provider (our callback).
    pub redirect_uri: String,
    /// How long one call to the provider may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A provider configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum InvalidProviderConfig {
    /// A URL does not parse.
    #[error("{0} is not a valid URL")]
    Url(&'static str),
    /// The HTTP client cannot be built.
    #[error("the HTTP client cannot be built: {0}")]
    HttpClient(String),
}
