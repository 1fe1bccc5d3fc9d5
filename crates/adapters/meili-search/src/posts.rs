//! [`MeiliPostSearch`]: the public blog's search and its index over Meilisearch's HTTP API,
//! in an index of its own (`posts` by default).

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_content::{
    ContentError, PageStatus, Post, PostId, PostIndex, PostQuery, PostSearch, TeamMemberId,
    TeamPhoto, search_words,
};
use nexus_kernel::{Page, PageRequest, Unexpected, UserId};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{MeiliClient, quoted};
use crate::{InvalidMeiliConfig, MeiliConfig};

/// The index posts live in unless configured otherwise.
pub const DEFAULT_POSTS_INDEX: &str = "posts";

/// Searches and indexes blog posts in one Meilisearch index. Cheap to share: hold it as
/// both `Arc<dyn PostSearch>` and `Arc<dyn PostIndex>`. Writes are Meilisearch tasks,
/// applied shortly after; this adapter does not wait for them.
pub struct MeiliPostSearch {
    client: MeiliClient,
    index: String,
}

impl MeiliPostSearch {
    /// Checks `config` (whose `index` is the posts index) and builds the HTTP client.
    ///
    /// # Errors
    /// An [`InvalidMeiliConfig`] naming the first unusable setting.
    pub fn new(config: MeiliConfig) -> Result<Self, InvalidMeiliConfig> {
        let client = MeiliClient::new(&config)?;
        tracing::info!(url = %client.base(), index = %config.index, "Meilisearch post search ready");
        Ok(Self {
            client,
            index: config.index,
        })
    }

    /// Declares the searchable (title, excerpt, body, in that order of weight), filterable
    /// (status, tags) and sortable (`published_at`, id) attributes; creates the index if
    /// needed. Call it once at startup; it is idempotent.
    ///
    /// # Errors
    /// `Unexpected` when Meilisearch cannot be reached or refuses the settings.
    pub async fn configure_index(&self) -> Result<(), ContentError> {
        let settings = json!({
            "searchableAttributes": ["title", "excerpt", "body"],
            "filterableAttributes": ["status", "tags"],
            "sortableAttributes": ["published_at", "id"],
        });
        let path = format!("/indexes/{}/settings", self.index);
        self.call(
            Method::PATCH,
            &path,
            Some(&settings),
            "configuring the posts index",
        )
        .await
        .map(drop)
    }

    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        what: &'static str,
    ) -> Result<Vec<u8>, ContentError> {
        Ok(self.client.call(method, path_and_query, body, what).await?)
    }
}

impl fmt::Debug for MeiliPostSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeiliPostSearch")
            .field("client", &self.client)
            .field("index", &self.index)
            .finish()
    }
}

#[async_trait]
impl PostIndex for MeiliPostSearch {
    /// `POST /indexes/{index}/documents?primaryKey=id` with the whole posts; an empty slice
    /// sends nothing.
    async fn upsert(&self, posts: &[Post]) -> Result<(), ContentError> {
        if posts.is_empty() {
            return Ok(());
        }
        let documents: Vec<PostDocument> = posts.iter().map(PostDocument::from).collect();
        let body = serde_json::to_value(documents)
            .map_err(|e| Unexpected::new("encoding Meilisearch post documents", e))?;
        let path = format!("/indexes/{}/documents?primaryKey=id", self.index);
        self.call(Method::POST, &path, Some(&body), "indexing posts")
            .await
            .map(drop)
    }

    /// `DELETE /indexes/{index}/documents/{id}`; Meilisearch accepts it for a missing id.
    async fn remove(&self, id: PostId) -> Result<(), ContentError> {
        let path = format!("/indexes/{}/documents/{id}", self.index);
        self.call(Method::DELETE, &path, None, "removing a post")
            .await
            .map(drop)
    }

    /// `DELETE /indexes/{index}/documents`: every document goes, the settings stay.
    async fn clear(&self) -> Result<(), ContentError> {
        let path = format!("/indexes/{}/documents", self.index);
        self.call(Method::DELETE, &path, None, "clearing the posts index")
            .await
            .map(drop)
    }
}

