//! `/api/v1/content/team` and `/api/v1/content/team/{id}/photo` (public) and
//! `/api/v1/admin/team...` (staff with `content.manage`).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_content::TeamMemberId;
use nexus_kernel::PageRequest;

use super::dto::{
    CreateTeamMemberRequest, PublicTeamMemberResponse, ReorderTeamRequest, TeamMemberResponse,
    TeamPagingQuery, UpdateTeamMemberRequest,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse as ListResponse;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/content/team").route(web::get().to(list_public_team)))
        .service(web::resource("/content/team/{id}/photo").route(web::get().to(get_team_photo)))
        .service(
            web::resource("/admin/team")
                .route(web::get().to(list_team))
                .route(web::post().to(create_team_member)),
        )
        .service(web::resource("/admin/team/reorder").route(web::post().to(reorder_team)))
        .service(
            web::resource("/admin/team/{id}")
                .route(web::get().to(get_team_member))
                .route(web::patch().to(update_team_member))
                .route(web::delete().to(delete_team_member)),
        )
        .service(web::resource("/admin/team/{id}/photo").route(web::post().to(upload_team_photo)));
}

fn member_id(raw: &str) -> Result<TeamMemberId, ApiError> {
    raw.parse::<TeamMemberId>()
        .map_err(|_| ApiError::not_found("No such team member"))
}

fn staff(m: nexus_content::TeamMember) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag(m.version))
        .json(TeamMemberResponse::from(m))
}

/// The visible team members in order, for anyone; served from the content cache with a
/// strong `ETag` (`If-None-Match` with it gets 304). Any change of a member moves the cache on.
#[utoipa::path(get, path = "/api/v1/content/team", tag = "content", params(TeamPagingQuery, ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = ListResponse<PublicTeamMemberResponse>, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_public_team(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TeamPagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.limit);
    let key = format!("team:{}:{}", page.page(), page.limit());
    let team = &state.team;
    let cached = state
        .content_cache
        .get_or_load(&key, || async move {
            let found = team.public_list(page).await?;
            serde_json::to_vec(&ListResponse::from_page(
                found,
                PublicTeamMemberResponse::from,
            ))
            .map_err(ApiError::internal)
        })
        .await?;
    Ok(cached.respond(&req))
}

/// The photo of a visible member, for anyone: a redirect (302) to a short-lived link.
#[utoipa::path(get, path = "/api/v1/content/team/{id}/photo", tag = "content", params(("id" = uuid::Uuid, Path)),
    responses((status = 302, description = "to a short-lived link to the image", headers(("Location" = String))), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_team_photo(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = state.team.public_photo(member_id(&id)?).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, link.url))
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
        .finish())
}

/// Every team member in order (`content.manage`).
#[utoipa::path(get, path = "/api/v1/admin/team", tag = "content", security(("bearer" = [])), params(TeamPagingQuery),
    responses((status = 200, body = ListResponse<TeamMemberResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_team(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<TeamPagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.limit);
    let found = state.team.list(&auth.actor(), page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, TeamMemberResponse::from)))
}

/// Creates a team member (version 1) (`content.manage`).
#[utoipa::path(post, path = "/api/v1/admin/team", tag = "content", security(("bearer" = [])), request_body = CreateTeamMemberRequest,
    responses((status = 201, body = TeamMemberResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_team_member(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreateTeamMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let member = state.team.create(&auth.actor(), body.0.into()).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(member.version))
        .json(TeamMemberResponse::from(member)))
}

/// One team member (`content.manage`).
#[utoipa::path(get, path = "/api/v1/admin/team/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TeamMemberResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_team_member(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(state.team.get(&auth.actor(), member_id(&id)?).await?))
}

/// Changes a team member; send the version read (`version` or `If-Match`), a stale one is
/// 409 `conflict`.
#[utoipa::path(patch, path = "/api/v1/admin/team/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateTeamMemberRequest,
    responses((status = 200, body = TeamMemberResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn update_team_member(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateTeamMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&id)?;
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .team
            .update(&auth.actor(), id, expected, body.0.into())
            .await?,
    ))
}

/// Deletes a team member (`content.manage`); with `If-Match`, only at that version.
#[utoipa::path(delete, path = "/api/v1/admin/team/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn delete_team_member(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    state
        .team
        .delete(&auth.actor(), member_id(&id)?, if_match.0)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Puts the members listed in this order (positions 0, 1, 2...), each at the version read;
/// one stale version makes it all 409 `conflict` (`content.manage`).
#[utoipa::path(post, path = "/api/v1/admin/team/reorder", tag = "content", security(("bearer" = [])), request_body = ReorderTeamRequest,
    responses((status = 200, body = Vec<TeamMemberResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn reorder_team(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<ReorderTeamRequest>,
) -> Result<HttpResponse, ApiError> {
    let order = body
        .0
        .order
        .into_iter()
        .map(|i| (TeamMemberId::from_uuid(i.id), i.version))
        .collect();
    let saved = state.team.reorder(&auth.actor(), order).await?;
    Ok(HttpResponse::Ok().json(
        saved
            .into_iter()
            .map(TeamMemberResponse::from)
            .collect::<Vec<_>>(),
    ))
}

/// Uploads the member's photo as multipart/form-data, one field `file`: a PNG, JPEG or WebP
/// image (known by its first bytes; anything else is 415), at most 2 MiB (413). With
/// `If-Match`, only at that version (`content.manage`).
#[utoipa::path(post, path = "/api/v1/admin/team/{id}/photo", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    request_body(content = crate::http::schema::AssetUpload, content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 200, body = TeamMemberResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn upload_team_photo(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&id)?;
    let actor = auth.actor();
    // Before reading the body: a caller who may not upload costs no more than the head.
    state.team.authorize_photo(&actor, id).await?;
    let bytes = crate::http::multipart::read_image(form).await?;
    Ok(staff(
        state.team.set_photo(&actor, id, if_match.0, bytes).await?,
    ))
}
