//! `/api/v1/admin/audit`: the audit log of staff actions, for administrators. Read-only:
//! there is no route that changes or deletes an entry.

use actix_web::{HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use nexus_audit::{AuditCursor, AuditEntry, AuditFilter, AuditPage, AuditService};
use nexus_kernel::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Auth;
use crate::state::AppState;

/// One recorded staff action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryResponse {
    /// The entry's id.
    pub id: Uuid,
    /// When the action happened.
    pub occurred_at: DateTime<Utc>,
    /// Who acted; `null` for the system (a worker, a scheduler, a webhook).
    pub actor_id: Option<Uuid>,
    /// Their role at the time; `null` for the system.
    pub actor_role: Option<String>,
    /// `<context>.<verb>`, e.g. `customers.assigned`, `users.role_changed`.
    pub action: String,
    /// The kind of record acted on (`user`, `customer`, `response`, `product`, `order`,
    /// `page`...).
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// What changed: `fields` (names) and `values` (`{from, to}` of small values), plus
    /// whatever the action adds. Never holds a secret.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// The `X-Request-Id` of the request that did it.
    pub request_id: Option<String>,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id.map(|u| u.as_uuid()),
            actor_role: e.actor_role,
            action: e.action,
            target_kind: e.target_kind,
            target_id: e.target_id,
            summary: e.summary,
            request_id: e.request_id,
        }
    }
}

/// Where the next page starts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditMeta {
    /// The `cursor` of the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The page size used.
    pub limit: u32,
}

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditListResponse {
    /// Entries, newest first (ties by id, descending).
    pub data: Vec<AuditEntryResponse>,
    /// Paging.
    pub meta: AuditMeta,
}

/// Filters, cursor and page size of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AuditQueryParams {
    /// Only this user's actions.
    pub actor: Option<Uuid>,
    /// Only on this kind of record (`user`, `customer`...).
    #[param(max_length = 50)]
    pub target_kind: Option<String>,
    /// Only on the record with this id.
    #[param(max_length = 200)]
    pub target_id: Option<String>,
    /// Only this action (`customers.assigned`...).
    #[param(max_length = 100)]
    pub action: Option<String>,
    /// Only at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// The `meta.nextCursor` of the previous page; from the newest entry when absent.
    #[param(max_length = 1024)]
    pub cursor: Option<String>,
    /// Page size (default 50); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

/// The opaque form of a cursor: URL-safe base64 of `v1|<time>|<id>`.
fn encode_cursor(cursor: &AuditCursor) -> String {
    let raw = format!(
        "v1|{}|{}",
        cursor.at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        cursor.id
    );
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(opaque: &str) -> Option<AuditCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(opaque.trim()).ok()?;
    let raw = String::from_utf8(bytes).ok()?;
    let mut parts = raw.splitn(3, '|');
    if parts.next()? != "v1" {
        return None;
    }
    let at = DateTime::parse_from_rfc3339(parts.next()?)
        .ok()?
        .with_timezone(&Utc);
    let id = Uuid::try_parse(parts.next()?).ok()?;
    Some(AuditCursor { at, id })
}

/// A filter text: trimmed, `None` when blank.
fn text(raw: Option<&String>) -> Option<String> {
    raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Mounts the audit route: reading only.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/audit").route(web::get().to(list_audit)));
}

/// The audit log, newest first, a page at a time: every staff action that changed data,
/// with who did it (and their role then), when, in which request, on what, and what
/// changed (never a secret). ADMIN only; other roles 403. Filters combine; `from` is
/// inclusive, `to` exclusive. A cursor that was not given by this API is 400
/// `invalid_cursor`. Nothing can change or delete an entry.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "audit", security(("bearer" = [])), params(AuditQueryParams),
    responses((status = 200, body = AuditListResponse), (status = 400, description = "invalid_cursor, or a malformed filter", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_audit(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<AuditQueryParams>,
) -> Result<HttpResponse, ApiError> {
    // The lengths the document promises: longer filters name nothing, and are refused.
    for (field, value, max) in [
        ("targetKind", &query.target_kind, 50),
        ("targetId", &query.target_id, 200),
        ("action", &query.action, 100),
        ("cursor", &query.cursor, 1024),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::field(
                field,
                "too_long",
                format!("{field} must be at most {max} characters"),
            ));
        }
    }
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(opaque) => Some(decode_cursor(opaque).ok_or_else(ApiError::invalid_cursor)?),
    };
    let filter = AuditFilter {
        actor: query.actor.map(UserId::from_uuid),
        target_kind: text(query.target_kind.as_ref()),
        target_id: text(query.target_id.as_ref()),
        action: text(query.action.as_ref()),
        from: query.from,
        to: query.to,
    };
    let AuditPage { entries, next } = state
        .audit
        .list(&auth.actor(), &filter, after, query.limit)
        .await?;
    let limit = query
        .limit
        .unwrap_or(AuditService::DEFAULT_LIMIT)
        .clamp(1, AuditService::MAX_LIMIT);
    Ok(HttpResponse::Ok().json(AuditListResponse {
        data: entries.into_iter().map(Into::into).collect(),
        meta: AuditMeta {
            next_cursor: next.as_ref().map(encode_cursor),
            limit,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_opaque_form() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T01:02:03.123456789Z")
            .expect("a time")
            .with_timezone(&Utc);
        let cursor = AuditCursor {
            at,
            id: Uuid::now_v7(),
        };

        assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
    }

    #[test]
    fn a_cursor_not_made_here_is_refused() {
        for bad in [
            "",
            "!!",
            "djE",
            &URL_SAFE_NO_PAD.encode("v1|yesterday|x"),
            &URL_SAFE_NO_PAD.encode("v2|2026-12-07T01:02:03Z|0193a0f0-0000-7000-8000-000000000000"),
        ] {
            assert!(decode_cursor(bad).is_none(), "{bad}");
        }
    }
}
