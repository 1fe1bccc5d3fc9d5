//! The HTTP client both providers use, and its bridge to `oauth2`'s request types.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use nexus_identity::OAuthError;
use oauth2::{ErrorResponse, RequestTokenError};

use crate::InvalidProviderConfig;

/// A client with rustls over the ring provider and Mozilla's roots, a timeout, and no
/// redirects (a token endpoint that redirects would be an SSRF door).
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, InvalidProviderConfig> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("nexus-oauth-providers/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| InvalidProviderConfig::HttpClient(e.to_string()))
}

fn tls_config() -> Result<rustls::ClientConfig, InvalidProviderConfig> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| InvalidProviderConfig::HttpClient(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // reqwest is built without HTTP/2 here, so only offer HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// `oauth2`'s HTTP client over reqwest 0.13 (a named type: a closure's future trips the
/// compiler's `Send` check for the async trait methods).
pub(crate) struct OAuthHttp<'a>(pub(crate) &'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = reqwest::Error;
    type Future = Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// Sends one `oauth2` request with `http` and hands back its response.
async fn send(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    let mut out = oauth2::HttpResponse::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// What a failed code exchange means: the provider refusing the code (wrong PKCE
/// verifier, expired or reused code) or the provider being unusable.
pub(crate) fn exchange_error<RE, T>(err: &RequestTokenError<RE, T>) -> OAuthError
where
    RE: std::error::Error + 'static,
    T: ErrorResponse + 'static,
{
    match err {
        RequestTokenError::ServerResponse(response) => {
            tracing::info!(error = %response, "the provider refused the authorization code");
            OAuthError::ProviderRejected
        }
        RequestTokenError::Parse(e, _) => {
            tracing::warn!(error = %e, "the provider's token answer is unusable");
            OAuthError::ProviderRejected
        }
        RequestTokenError::Request(e) => {
            tracing::warn!(error = %e, "the provider's token endpoint cannot be reached");
            OAuthError::ProviderUnavailable
        }
        RequestTokenError::Other(e) => {
            tracing::warn!(error = %e, "the code exchange failed");
            OAuthError::ProviderUnavailable
        }
    }
}
