//! Bodies of the cart, checkout, order, payment and library endpoints.

use chrono::{DateTime, Utc};
use nexus_kernel::{Money, UserId};
use nexus_orders::{Cart, CheckoutSession, LibraryEntry, Order, OrderQuery, OrderStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};

/// An amount in minor units (paise for INR) with its currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoneyDto {
    /// Minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        Self {
            amount_minor: m.amount_minor(),
            currency: m.currency().as_str().to_owned(),
        }
    }
}

/// One cart line at today's price.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartLineDto {
    /// Product.
    pub product_id: Uuid,
    /// Current title (null when the product is gone).
    pub title: Option<String>,
    /// Current price (null when the product is gone).
    pub price: Option<MoneyDto>,
    /// Whether it can be bought now.
    pub available: bool,
    /// Why not: removed, unpublished or already_owned.
    pub issue: Option<String>,
}

/// The cart.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartResponse {
    /// Lines, oldest first.
    pub items: Vec<CartLineDto>,
    /// Sum of the available lines.
    pub total: MoneyDto,
}

impl From<Cart> for CartResponse {
    fn from(c: Cart) -> Self {
        Self {
            items: c
                .lines
                .into_iter()
                .map(|l| CartLineDto {
                    product_id: l.product_id.as_uuid(),
                    available: l.available(),
                    title: l.title,
                    price: l.price.map(Into::into),
                    issue: l.issue.map(|i| i.as_str().to_owned()),
                })
                .collect(),
            total: c.total.into(),
        }
    }
}

/// A product to put in the cart.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddCartItemRequest {
    /// Product id.
    pub product_id: Uuid,
}

/// What the browser's Razorpay Checkout needs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutResponse {
    /// Our order.
    pub order_id: Uuid,
    /// The gateway's public key id.
    pub key_id: String,
    /// The gateway order to pay.
    pub razorpay_order_id: String,
    /// Amount in paise.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// `razorpay`, or `development` (no real payment; complete it with POST /payments/dev/complete).
    pub gateway: String,
}

impl From<CheckoutSession> for CheckoutResponse {
    fn from(s: CheckoutSession) -> Self {
        Self {
            order_id: s.order_id.as_uuid(),
            key_id: s.key_id.0,
            razorpay_order_id: s.gateway_order_id,
            amount: s.amount_minor,
            currency: s.currency.as_str().to_owned(),
            gateway: s.gateway.as_str().to_owned(),
        }
    }
}

/// One line of an order (a snapshot taken at checkout).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineDto {
    /// Product.
    pub product_id: Uuid,
    /// Title at checkout.
    pub title: String,
    /// Price at checkout.
    pub unit_price: MoneyDto,
}

/// A refund counted against an order; its credit note is at
/// `/orders/{id}/refunds/{refundId}/credit-note`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundDto {
    /// The gateway's refund id.
    pub refund_id: String,
    /// Amount given back.
    pub amount: MoneyDto,
    /// When it was counted.
    pub at: DateTime<Utc>,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    /// Id.
    pub id: Uuid,
    /// Buyer.
    pub user_id: Uuid,
    /// Lines.
    pub lines: Vec<OrderLineDto>,
    /// Total.
    pub total: MoneyDto,
    /// PENDING_PAYMENT, PAID, PARTIALLY_REFUNDED, REFUNDED, FAILED, CANCELLED or EXPIRED.
    #[schema(value_type = crate::http::schema::OrderStatusDto)]
    pub status: String,
    /// `razorpay` or `development`.
    pub gateway: String,
    /// The gateway order.
    pub gateway_order_id: Option<String>,
    /// The gateway payment.
    pub payment_id: Option<String>,
    /// Refunded so far.
    pub refunded: MoneyDto,
    /// The refunds counted, oldest first (each has a credit note).
    pub refunds: Vec<RefundDto>,
    /// Invoice number once paid.
    pub invoice_number: Option<String>,
    /// Whether the invoice PDF is ready.
    pub invoice_ready: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Paid at.
    pub paid_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i64,
}

