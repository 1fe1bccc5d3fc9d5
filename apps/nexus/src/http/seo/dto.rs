//! SEO DTOs.

use chrono::{DateTime, Utc};
use nexus_seo::{Finding, SeoReport, StoredAudit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::page::{PageMeta, PageResponse};

/// Pages of the report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

/// What one rule found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingResponse {
    /// The rule.
    #[schema(value_type = crate::http::schema::SeoRuleDto)]
    pub rule: String,
    /// How bad.
    #[schema(value_type = crate::http::schema::SeoSeverityDto)]
    pub severity: String,
    /// What to fix.
    pub message: String,
}

impl From<Finding> for FindingResponse {
    fn from(f: Finding) -> Self {
        Self {
            rule: wire(&f.rule),
            severity: wire(&f.severity),
            message: f.message,
        }
    }
}

/// The wire name serde gives a unit variant.
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One item's SEO block: its last audit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeoItemResponse {
    /// What it is.
    #[schema(value_type = crate::http::schema::SeoKindDto)]
    pub kind: String,
    /// Its id.
    pub id: Uuid,
    /// Its public path.
    pub path: String,
    /// Its slug.
    pub slug: String,
    /// The title search engines get.
    pub title: String,
    /// 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub score: u32,
    /// What the rules found, worst first.
    pub findings: Vec<FindingResponse>,
    /// When it was audited.
    pub audited_at: DateTime<Utc>,
}

impl From<StoredAudit> for SeoItemResponse {
    fn from(a: StoredAudit) -> Self {
        Self {
            kind: a.kind.as_str().to_ascii_lowercase(),
            id: a.id,
            path: a.path,
            slug: a.slug,
            title: a.title,
            score: a.score,
            findings: a.findings.into_iter().map(FindingResponse::from).collect(),
            audited_at: a.audited_at,
        }
    }
}

/// Findings of the whole site by severity.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeverityCounts {
    /// Errors.
    pub error: u64,
    /// Warnings.
    pub warning: u64,
    /// Notices.
    pub notice: u64,
}

/// The site report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeoReportResponse {
    /// The mean of the items' scores (rounded down); 100 when nothing is audited.
    #[schema(minimum = 0, maximum = 100)]
    pub score: u32,
    /// How many items are audited.
    pub items: u64,
    /// Findings by severity over every item.
    pub counts: SeverityCounts,
    /// One page of items, lowest score first (ties by path).
    pub data: Vec<SeoItemResponse>,
    /// Counts of the page.
    pub meta: PageMeta,
}

impl From<SeoReport> for SeoReportResponse {
    fn from(r: SeoReport) -> Self {
        let page = PageResponse::from_page(r.items, SeoItemResponse::from);
        Self {
            score: r.score,
            items: r.totals.items,
            counts: SeverityCounts {
                error: r.totals.errors,
                warning: r.totals.warnings,
                notice: r.totals.notices,
            },
            data: page.data,
            meta: page.meta,
        }
    }
}

/// The answer to a scan request.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanResponse {
    /// `QUEUED` (this request queued a scan) or `ALREADY_QUEUED` (one was waiting or
    /// running; nothing more was queued).
    #[schema(value_type = crate::http::schema::ScanStatusDto)]
    pub status: String,
}

/// What a public answer tells search engines and social cards about its item. Computed
/// when the answer is built (and cached with it) from the item's stored content: the
/// editor's text is served as written, an empty field is generated and flagged.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeoBlockResponse {
    /// The `<title>`: the editor's meta title, else `<title> | <SITE_NAME>` (the title
    /// alone, cut at a word, when that would pass 60 characters).
    pub meta_title: String,
    /// Whether `metaTitle` was generated (no editor's meta title).
    pub meta_title_generated: bool,
    /// The meta description: the editor's, else generated from the content (at most 155
    /// characters, cut at a word or sentence); null when there is neither (the content has
    /// under 8 words).
    pub meta_description: Option<String>,
    /// Whether `metaDescription` was generated.
    pub meta_description_generated: bool,
    /// The absolute canonical URL: the editor's (a path is joined to `PUBLIC_BASE_URL`),
    /// else `PUBLIC_BASE_URL` and the item's storefront path.
    pub canonical: String,
    /// The robots directive: the page's own, else `index,follow`.
    pub robots: String,
    /// The absolute URL of the social card image, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_image: Option<String>,
    /// The schema.org JSON-LD object to serve in `<script type="application/ld+json">`:
    /// a `Product` with its `Offer` (and `AggregateRating` once it has published ratings),
    /// a `BlogPosting`, or a `WebPage`.
    #[schema(value_type = Object)]
    pub structured_data: serde_json::Value,
}

impl From<nexus_seo::SeoBlock> for SeoBlockResponse {
    fn from(b: nexus_seo::SeoBlock) -> Self {
        Self {
            meta_title: b.meta_title,
            meta_title_generated: b.meta_title_generated,
            meta_description: b.meta_description,
            meta_description_generated: b.meta_description_generated,
            canonical: b.canonical,
            robots: b.robots,
            social_image: b.social_image,
            structured_data: b.structured_data.unwrap_or_default(),
        }
    }
}

/// The site as search engines and social cards see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteResponse {
    /// `SITE_NAME`.
    pub name: String,
    /// `PUBLIC_BASE_URL`.
    pub url: String,
    /// `SITE_LOGO_URL`, when set.
    pub logo: Option<String>,
    /// `SITE_SAME_AS`: the business's profiles elsewhere.
    pub same_as: Vec<String>,
    /// The schema.org `Organization` JSON-LD object.
    #[schema(value_type = Object)]
    pub structured_data: serde_json::Value,
}
