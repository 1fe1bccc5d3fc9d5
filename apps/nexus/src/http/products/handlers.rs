//! `/api/v1/products` (public catalog and management) and `/api/v1/admin/products`.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use nexus_catalog::ProductId;
use nexus_catalog::{AssetKey, FileName, ProductFilter, ProductRef};
use nexus_kernel::PageRequest;

use super::dto::{
    AdminProductsQuery, ConfirmUploadRequest, CreateProductRequest, ListProductsQuery,
    ProductResponse, UpdateProductRequest, UploadLinkRequest, UploadLinkResponse, product_seo,
};
use crate::cache::key_digest;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/products")
            .route(web::get().to(list_products))
            .route(web::post().to(create_product)),
    )
    .service(
        web::resource("/products/{id}")
            .route(web::get().to(get_product))
            .route(web::patch().to(update_product))
            .route(web::delete().to(delete_product)),
    )
    .service(web::resource("/products/{id}/publish").route(web::post().to(publish_product)))
    .service(web::resource("/products/{id}/archive").route(web::post().to(archive_product)))
    .service(web::resource("/products/{id}/unpublish").route(web::post().to(unpublish_product)))
    .service(web::resource("/products/{id}/asset").route(web::post().to(upload_asset)))
    .service(
        web::resource("/products/{id}/cover")
            .route(web::get().to(get_product_cover))
            .route(web::post().to(upload_product_cover)),
    )
    .service(
        web::resource("/products/{id}/asset/upload-link").route(web::post().to(asset_upload_link)),
    )
    .service(
        web::resource("/products/{id}/asset/confirm").route(web::post().to(confirm_asset_upload)),
    )
    .service(web::resource("/admin/products").route(web::get().to(admin_list_products)));
}

fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    raw.parse::<ProductId>()
        .map_err(|_| ApiError::not_found("No such product"))
}

fn staff(p: nexus_catalog::Product) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag(p.version))
        .json(ProductResponse::staff(p))
}

/// Searches the published catalog: q (full text, typo-tolerant), category, tags, price range, sort.
///
/// Served from the catalog cache: the same answer for every caller, with a strong `ETag`;
/// `If-None-Match` with that tag (or `*`) gets 304 without a body.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ListProductsQuery, ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = PageResponse<ProductResponse>, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_products(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListProductsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.to_domain(state.products.store_currency())?;
    let page = PageRequest::new(query.page, query.limit);
    // The parsed query is the normalized one: spelling, order of parameters, defaults and
    // clamped values all land on one key.
    let key = format!(
        "list:{}",
        key_digest(&format!("{filter:?}|{}|{}", page.page(), page.limit()))
    );
    let (products, filter, feedback) = (&state.products, &filter, &state.feedback);
    let cached = state
        .catalog_cache
        .get_or_load(&key, || async move {
            let found = products.list_public(filter.clone(), page).await?;
            // One read of the ratings of the whole page.
            let ids: Vec<ProductId> = found.items.iter().map(|p| p.id).collect();
            let ratings = feedback.ratings(&ids).await?;
            serde_json::to_vec(&PageResponse::from_page(found, |p| {
                let rating = ratings.get(&p.id).copied().unwrap_or_default();
                ProductResponse::public(p).rated(rating)
            }))
            .map_err(ApiError::internal)
        })
        .await?;
    Ok(cached.respond(&req))
}

/// One published product by id or slug.
///
/// Served from the catalog cache like the list, with `ETag` and 304 on `If-None-Match`.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = String, Path, description = "id or slug"), ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, body = ProductResponse, headers(("ETag" = String, description = "strong tag of this answer"), ("Cache-Control" = String, description = "public, max-age=0, must-revalidate"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current", headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_product(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = ProductRef::parse(&id).map_err(|_| ApiError::not_found("No such product"))?;
    let key = format!("detail:{}", key_digest(&format!("{reference:?}")));
    let (products, reference, feedback) = (&state.products, &reference, &state.feedback);
    let site = state.site.seo();
    let cached = state
        .catalog_cache
        .get_or_load(&key, || async move {
            let product = products.get_public(reference).await?;
            let rating = feedback
                .ratings(&[product.id])
                .await?
                .remove(&product.id)
                .unwrap_or_default();
            let seo = product_seo(&product, &rating, site);
            serde_json::to_vec(
                &ProductResponse::public(product)
                    .rated(rating)
                    .described(seo),
            )
            .map_err(ApiError::internal)
        })
        .await?;
    Ok(cached.respond(&req))
}