impl From<Order> for OrderResponse {
    fn from(o: Order) -> Self {
        Self {
            id: o.id().as_uuid(),
            user_id: o.user_id().as_uuid(),
            lines: o
                .lines()
                .iter()
                .map(|l| OrderLineDto {
                    product_id: l.product_id.as_uuid(),
                    title: l.title.clone(),
                    unit_price: l.unit_price.into(),
                })
                .collect(),
            total: o.total().into(),
            status: o.status().as_str().to_owned(),
            gateway: o.gateway().as_str().to_owned(),
            gateway_order_id: o.gateway_order_id().map(str::to_owned),
            payment_id: o.payment_id().map(str::to_owned),
            refunded: o.refunded().into(),
            refunds: o
                .refunds()
                .iter()
                .map(|r| RefundDto {
                    refund_id: r.refund_id.clone(),
                    amount: r.amount.into(),
                    at: r.at,
                })
                .collect(),
            invoice_number: o.invoice_number().map(|n| n.as_str().to_owned()),
            invoice_ready: o.invoice_key().is_some(),
            created_at: o.created_at(),
            paid_at: o.paid_at(),
            updated_at: o.updated_at(),
            version: o.version(),
        }
    }
}

/// Razorpay Checkout's success callback, as the browser received it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct VerifyPaymentRequest {
    /// `order_…`.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub razorpay_order_id: String,
    /// `pay_…`.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub razorpay_payment_id: String,
    /// Hex HMAC-SHA256.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub razorpay_signature: String,
}

/// Completes a development-gateway order.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevCompleteRequest {
    /// Our order id.
    pub order_id: Uuid,
}

/// A refund (ADMIN).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// Amount in minor units; the whole remaining amount when absent.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(minimum = 1)]
    pub amount_minor: Option<i64>,
    /// Why (kept with the order).
    #[validate(length(max = 2000))]
    #[schema(
        max_length = 2000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,253}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub reason: String,
}

/// What happened to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `processed`, `duplicate`, or `ignored` (a signed event that cannot be used, about an
    /// unknown order, or of a kind not acted on).
    pub status: &'static str,
}

/// A product the user owns.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryEntryDto {
    /// Product.
    pub product_id: Uuid,
    /// The order that granted it.
    pub order_id: Uuid,
    /// Since when.
    pub granted_at: DateTime<Utc>,
}

impl From<LibraryEntry> for LibraryEntryDto {
    fn from(e: LibraryEntry) -> Self {
        Self {
            product_id: e.product_id.as_uuid(),
            order_id: e.order_id.as_uuid(),
            granted_at: e.granted_at,
        }
    }
}

/// A short-lived link.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkResponse {
    /// The URL.
    pub url: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl From<nexus_catalog::SignedLink> for LinkResponse {
    fn from(link: nexus_catalog::SignedLink) -> Self {
        Self {
            url: link.url,
            expires_at: link.expires_at,
        }
    }
}

/// Filters and paging for orders.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Status filter.
    #[param(value_type = Option<crate::http::schema::OrderStatusDto>)]
    pub status: Option<String>,
    /// Staff only: one buyer's orders.
    #[param(
        pattern = r"^\s*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?\s*$"
    )]
    pub user_id: Option<String>,
}

/// Query of an app-signed file link.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileLinkQuery {
    /// Unix seconds after which the link is dead.
    pub expires: i64,
    /// Signature.
    pub sig: String,
    /// Download name (informational).
    pub name: Option<String>,
}

impl TryFrom<&ListOrdersQuery> for OrderQuery {
    type Error = ApiError;

    fn try_from(q: &ListOrdersQuery) -> Result<Self, ApiError> {
        let blank = crate::http::extract::non_blank;
        let mut e = FieldErrors::default();
        let status = e.check_opt(
            "status",
            "invalid",
            blank(&q.status).map(|s| s.parse::<OrderStatus>()),
        );
        let user_id = e.check_opt(
            "userId",
            "uuid",
            blank(&q.user_id).map(|s| s.parse::<UserId>().map_err(|_| "must be a user id (UUID)")),
        );
        let (Some(status), Some(user_id)) = (status, user_id) else {
            return Err(e.into_error());
        };
        Ok(Self { user_id, status })
    }
}
