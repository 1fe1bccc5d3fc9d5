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
