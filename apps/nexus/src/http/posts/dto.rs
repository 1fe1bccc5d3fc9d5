//! Request and response bodies of the blog routes.

use chrono::{DateTime, Utc};
use nexus_content::{
    NewPost, PageStatus, Post, PostChange, PostFilter, PostView, TeamMember, TeamMemberId,
    check_tag,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::ApiError;
use crate::http::extract::non_blank;
use crate::http::seo::dto::SeoBlockResponse;
use nexus_seo::{BlogPostingLd, SeoBlock, SeoInput, SeoSite};

/// A tag: 1 to 40 letters, digits and hyphens (lower-cased when stored).
#[derive(Debug, Clone, ToSchema)]
#[schema(min_length = 1, max_length = 40, pattern = r"^[A-Za-z0-9-]{1,40}$")]
pub struct PostTagText(pub String);

/// A new post (DRAFT).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePostRequest {
    /// Address: 1 to 120 lower-case letters, digits and hyphens; unique among posts and
    /// their old slugs.
    #[validate(length(max = 1024))]
    #[schema(min_length = 1, max_length = 120, pattern = r"^[a-z0-9-]{1,120}$")]
    pub slug: String,
    /// Title, 1 to 200 characters.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub title: String,
    /// Markdown body (up to 100 000 characters).
    #[serde(default)]
    #[validate(length(max = 400_000))]
    #[schema(max_length = 100_000)]
    pub body: String,
    /// Excerpt (up to 300 characters; empty or absent: generated from the body).
    #[validate(length(max = 4096))]
    #[schema(max_length = 300)]
    pub excerpt: Option<String>,
    /// Tags: up to 10, each 1 to 40 letters, digits and hyphens (lower-cased).
    #[serde(default)]
    #[schema(max_items = 10, value_type = Vec<PostTagText>)]
    pub tags: Vec<String>,
    /// The author: a team member's id.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub author_id: Uuid,
}

impl From<CreatePostRequest> for NewPost {
    fn from(r: CreatePostRequest) -> Self {
        Self {
            slug: r.slug,
            title: r.title,
            body: r.body,
            excerpt: r.excerpt,
            tags: r.tags,
            author_id: TeamMemberId::from_uuid(r.author_id),
        }
    }
}

/// A change of some fields of a post; each field given replaces the current one. Carry the
/// version read here or as `If-Match`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePostRequest {
    /// The version read.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
    /// New slug (the old one answers with a redirect to it).
    #[validate(length(max = 1024))]
    #[schema(min_length = 1, max_length = 120, pattern = r"^[a-z0-9-]{1,120}$")]
    pub slug: Option<String>,
    /// New title.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub title: Option<String>,
    /// New Markdown body.
    #[validate(length(max = 400_000))]
    #[schema(max_length = 100_000)]
    pub body: Option<String>,
    /// New excerpt (empty: generated).
    #[validate(length(max = 4096))]
    #[schema(max_length = 300)]
    pub excerpt: Option<String>,
    /// New tags.
    #[schema(max_items = 10, value_type = Option<Vec<PostTagText>>)]
    pub tags: Option<Vec<String>>,
    /// New author.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub author_id: Option<Uuid>,
}

impl From<UpdatePostRequest> for PostChange {
    fn from(r: UpdatePostRequest) -> Self {
        Self {
            slug: r.slug,
            title: r.title,
            body: r.body,
            excerpt: r.excerpt,
            tags: r.tags,
            author_id: r.author_id.map(TeamMemberId::from_uuid),
        }
    }
}

/// When to publish: a future instant.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePostRequest {
    /// The version read (`If-Match` is also accepted).
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(required = true, value_type = i64, minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
    /// When the worker publishes the post.
    pub publish_at: DateTime<Utc>,
}

/// A stored cover image.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoverResponse {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the public gets it (a 302 to a short-lived link) once the post or product is
    /// published.
    pub url: String,
}

fn cover_url(id: Uuid) -> String {
    format!("/api/v1/content/posts/{id}/cover")
}

