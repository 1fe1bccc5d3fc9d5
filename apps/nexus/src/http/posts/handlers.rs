//! `/api/v1/content/posts...` (public) and `/api/v1/admin/posts...` (staff with the content
//! permissions).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_content::{PostId, PublicPost, check_post_slug};
use nexus_kernel::PageRequest;

use super::dto::{
    AdminPostsQuery, CreatePostRequest, PostResponse, PublicPostResponse, PublicPostsQuery,
    SchedulePostRequest, UpdatePostRequest, post_seo,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse as ListResponse;
use crate::http::pages::dto::VersionRequest;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/content/posts").route(web::get().to(list_public_posts)))
        .service(web::resource("/content/posts/{slug}").route(web::get().to(get_public_post)))
        .service(web::resource("/content/posts/{id}/cover").route(web::get().to(get_post_cover)))
        .service(
            web::resource("/admin/posts")
                .route(web::get().to(list_posts))
                .route(web::post().to(create_post)),
        )
        .service(
            web::resource("/admin/posts/{id}")
                .route(web::get().to(get_post))
                .route(web::patch().to(update_post))
                .route(web::delete().to(delete_post)),
        )
        .service(web::resource("/admin/posts/{id}/publish").route(web::post().to(publish_post)))
        .service(web::resource("/admin/posts/{id}/unpublish").route(web::post().to(unpublish_post)))
        .service(web::resource("/admin/posts/{id}/schedule").route(web::post().to(schedule_post)))
        .service(web::resource("/admin/posts/{id}/cover").route(web::post().to(upload_post_cover)));
}

fn post_id(raw: &str) -> Result<PostId, ApiError> {
    raw.parse::<PostId>()
        .map_err(|_| ApiError::not_found("No such post"))
}

fn staff(p: nexus_content::Post) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag(p.version))
        .json(PostResponse::from(p))
}

/// Published posts for anyone, through the blog's search: filtered by `tag` and by `q`
/// (words in the title, excerpt or body; best match first), otherwise last published
/// first; paginated. Served from the content cache with a strong
/// `ETag` (304 on `If-None-Match`); any post change moves the cache on.
#[utoipa::path(get, path = "/api/v1/content/posts", tag = "content", params(PublicPostsQuery, ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = ListResponse<PublicPostResponse>, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_public_posts(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PublicPostsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.to_domain()?;
    let page = PageRequest::new(query.page, query.limit);
    let key = format!(
        "posts:{}:{}:{}:{}",
        page.page(),
        page.limit(),
        filter.tag.as_deref().unwrap_or_default(),
        filter.q.as_deref().unwrap_or_default().to_lowercase(),
    );
    let (posts, filter) = (&state.posts, &filter);
    let cached = state
        .content_cache
        .get_or_load(&key, || async move {
            let found = posts.public_list(filter.clone(), page).await?;
            serde_json::to_vec(&ListResponse::from_page(found, |v| {
                PublicPostResponse::new(v, false)
            }))
            .map_err(ApiError::internal)
        })
        .await?;
    Ok(cached.respond(&req))
}

/// The published post at `slug`, with its body as sanitized HTML, for anyone. An old slug
/// answers 301 to the post's current address. Cached like the list (ETag, 304).
#[utoipa::path(get, path = "/api/v1/content/posts/{slug}", tag = "content", params(("slug" = String, Path, description = "the post's slug", max_length = 120, pattern = r"^[a-z0-9-]+$"), ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = PublicPostResponse, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 301, description = "an old slug: `Location` is the post's current address", headers(("Location" = String))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_public_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = check_post_slug(&slug).map_err(|_| ApiError::not_found("No such post"))?;
    let key = format!("post:{slug}");
    let (posts, slug) = (&state.posts, &slug);
    let site = state.site.seo();
    let cached = state
        .content_cache
        .get_or_load(&key, || async move {
            match posts.public(slug).await? {
                PublicPost::Found(view) => {
                    let seo = post_seo(&view, site);
                    serde_json::to_vec(&PublicPostResponse::new(*view, true).described(seo))
                }
                // A marker no post answer starts with (those start with `id`).
                PublicPost::Moved(to) => serde_json::to_vec(&serde_json::json!({ MOVED: to })),
            }
            .map_err(ApiError::internal)
        })
        .await?;
    let moved: Option<serde_json::Map<String, serde_json::Value>> =
        if cached.body.starts_with(MOVED_PREFIX) {
            serde_json::from_slice(&cached.body).ok()
        } else {
            None
        };
    if let Some(to) = moved
        .as_ref()
        .and_then(|m| m.get(MOVED))
        .and_then(|v| v.as_str())
    {
        return Ok(HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, format!("/api/v1/content/posts/{to}")))
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .finish());
    }
    Ok(cached.respond(&req))
}

