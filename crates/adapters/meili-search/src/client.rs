//! The HTTP side shared by the product and the post search: one checked base URL, the
//! bearer key, a timeout, and Meilisearch's errors turned into `Unexpected` without the key
//! or any body.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use nexus_kernel::Unexpected;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::Value;

use crate::{InvalidMeiliConfig, MeiliApiKey, MeiliConfig};

/// Calls one Meilisearch.
pub(crate) struct MeiliClient {
    http: reqwest::Client,
    base: String,
    api_key: Option<MeiliApiKey>,
    timeout: Duration,
}

impl MeiliClient {
    /// Checks `config` (URL, index uid, key, timeout) and builds the HTTP client.
    pub(crate) fn new(config: &MeiliConfig) -> Result<Self, InvalidMeiliConfig> {
        let base = base_url(&config.url)?;
        let index_ok = (1..=400).contains(&config.index.len())
            && config
                .index
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !index_ok {
            return Err(InvalidMeiliConfig::Index);
        }
        if config
            .api_key
            .as_ref()
            .is_some_and(|k| k.expose().is_empty())
        {
            return Err(InvalidMeiliConfig::EmptyApiKey);
        }
        if config.timeout.is_zero() {
            return Err(InvalidMeiliConfig::ZeroTimeout);
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect could carry the bearer key elsewhere; Meilisearch never redirects.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("nexus-meili-search/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| InvalidMeiliConfig::HttpClient(e.to_string()))?;
        if config.api_key.is_some() && !base.starts_with("https://") {
            tracing::warn!(url = %base, "Meilisearch URL is not HTTPS: the API key travels in clear text");
        }
        Ok(Self {
            http,
            base,
            api_key: config.api_key.clone(),
            timeout: config.timeout,
        })
    }

    /// The base URL (it holds no secret).
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `GET /health`.
    pub(crate) async fn health(&self) -> Result<(), Unexpected> {
        self.call(Method::GET, "/health", None, "checking health")
            .await
            .map(drop)
    }

    /// Sends one request and returns the body of a 2xx answer.
    pub(crate) async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        what: &'static str,
    ) -> Result<Vec<u8>, Unexpected> {
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", self.base));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
        if !status.is_success() {
            return Err(status_error(status, &bytes, what));
        }
        Ok(bytes.to_vec())
    }

    fn transport_error(&self, error: &reqwest::Error, what: &'static str) -> Unexpected {
        // reqwest's error names the URL only (never headers), and the URL holds no secret.
        let context = if error.is_timeout() {
            format!(
                "no answer from Meilisearch within {:?} ({what})",
                self.timeout
            )
        } else if error.is_connect() {
            format!("could not connect to Meilisearch ({what})")
        } else {
            format!("the request to Meilisearch failed ({what})")
        };
        tracing::warn!(
            error = error as &(dyn StdError + 'static),
            what,
            "Meilisearch call failed"
        );
        Unexpected::msg(context)
    }
}

impl fmt::Debug for MeiliClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeiliClient")
            .field("base", &self.base)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Meilisearch's error body; only `code` is logged and kept (the message may quote input).
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
}

fn status_error(status: StatusCode, body: &[u8], what: &'static str) -> Unexpected {
    let code = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.code);
    tracing::warn!(
        status = status.as_u16(),
        what,
        code = code.as_deref(),
        "Meilisearch refused a call"
    );
    let code = code.map(|c| format!(", {c}")).unwrap_or_default();
    Unexpected::msg(format!(
        "Meilisearch answered {}{code} ({what})",
        status.as_u16()
    ))
}

/// A filter string value in double quotes, with `\` and `"` escaped by a backslash, so no
/// value can end the string early and add filter syntax.
pub(crate) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `scheme://host[:port][/prefix]` without a trailing slash.
fn base_url(raw: &str) -> Result<String, InvalidMeiliConfig> {
    let url = Url::parse(raw.trim()).map_err(|_| InvalidMeiliConfig::Url)?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.has_host()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !ok {
        return Err(InvalidMeiliConfig::Url);
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// rustls with the ring provider chosen here rather than process-wide, so no other crate's
/// provider choice (or lack of one) matters, and Mozilla's roots bundled by webpki-roots so
/// the container image needs no CA package.
fn tls_config() -> Result<rustls::ClientConfig, InvalidMeiliConfig> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| InvalidMeiliConfig::HttpClient(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // reqwest is built without HTTP/2 here, so only offer HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_quoted_with_quotes_and_backslashes_escaped() {
        assert_eq!(quoted("plain"), r#""plain""#);
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(
            quoted(r#"" OR status = DRAFT"#),
            r#""\" OR status = DRAFT""#
        );
    }

    #[test]
    fn base_urls_are_http_origins_with_an_optional_prefix() {
        assert_eq!(
            base_url("http://localhost:7700/").as_deref(),
            Ok("http://localhost:7700")
        );
        assert_eq!(
            base_url("https://search.example.com/meili").as_deref(),
            Ok("https://search.example.com/meili")
        );
        for bad in [
            "ftp://x",
            "http://u:p@x",
            "http://x/?a=1",
            "localhost:7700",
            "",
        ] {
            assert_eq!(base_url(bad), Err(InvalidMeiliConfig::Url), "{bad}");
        }
    }
}
