//! Request and response bodies of the team routes.

use chrono::{DateTime, Utc};
use nexus_content::{NewTeamMember, TeamLink, TeamMember, TeamMemberChange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// One link of a member.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamLinkDto {
    /// What it is (`LinkedIn`), 1 to 60 characters.
    #[schema(
        min_length = 1,
        max_length = 60,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub label: String,
    /// A path on this site or an `https://` URL.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^\s*(?:/(?:[^/\\\s\x00-\x1f\x7f][^\\\s\x00-\x1f\x7f]*)?|[Hh][Tt][Tt][Pp][Ss]://[^\\\s\x00-\x1f\x7f]+)\s*$"
    )]
    pub url: String,
}

impl From<TeamLinkDto> for TeamLink {
    fn from(d: TeamLinkDto) -> Self {
        Self {
            label: d.label,
            url: d.url,
        }
    }
}

impl From<TeamLink> for TeamLinkDto {
    fn from(l: TeamLink) -> Self {
        Self {
            label: l.label,
            url: l.url,
        }
    }
}

/// A new team member.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTeamMemberRequest {
    /// Full name, 1 to 120 characters.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
    /// Role title, 1 to 120 characters.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub role_title: String,
    /// Short biography (plain text, up to 5000 characters).
    #[validate(length(max = 20_000))]
    #[schema(max_length = 5000)]
    pub bio: Option<String>,
    /// Links (at most 10).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub links: Vec<TeamLinkDto>,
    /// Place in the list (default: after the others).
    pub position: Option<i32>,
    /// Shown to the public (default true).
    pub visible: Option<bool>,
}

impl From<CreateTeamMemberRequest> for NewTeamMember {
    fn from(r: CreateTeamMemberRequest) -> Self {
        Self {
            name: r.name,
            role_title: r.role_title,
            bio: r.bio.unwrap_or_default(),
            links: r.links.into_iter().map(TeamLink::from).collect(),
            position: r.position,
            visible: r.visible,
        }
    }
}

/// A change of some fields of a member; each field given replaces the current one. Carry
/// the version read here or as `If-Match`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTeamMemberRequest {
    /// The version read.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: Option<i64>,
    /// New name.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: Option<String>,
    /// New role title.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub role_title: Option<String>,
    /// New bio.
    #[validate(length(max = 20_000))]
    #[schema(max_length = 5000)]
    pub bio: Option<String>,
    /// New links (replace the old ones).
    #[schema(max_items = 10)]
    pub links: Option<Vec<TeamLinkDto>>,
    /// New position.
    pub position: Option<i32>,
    /// Shown to the public.
    pub visible: Option<bool>,
}

impl From<UpdateTeamMemberRequest> for TeamMemberChange {
    fn from(r: UpdateTeamMemberRequest) -> Self {
        Self {
            name: r.name,
            role_title: r.role_title,
            bio: r.bio,
            links: r.links.map(|l| l.into_iter().map(TeamLink::from).collect()),
            position: r.position,
            visible: r.visible,
        }
    }
}

/// One member and the version read, in the new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamOrderItem {
    /// The member.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub id: Uuid,
    /// The version read.
    #[serde(deserialize_with = "crate::http::extract::whole")]
    #[schema(value_type = i64, minimum = 1, maximum = 999_999_999_999_999_999_i64)]
    pub version: i64,
}

/// The new order: the members listed get positions 0, 1, 2... in this order.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReorderTeamRequest {
    /// 1 to 100 members, each at most once.
    #[schema(min_items = 1, max_items = 100)]
    pub order: Vec<TeamOrderItem>,
}

/// A stored photo.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamPhotoResponse {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the public gets it (a redirect to a short-lived link).
    pub url: String,
}

fn photo_url(id: Uuid) -> String {
    format!("/api/v1/content/team/{id}/photo")
}

/// A member as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamMemberResponse {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Role title.
    pub role_title: String,
    /// Bio.
    pub bio: String,
    /// Links.
    pub links: Vec<TeamLinkDto>,
    /// Place in the list.
    pub position: i32,
    /// Shown to the public.
    pub visible: bool,
    /// The photo, when one was uploaded.
    pub photo: Option<TeamPhotoResponse>,
    /// Version (also the `ETag`).
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<TeamMember> for TeamMemberResponse {
    fn from(m: TeamMember) -> Self {
        let id = m.id.as_uuid();
        Self {
            id,
            name: m.name,
            role_title: m.role_title,
            bio: m.bio,
            links: m.links.into_iter().map(TeamLinkDto::from).collect(),
            position: m.position,
            visible: m.visible,
            photo: m.photo.map(|p| TeamPhotoResponse {
                content_type: p.content_type,
                size: p.size,
                url: photo_url(id),
            }),
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A visible member as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicTeamMemberResponse {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Role title.
    pub role_title: String,
    /// Bio.
    pub bio: String,
    /// Links.
    pub links: Vec<TeamLinkDto>,
    /// Where the photo is (`None`: no photo).
    pub photo_url: Option<String>,
}

impl From<TeamMember> for PublicTeamMemberResponse {
    fn from(m: TeamMember) -> Self {
        let id = m.id.as_uuid();
        Self {
            id,
            name: m.name,
            role_title: m.role_title,
            bio: m.bio,
            links: m.links.into_iter().map(TeamLinkDto::from).collect(),
            photo_url: m.photo.map(|_| photo_url(id)),
        }
    }
}

/// Paging of the team lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TeamPagingQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20, clamped to 1..100).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}
