//! [`MeiliProductSearch`]: the public catalog's search and its index over Meilisearch's
//! HTTP API.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_catalog::{
    CatalogError, Product, ProductIndex, ProductQuery, ProductSearch, ProductSort, SearchText,
};
use nexus_kernel::{Page, PageRequest, Unexpected};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::document::ProductDocument;
use crate::{InvalidMeiliConfig, MeiliApiKey, MeiliConfig};

/// Most words of a search sent to Meilisearch, as for the database search.
const MAX_SEARCH_WORDS: usize = 16;

/// Searches and indexes products in one Meilisearch index. Cheap to share: hold it as both
/// `Arc<dyn ProductSearch>` and `Arc<dyn ProductIndex>`.
///
/// Writes (`upsert`, `remove`) are accepted by Meilisearch as tasks and applied shortly
/// after; this adapter does not wait for them.
pub struct MeiliProductSearch {
    http: reqwest::Client,
    base: String,
    index: String,
    api_key: Option<MeiliApiKey>,
    timeout: Duration,
}

impl MeiliProductSearch {
    /// Checks `config` and builds the HTTP client (rustls with the ring provider and the
    /// bundled webpki roots; no process-wide TLS provider is needed).
    ///
    /// # Errors
    /// An [`InvalidMeiliConfig`] naming the first unusable setting.
    pub fn new(config: MeiliConfig) -> Result<Self, InvalidMeiliConfig> {
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
        tracing::info!(url = %base, index = %config.index, "Meilisearch product search ready");
        Ok(Self {
            http,
            base,
            index: config.index,
            api_key: config.api_key,
            timeout: config.timeout,
        })
    }

    /// Sets the index's searchable, filterable and sortable attributes, which filters and
    /// sorts need (Meilisearch refuses a filter on an attribute not declared filterable).
    /// Creates the index if it does not exist. Call it once at startup; it is idempotent.
    ///
    /// # Errors
    /// `Unexpected` when Meilisearch cannot be reached or refuses the settings.
    pub async fn configure_index(&self) -> Result<(), CatalogError> {
        let settings = json!({
            "searchableAttributes": ["title", "tags", "category", "description"],
            "filterableAttributes": ["status", "category", "tags", "price_minor", "currency"],
            "sortableAttributes": ["price_minor", "published_at", "id"],
        });
        let path = format!("/indexes/{}/settings", self.index);
        self.call(
            Method::PATCH,
            &path,
            Some(&settings),
            "configuring the index",
        )
        .await
        .map(drop)
    }

    /// `GET /health`: whether Meilisearch answers and is available, for readiness probes.
    ///
    /// # Errors
    /// `Unexpected` when it cannot be reached, times out or answers an error.
    pub async fn health(&self) -> Result<(), CatalogError> {
        self.call(Method::GET, "/health", None, "checking health")
            .await
            .map(drop)
    }

    /// Sends one request and returns the body of a 2xx answer.
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        what: &'static str,
    ) -> Result<Vec<u8>, CatalogError> {
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

    fn transport_error(&self, error: &reqwest::Error, what: &'static str) -> CatalogError {
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
        Unexpected::msg(context).into()
    }
}

impl fmt::Debug for MeiliProductSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeiliProductSearch")
            .field("base", &self.base)
            .field("index", &self.index)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ProductIndex for MeiliProductSearch {
    /// `POST /indexes/{index}/documents?primaryKey=id` with the whole products, which adds
    /// each or replaces the document with the same id. An empty slice sends nothing.
    async fn upsert(&self, products: &[Product]) -> Result<(), CatalogError> {
        if products.is_empty() {
            return Ok(());
        }
        let documents: Vec<ProductDocument> = products.iter().map(ProductDocument::from).collect();
        let body = serde_json::to_value(documents)
            .map_err(|e| Unexpected::new("encoding Meilisearch product documents", e))?;
        let path = format!("/indexes/{}/documents?primaryKey=id", self.index);
        self.call(Method::POST, &path, Some(&body), "indexing products")
            .await
            .map(drop)
    }

    /// `DELETE /indexes/{index}/documents/{id}`; Meilisearch accepts it for a missing id.
    async fn remove(&self, id: ProductId) -> Result<(), CatalogError> {
        let path = format!("/indexes/{}/documents/{id}", self.index);
        self.call(Method::DELETE, &path, None, "removing a product")
            .await
            .map(drop)
    }

    /// `DELETE /indexes/{index}/documents`: every document goes, the settings stay.
    async fn clear(&self) -> Result<(), CatalogError> {
        let path = format!("/indexes/{}/documents", self.index);
        self.call(Method::DELETE, &path, None, "clearing the index")
            .await
            .map(drop)
    }
}