/// Creates a DRAFT product (MANAGER, ADMIN).
#[utoipa::path(post, path = "/api/v1/products", tag = "products", security(("bearer" = [])), request_body = CreateProductRequest,
    responses((status = 201, body = ProductResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "slug_taken", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_product(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.into_domain(state.products.store_currency())?;
    let product = state.products.create(&auth.actor(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(product.version))
        .json(ProductResponse::staff(product)))
}

/// Changes a product (MANAGER, ADMIN). Send the version read (If-Match or `version`).
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateProductRequest,
    responses((status = 200, body = ProductResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn update_product(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(&id)?;
    let r = body.0;
    let expected = if_match.or_version(r.version)?;
    let change = r.into_domain(state.products.store_currency())?;
    Ok(staff(
        state
            .products
            .update(&auth.actor(), id, expected, change)
            .await?,
    ))
}

/// Deletes a product that was never sold (sold ones are archived instead: 409 product_sold).
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "product_sold", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn delete_product(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .products
        .delete(&auth.actor(), product_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publishes a product (it needs a file).
#[utoipa::path(post, path = "/api/v1/products/{id}/publish", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProductResponse), (status = 409, description = "asset_missing or invalid_transition", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn publish_product(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(
        state
            .products
            .publish(&auth.actor(), product_id(&id)?)
            .await?,
    ))
}

/// Archives a product (no longer sold; owners keep their downloads).
#[utoipa::path(post, path = "/api/v1/products/{id}/archive", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProductResponse), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn archive_product(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(
        state
            .products
            .archive(&auth.actor(), product_id(&id)?)
            .await?,
    ))
}

/// Takes a published product back to DRAFT.
#[utoipa::path(post, path = "/api/v1/products/{id}/unpublish", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProductResponse), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn unpublish_product(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(
        state
            .products
            .unpublish(&auth.actor(), product_id(&id)?)
            .await?,
    ))
}

/// The cover of a published product (by id or slug), for anyone: a redirect (302) to a
/// short-lived link to the image.
#[utoipa::path(get, path = "/api/v1/products/{id}/cover", tag = "products", params(("id" = String, Path, description = "id or slug")),
    responses((status = 302, description = "to a short-lived link to the image", headers(("Location" = String))), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_product_cover(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = ProductRef::parse(&id).map_err(|_| ApiError::not_found("No such product"))?;
    let link = state.products.public_cover(&reference).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, link.url))
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
        .finish())
}

/// Uploads the product's cover as multipart/form-data, one field `file`: a PNG, JPEG or WebP
/// image (known by its first bytes; anything else is 415), at most 2 MiB (413). The cover it
/// replaces is deleted. With `If-Match`, only at that version (`products.manage`).
#[utoipa::path(post, path = "/api/v1/products/{id}/cover", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    request_body(content = crate::http::schema::AssetUpload, content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 200, body = ProductResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict (a stale `If-Match`) or invalid_transition (an archived product)", body = ErrorBody), (status = 412, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn upload_product_cover(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(&id)?;
    let actor = auth.actor();
    // Before reading the body: a caller who may not upload costs no more than the head.
    state.products.authorize_cover(&actor, id).await?;
    let bytes = crate::http::multipart::read_image(form).await?;
    Ok(staff(
        state
            .products
            .set_cover(&actor, id, if_match.0, bytes)
            .await?,
    ))
}