/// The key of the cached marker of an old slug.
const MOVED: &str = "movedTo";
const MOVED_PREFIX: &[u8] = b"{\"movedTo\":";

/// The cover of a published post, for anyone: a redirect (302) to a short-lived link.
#[utoipa::path(get, path = "/api/v1/content/posts/{id}/cover", tag = "content", params(("id" = uuid::Uuid, Path)),
    responses((status = 302, description = "to a short-lived link to the image", headers(("Location" = String))), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_post_cover(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = state.posts.public_cover(post_id(&id)?).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, link.url))
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
        .finish())
}

/// Posts in every status (`content.manage`), most recently changed first.
#[utoipa::path(get, path = "/api/v1/admin/posts", tag = "content", security(("bearer" = [])), params(AdminPostsQuery),
    responses((status = 200, body = ListResponse<PostResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_posts(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<AdminPostsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.to_domain()?;
    let page = PageRequest::new(query.page, query.limit);
    let found = state.posts.list(&auth.actor(), filter, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, PostResponse::from)))
}

/// Creates a DRAFT post (version 1) by a team member (`content.manage`).
#[utoipa::path(post, path = "/api/v1/admin/posts", tag = "content", security(("bearer" = [])), request_body = CreatePostRequest,
    responses((status = 201, body = PostResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "slug_taken", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_post(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreatePostRequest>,
) -> Result<HttpResponse, ApiError> {
    let post = state.posts.create(&auth.actor(), body.0.into()).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(post.version))
        .json(PostResponse::from(post)))
}

/// One post (`content.manage`).
#[utoipa::path(get, path = "/api/v1/admin/posts/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PostResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_post(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(state.posts.get(&auth.actor(), post_id(&id)?).await?))
}

/// Changes a post (a PUBLISHED one shows it at once); send the version read (`version` or
/// `If-Match`), a stale one is 409 `conflict`. A new slug leaves the old one redirecting.
#[utoipa::path(patch, path = "/api/v1/admin/posts/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdatePostRequest,
    responses((status = 200, body = PostResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or slug_taken", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn update_post(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<UpdatePostRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = post_id(&id)?;
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .posts
            .update(&auth.actor(), id, expected, body.0.into())
            .await?,
    ))
}

/// Deletes a DRAFT post (a PUBLISHED or SCHEDULED one is unpublished first: 409
/// `invalid_transition`); with `If-Match`, only at that version.
#[utoipa::path(delete, path = "/api/v1/admin/posts/{id}", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "invalid_transition or conflict", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn delete_post(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    state
        .posts
        .delete(&auth.actor(), post_id(&id)?, if_match.0)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publishes a post now (`content.publish`).
#[utoipa::path(post, path = "/api/v1/admin/posts/{id}/publish", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = VersionRequest,
    responses((status = 200, body = PostResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn publish_post(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<VersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .posts
            .publish(&auth.actor(), post_id(&id)?, expected)
            .await?,
    ))
}

/// Takes a PUBLISHED or SCHEDULED post back to DRAFT (`content.publish`).
#[utoipa::path(post, path = "/api/v1/admin/posts/{id}/unpublish", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = VersionRequest,
    responses((status = 200, body = PostResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn unpublish_post(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<VersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match.or_version(body.0.version)?;
    Ok(staff(
        state
            .posts
            .unpublish(&auth.actor(), post_id(&id)?, expected)
            .await?,
    ))
}

/// Schedules the publication of a post that is not PUBLISHED (`content.publish`); the
/// worker publishes it when the time comes.
#[utoipa::path(post, path = "/api/v1/admin/posts/{id}/schedule", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = SchedulePostRequest,
    responses((status = 200, body = PostResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn schedule_post(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<SchedulePostRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.0;
    let expected = if_match.or_version(r.version)?;
    Ok(staff(
        state
            .posts
            .schedule(&auth.actor(), post_id(&id)?, expected, r.publish_at)
            .await?,
    ))
}

/// Uploads the post's cover as multipart/form-data, one field `file`: a PNG, JPEG or WebP
/// image (by its first bytes; anything else is 415), at most 2 MiB (413) (`content.manage`).
#[utoipa::path(post, path = "/api/v1/admin/posts/{id}/cover", tag = "content", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    request_body(content = crate::http::schema::AssetUpload, content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 200, body = PostResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn upload_post_cover(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let id = post_id(&id)?;
    let actor = auth.actor();
    state.posts.authorize_cover(&actor, id).await?;
    let bytes = crate::http::multipart::read_image(form).await?;
    Ok(staff(
        state.posts.set_cover(&actor, id, if_match.0, bytes).await?,
    ))
}
