//! Request and response bodies of the page routes.

use chrono::{DateTime, Utc};
use nexus_content::{
    AuditEntry, AuditFilter, Page, PageChange, PageContent, PageDiff, PageFilter, PageInput,
    PageStatus, PageVersion, PageView, Seo,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::block_schema::PageBlock;
use uuid::Uuid;
use validator::Validate;

use crate::http::error::ApiError;
use crate::http::seo::dto::SeoBlockResponse;
use nexus_seo::{SeoBlock, SeoInput, SeoSite, WebPageLd};

/// Search-engine fields; each optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeoDto {
    /// Title for search engines (up to 200).
    #[schema(max_length = 200)]
    pub meta_title: Option<String>,
    /// Description for search engines (up to 500).
    #[schema(max_length = 500)]
    pub meta_description: Option<String>,
    /// Canonical URL: a path on this site (`/...`) or an `https://` URL.
    #[schema(
        max_length = 2000,
        pattern = r"^\s*(?:(?:/(?:[^/\\\s\x00-\x1f\x7f][^\\\s\x00-\x1f\x7f]*)?|[Hh][Tt][Tt][Pp][Ss]://[^\\\s\x00-\x1f\x7f]+)\s*)?$"
    )]
    pub canonical: Option<String>,
    /// Social card image: a path on this site or an `https://` URL.
    #[schema(
        max_length = 2000,
        pattern = r"^\s*(?:(?:/(?:[^/\\\s\x00-\x1f\x7f][^\\\s\x00-\x1f\x7f]*)?|[Hh][Tt][Tt][Pp][Ss]://[^\\\s\x00-\x1f\x7f]+)\s*)?$"
    )]
    pub social_image: Option<String>,
    /// `index,follow` (default), `noindex,follow`, `index,nofollow` or `noindex,nofollow`.
    #[schema(pattern = r"^\s*(?:(?i:(?:no)?index *, *(?:no)?follow|noindex|nofollow))?\s*$")]
    pub robots: Option<String>,
}

impl From<SeoDto> for Seo {
    fn from(d: SeoDto) -> Self {
        Self {
            meta_title: d.meta_title,
            meta_description: d.meta_description,
            canonical: d.canonical,
            social_image: d.social_image,
            robots: d.robots,
        }
    }
}

impl From<Seo> for SeoDto {
    fn from(s: Seo) -> Self {
        let robots = Some(s.robots().to_owned());
        Self {
            meta_title: s.meta_title,
            meta_description: s.meta_description,
            canonical: s.canonical,
            social_image: s.social_image,
            robots,
        }
    }
}

/// A new page (DRAFT).
///
/// Each block is a `PageBlock`: an object whose `type` is one of `hero`, `richText`,
/// `productGrid`, `faq`, `callToAction` or `image`, with that kind's fields and limits. Links
/// are site paths (`/...`) or `https://` URLs. Problems are reported with their path
/// (`blocks[2].items[0].question`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePageRequest {
    /// Stable machine name, `[a-z0-9-]{1,64}`, unique.
    #[validate(length(max = 1024))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[a-z0-9-]{1,64}$")]
    pub key: String,
    /// URL path: lower-case `[a-z0-9-]` segments separated by `/`, at most 200, unique per
    /// locale.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$"
    )]
    pub slug: String,
    /// BCP-47 locale such as `en` or `en-IN` (default `en`).
    #[validate(length(max = 64))]
    #[schema(
        max_length = 16,
        pattern = r"^[A-Za-z]{2,3}(?:-(?:[A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?$"
    )]
    pub locale: Option<String>,
    /// Title, 1 to 200 characters.
    #[validate(length(max = 1024))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// Ordered blocks (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<PageBlock>, max_items = 100)]
    pub blocks: Vec<Value>,
    /// Search-engine fields.
    #[serde(default)]
    pub seo: Option<SeoDto>,
}

impl From<CreatePageRequest> for PageInput {
    fn from(r: CreatePageRequest) -> Self {
        Self {
            key: r.key,
            slug: r.slug,
            locale: r.locale,
            title: r.title,
            blocks: r.blocks,
            seo: r.seo.map(Seo::from).unwrap_or_default(),
        }
    }
}

