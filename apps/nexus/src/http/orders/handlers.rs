//! Cart, checkout, orders, payments, Razorpay webhooks, library, downloads and file links.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_catalog::ProductId;
use nexus_catalog::SignedLink;
use nexus_kernel::PageRequest;
use nexus_orders::{OrderId, OrderQuery, RefundReason, WebhookOutcome};
use uuid::Uuid;

use super::dto::{
    AddCartItemRequest, CartResponse, CheckoutResponse, DevCompleteRequest, FileLinkQuery,
    LibraryEntryDto, LinkResponse, ListOrdersQuery, OrderResponse, RefundRequest,
    VerifyPaymentRequest, WebhookAck,
};
use crate::http::enquiries::dto::PageQuery;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ValidatedJson};
use crate::http::limits::{Action, Client};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/cart")
            .route(web::get().to(get_cart))
            .route(web::delete().to(clear_cart)),
    )
    .service(web::resource("/cart/items").route(web::post().to(add_cart_item)))
    .service(web::resource("/cart/items/{product_id}").route(web::delete().to(remove_cart_item)))
    .service(web::resource("/checkout").route(web::post().to(checkout)))
    .service(web::resource("/orders").route(web::get().to(list_orders)))
    .service(web::resource("/orders/{id}").route(web::get().to(get_order)))
    .service(web::resource("/orders/{id}/invoice").route(web::get().to(get_invoice)))
    .service(web::resource("/orders/{id}/refund").route(web::post().to(refund_order)))
    .service(
        web::resource("/orders/{id}/refunds/{refund_id}/credit-note")
            .route(web::get().to(get_credit_note)),
    )
    .service(web::resource("/payments/verify").route(web::post().to(verify_payment)))
    .service(web::resource("/payments/dev/complete").route(web::post().to(complete_dev_payment)))
    .service(web::resource("/webhooks/razorpay").route(web::post().to(razorpay_webhook)))
    .service(web::resource("/me/library").route(web::get().to(my_library)))
    .service(web::resource("/products/{id}/download").route(web::get().to(download_product)))
    .service(web::resource("/files/{key:.*}").route(web::get().to(serve_file)));
}

/// The caller's cart at current prices.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])), responses((status = 200, body = CartResponse), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_cart(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CartResponse::from(state.cart.view(&auth.actor()).await?)))
}

/// Adds a published product the caller does not own (409 otherwise).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", security(("bearer" = [])), request_body = AddCartItemRequest,
    responses((status = 200, body = CartResponse), (status = 409, description = "product_unavailable or already_owned", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn add_cart_item(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<AddCartItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let cart = state
        .cart
        .add(&auth.actor(), ProductId::from_uuid(body.0.product_id))
        .await?;
    Ok(HttpResponse::Ok().json(CartResponse::from(cart)))
}

/// Removes a product from the cart.
#[utoipa::path(delete, path = "/api/v1/cart/items/{product_id}", tag = "cart", security(("bearer" = [])), params(("product_id" = Uuid, Path)),
    responses((status = 200, body = CartResponse)))]
#[tracing::instrument(skip_all)]
pub async fn remove_cart_item(
    state: web::Data<AppState>,
    auth: Auth,
    product_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let cart = state
        .cart
        .remove(&auth.actor(), ProductId::from_uuid(*product_id))
        .await?;
    Ok(HttpResponse::Ok().json(CartResponse::from(cart)))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])), responses((status = 204)))]
