//! `/api/v1/customers/{id}/timeline`: everything that happened with a customer.

use actix_web::{HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use nexus_customers::{CustomerId, TimelineCursor, TimelineEntry, TimelineKind, TimelinePage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Auth;
use crate::state::AppState;

/// The record a timeline entry is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineRefResponse {
    /// `enquiry`, `response`, `order`, `product`, `review`, `feedback` or `note`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// One thing that happened with a customer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntryResponse {
    /// What happened.
    #[schema(value_type = crate::http::schema::TimelineKindDto)]
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The id of the entry's record (a history row, an order, a gateway refund id, a note).
    pub id: String,
    /// The staff member who did it; `null` for the customer, the public or the system.
    pub actor: Option<String>,
    /// A short text for the list.
    pub summary: String,
    /// The record the entry is about.
    #[serde(rename = "ref")]
    pub reference: TimelineRefResponse,
}

impl From<TimelineEntry> for TimelineEntryResponse {
    fn from(e: TimelineEntry) -> Self {
        Self {
            kind: e.kind.as_str().to_owned(),
            at: e.at,
            id: e.id,
            actor: e.actor,
            summary: e.summary,
            reference: TimelineRefResponse {
                kind: e.reference.kind.to_owned(),
                id: e.reference.id,
            },
        }
    }
}

/// Where the next page starts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineMeta {
    /// The `cursor` of the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The page size used.
    pub limit: u32,
}

/// One page of a customer's timeline, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineResponse {
    /// Entries, newest first (ties: kind, then id, descending).
    pub data: Vec<TimelineEntryResponse>,
    /// Paging.
    pub meta: TimelineMeta,
}

/// Cursor, page size and kinds of the timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQueryParams {
    /// The `meta.nextCursor` of the previous page; from the newest entry when absent.
    #[param(max_length = 1024)]
    pub cursor: Option<String>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Comma-separated kinds to include (every kind when absent), e.g.
    /// `order_placed,payment_captured`.
    #[param(max_length = 1024)]
    pub kinds: Option<String>,
}

/// The opaque form of a cursor: URL-safe base64 of `v1|<time>|<kind>|<id>`.
fn encode_cursor(cursor: &TimelineCursor) -> String {
    let raw = format!(
        "v1|{}|{}|{}",
        cursor.at().to_rfc3339_opts(SecondsFormat::Nanos, true),
        cursor.kind().as_str(),
        cursor.id()
    );
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(opaque: &str) -> Option<TimelineCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(opaque.trim()).ok()?;
    let raw = String::from_utf8(bytes).ok()?;
    let mut parts = raw.splitn(4, '|');
    if parts.next()? != "v1" {
        return None;
    }
    let at = DateTime::parse_from_rfc3339(parts.next()?)
        .ok()?
        .with_timezone(&Utc);
    let kind: TimelineKind = parts.next()?.parse().ok()?;
    TimelineCursor::new(at, kind, parts.next()?).ok()
}

fn parse_kinds(raw: Option<&str>) -> Result<Vec<TimelineKind>, ()> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut kinds = Vec::new();
    for name in raw.split(',') {
        let kind: TimelineKind = name.parse().map_err(|_| ())?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// Mounts the timeline route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/customers/{id}/timeline").route(web::get().to(customer_timeline)));
}

/// Everything that happened with a customer the caller may see, newest first, a page at a
/// time: enquiries, responses and their approvals, orders, payments, refunds, reviews and
/// site feedback of the linked account (feedback also by the customer's address), and
/// notes. A CSO reads the timelines of their own customers only (404 otherwise); MANAGER
/// and ADMIN read all; other roles 403. A cursor that was not given by this API is 400
/// `invalid_cursor`.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path), TimelineQueryParams),
    responses((status = 200, body = TimelineResponse), (status = 400, description = "invalid_cursor, or an unknown kind", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn customer_timeline(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    query: web::Query<TimelineQueryParams>,
) -> Result<HttpResponse, ApiError> {
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(opaque) => Some(decode_cursor(opaque).ok_or_else(ApiError::invalid_cursor)?),
    };
    let kinds = parse_kinds(query.kinds.as_deref()).map_err(|()| {
        ApiError::field(
            "kinds",
            "invalid",
            format!(
                "kinds must be a comma-separated list of {}",
                TimelineKind::ALL.map(|k| k.as_str()).join(", ")
            ),
        )
    })?;
    let limit = query.limit;
    let TimelinePage { entries, next } = state
        .timeline
        .page(
            &auth.actor(),
            CustomerId::from_uuid(*id),
            after,
            limit,
            kinds,
        )
        .await?;
    let limit = limit
        .unwrap_or(nexus_customers::TimelineService::DEFAULT_LIMIT)
        .clamp(1, nexus_customers::TimelineService::MAX_LIMIT);
    Ok(HttpResponse::Ok().json(TimelineResponse {
        data: entries.into_iter().map(Into::into).collect(),
        meta: TimelineMeta {
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
        let cursor =
            TimelineCursor::new(at, TimelineKind::RefundIssued, "rfnd_Q|x").expect("valid");

        assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
    }

    #[test]
    fn a_cursor_not_made_here_is_refused() {
        for bad in [
            "",
            "!!",
            "djE",
            &URL_SAFE_NO_PAD.encode("v1|yesterday|note_added|x"),
        ] {
            assert!(decode_cursor(bad).is_none(), "{bad}");
        }
    }
}
