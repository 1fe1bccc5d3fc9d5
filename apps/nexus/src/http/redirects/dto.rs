//! Request and response bodies of the redirect routes.

use chrono::{DateTime, Utc};
use nexus_seo::{NewRedirectRule, RedirectKind, RedirectRule, RedirectRuleChange};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::ApiError;

fn kind_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some([301, 302, 410]))
        .description(Some(
            "301 (moved for good), 302 (moved for now) or 410 (gone)",
        ))
}

fn optional_kind_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some([301, 302, 410]))
        .description(Some("301, 302 or 410"))
}

/// The kind from its status number.
///
/// # Errors
/// 400 on `kind` for anything but 301, 302 and 410.
fn kind(raw: i64) -> Result<RedirectKind, ApiError> {
    match raw {
        301 => Ok(RedirectKind::Permanent),
        302 => Ok(RedirectKind::Temporary),
        410 => Ok(RedirectKind::Gone),
        _ => Err(ApiError::field("kind", "invalid", "301, 302 or 410")),
    }
}

/// A new redirect rule.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRedirectRequest {
    /// The path it answers for (trailing slash ignored).
    #[validate(length(max = 4096))]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^/(?!/)(?!(?:api/|api$|api-docs|docs|health|metrics|sitemap|robots\.txt|feed\.xml|atom\.xml))[!-\x22\x24-\x3e\x40-~]{0,499}$"
    )]
    pub source: String,
    /// 301, 302 or 410.
    #[serde(deserialize_with = "crate::http::extract::whole")]
    #[schema(schema_with = kind_schema)]
    pub kind: i64,
    /// Where it sends: a path of this site or an absolute http(s) URL; required for 301 and
    /// 302, absent (or null) for 410.
    #[validate(length(max = 8192))]
    #[schema(
        nullable,
        max_length = 2000,
        pattern = r"^(?:/(?!/)[!-\x22\x24-\x3e\x40-~]{0,499}(?:[?#][!-~]*)?|[Hh][Tt][Tt][Pp][Ss]?://[!-.0-~][!-~]*)$"
    )]
    pub target: Option<String>,
    /// Why (for editors), up to 500 characters.
    #[validate(length(max = 4096))]
    #[schema(nullable, max_length = 500)]
    pub note: Option<String>,
}

impl TryFrom<CreateRedirectRequest> for NewRedirectRule {
    type Error = ApiError;

    fn try_from(r: CreateRedirectRequest) -> Result<Self, ApiError> {
        Ok(Self {
            source: r.source,
            kind: kind(r.kind)?,
            target: r.target,
            note: r.note,
        })
    }
}

/// A change of some fields of a rule; each field given replaces the current one (`null`
/// clears the target or the note). Changing the kind to 410 drops the target. Carry the
/// version read here or as `If-Match`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRedirectRequest {
    /// The version read.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
    /// New source path.
    #[validate(length(max = 4096))]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^/(?!/)(?!(?:api/|api$|api-docs|docs|health|metrics|sitemap|robots\.txt|feed\.xml|atom\.xml))[!-\x22\x24-\x3e\x40-~]{0,499}$"
    )]
    pub source: Option<String>,
    /// New kind.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(schema_with = optional_kind_schema)]
    pub kind: Option<i64>,
    /// New target (`null`: none, for a 410).
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, nullable, max_length = 2000, pattern = r"^(?:/(?!/)[!-\x22\x24-\x3e\x40-~]{0,499}(?:[?#][!-~]*)?|[Hh][Tt][Tt][Pp][Ss]?://[!-.0-~][!-~]*)$")]
    pub target: Option<Option<String>>,
    /// New note (`null`: none).
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, nullable, max_length = 500)]
    pub note: Option<Option<String>>,
}

impl TryFrom<UpdateRedirectRequest> for RedirectRuleChange {
    type Error = ApiError;

    fn try_from(r: UpdateRedirectRequest) -> Result<Self, ApiError> {
        Ok(Self {
            source: r.source,
            kind: r.kind.map(kind).transpose()?,
            target: r.target,
            note: r.note,
        })
    }
}

/// A redirect rule.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedirectRuleResponse {
    /// Id.
    pub id: Uuid,
    /// Source path (no trailing slash but on the root).
    pub source: String,
    /// 301, 302 or 410.
    #[schema(schema_with = kind_schema)]
    pub kind: u16,
    /// Target path or URL; null for 410.
    pub target: Option<String>,
    /// Editor's note.
    pub note: Option<String>,
    /// Version (also the `ETag`).
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Who last changed it.
    pub updated_by: Option<Uuid>,
}

impl From<RedirectRule> for RedirectRuleResponse {
    fn from(r: RedirectRule) -> Self {
        Self {
            id: r.id,
            source: r.rule.from().to_owned(),
            kind: r.rule.kind().status(),
            target: r.rule.to().map(|t| t.as_str().to_owned()),
            note: r.note,
            version: r.version,
            created_at: r.created_at,
            created_by: r.created_by,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        }
    }
}

/// The redirect list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RedirectsQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Text in the source or the target (case-insensitive), up to 200 characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

impl RedirectsQuery {
    /// The search text.
    ///
    /// # Errors
    /// 400 on `q` over 200 characters.
    pub fn q(&self) -> Result<Option<String>, ApiError> {
        let q = crate::http::extract::non_blank(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(ApiError::field("q", "too_long", "at most 200 characters"));
        }
        Ok(q)
    }
}

/// The version read, for a delete.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version read (or send `If-Match`).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
}