#[tracing::instrument(skip_all)]
pub async fn clear_cart(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    state.cart.clear(&auth.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Turns the cart into an order with a price snapshot and creates the Razorpay order. An
/// unchanged cart whose order still awaits payment answers that order (200). Checkouts are
/// rate-limited per user (`CHECKOUT_RATE_LIMIT`).
#[utoipa::path(post, path = "/api/v1/checkout", tag = "orders", security(("bearer" = [])),
    responses((status = 201, body = CheckoutResponse), (status = 200, description = "the order already waiting for payment for this cart", body = CheckoutResponse), (status = 409, description = "cart_empty or cart_not_purchasable", body = ErrorBody), (status = 429, description = "rate_limited (with Retry-After) or too_many_pending_orders", body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn checkout(
    state: web::Data<AppState>,
    auth: Auth,
    client: Client,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.actor();
    state
        .guard()
        .admit(
            &client,
            Action::Checkout {
                user: actor.user_id(),
            },
        )
        .await?;
    let session = state.orders.checkout(&actor).await?;
    let mut response = if session.resumed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response.json(CheckoutResponse::from(session)))
}

/// Lists orders: one's own; staff see all (filters status, userId).
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(ListOrdersQuery),
    responses((status = 200, body = PageResponse<OrderResponse>), (status = 400, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_orders(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ListOrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = OrderQuery::try_from(&*query)?;
    let page = state
        .orders
        .list(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, OrderResponse::from)))
}

/// One order (someone else's is 404).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = OrderResponse), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn get_order(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let order = state
        .orders
        .get(&auth.actor(), OrderId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok().json(OrderResponse::from(order)))
}

/// 303 to a short-lived link to a stored document (an invoice or a credit note).
fn see_other(link: SignedLink) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, link.url.clone()))
        .json(LinkResponse::from(link))
}

/// The invoice PDF of a paid order: answers 303 to a short-lived link (owner and staff).
#[utoipa::path(get, path = "/api/v1/orders/{id}/invoice", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 303, description = "Location: a short-lived link to the PDF", body = LinkResponse), (status = 404, body = ErrorBody), (status = 409, description = "invoice_not_ready", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn get_invoice(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let link = state
        .downloads
        .invoice(&auth.actor(), OrderId::from_uuid(*id))
        .await?;
    Ok(see_other(link))
}

/// The credit note PDF of a refund: answers 303 to a short-lived link (buyer, MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/orders/{id}/refunds/{refund_id}/credit-note", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path), ("refund_id" = String, Path)),
    responses((status = 303, description = "Location: a short-lived link to the PDF", body = LinkResponse), (status = 404, body = ErrorBody), (status = 409, description = "invoice_not_ready", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(order_id = %path.0))]
pub async fn get_credit_note(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (order_id, refund_id) = path.into_inner();
    let link = state
        .downloads
        .credit_note(&auth.actor(), OrderId::from_uuid(order_id), &refund_id)
        .await?;
    Ok(see_other(link))
}