/// A post as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostResponse {
    /// Id.
    pub id: Uuid,
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Excerpt as written (empty: generated for the public).
    pub excerpt: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Author (a team member).
    pub author_id: Uuid,
    /// Cover image.
    pub cover: Option<CoverResponse>,
    /// `DRAFT`, `SCHEDULED` or `PUBLISHED`.
    #[schema(value_type = String)]
    pub status: PageStatus,
    /// When the worker publishes it.
    pub publish_at: Option<DateTime<Utc>>,
    /// Its last publication.
    pub published_at: Option<DateTime<Utc>>,
    /// Version (also the `ETag`).
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Post> for PostResponse {
    fn from(p: Post) -> Self {
        let id = p.id.as_uuid();
        Self {
            id,
            slug: p.slug,
            title: p.title,
            body: p.body,
            excerpt: p.excerpt,
            tags: p.tags,
            author_id: p.author_id.as_uuid(),
            cover: p.cover.map(|c| CoverResponse {
                content_type: c.content_type,
                size: c.size,
                url: cover_url(id),
            }),
            status: p.status,
            publish_at: p.publish_at,
            published_at: p.published_at,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A post's author as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostAuthorResponse {
    /// The team member.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Role title.
    pub role_title: String,
    /// Where the photo is (`None`: none, or the member is hidden).
    pub photo_url: Option<String>,
}

impl From<TeamMember> for PostAuthorResponse {
    fn from(m: TeamMember) -> Self {
        let id = m.id.as_uuid();
        Self {
            id,
            name: m.name,
            role_title: m.role_title,
            photo_url: m
                .photo
                .filter(|_| m.visible)
                .map(|_| format!("/api/v1/content/team/{id}/photo")),
        }
    }
}

/// A published post as the public sees it (in the list, `html` is left out).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicPostResponse {
    /// Id.
    pub id: Uuid,
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// The excerpt: as written, or the first words of the body.
    pub excerpt: String,
    /// The body as sanitized HTML (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Minutes to read.
    pub reading_minutes: u32,
    /// Author.
    pub author: Option<PostAuthorResponse>,
    /// Where the cover image is.
    pub cover_url: Option<String>,
    /// Last publication.
    pub published_at: Option<DateTime<Utc>>,
    /// What search engines and social cards are told (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seo: Option<SeoBlockResponse>,
}

/// The SEO block of a published post: a title generated from its title (posts have no
/// meta title), the excerpt its editor wrote as the description or one generated from the
/// excerpt served, its canonical `/blog/<slug>`, its cover as the social image, and a
/// schema.org `BlogPosting` (headline, dates, author's name, image, URL, tags).
#[must_use]
pub fn post_seo(view: &PostView, site: &SeoSite) -> SeoBlock {
    let post = &view.post;
    let path = nexus_content::post_path(&post.slug);
    let cover = post.cover.as_ref().map(|_| cover_url(post.id.as_uuid()));
    let written = Some(post.excerpt.as_str()).filter(|e| !e.trim().is_empty());
    let block = SeoBlock::build(
        &SeoInput {
            title: &post.title,
            meta_description: written,
            text: &view.excerpt,
            path: &path,
            social_image: cover.as_deref(),
            ..SeoInput::default()
        },
        site,
    );
    let published_at = post.published_at.unwrap_or(post.created_at);
    let data = BlogPostingLd {
        headline: post.title.clone(),
        description: block
            .meta_description
            .clone()
            .unwrap_or_else(|| view.excerpt.clone()),
        url: block.canonical.clone(),
        image: block.social_image.clone(),
        author: view.author.as_ref().map(|a| a.name.clone()),
        published_at,
        modified_at: post.updated_at.max(published_at),
        keywords: post.tags.clone(),
    }
    .to_json();
    block.with_structured_data(data)
}

impl PublicPostResponse {
    /// This answer with its SEO block.
    #[must_use]
    pub fn described(mut self, seo: SeoBlock) -> Self {
        self.seo = Some(seo.into());
        self
    }

    /// The public answer of `view`, with its HTML when `with_html`.
    #[must_use]
    pub fn new(view: PostView, with_html: bool) -> Self {
        let id = view.post.id.as_uuid();
        Self {
            id,
            slug: view.post.slug,
            title: view.post.title,
            excerpt: view.excerpt,
            html: with_html.then_some(view.html),
            tags: view.post.tags,
            reading_minutes: view.reading_minutes,
            author: view.author.map(PostAuthorResponse::from),
            cover_url: view.post.cover.map(|_| cover_url(id)),
            published_at: view.post.published_at,
            seo: None,
        }
    }
}

/// The public list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PublicPostsQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Only posts with this tag.
    #[param(max_length = 40, pattern = r"^[A-Za-z0-9-]{0,40}$")]
    pub tag: Option<String>,
    /// Words to search for in the title, excerpt and body (each as a word or a word's
    /// beginning, all required; other characters only separate words); best match first.
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// The staff list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AdminPostsQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Only this status: `DRAFT`, `SCHEDULED` or `PUBLISHED`.
    #[param(
        pattern = r"^(?:[Dd][Rr][Aa][Ff][Tt]|[Ss][Cc][Hh][Ee][Dd][Uu][Ll][Ee][Dd]|[Pp][Uu][Bb][Ll][Ii][Ss][Hh][Ee][Dd])?$"
    )]
    pub status: Option<String>,
    /// Only posts with this tag.
    #[param(max_length = 40, pattern = r"^[A-Za-z0-9-]{0,40}$")]
    pub tag: Option<String>,
    /// Only posts whose title, excerpt or body hold these words (as the public search).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

fn filter(
    status: Option<&String>,
    tag: Option<&String>,
    q: Option<&String>,
) -> Result<PostFilter, ApiError> {
    let status = match non_blank(&status.cloned()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<PageStatus>()
                .map_err(|e| ApiError::field("status", "invalid", e.to_string()))?,
        ),
    };
    let tag = match non_blank(&tag.cloned()) {
        None => None,
        Some(raw) => Some(check_tag(&raw).map_err(|m| ApiError::field("tag", "invalid", m))?),
    };
    if q.is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::field("q", "too_long", "at most 100 characters"));
    }
    let q = non_blank(&q.cloned());
    Ok(PostFilter { status, tag, q })
}

impl PublicPostsQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 400 for a bad tag or a too long `q`.
    pub fn to_domain(&self) -> Result<PostFilter, ApiError> {
        filter(None, self.tag.as_ref(), self.q.as_ref())
    }
}

impl AdminPostsQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 400 for a bad status or tag, or a too long `q`.
    pub fn to_domain(&self) -> Result<PostFilter, ApiError> {
        filter(self.status.as_ref(), self.tag.as_ref(), self.q.as_ref())
    }
}