/// Uploads the product's file as multipart/form-data, one field `file` (size and type limits apply).
///
/// Who may upload is decided before a byte of the body is read; the file is then streamed
/// to disk while it is counted and hashed (never held in memory), and at most
/// `UPLOAD_CONCURRENCY` uploads run at once (then 503 `uploads_busy` with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/products/{id}/asset", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body(content = crate::http::schema::AssetUpload, content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 200, body = ProductResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "invalid_transition: the product cannot take a file in its state", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, description = "uploads_busy: too many uploads at once; retry after `Retry-After` seconds", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn upload_asset(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(&id)?;
    let actor = auth.actor();
    // Before reading the body: a caller who may not upload costs the server no more than
    // the request head.
    state.products.authorize_asset_upload(&actor, id).await?;
    let _slot = state.uploads.slot()?;
    // Only the one `file` field is read: any other field is refused rather than skipped,
    // since skipping still reads it, and nothing would bound its size.
    if let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::invalid_multipart(e.to_string()))?;
        if field.name() != Some("file") {
            return Err(ApiError::field(
                "file",
                "required",
                "send the file as the only multipart field, named 'file'",
            ));
        }
        let raw_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or("file")
            .to_owned();
        let file_name = FileName::parse(&raw_name)
            .map_err(|e| ApiError::field("file", "invalid_name", e.to_string()))?;
        let content_type = field.content_type().map_or_else(
            || "application/octet-stream".to_owned(),
            ToString::to_string,
        );
        state.products.accepted_content_type(&content_type)?;
        let received = state
            .uploads
            .receive(&mut field, state.products.max_asset_bytes())
            .await?;
        drop(field);
        crate::http::multipart::nothing_after_the_file(&mut form).await?;
        let product = state
            .products
            .attach_asset(&actor, id, file_name, &content_type, &received.staged())
            .await?;
        return Ok(staff(product));
    }
    Err(ApiError::field(
        "file",
        "required",
        "send the file in the multipart field 'file'",
    ))
}

/// A presigned PUT link for uploading the file directly to S3 (409 with local storage).
#[utoipa::path(post, path = "/api/v1/products/{id}/asset/upload-link", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = UploadLinkRequest,
    responses((status = 200, body = UploadLinkResponse), (status = 409, description = "upload_link_unsupported", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn asset_upload_link(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: ValidatedJson<UploadLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let file_name = FileName::parse(&body.0.file_name)
        .map_err(|e| ApiError::field("fileName", "invalid", e.to_string()))?;
    let ticket = state
        .products
        .upload_link(
            &auth.actor(),
            product_id(&id)?,
            file_name,
            &body.0.content_type,
        )
        .await?;
    Ok(HttpResponse::Ok().json(UploadLinkResponse {
        key: ticket.key.as_str().to_owned(),
        url: ticket.link.url,
        expires_at: ticket.link.expires_at,
    }))
}

/// Records a file uploaded through a presigned link (its size and checksum are read back).
#[utoipa::path(post, path = "/api/v1/products/{id}/asset/confirm", tag = "products", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = ConfirmUploadRequest,
    responses((status = 200, body = ProductResponse), (status = 404, body = ErrorBody), (status = 409, description = "invalid_transition: the product cannot take a file in its state", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn confirm_asset_upload(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: ValidatedJson<ConfirmUploadRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = AssetKey::parse(&body.0.key)
        .map_err(|e| ApiError::field("key", "invalid", e.to_string()))?;
    Ok(staff(
        state
            .products
            .confirm_upload(&auth.actor(), product_id(&id)?, &key)
            .await?,
    ))
}

/// All products, any status (MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/admin/products", tag = "products", security(("bearer" = [])), params(AdminProductsQuery),
    responses((status = 200, body = PageResponse<ProductResponse>), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn admin_list_products(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<AdminProductsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = ProductFilter::try_from(&*query)?;
    let page = state
        .products
        .list_admin(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, ProductResponse::staff)))
}
