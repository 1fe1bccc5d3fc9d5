//! The payment-gateway port: Razorpay in production, a labelled development gateway locally.

use std::fmt;

use async_trait::async_trait;
use nexus_kernel::{Money, Unexpected};

/// Which gateway took a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayKind {
    /// Razorpay.
    Razorpay,
    /// The local development gateway: no money moves. Refused in production.
    Development,
}

impl GatewayKind {
    /// The stable name (`razorpay`, `development`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Razorpay => "razorpay",
            Self::Development => "development",
        }
    }
}

/// An order created at the gateway for our order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOrder {
    /// The gateway's order id (`order_…` at Razorpay).
    pub gateway_order_id: String,
    /// Amount, as the gateway recorded it.
    pub amount: Money,
    /// Our reference (our order id).
    pub receipt: String,
}

/// A refund created at the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRefund {
    /// The gateway's refund id (`rfnd_…`).
    pub refund_id: String,
    /// Amount refunded.
    pub amount: Money,
    /// The gateway's status text (`pending`, `processed`, `failed`).
    pub status: String,
}

/// A payment as the gateway reports it (`GET /v1/payments/{id}` and
/// `GET /v1/orders/{id}/payments` at Razorpay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    /// The gateway's payment id.
    pub payment_id: String,
    /// The gateway order it was made for, if any.
    pub gateway_order_id: Option<String>,
    /// Amount.
    pub amount: Money,
    /// The gateway's status (`created`, `authorized`, `captured`, `refunded`, `failed`).
    pub status: String,
}

/// Longest gateway id (order, payment, refund) accepted from outside.
pub const MAX_GATEWAY_ID_LEN: usize = 64;

/// Whether `id` can be a gateway id: 1 to 64 characters of `[A-Za-z0-9_-]`. Ids from
/// webhooks and callbacks are checked before they reach storage (a NUL byte, say, is
/// refused by PostgreSQL with an error rather than a miss).
#[must_use]
pub fn is_gateway_id(id: &str) -> bool {
    (1..=MAX_GATEWAY_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What a verified webhook says happened. Amounts are in minor units with their currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// `payment.captured`: money taken for a gateway order.
    PaymentCaptured {
        /// Gateway order id.
        gateway_order_id: String,
        /// Gateway payment id.
        payment_id: String,
        /// Amount captured.
        amount: Money,
    },
    /// `payment.failed`.
    PaymentFailed {
        /// Gateway order id.
        gateway_order_id: String,
        /// Gateway payment id.
        payment_id: String,
        /// The gateway's error code, if any (Razorpay's `error_code`).
        code: Option<String>,
        /// The gateway's reason, if any (Razorpay's `error_description`).
        reason: Option<String>,
    },
    /// `order.paid`: the gateway order is fully paid.
    OrderPaid {
        /// Gateway order id.
        gateway_order_id: String,
        /// Gateway payment id.
        payment_id: String,
        /// Amount paid.
        amount: Money,
    },
    /// `refund.processed`.
    RefundProcessed {
        /// Gateway payment id refunded.
        payment_id: String,
        /// Gateway refund id.
        refund_id: String,
        /// Amount refunded.
        amount: Money,
        /// The gateway order the refunded payment was made for and the payment's amount,
        /// when the event carries the payment (Razorpay's does). A refund proves the
        /// capture, so a refund reported before its capture applies the capture first.
        captured_for: Option<(String, Money)>,
    },
    /// Any other event: acknowledged and ignored.
    Other {
        /// The event name.
        event: String,
    },
}

/// Why a gateway call failed.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The gateway refused the request (4xx): retrying the same request will not help.
    #[error("the payment gateway refused the request: {0}")]
    Rejected(String),
    /// The gateway did not answer usefully (timeout, 5xx, network): may pass.
    #[error("the payment gateway is unavailable: {0}")]
    Unavailable(String),
    /// A webhook body that is not a well-formed event.
    #[error("malformed gateway event: {0}")]
    MalformedEvent(String),
    /// A failure that is not an outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

/// The gateway's public key id, safe to show to the browser's checkout.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKeyId(pub String);

impl fmt::Debug for PublicKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Takes payments. Signature checks are constant-time and never panic on bad input.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Which gateway this is.
    fn kind(&self) -> GatewayKind;

    /// The key id the browser checkout needs.
    fn key_id(&self) -> PublicKeyId;

    /// Creates the gateway order for `amount`, with our order id as `receipt`.
    async fn create_order(
        &self,
        amount: Money,
        receipt: &str,
    ) -> Result<GatewayOrder, PaymentError>;

    /// Checks a checkout callback: HMAC-SHA256 of `"{order_id}|{payment_id}"` with the key secret.
    fn verify_checkout_signature(
        &self,
        gateway_order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> bool;

    /// Checks a webhook: HMAC-SHA256 of the raw body with the webhook secret.
    fn verify_webhook_signature(&self, raw_body: &[u8], signature: &str) -> bool;

    /// Reads a (verified) webhook body.
    ///
    /// # Errors
    /// `MalformedEvent` when it is not a well-formed event.
    fn parse_webhook(&self, raw_body: &[u8]) -> Result<WebhookEvent, PaymentError>;

    /// Refunds `amount` of a captured payment, with our `receipt` (1 to 40 characters) so
    /// that the refund can be found again by [`PaymentGateway::find_refund`].
    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        note: &str,
        receipt: &str,
    ) -> Result<GatewayRefund, PaymentError>;

    /// The refund of `payment_id` made with our `receipt`, if the gateway has one (asked
    /// before refunding again after a call that ended without an answer).
    async fn find_refund(
        &self,
        payment_id: &str,
        receipt: &str,
    ) -> Result<Option<GatewayRefund>, PaymentError>;

    /// The payment `payment_id` as the gateway knows it.
    ///
    /// # Errors
    /// `Rejected` when the gateway does not know it.
    async fn fetch_payment(&self, payment_id: &str) -> Result<GatewayPayment, PaymentError>;

    /// Every payment attempt the gateway has for gateway order `gateway_order_id` (Razorpay:
    /// `GET /v1/orders/{id}/payments`), whatever its status; asked when an order's webhook
    /// seems lost. A gateway where no money moves has none.
    ///
    /// # Errors
    /// `Rejected` when the gateway refuses the request (an unknown order, say);
    /// `Unavailable` when it does not answer usefully.
    async fn order_payments(
        &self,
        gateway_order_id: &str,
    ) -> Result<Vec<GatewayPayment>, PaymentError>;
}