/// Refunds a paid order in whole or part through the gateway (ADMIN).
#[utoipa::path(post, path = "/api/v1/orders/{id}/refund", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RefundRequest,
    responses((status = 200, body = OrderResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "not_refundable or refund_in_progress", body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, description = "payment_gateway_unavailable: the refund stays written down; retrying finishes it", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn refund_order(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: ValidatedJson<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let reason = RefundReason::parse(&body.reason)
        .map_err(|e| ApiError::field("reason", "invalid", e.to_string()))?;
    let order_id = OrderId::from_uuid(*id);
    let order = state
        .orders
        .refund(&auth.actor(), order_id, body.amount_minor, reason)
        .await?;
    Ok(HttpResponse::Ok().json(OrderResponse::from(order)))
}

/// Confirms a payment from Razorpay Checkout's callback (signature checked with the key secret).
#[utoipa::path(post, path = "/api/v1/payments/verify", tag = "orders", security(("bearer" = [])), request_body = VerifyPaymentRequest,
    responses((status = 200, body = OrderResponse), (status = 400, description = "invalid_signature", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "payment_not_captured, payment_mismatch or payment_not_applied (refunded automatically)", body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn verify_payment(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<VerifyPaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let order = state
        .orders
        .confirm_payment(
            &auth.actor(),
            &b.razorpay_order_id,
            &b.razorpay_payment_id,
            &b.razorpay_signature,
        )
        .await?;
    Ok(HttpResponse::Ok().json(OrderResponse::from(order)))
}

/// Development gateway only: completes the payment locally, through the same path as a
/// captured-payment webhook. Refused when a real gateway is configured.
#[utoipa::path(post, path = "/api/v1/payments/dev/complete", tag = "orders", security(("bearer" = [])), request_body = DevCompleteRequest,
    responses((status = 200, body = OrderResponse), (status = 404, body = ErrorBody), (status = 409, description = "dev_gateway_only", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn complete_dev_payment(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<DevCompleteRequest>,
) -> Result<HttpResponse, ApiError> {
    let order = state
        .orders
        .complete_dev_payment(&auth.actor(), OrderId::from_uuid(body.0.order_id))
        .await?;
    Ok(HttpResponse::Ok().json(OrderResponse::from(order)))
}

/// Razorpay webhooks: `X-Razorpay-Signature` over the raw body, idempotent by
/// `X-Razorpay-Event-Id`. Anything verified is acknowledged with 200 so Razorpay stops
/// retrying; a signed event that cannot be used answers `{"status": "ignored"}`.
#[utoipa::path(post, path = "/api/v1/webhooks/razorpay", tag = "orders", request_body(content = String, content_type = "application/json", description = "The event exactly as Razorpay sent it (the signature covers these bytes)"),
    params(("X-Razorpay-Signature" = String, Header, description = "Hex HMAC-SHA256 of the body under the webhook secret"),
        ("X-Razorpay-Event-Id" = Option<String>, Header, description = "Razorpay's event id; a repeated id is answered `duplicate`, a missing one `ignored`")),
    responses((status = 200, body = WebhookAck), (status = 400, description = "invalid_signature or malformed_event", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn razorpay_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let header_value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signature = header_value("x-razorpay-signature");
    let event_id = header_value("x-razorpay-event-id");
    let kind = crate::observability::webhook_type(&body);
    let outcome = state
        .orders
        .handle_webhook(&body, &signature, &event_id)
        .await
        .map_err(ApiError::from);
    crate::observability::record_webhook(
        kind,
        match &outcome {
            Ok(outcome) => webhook_outcome_label(outcome),
            Err(err) => err.code(),
        },
    );
    let outcome = outcome?;
    let status = match outcome {
        WebhookOutcome::Duplicate => "duplicate",
        WebhookOutcome::Unusable { .. }
        | WebhookOutcome::Ignored
        | WebhookOutcome::UnknownOrder => "ignored",
        _ => "processed",
    };
    tracing::info!(?outcome, "webhook handled");
    Ok(HttpResponse::Ok().json(WebhookAck { status }))
}

/// The outcome label of a handled webhook in `nexus_webhook_events_total`.
fn webhook_outcome_label(outcome: &WebhookOutcome) -> &'static str {
    match outcome {
        WebhookOutcome::Duplicate => "duplicate",
        WebhookOutcome::Paid { .. } => "paid",
        WebhookOutcome::AlreadyPaid { .. } => "already_paid",
        WebhookOutcome::Refunding { .. } => "refunding",
        WebhookOutcome::UnknownOrder => "unknown_order",
        WebhookOutcome::AttemptFailed { .. } => "attempt_failed",
        WebhookOutcome::Unusable { .. } => "unusable",
        WebhookOutcome::Refunded { .. } => "refunded",
        WebhookOutcome::RefundAlreadyCounted { .. } => "refund_already_counted",
        WebhookOutcome::RefundNotReconciled { .. } => "refund_not_reconciled",
        WebhookOutcome::Ignored => "ignored",
    }
}

/// What the caller owns.
#[utoipa::path(get, path = "/api/v1/me/library", tag = "orders", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PageResponse<LibraryEntryDto>)))]
#[tracing::instrument(skip_all)]
pub async fn my_library(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .orders
        .library(&auth.actor(), PageRequest::new(query.page, query.limit))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, LibraryEntryDto::from)))
}

/// A short-lived download link, for the owner only (others 404).
#[utoipa::path(get, path = "/api/v1/products/{id}/download", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = LinkResponse), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn download_product(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let link = state
        .downloads
        .product_file(&auth.actor(), ProductId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok().json(LinkResponse::from(link)))
}

/// Serves an app-signed file link (local storage). Expired or tampered links are 404.
#[utoipa::path(get, path = "/api/v1/files/{key}", tag = "orders", params(("key" = String, Path), FileLinkQuery),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn serve_file(
    state: web::Data<AppState>,
    key: web::Path<String>,
    query: web::Query<FileLinkQuery>,
) -> Result<HttpResponse, ApiError> {
    let file = state.links.open(&key, query.expires, &query.sig).await?;
    let name: String = query
        .name
        .as_deref()
        .unwrap_or("download")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(200)
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(file.bytes))
}
