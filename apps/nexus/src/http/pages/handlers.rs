//! `/api/v1/content/pages/{slug}` and `/api/v1/content/preview/{token}` (public) and
//! `/api/v1/admin/pages...`, `/api/v1/admin/content/audit` (staff with the content
//! permissions).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_content::{Locale, PageId, PageSlug};
use nexus_kernel::PageRequest;

use super::dto::{
    AdminPagesQuery, AuditEntryResponse, AuditQuery, CreatePageRequest, DiffQuery, LocaleQuery,
    PageDiffResponse, PageResponse, PageVersionResponse, PagingQuery, PreviewResponse,
    PublicPageResponse, SchedulePageRequest, UpdatePageRequest, VersionRequest,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse as ListResponse;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/content/pages/{slug}").route(web::get().to(get_public_page)))
        .service(web::resource("/content/preview/{token}").route(web::get().to(get_preview)))
        .service(
            web::resource("/admin/pages")
                .route(web::get().to(list_pages))
                .route(web::post().to(create_page)),
        )
        .service(
            web::resource("/admin/pages/{id}")
                .route(web::get().to(get_page))
                .route(web::patch().to(update_page))
                .route(web::delete().to(delete_page)),
        )
        .service(
            web::resource("/admin/pages/{id}/versions").route(web::get().to(list_page_versions)),
        )
        .service(
            web::resource("/admin/pages/{id}/versions/{number}")
                .route(web::get().to(get_page_version)),
        )
        .service(
            web::resource("/admin/pages/{id}/versions/{number}/restore")
                .route(web::post().to(restore_page_version)),
        )
        .service(web::resource("/admin/pages/{id}/diff").route(web::get().to(diff_page_versions)))
        .service(web::resource("/admin/pages/{id}/publish").route(web::post().to(publish_page)))
        .service(web::resource("/admin/pages/{id}/unpublish").route(web::post().to(unpublish_page)))
        .service(web::resource("/admin/pages/{id}/schedule").route(web::post().to(schedule_page)))
        .service(web::resource("/admin/pages/{id}/preview").route(web::post().to(preview_page)))
        .service(web::resource("/admin/content/audit").route(web::get().to(list_content_audit)));
}

fn page_id(raw: &str) -> Result<PageId, ApiError> {
    raw.parse::<PageId>()
        .map_err(|_| ApiError::not_found("No such page"))
}

fn version_number(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::not_found("No such version"))
}

fn staff(p: nexus_content::Page) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag(p.version))
        .json(PageResponse::from(p))
}

/// The PUBLISHED snapshot of the page at `slug` (one path segment) in `locale` (default
/// `en`), for anyone. Edits after publication are not shown until published again.
///
/// Served from the content cache with a strong `ETag`; `If-None-Match` with that tag gets
/// 304. Publishing or unpublishing any page moves the cache on.
#[utoipa::path(get, path = "/api/v1/content/pages/{slug}", tag = "content", params(("slug" = String, Path, description = "the page's slug", max_length = 200, pattern = r"^[a-z0-9-]+$"), LocaleQuery, ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = PublicPageResponse, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_public_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    query: web::Query<LocaleQuery>,
) -> Result<HttpResponse, ApiError> {
    let slug = PageSlug::parse(&slug).map_err(|_| ApiError::not_found("No such page"))?;
    let locale = match crate::http::extract::non_blank(&query.locale) {
        None => Locale::english(),
        Some(raw) => {
            Locale::parse(&raw).map_err(|e| ApiError::field("locale", "invalid", e.to_string()))?
        }
    };
    let key = format!("page:{locale}:{slug}");
    let (pages, slug, locale) = (&state.pages, &slug, &locale);
    let site = state.site.seo();
    let cached = state
        .content_cache
        .get_or_load(&key, || async move {
            let view = pages.public(slug, locale).await?;
            serde_json::to_vec(&PublicPageResponse::new(view, site)).map_err(ApiError::internal)
        })
        .await?;
    Ok(cached.respond(&req))
}

/// The draft version a preview token names, for whoever holds the token (never cached).
/// A malformed or tampered token is 404; an expired one is 410 `preview_expired`.
#[utoipa::path(get, path = "/api/v1/content/preview/{token}", tag = "content", params(("token" = String, Path, max_length = 300)),
    responses((status = 200, body = PublicPageResponse), (status = 404, body = ErrorBody), (status = 410, description = "preview_expired", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_preview(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.pages.preview(&token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .json(PublicPageResponse::new(view, state.site.seo())))
}

/// Pages in every status (`content.manage`), most recently changed first.
#[utoipa::path(get, path = "/api/v1/admin/pages", tag = "content", security(("bearer" = [])), params(AdminPagesQuery),
    responses((status = 200, body = ListResponse<PageResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_pages(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<AdminPagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.to_domain()?;
    let page = PageRequest::new(query.page, query.limit);
    let found = state.pages.list(&auth.actor(), filter, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, PageResponse::from)))
}

/// Creates a DRAFT page (version 1) (`content.manage`).
#[utoipa::path(post, path = "/api/v1/admin/pages", tag = "content", security(("bearer" = [])), request_body = CreatePageRequest,
    responses((status = 201, body = PageResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "key_taken or slug_taken", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_page(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreatePageRequest>,
) -> Result<HttpResponse, ApiError> {
    let page = state.pages.create(&auth.actor(), body.0.into()).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(page.version))
        .json(PageResponse::from(page)))
}

/// One page with its draft (`content.manage`).
#[utoipa::path(get, path = "/api/v1/admin/pages/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PageResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(state.pages.get(&auth.actor(), page_id(&id)?).await?))
}

/// Changes the draft (a new version); the public keeps the published snapshot. Send the
/// version read (`version` or `If-Match`); a stale one is 409 `conflict`.
#[utoipa::path(patch, path = "/api/v1/admin/pages/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdatePageRequest,
    responses((status = 200, body = PageResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict, key_taken or slug_taken", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn update_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<UpdatePageRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = page_id(&id)?;
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .pages
            .update(&auth.actor(), id, expected, body.0.into())
            .await?,
    ))
}

