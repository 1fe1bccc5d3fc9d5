//! [`MeiliProductSearch`]: the public catalog's search and its index over Meilisearch's
//! HTTP API.

use std::fmt;

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_catalog::{
    CatalogError, Product, ProductIndex, ProductQuery, ProductSearch, ProductSort, SearchText,
};
use nexus_kernel::{Page, PageRequest, Unexpected};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{MeiliClient, quoted};
use crate::document::ProductDocument;
use crate::{InvalidMeiliConfig, MeiliConfig};

/// Most words of a search sent to Meilisearch, as for the database search.
const MAX_SEARCH_WORDS: usize = 16;

/// Searches and indexes products in one Meilisearch index. Cheap to share: hold it as both
/// `Arc<dyn ProductSearch>` and `Arc<dyn ProductIndex>`.
///
/// Writes (`upsert`, `remove`) are accepted by Meilisearch as tasks and applied shortly
/// after; this adapter does not wait for them.
pub struct MeiliProductSearch {
    client: MeiliClient,
    index: String,
}

impl MeiliProductSearch {
    /// Checks `config` and builds the HTTP client (rustls with the ring provider and the
    /// bundled webpki roots; no process-wide TLS provider is needed).
    ///
    /// # Errors
    /// An [`InvalidMeiliConfig`] naming the first unusable setting.
    pub fn new(config: MeiliConfig) -> Result<Self, InvalidMeiliConfig> {
        let client = MeiliClient::new(&config)?;
        tracing::info!(url = %client.base(), index = %config.index, "Meilisearch product search ready");
        Ok(Self {
            client,
            index: config.index,
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
        self.client
            .call(
                Method::PATCH,
                &path,
                Some(&settings),
                "configuring the index",
            )
            .await?;
        Ok(())
    }

    /// `GET /health`: whether Meilisearch answers and is available, for readiness probes.
    ///
    /// # Errors
    /// `Unexpected` when it cannot be reached, times out or answers an error.
    pub async fn health(&self) -> Result<(), CatalogError> {
        Ok(self.client.health().await?)
    }

    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        what: &'static str,
    ) -> Result<Vec<u8>, CatalogError> {
        Ok(self.client.call(method, path_and_query, body, what).await?)
    }
}

impl fmt::Debug for MeiliProductSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeiliProductSearch")
            .field("client", &self.client)
            .field("index", &self.index)
            .finish()
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
