//! `/api/v1/seo/report`, `/api/v1/seo/items/{kind}/{id}` and `/api/v1/seo/scan` (staff
//! with `seo.read` / `seo.scan`), and `/api/v1/content/site` (public).

use actix_web::{HttpRequest, HttpResponse, web};
use nexus_kernel::PageRequest;
use nexus_seo::{ScanRequest, SubjectKind};
use uuid::Uuid;

use super::dto::{ReportQuery, ScanResponse, SeoItemResponse, SeoReportResponse, SiteResponse};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Auth;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/seo/report").route(web::get().to(seo_report)))
        .service(web::resource("/seo/items/{kind}/{id}").route(web::get().to(get_seo_item)))
        .service(web::resource("/seo/scan").route(web::post().to(request_seo_scan)))
        .service(web::resource("/content/site").route(web::get().to(get_site)));
}

/// The site as search engines and social cards see it, for anyone: its name, address,
/// logo, profiles elsewhere and the schema.org `Organization` made of them. Made once at
/// start from `SITE_NAME`, `PUBLIC_BASE_URL`, `SITE_LOGO_URL` and `SITE_SAME_AS`, with a
/// strong `ETag` (304 on `If-None-Match`).
#[utoipa::path(get, path = "/api/v1/content/site", tag = "content", params(("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = SiteResponse, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String)))))]
pub async fn get_site(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    state.site.organization().respond(&req)
}

/// The site's SEO report (`seo.read`): the site score (the mean of the audited items'
/// scores), findings by severity, and a page of items lowest score first.
#[utoipa::path(get, path = "/api/v1/seo/report", tag = "seo", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, body = SeoReportResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn seo_report(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.limit);
    let report = state.seo.report(&auth.actor(), page).await?;
    Ok(HttpResponse::Ok().json(SeoReportResponse::from(report)))
}

/// One item's SEO block (`seo.read`): its findings, score and when it was audited. 404
/// when the item was never audited, is no longer public, or the kind is unknown.
#[utoipa::path(get, path = "/api/v1/seo/items/{kind}/{id}", tag = "seo", security(("bearer" = [])),
    params(("kind" = crate::http::schema::SeoKindDto, Path, description = "`product`, `page` or `post`"), ("id" = Uuid, Path)),
    responses((status = 200, body = SeoItemResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_seo_item(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let kind = match kind.to_ascii_lowercase().as_str() {
        "product" => SubjectKind::Product,
        "page" => SubjectKind::Page,
        "post" => SubjectKind::Post,
        _ => return Err(ApiError::not_found("No such kind of item")),
    };
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("No such item"))?;
    let audit = state.seo.item(&auth.actor(), kind, id).await?;
    Ok(HttpResponse::Ok().json(SeoItemResponse::from(audit)))
}

/// Queues an audit of every public item (`seo.scan`) for the worker: 202 whether this
/// request queued it (`QUEUED`) or one was already waiting or running (`ALREADY_QUEUED`).
/// The worker audits in batches; the report shows the results as they land.
#[utoipa::path(post, path = "/api/v1/seo/scan", tag = "seo", security(("bearer" = [])),
    responses((status = 202, body = ScanResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn request_seo_scan(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let status = match state.seo.request_scan(&auth.actor()).await? {
        ScanRequest::Queued => "QUEUED",
        ScanRequest::AlreadyQueued => "ALREADY_QUEUED",
    };
    Ok(HttpResponse::Accepted().json(ScanResponse {
        status: status.to_owned(),
    }))
}