#[async_trait]
impl ProductSearch for MeiliProductSearch {
    /// `POST /indexes/{index}/search` with `page`/`hitsPerPage`, which answers the exact
    /// `totalHits` (up to the index's `pagination.maxTotalHits`, 1000 by default).
    async fn search(
        &self,
        query: &ProductQuery,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        let words = query.q.as_ref().map(search_words);
        if words.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: vec![],
                total: 0,
                request: page,
            });
        }
        let body = search_body(query, words.as_deref(), page);
        let path = format!("/indexes/{}/search", self.index);
        let bytes = self
            .call(Method::POST, &path, Some(&body), "searching products")
            .await?;
        let answer: SearchAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| Unexpected::new("reading Meilisearch's search answer", e))?;
        let items = answer
            .hits
            .into_iter()
            .map(ProductDocument::into_product)
            .collect::<Result<Vec<_>, _>>()?;
        if items.iter().any(|p| !p.is_public()) {
            return Err(
                Unexpected::msg("Meilisearch returned a product that is not PUBLISHED").into(),
            );
        }
        Ok(Page {
            items,
            total: answer.total_hits,
            request: page,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchAnswer {
    hits: Vec<ProductDocument>,
    total_hits: u64,
}

/// Meilisearch's error body; only `code` is logged and kept (the message may quote input).
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
}

fn status_error(status: StatusCode, body: &[u8], what: &'static str) -> CatalogError {
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
    .into()
}

/// The words of a search: lower-cased runs of letters and digits, at most
/// [`MAX_SEARCH_WORDS`]. Quotes and `-` would be phrase and negation syntax in Meilisearch;
/// here they only separate words.
fn search_words(text: &SearchText) -> Vec<String> {
    text.as_str()
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(str::to_owned)
        .collect()
}

/// The search request: every word required (`matchingStrategy: all`, as the database
/// search), PUBLISHED only, the query's filters, its order, and the page.
fn search_body(query: &ProductQuery, words: Option<&[String]>, page: PageRequest) -> Value {
    let mut filter = vec!["status = PUBLISHED".to_owned()];
    if let Some(category) = &query.category {
        filter.push(format!("category = {}", quoted(category.as_str())));
    }
    for tag in query.tags.as_slice() {
        filter.push(format!("tags = {}", quoted(tag.as_str())));
    }
    if let Some(range) = &query.price {
        filter.push(format!("currency = {}", quoted(range.currency().as_str())));
        if let Some(min) = range.min_minor() {
            filter.push(format!("price_minor >= {min}"));
        }
        if let Some(max) = range.max_minor() {
            filter.push(format!("price_minor <= {max}"));
        }
    }
    let sort: &[&str] = match (query.sort, words) {
        (ProductSort::PriceAsc, _) => &["price_minor:asc", "id:asc"],
        (ProductSort::PriceDesc, _) => &["price_minor:desc", "id:desc"],
        (ProductSort::Relevance, Some(_)) => &[],
        // Relevance without words has nothing to rank: newest first, as the database does.
        (ProductSort::Newest | ProductSort::Relevance, _) => &["published_at:desc", "id:desc"],
    };
    let mut body = json!({
        "q": words.map(|w| w.join(" ")).unwrap_or_default(),
        "matchingStrategy": "all",
        "filter": filter,
        "page": page.page(),
        "hitsPerPage": page.limit(),
    });
    if !sort.is_empty() {
        body["sort"] = json!(sort);
    }
    body
}

/// A filter string value in double quotes, with `\` and `"` escaped by a backslash, so no
/// value can end the string early and add filter syntax.
fn quoted(value: &str) -> String {
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
