//! `/api/v1/feedback`, `/api/v1/admin/feedback`, `/api/v1/products/{id}/review(s)`,
//! `/api/v1/me/reviews`, `/api/v1/admin/reviews` and `/api/v1/customers/{id}/feedback`.

use actix_web::{HttpResponse, web};
use nexus_catalog::ProductId;
use nexus_customers::CustomerId;
use nexus_feedback::{FeedbackId, ModerationAction, NewFeedback, ReviewId};
use nexus_kernel::PageRequest;

use super::dto::{
    CreateFeedbackRequest, CustomerFeedbackResponse, FeedbackQuery, FeedbackReceipt,
    FeedbackResponse, HideRequest, PagingQuery, PublicFeedbackResponse, PublicReviewResponse,
    PublishRequest, PutReviewRequest, ReviewResponse, ReviewsQuery,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::limits::{Action, Client};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/feedback")
            .route(web::get().to(list_published_feedback))
            .route(web::post().to(submit_feedback)),
    )
    .service(web::resource("/admin/feedback").route(web::get().to(admin_list_feedback)))
    .service(web::resource("/admin/feedback/{id}/publish").route(web::post().to(publish_feedback)))
    .service(web::resource("/admin/feedback/{id}/hide").route(web::post().to(hide_feedback)))
    .service(
        web::resource("/products/{id}/review")
            .route(web::put().to(put_review))
            .route(web::delete().to(delete_review)),
    )
    .service(web::resource("/products/{id}/reviews").route(web::get().to(product_reviews)))
    .service(web::resource("/me/reviews").route(web::get().to(my_reviews)))
    .service(web::resource("/admin/reviews").route(web::get().to(admin_list_reviews)))
    .service(web::resource("/admin/reviews/{id}/publish").route(web::post().to(publish_review)))
    .service(web::resource("/admin/reviews/{id}/hide").route(web::post().to(hide_review)))
    .service(web::resource("/customers/{id}/feedback").route(web::get().to(customer_feedback)));
}

fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse::<T>()
        .map_err(|_| ApiError::not_found(format!("No such {what}")))
}

/// Sends site feedback (public; rate-limited per client by `feedback`). A signed-in
/// sender is linked. Always 202 `{"status":"received"}`, also when the spam trap
/// (`website`) is filled and nothing is stored.
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body = CreateFeedbackRequest,
    responses((status = 202, body = FeedbackReceipt), (status = 400, body = ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn submit_feedback(
    state: web::Data<AppState>,
    client: Client,
    auth: Option<Auth>,
    body: ValidatedJson<CreateFeedbackRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::Feedback).await?;
    let input = NewFeedback::try_from(body.0)?;
    let actor = auth.map(|a| a.actor());
    state.feedback.submit(actor.as_ref(), input).await?;
    Ok(HttpResponse::Accepted().json(FeedbackReceipt { status: "received" }))
}

/// Published site feedback, newest first (public; never an address).
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", params(PagingQuery),
    responses((status = 200, body = PageResponse<PublicFeedbackResponse>), (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_published_feedback(
    state: web::Data<AppState>,
    query: web::Query<PagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .feedback
        .published_feedback(PageRequest::new(query.page, query.limit))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, PublicFeedbackResponse::from)))
}

/// The moderation queue of site feedback (ADMIN, MANAGER, EDITOR), newest first.
#[utoipa::path(get, path = "/api/v1/admin/feedback", tag = "feedback", security(("bearer" = [])), params(FeedbackQuery),
    responses((status = 200, body = PageResponse<FeedbackResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn admin_list_feedback(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<FeedbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let page = state
        .feedback
        .list_feedback(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, FeedbackResponse::from)))
}

async fn moderate_feedback(
    state: &AppState,
    auth: &Auth,
    id: &str,
    action: ModerationAction,
    reason: Option<nexus_feedback::ModerationReason>,
    version: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let id: FeedbackId = parse_id(id, "feedback")?;
    let feedback = state
        .feedback
        .moderate_feedback(&auth.actor(), id, action, reason, version)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(feedback.version))
        .json(FeedbackResponse::from(feedback)))
}

/// Publishes site feedback (ADMIN, MANAGER, EDITOR). `version` (or `If-Match`) is checked
/// when sent.
#[utoipa::path(post, path = "/api/v1/admin/feedback/{id}/publish", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = PublishRequest,
    responses((status = 200, body = FeedbackResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(feedback_id = %id))]
pub async fn publish_feedback(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<PublishRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.0.or(body.0.version);
    moderate_feedback(&state, &auth, &id, ModerationAction::Publish, None, version).await
}

/// Hides site feedback, with a reason (ADMIN, MANAGER, EDITOR).
#[utoipa::path(post, path = "/api/v1/admin/feedback/{id}/hide", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = HideRequest,
    responses((status = 200, body = FeedbackResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(feedback_id = %id))]