/// A change of a page's draft: each field given replaces the current one (`seo` as a
/// whole). Carry the version read here or as `If-Match`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePageRequest {
    /// The version read.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
    /// New key.
    #[validate(length(max = 1024))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[a-z0-9-]{1,64}$")]
    pub key: Option<String>,
    /// New slug.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$"
    )]
    pub slug: Option<String>,
    /// New locale.
    #[validate(length(max = 64))]
    #[schema(
        max_length = 16,
        pattern = r"^[A-Za-z]{2,3}(?:-(?:[A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?$"
    )]
    pub locale: Option<String>,
    /// New title.
    #[validate(length(max = 1024))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    /// New blocks (see the create body).
    #[schema(value_type = Option<Vec<PageBlock>>, max_items = 100)]
    pub blocks: Option<Vec<Value>>,
    /// New SEO fields (replace the old ones).
    pub seo: Option<SeoDto>,
}

impl From<UpdatePageRequest> for PageChange {
    fn from(r: UpdatePageRequest) -> Self {
        Self {
            key: r.key,
            slug: r.slug,
            locale: r.locale,
            title: r.title,
            blocks: r.blocks,
            seo: r.seo.map(Seo::from),
        }
    }
}

/// The version read, for publish, unpublish and restore (`If-Match` is also accepted).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionRequest {
    /// The version read.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(required = true, value_type = i64, minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
}

/// When to publish and/or unpublish: future instants, `unpublishAt` after `publishAt`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePageRequest {
    /// The version read (`If-Match` is also accepted).
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(required = true, value_type = i64, minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
    /// When the worker publishes the draft (not for a PUBLISHED page).
    pub publish_at: Option<DateTime<Utc>>,
    /// When the worker unpublishes the page.
    pub unpublish_at: Option<DateTime<Utc>>,
}

/// Where a page is public, as of its last publication.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedSummary {
    /// The version published.
    pub version: i64,
    /// Its slug.
    pub slug: String,
    /// Its locale.
    pub locale: String,
    /// When.
    pub published_at: DateTime<Utc>,
}

/// A page as staff see it: the draft, status, schedule and where it is public.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageResponse {
    /// Id.
    pub id: Uuid,
    /// Key.
    pub key: String,
    /// Slug of the draft.
    pub slug: String,
    /// Locale of the draft.
    pub locale: String,
    /// Title of the draft.
    pub title: String,
    /// Blocks of the draft.
    #[schema(value_type = Vec<PageBlock>)]
    pub blocks: Vec<Value>,
    /// SEO fields of the draft.
    pub seo: SeoDto,
    /// DRAFT, SCHEDULED or PUBLISHED.
    #[schema(value_type = String, example = "DRAFT")]
    pub status: PageStatus,
    /// Scheduled publication.
    pub publish_at: Option<DateTime<Utc>>,
    /// Scheduled unpublication.
    pub unpublish_at: Option<DateTime<Utc>>,
    /// What the public sees, if anything.
    pub published: Option<PublishedSummary>,
    /// Version (also the ETag).
    pub version: i64,
    /// Creator.
    pub created_by: Uuid,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

fn blocks(c: &PageContent) -> Vec<Value> {
    c.blocks
        .iter()
        .map(|b| serde_json::to_value(b).unwrap_or(Value::Null))
        .collect()
}

