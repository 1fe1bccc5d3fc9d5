//! `/api/v1/customers/{id}/notes`: what staff wrote on a customer.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use nexus_customers::{CustomerId, Note, NoteBody};
use nexus_kernel::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::extract::{Auth, ValidatedJson};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// A note as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoteResponse {
    /// Id.
    pub id: Uuid,
    /// The customer it is about.
    pub customer_id: Uuid,
    /// The staff member who wrote it.
    pub author_id: Uuid,
    /// Plain text.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl From<Note> for NoteResponse {
    fn from(n: Note) -> Self {
        Self {
            id: n.id.as_uuid(),
            customer_id: n.customer_id.as_uuid(),
            author_id: n.author_id.as_uuid(),
            body: n.body.into(),
            created_at: n.created_at,
        }
    }
}

/// A new note.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateNoteRequest {
    /// Plain text, 1 to 4000 characters once trimmed; line breaks and tabs are kept, other
    /// control characters refused.
    #[validate(length(max = 16384))]
    #[schema(
        max_length = 16384,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,3998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub body: String,
}

/// Paging of the note list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotePageQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

/// Mounts the note routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/customers/{id}/notes")
            .route(web::get().to(list_notes))
            .route(web::post().to(create_note)),
    );
}

/// Adds a note to a customer the caller may see. Notes are append-only: never edited or
/// deleted.
#[utoipa::path(post, path = "/api/v1/customers/{id}/notes", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateNoteRequest,
    responses((status = 201, body = NoteResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn create_note(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: ValidatedJson<CreateNoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut e = FieldErrors::default();
    let text = e.check("body", "invalid", NoteBody::parse(&body.0.body));
    let Some(text) = text else {
        return Err(e.into_error());
    };
    let note = state
        .notes
        .add(&auth.actor(), CustomerId::from_uuid(*id), text)
        .await?;
    Ok(HttpResponse::Created().json(NoteResponse::from(note)))
}

/// The notes on a customer the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/notes", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path), NotePageQuery),
    responses((status = 200, body = PageResponse<NoteResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn list_notes(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    query: web::Query<NotePageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .notes
        .list(
            &auth.actor(),
            CustomerId::from_uuid(*id),
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, NoteResponse::from)))
}