pub async fn hide_feedback(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<HideRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason()?;
    let version = if_match.0.or(body.0.version);
    moderate_feedback(
        &state,
        &auth,
        &id,
        ModerationAction::Hide,
        Some(reason),
        version,
    )
    .await
}

/// Writes the caller's review of a product they own (201), or replaces it (200; send the
/// version read as `version` or `If-Match`). Either way it is PENDING until a moderator
/// publishes it. Not owned: 403 `not_owner`.
#[utoipa::path(put, path = "/api/v1/products/{id}/review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = PutReviewRequest,
    responses((status = 200, body = ReviewResponse), (status = 201, body = ReviewResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, description = "not_owner", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn put_review(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<PutReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let product: ProductId = parse_id(&id, "product")?;
    let input = body.0.input()?;
    let version = if_match.0.or(body.0.version);
    let written = state
        .feedback
        .put_review(&auth.actor(), product, input, version)
        .await?;
    let mut response = if written.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header(etag(written.review.version))
        .json(ReviewResponse::from(written.review)))
}

/// Deletes the caller's own review of the product (404 when they have none).
#[utoipa::path(delete, path = "/api/v1/products/{id}/review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn delete_review(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let product: ProductId = parse_id(&id, "review")?;
    state
        .feedback
        .delete_review(&auth.actor(), product, if_match.0)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A product's published reviews, most recently published first (public): the reviewer by
/// first name and last initial, never an address.
#[utoipa::path(get, path = "/api/v1/products/{id}/reviews", tag = "reviews", params(("id" = Uuid, Path), PagingQuery),
    responses((status = 200, body = PageResponse<PublicReviewResponse>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn product_reviews(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<PagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let product: ProductId = parse_id(&id, "product")?;
    let page = state
        .feedback
        .public_reviews(product, PageRequest::new(query.page, query.limit))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, PublicReviewResponse::from)))
}

/// The caller's own reviews, newest first, in every status.
#[utoipa::path(get, path = "/api/v1/me/reviews", tag = "reviews", security(("bearer" = [])), params(PagingQuery),
    responses((status = 200, body = PageResponse<ReviewResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn my_reviews(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<PagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .feedback
        .my_reviews(&auth.actor(), PageRequest::new(query.page, query.limit))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, ReviewResponse::from)))
}

/// The moderation queue of reviews (ADMIN, MANAGER, EDITOR), newest first.
#[utoipa::path(get, path = "/api/v1/admin/reviews", tag = "reviews", security(("bearer" = [])), params(ReviewsQuery),
    responses((status = 200, body = PageResponse<ReviewResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn admin_list_reviews(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ReviewsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let page = state
        .feedback
        .list_reviews(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, ReviewResponse::from)))
}

async fn moderate_review(
    state: &AppState,
    auth: &Auth,
    id: &str,
    action: ModerationAction,
    reason: Option<nexus_feedback::ModerationReason>,
    version: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let id: ReviewId = parse_id(id, "review")?;
    let review = state
        .feedback
        .moderate_review(&auth.actor(), id, action, reason, version)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(review.version))
        .json(ReviewResponse::from(review)))
}

/// Publishes a review (ADMIN, MANAGER, EDITOR): it counts in the product's rating.
#[utoipa::path(post, path = "/api/v1/admin/reviews/{id}/publish", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = PublishRequest,
    responses((status = 200, body = ReviewResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(review_id = %id))]
pub async fn publish_review(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<PublishRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.0.or(body.0.version);
    moderate_review(&state, &auth, &id, ModerationAction::Publish, None, version).await
}

/// Hides a review, with a reason (ADMIN, MANAGER, EDITOR): it leaves the product's rating.
#[utoipa::path(post, path = "/api/v1/admin/reviews/{id}/hide", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = HideRequest,
    responses((status = 200, body = ReviewResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict or invalid_transition", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(review_id = %id))]
pub async fn hide_review(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<HideRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason()?;
    let version = if_match.0.or(body.0.version);
    moderate_review(
        &state,
        &auth,
        &id,
        ModerationAction::Hide,
        Some(reason),
        version,
    )
    .await
}

/// What a CRM customer said: site feedback and reviews matched by the customer's e-mail,
/// newest first. Visible as the customer is: a CSO only for customers assigned to them
/// (404 otherwise), MANAGER and ADMIN for all; other roles 403.
#[utoipa::path(get, path = "/api/v1/customers/{id}/feedback", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path), PagingQuery),
    responses((status = 200, body = PageResponse<CustomerFeedbackResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn customer_feedback(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    query: web::Query<PagingQuery>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = parse_id(&id, "customer")?;
    let page = state
        .feedback
        .customer_feedback(
            &auth.actor(),
            customer,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(
        page,
        CustomerFeedbackResponse::from,
    )))
}
