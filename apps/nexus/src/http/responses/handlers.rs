//! `/api/v1/responses`: drafting, four-eyes approval and history.

use actix_web::{HttpResponse, web};
use nexus_approvals::ResponseId;
use nexus_approvals::{NewResponse, ResponseQuery, ReviewNotes, UpdateResponse};
use nexus_kernel::PageRequest;
use uuid::Uuid;
use validator::Validate;

use super::dto::{
    ApproveRequest, CreateResponseRequest, ListResponsesQuery, RejectRequest,
    ResponseEventResponse, ResponseResponse, UpdateResponseRequest,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the response routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/responses")
            .route(web::get().to(list_responses))
            .route(web::post().to(create_response)),
    )
    .service(
        web::resource("/responses/{id}")
            .route(web::get().to(get_response))
            .route(web::patch().to(update_response)),
    )
    .service(web::resource("/responses/{id}/submit").route(web::post().to(submit_response)))
    .service(web::resource("/responses/{id}/approve").route(web::post().to(approve_response)))
    .service(web::resource("/responses/{id}/reject").route(web::post().to(reject_response)))
    .service(web::resource("/responses/{id}/history").route(web::get().to(response_history)));
}

fn ok(response: nexus_approvals::Response) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag(response.version()))
        .json(ResponseResponse::from(response))
}

/// Drafts a response to a customer the caller may see (optionally answering their enquiry).
#[utoipa::path(post, path = "/api/v1/responses", tag = "responses", security(("bearer" = [])), request_body = CreateResponseRequest,
    responses((status = 201, body = ResponseResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "unknown_customer or enquiry_mismatch", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_response(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreateResponseRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = NewResponse::try_from(body.0)?;
    let response = state.approvals.draft(&auth.actor(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(response.version()))
        .json(ResponseResponse::from(response)))
}

/// Lists responses: MANAGER and ADMIN see all; a CSO their own and their customers'.
#[utoipa::path(get, path = "/api/v1/responses", tag = "responses", security(("bearer" = [])), params(ListResponsesQuery),
    responses((status = 200, body = PageResponse<ResponseResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_responses(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ListResponsesQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = ResponseQuery::try_from(&*query)?;
    let page = state
        .approvals
        .list(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, ResponseResponse::from)))
}

/// One response; one the caller may not see is 404.
#[utoipa::path(get, path = "/api/v1/responses/{id}", tag = "responses", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ResponseResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(response_id = %id))]
pub async fn get_response(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(state
        .approvals
        .get(&auth.actor(), ResponseId::from_uuid(*id))
        .await?))
}

/// Revises a draft or rejected response (author only; a rejected one goes back to DRAFT).
#[utoipa::path(patch, path = "/api/v1/responses/{id}", tag = "responses", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateResponseRequest,
    responses((status = 200, body = ResponseResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(response_id = %id))]
pub async fn update_response(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateResponseRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match.0.or(body.0.version);
    let change = UpdateResponse::try_from(body.0)?;
    Ok(ok(state
        .approvals
        .update(&auth.actor(), ResponseId::from_uuid(*id), expected, change)
        .await?))
}

/// Submits a draft for approval (author only).
#[utoipa::path(post, path = "/api/v1/responses/{id}/submit", tag = "responses", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ResponseResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "invalid_transition names the current state", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(response_id = %id))]
pub async fn submit_response(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(state
        .approvals
        .submit(&auth.actor(), ResponseId::from_uuid(*id))
        .await?))
}

fn notes(raw: Option<&str>) -> Result<Option<ReviewNotes>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => ReviewNotes::parse(s)
            .map(Some)
            .map_err(|e| ApiError::field("notes", "invalid", e.to_string())),
    }
}

/// Approves a pending response (MANAGER, ADMIN; never one's own). The e-mail to the customer
/// is queued in the same transaction. The body `{notes?}` is optional.
#[utoipa::path(post, path = "/api/v1/responses/{id}/approve", tag = "responses", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<ApproveRequest>),
    responses((status = 200, body = ResponseResponse), (status = 403, description = "forbidden or self_approval", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(response_id = %id))]
pub async fn approve_response(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // No body, or JSON `null` (the document allows it), approves without notes.
    let request: ApproveRequest =
        if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
            ApproveRequest::default()
        } else {
            serde_json::from_slice(&body).map_err(|e| {
                ApiError::invalid_json(format!(
                    "The JSON body does not match the expected shape: {e}"
                ))
            })?
        };
    request.validate()?;
    let notes = notes(request.notes.as_deref())?;
    Ok(ok(state
        .approvals
        .approve(&auth.actor(), ResponseId::from_uuid(*id), notes)
        .await?))
}

/// Rejects a pending response with notes for the author (MANAGER, ADMIN; never one's own).
#[utoipa::path(post, path = "/api/v1/responses/{id}/reject", tag = "responses", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RejectRequest,
    responses((status = 200, body = ResponseResponse), (status = 400, description = "notes are required", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(response_id = %id))]
pub async fn reject_response(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: ValidatedJson<RejectRequest>,
) -> Result<HttpResponse, ApiError> {
    let Some(notes) = notes(body.0.notes.as_deref())? else {
        return Err(ApiError::field(
            "notes",
            "required",
            "a rejection needs notes for the author",
        ));
    };
    Ok(ok(state
        .approvals
        .reject(&auth.actor(), ResponseId::from_uuid(*id), notes)
        .await?))
}

/// Every transition of a response: who, when, from, to, notes; oldest first.
#[utoipa::path(get, path = "/api/v1/responses/{id}/history", tag = "responses", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = [ResponseEventResponse]), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(response_id = %id))]
pub async fn response_history(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let events = state
        .approvals
        .history(&auth.actor(), ResponseId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok().json(
        events
            .into_iter()
            .map(ResponseEventResponse::from)
            .collect::<Vec<_>>(),
    ))
}