impl From<Page> for PageResponse {
    fn from(p: Page) -> Self {
        Self {
            id: p.id.as_uuid(),
            key: p.draft.key.to_string(),
            slug: p.draft.slug.to_string(),
            locale: p.draft.locale.to_string(),
            title: p.draft.title.to_string(),
            blocks: blocks(&p.draft),
            seo: p.draft.seo.clone().into(),
            status: p.status,
            publish_at: p.publish_at,
            unpublish_at: p.unpublish_at,
            published: p.published.map(|s| PublishedSummary {
                version: s.version,
                slug: s.content.slug.to_string(),
                locale: s.content.locale.to_string(),
                published_at: s.at,
            }),
            version: p.version,
            created_by: p.created_by.as_uuid(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// The editable content of a page (a version's snapshot, or what the public sees).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageContentResponse {
    /// Key.
    pub key: String,
    /// Slug.
    pub slug: String,
    /// Locale.
    pub locale: String,
    /// Title.
    pub title: String,
    /// Blocks.
    #[schema(value_type = Vec<PageBlock>)]
    pub blocks: Vec<Value>,
    /// SEO fields (robots always given).
    pub seo: SeoDto,
}

impl From<PageContent> for PageContentResponse {
    fn from(c: PageContent) -> Self {
        Self {
            key: c.key.to_string(),
            slug: c.slug.to_string(),
            locale: c.locale.to_string(),
            title: c.title.to_string(),
            blocks: blocks(&c),
            seo: c.seo.into(),
        }
    }
}

/// A page as the public (or a preview) sees it: the content's fields, with `seo` the
/// block search engines and social cards are told (the editor's fields as written, empty
/// ones generated and flagged, the canonical absolute, and a schema.org `WebPage`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicPageResponse {
    /// Page id.
    pub id: Uuid,
    /// The version shown.
    pub version: i64,
    /// When it was published (absent in a preview).
    pub published_at: Option<DateTime<Utc>>,
    /// Key.
    pub key: String,
    /// Slug.
    pub slug: String,
    /// Locale.
    pub locale: String,
    /// Title.
    pub title: String,
    /// Blocks.
    #[schema(value_type = Vec<PageBlock>)]
    pub blocks: Vec<Value>,
    /// What search engines and social cards are told.
    pub seo: SeoBlockResponse,
}

/// The SEO block of a page's content: the editor's meta title, description, canonical,
/// social image and robots directive as written, an empty title or description generated
/// from the title and the text of the blocks, the canonical `/<slug>` (or
/// `/<locale>/<slug>`) when the editor set none, and a schema.org `WebPage`.
#[must_use]
pub fn page_seo(view: &PageView, site: &SeoSite) -> SeoBlock {
    let c = &view.content;
    let subject = nexus_content::page_subject(view.id, c);
    let block = SeoBlock::build(
        &SeoInput {
            title: c.title.as_str(),
            meta_title: c.seo.meta_title.as_deref(),
            meta_description: c.seo.meta_description.as_deref(),
            text: &subject.text,
            canonical: c.seo.canonical.as_deref(),
            path: &subject.path,
            robots: c.seo.robots.as_deref(),
            social_image: c.seo.social_image.as_deref(),
        },
        site,
    );
    let data = WebPageLd {
        name: c.title.as_str().to_owned(),
        description: block.meta_description.clone(),
        url: block.canonical.clone(),
        language: c.locale.to_string(),
        modified_at: view.published_at,
    }
    .to_json();
    block.with_structured_data(data)
}

impl PublicPageResponse {
    /// The answer of `view` on `site`.
    #[must_use]
    pub fn new(view: PageView, site: &SeoSite) -> Self {
        let seo = page_seo(&view, site).into();
        let content = PageContentResponse::from(view.content);
        Self {
            id: view.id.as_uuid(),
            version: view.version,
            published_at: view.published_at,
            key: content.key,
            slug: content.slug,
            locale: content.locale,
            title: content.title,
            blocks: content.blocks,
            seo,
        }
    }
}

/// One saved version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageVersionResponse {
    /// The page.
    pub page_id: Uuid,
    /// Version number.
    pub number: i64,
    /// Author (absent: the scheduler).
    pub author: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The content then.
    pub content: PageContentResponse,
}

impl From<PageVersion> for PageVersionResponse {
    fn from(v: PageVersion) -> Self {
        Self {
            page_id: v.page_id.as_uuid(),
            number: v.number,
            author: v.author.map(|a| a.as_uuid()),
            created_at: v.created_at,
            content: v.content.into(),
        }
    }
}

/// A top-level field that differs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldDiffResponse {
    /// Field name.
    pub field: String,
    /// Old value.
    #[schema(value_type = Object)]
    pub old: Value,
    /// New value.
    #[schema(value_type = Object)]
    pub new: Value,
}

/// Block indexes that differ.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlocksDiffResponse {
    /// Indexes added in `to`.
    pub added: Vec<u64>,
    /// Indexes of `from` removed.
    pub removed: Vec<u64>,
    /// Indexes changed.
    pub changed: Vec<u64>,
}

