//! `/api/v1/enquiries` and `/api/v1/me/enquiries`.

use actix_web::{HttpResponse, web};
use nexus_customers::EnquiryId;
use nexus_customers::{EnquiryQuery, EnquiryStatus, NewEnquiry};
use nexus_kernel::PageRequest;
use uuid::Uuid;

use super::dto::{
    CreateEnquiryRequest, EnquiryReceipt, EnquiryResponse, ListEnquiriesQuery, MyEnquiryResponse,
    PageQuery, UpdateEnquiryRequest,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::limits::{Action, Client};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the enquiry routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/enquiries")
            .route(web::get().to(list_enquiries))
            .route(web::post().to(create_enquiry)),
    )
    .service(
        web::resource("/enquiries/{id}")
            .route(web::get().to(get_enquiry))
            .route(web::patch().to(update_enquiry)),
    )
    .service(web::resource("/me/enquiries").route(web::get().to(my_enquiries)));
}

/// Sends an enquiry (public; rate-limited per IP). It is linked to the customer with that
/// e-mail, or to a new LEAD, and routed to an officer.
#[utoipa::path(post, path = "/api/v1/enquiries", tag = "enquiries", request_body = CreateEnquiryRequest,
    responses((status = 201, body = EnquiryReceipt), (status = 400, body = ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_enquiry(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<CreateEnquiryRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::Enquiry).await?;
    let input = NewEnquiry::try_from(body.0)?;
    let enquiry = state.enquiries.submit(input).await?;
    Ok(HttpResponse::Created().json(EnquiryReceipt::from(enquiry)))
}

/// Lists the enquiries the caller may see (officers: their own).
#[utoipa::path(get, path = "/api/v1/enquiries", tag = "enquiries", security(("bearer" = [])), params(ListEnquiriesQuery),
    responses((status = 200, body = PageResponse<EnquiryResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_enquiries(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ListEnquiriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = EnquiryQuery::try_from(&*query)?;
    let page = state
        .enquiries
        .list(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, EnquiryResponse::from)))
}

/// One enquiry; another officer's is 404.
#[utoipa::path(get, path = "/api/v1/enquiries/{id}", tag = "enquiries", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = EnquiryResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(enquiry_id = %id))]
pub async fn get_enquiry(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let enquiry = state
        .enquiries
        .get(&auth.actor(), EnquiryId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(enquiry.version))
        .json(EnquiryResponse::from(enquiry)))
}

/// Changes an enquiry's status: OPEN -> ANSWERED -> CLOSED, reopening allowed. `If-Match`
/// is honoured when sent.
#[utoipa::path(patch, path = "/api/v1/enquiries/{id}", tag = "enquiries", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateEnquiryRequest,
    responses((status = 200, body = EnquiryResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(enquiry_id = %id))]
pub async fn update_enquiry(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateEnquiryRequest>,
) -> Result<HttpResponse, ApiError> {
    let status = body
        .0
        .status
        .parse::<EnquiryStatus>()
        .map_err(|e| ApiError::field("status", "invalid", e.to_string()))?;
    let enquiry = state
        .enquiries
        .set_status(&auth.actor(), EnquiryId::from_uuid(*id), status, if_match.0)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(enquiry.version))
        .json(EnquiryResponse::from(enquiry)))
}

/// The signed-in customer's own enquiries: those sent from the account's address, once the
/// account has verified it (403 `email_unverified` until then).
#[utoipa::path(get, path = "/api/v1/me/enquiries", tag = "enquiries", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PageResponse<MyEnquiryResponse>), (status = 401, body = ErrorBody), (status = 403, description = "forbidden (staff) or email_unverified", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn my_enquiries(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .enquiries
        .mine(&auth.actor(), PageRequest::new(query.page, query.limit))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, MyEnquiryResponse::from)))
}