#[async_trait]
impl PostSearch for MeiliPostSearch {
    /// `POST /indexes/{index}/search`: every word required, `status = PUBLISHED` and the
    /// tag as filters, Meilisearch's ranking with words and last published first without.
    async fn search(
        &self,
        query: &PostQuery,
        page: PageRequest,
    ) -> Result<Page<Post>, ContentError> {
        let words = query.q.as_deref().map(search_words);
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
            .call(Method::POST, &path, Some(&body), "searching posts")
            .await?;
        let answer: SearchAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| Unexpected::new("reading Meilisearch's post search answer", e))?;
        let items = answer
            .hits
            .into_iter()
            .map(PostDocument::into_post)
            .collect::<Result<Vec<_>, _>>()?;
        if items.iter().any(|p| p.status != PageStatus::Published) {
            return Err(
                Unexpected::msg("Meilisearch returned a post that is not PUBLISHED").into(),
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
    hits: Vec<PostDocument>,
    total_hits: u64,
}

/// The search request: every word required (`matchingStrategy: all`, as the database
/// search), PUBLISHED only, the tag, and the page.
fn search_body(query: &PostQuery, words: Option<&[String]>, page: PageRequest) -> Value {
    let mut filter = vec!["status = PUBLISHED".to_owned()];
    if let Some(tag) = &query.tag {
        filter.push(format!("tags = {}", quoted(tag)));
    }
    let mut body = json!({
        "q": words.map(|w| w.join(" ")).unwrap_or_default(),
        "matchingStrategy": "all",
        "filter": filter,
        "page": page.page(),
        "hitsPerPage": page.limit(),
    });
    if words.is_none() {
        // Nothing to rank: last published first, as the database does.
        body["sort"] = json!(["published_at:desc", "id:desc"]);
    }
    body
}

/// A post as Meilisearch stores it: every field, so hits are rebuilt without a database
/// round trip. Timestamps are unix microseconds (exact, and below 2^53).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PostDocument {
    id: String,
    slug: String,
    title: String,
    excerpt: String,
    body: String,
    tags: Vec<String>,
    author_id: String,
    cover: Option<CoverDocument>,
    status: String,
    publish_at: Option<i64>,
    published_at: Option<i64>,
    version: i64,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

/// A post's cover inside a [`PostDocument`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CoverDocument {
    key: String,
    content_type: String,
    size: u64,
}

impl From<&Post> for PostDocument {
    fn from(p: &Post) -> Self {
        Self {
            id: p.id.to_string(),
            slug: p.slug.clone(),
            title: p.title.clone(),
            excerpt: p.excerpt.clone(),
            body: p.body.clone(),
            tags: p.tags.clone(),
            author_id: p.author_id.to_string(),
            cover: p.cover.as_ref().map(|c| CoverDocument {
                key: c.key.clone(),
                content_type: c.content_type.clone(),
                size: c.size,
            }),
            status: p.status.as_str().to_owned(),
            publish_at: p.publish_at.map(|t| t.timestamp_micros()),
            published_at: p.published_at.map(|t| t.timestamp_micros()),
            version: p.version,
            created_by: p.created_by.to_string(),
            created_at: p.created_at.timestamp_micros(),
            updated_at: p.updated_at.timestamp_micros(),
        }
    }
}

impl PostDocument {
    /// Rebuilds the post; a field that cannot be read is `Unexpected`.
    fn into_post(self) -> Result<Post, ContentError> {
        Ok(Post {
            id: self.id.parse::<PostId>().map_err(bad("id"))?,
            slug: self.slug,
            title: self.title,
            body: self.body,
            excerpt: self.excerpt,
            tags: self.tags,
            author_id: self
                .author_id
                .parse::<TeamMemberId>()
                .map_err(bad("author_id"))?,
            cover: self.cover.map(|c| TeamPhoto {
                key: c.key,
                content_type: c.content_type,
                size: c.size,
            }),
            status: self.status.parse::<PageStatus>().map_err(bad("status"))?,
            publish_at: self
                .publish_at
                .map(|t| micros(t, "publish_at"))
                .transpose()?,
            published_at: self
                .published_at
                .map(|t| micros(t, "published_at"))
                .transpose()?,
            version: self.version,
            created_by: self
                .created_by
                .parse::<UserId>()
                .map_err(bad("created_by"))?,
            created_at: micros(self.created_at, "created_at")?,
            updated_at: micros(self.updated_at, "updated_at")?,
        })
    }
}

fn micros(value: i64, field: &'static str) -> Result<DateTime<Utc>, ContentError> {
    DateTime::from_timestamp_micros(value).ok_or_else(|| {
        Unexpected::msg(format!("a Meilisearch post document has a bad {field}")).into()
    })
}

fn bad<E>(field: &'static str) -> impl FnOnce(E) -> ContentError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| Unexpected::new(format!("a Meilisearch post document has a bad {field}"), e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_published_only_with_the_tag_quoted_and_sorted_without_words() {
        let query = PostQuery {
            q: Some("Rust notes".into()),
            tag: Some("ru\"st".into()),
        };
        let words = search_words("Rust notes");
        let page = PageRequest::new(Some(2), Some(5));

        let with_words = search_body(&query, Some(&words), page);
        let without = search_body(&PostQuery::default(), None, page);

        assert_eq!(with_words["q"], "rust notes");
        assert_eq!(with_words["matchingStrategy"], "all");
        assert_eq!(
            with_words["filter"],
            json!(["status = PUBLISHED", r#"tags = "ru\"st""#])
        );
        assert_eq!(with_words["page"], 2);
        assert_eq!(with_words["hitsPerPage"], 5);
        assert!(with_words.get("sort").is_none());
        assert_eq!(without["sort"], json!(["published_at:desc", "id:desc"]));
        assert_eq!(without["filter"], json!(["status = PUBLISHED"]));
    }
}