/// What changed between two versions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageDiffResponse {
    /// Older version.
    pub from: i64,
    /// Newer version.
    pub to: i64,
    /// Fields (other than blocks) that differ.
    pub fields: Vec<FieldDiffResponse>,
    /// Blocks that differ.
    pub blocks: BlocksDiffResponse,
}

impl From<PageDiff> for PageDiffResponse {
    fn from(d: PageDiff) -> Self {
        let idx = |v: Vec<usize>| v.into_iter().map(|i| i as u64).collect();
        Self {
            from: d.from,
            to: d.to,
            fields: d
                .fields
                .into_iter()
                .map(|f| FieldDiffResponse {
                    field: f.field,
                    old: f.old,
                    new: f.new,
                })
                .collect(),
            blocks: BlocksDiffResponse {
                added: idx(d.blocks.added),
                removed: idx(d.blocks.removed),
                changed: idx(d.blocks.changed),
            },
        }
    }
}

/// A preview link of the current draft version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewResponse {
    /// The signed token.
    pub token: String,
    /// Path of the preview on this API.
    pub url: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryResponse {
    /// Id.
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (absent: the scheduler).
    pub actor_id: Option<Uuid>,
    /// `page`, `team_member`, `post` or `seo_scan` (a request for an SEO scan).
    pub entity_kind: String,
    /// The entity.
    pub entity_id: Uuid,
    /// created, updated, restored, published, unpublished, scheduled or deleted.
    pub action: String,
    /// Fields changed, with old → new for small values.
    #[schema(value_type = Object)]
    pub changes: Value,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(a: AuditEntry) -> Self {
        Self {
            id: a.id.as_uuid(),
            at: a.at,
            actor_id: a.actor.map(|u| u.as_uuid()),
            entity_kind: a.entity_kind,
            entity_id: a.entity_id,
            action: a.action,
            changes: a.changes,
        }
    }
}

/// The staff page list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AdminPagesQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// DRAFT, SCHEDULED or PUBLISHED.
    #[param(pattern = r"^(?i:\s*(DRAFT|SCHEDULED|PUBLISHED)?\s*)$")]
    pub status: Option<String>,
    /// Locale.
    #[param(pattern = r"^\s*(?:[A-Za-z]{2,3}(?:-(?:[A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?)?\s*$")]
    pub locale: Option<String>,
    /// Text in the title, key or slug.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

impl AdminPagesQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 400 naming the bad parameter.
    pub fn to_domain(&self) -> Result<PageFilter, ApiError> {
        let status = crate::http::extract::non_blank(&self.status)
            .map(|s| s.parse::<PageStatus>())
            .transpose()
            .map_err(|e| ApiError::field("status", "invalid", e.to_string()))?;
        let locale = crate::http::extract::non_blank(&self.locale)
            .map(|l| nexus_content::Locale::parse(&l))
            .transpose()
            .map_err(|e| ApiError::field("locale", "invalid", e.to_string()))?;
        let q = crate::http::extract::non_blank(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(ApiError::field("q", "too_long", "at most 200 characters"));
        }
        Ok(PageFilter { status, locale, q })
    }
}

/// Pages of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PagingQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

/// The audit list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Only this kind of entity (`page`, `team_member`, `post`, `seo_scan`).
    #[param(max_length = 32)]
    pub entity_kind: Option<String>,
    /// Only this entity.
    pub entity_id: Option<Uuid>,
}

impl AuditQuery {
    /// The domain filter.
    ///
    /// # Errors
    /// 400 when `entityKind` is longer than 32 characters.
    pub fn to_domain(&self) -> Result<AuditFilter, ApiError> {
        if self
            .entity_kind
            .as_ref()
            .is_some_and(|k| k.chars().count() > 32)
        {
            return Err(ApiError::field(
                "entityKind",
                "too_long",
                "at most 32 characters",
            ));
        }
        Ok(AuditFilter {
            entity_kind: crate::http::extract::non_blank(&self.entity_kind),
            entity_id: self.entity_id,
        })
    }
}

/// The versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version.
    #[param(minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub from: i64,
    /// The newer version.
    #[param(minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub to: i64,
}

/// The locale of a public page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleQuery {
    /// Locale (default `en`).
    #[param(pattern = r"^\s*(?:[A-Za-z]{2,3}(?:-(?:[A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?)?\s*$")]
    pub locale: Option<String>,
}