/// Deletes a DRAFT page and its versions (a PUBLISHED or SCHEDULED one is unpublished
/// first: 409 `invalid_transition`); its audit entries stay.
#[utoipa::path(delete, path = "/api/v1/admin/pages/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "invalid_transition or conflict", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn delete_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.pages.delete(&auth.actor(), page_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A page's versions, newest first (`content.manage`).
#[utoipa::path(get, path = "/api/v1/admin/pages/{id}/versions", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), PagingQuery),
    responses((status = 200, body = ListResponse<PageVersionResponse>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_page_versions(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    query: web::Query<PagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.limit);
    let found = state
        .pages
        .versions(&auth.actor(), page_id(&id)?, page)
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, PageVersionResponse::from)))
}

/// One version of a page.
#[utoipa::path(get, path = "/api/v1/admin/pages/{id}/versions/{number}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("number" = i64, Path, minimum = 1)),
    responses((status = 200, body = PageVersionResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_page_version(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let v = state
        .pages
        .version(&auth.actor(), page_id(&id)?, version_number(&number)?)
        .await?;
    Ok(HttpResponse::Ok().json(PageVersionResponse::from(v)))
}

/// Makes a new version whose content equals version `number` (send the current version).
#[utoipa::path(post, path = "/api/v1/admin/pages/{id}/versions/{number}/restore", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("number" = i64, Path, minimum = 1), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = VersionRequest,
    responses((status = 200, body = PageResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn restore_page_version(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: ValidatedJson<VersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .pages
            .restore(
                &auth.actor(),
                page_id(&id)?,
                version_number(&number)?,
                expected,
            )
            .await?,
    ))
}

/// What changed from version `from` to version `to`: each changed top-level field with its
/// old and new value, and the block indexes added, removed or changed.
#[utoipa::path(get, path = "/api/v1/admin/pages/{id}/diff", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), DiffQuery),
    responses((status = 200, body = PageDiffResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn diff_page_versions(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .pages
        .diff(&auth.actor(), page_id(&id)?, query.from, query.to)
        .await?;
    Ok(HttpResponse::Ok().json(PageDiffResponse::from(d)))
}

/// Publishes the current draft now (`content.publish`): it becomes what the public sees.
#[utoipa::path(post, path = "/api/v1/admin/pages/{id}/publish", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = VersionRequest,
    responses((status = 200, body = PageResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or slug_taken", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn publish_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<VersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .pages
            .publish(&auth.actor(), page_id(&id)?, expected)
            .await?,
    ))
}

/// Takes a PUBLISHED or SCHEDULED page back to DRAFT (`content.publish`).
#[utoipa::path(post, path = "/api/v1/admin/pages/{id}/unpublish", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = VersionRequest,
    responses((status = 200, body = PageResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn unpublish_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<VersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .pages
            .unpublish(&auth.actor(), page_id(&id)?, expected)
            .await?,
    ))
}

/// Schedules publishing and/or unpublishing (`content.publish`); the worker does it when
/// the time comes.
#[utoipa::path(post, path = "/api/v1/admin/pages/{id}/schedule", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = SchedulePageRequest,
    responses((status = 200, body = PageResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn schedule_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<SchedulePageRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.0;
    let expected = if_match.or_version(r.version)?;
    Ok(staff(
        state
            .pages
            .schedule(
                &auth.actor(),
                page_id(&id)?,
                expected,
                r.publish_at,
                r.unpublish_at,
            )
            .await?,
    ))
}

/// A short-lived signed link to the current draft version (`content.manage`), valid for
/// `PREVIEW_TTL_SECS`.
#[utoipa::path(post, path = "/api/v1/admin/pages/{id}/preview", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PreviewResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn preview_page(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = state
        .pages
        .preview_link(&auth.actor(), page_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PreviewResponse {
            url: format!("/api/v1/content/preview/{}", link.token),
            token: link.token,
            expires_at: link.claims.expires_at,
        }))
}

/// The content audit trail, newest first (`content.read_audit`).
#[utoipa::path(get, path = "/api/v1/admin/content/audit", tag = "content", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = ListResponse<AuditEntryResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_content_audit(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.limit);
    let found = state
        .pages
        .audit(&auth.actor(), query.to_domain()?, page)
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, AuditEntryResponse::from)))
}
