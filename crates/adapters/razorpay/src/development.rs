//! [`DevelopmentGateway`]: a labelled stand-in that moves no money.

use async_trait::async_trait;
use nexus_kernel::Money;
use std::collections::HashMap;
use std::sync::Mutex;

use nexus_orders::{
    GatewayKind, GatewayOrder, GatewayPayment, GatewayRefund, PaymentError, PaymentGateway,
    PublicKeyId, WebhookEvent,
};
use uuid::Uuid;

use crate::razorpay::check_receipt;

/// The key id the development gateway shows the browser, so no one mistakes it for Razorpay.
pub const DEVELOPMENT_KEY_ID: &str = "dev_gateway_NO_REAL_PAYMENTS";

/// The only checkout signature the development gateway accepts.
pub const DEVELOPMENT_SIGNATURE: &str = "dev-signature";

/// Prefix of the order ids the development gateway makes up.
pub const DEVELOPMENT_ORDER_PREFIX: &str = "dev_order_";

/// A payment gateway for local runs and tests: no money moves and nothing leaves the process.
///
/// - `kind()` is [`GatewayKind::Development`] (the app refuses it in production) and
///   `key_id()` is [`DEVELOPMENT_KEY_ID`].
/// - `create_order` answers `dev_order_<uuid>` for the amount asked, after the same receipt
///   check as Razorpay.
/// - `verify_checkout_signature` accepts exactly [`DEVELOPMENT_SIGNATURE`] for an order id it
///   could have made (`dev_order_…`) and a non-empty payment id; a real Razorpay order id never
///   verifies here.
/// - `verify_webhook_signature` is always `false` and `parse_webhook` always
///   `MalformedEvent`: development payments are completed through the app's own endpoint, never
///   by webhook, so a webhook can never mark anything paid.
/// - `refund` answers `dev_rfnd_<uuid>`, `processed`, for the amount asked, and remembers
///   it by receipt (in memory) for `find_refund`.
/// - `fetch_payment` is `Rejected`: development payments are made by the app itself.
#[derive(Debug)]
pub struct DevelopmentGateway {
    refunds: Mutex<HashMap<(String, String), GatewayRefund>>,
}

impl DevelopmentGateway {
    /// Makes the gateway and logs a warning that no real payments are taken.
    #[expect(
        clippy::new_without_default,
        reason = "choosing the no-money gateway must be a visible, logged decision, not a Default"
    )]
    #[must_use]
    pub fn new() -> Self {
        tracing::warn!(
            key_id = DEVELOPMENT_KEY_ID,
            "development payment gateway: no real payments"
        );
        Self {
            refunds: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl PaymentGateway for DevelopmentGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Development
    }

    fn key_id(&self) -> PublicKeyId {
        PublicKeyId(DEVELOPMENT_KEY_ID.to_owned())
    }

    async fn create_order(
        &self,
        amount: Money,
        receipt: &str,
    ) -> Result<GatewayOrder, PaymentError> {
        check_receipt(receipt)?;
        Ok(GatewayOrder {
            gateway_order_id: format!("{DEVELOPMENT_ORDER_PREFIX}{}", Uuid::new_v4().simple()),
            amount,
            receipt: receipt.to_owned(),
        })
    }

    fn verify_checkout_signature(
        &self,
        gateway_order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> bool {
        // Not a secret, so a plain comparison is fine.
        signature == DEVELOPMENT_SIGNATURE
            && gateway_order_id.len() > DEVELOPMENT_ORDER_PREFIX.len()
            && gateway_order_id.starts_with(DEVELOPMENT_ORDER_PREFIX)
            && !payment_id.is_empty()
    }

    fn verify_webhook_signature(&self, _raw_body: &[u8], _signature: &str) -> bool {
        false
    }

    fn parse_webhook(&self, _raw_body: &[u8]) -> Result<WebhookEvent, PaymentError> {
        Err(PaymentError::MalformedEvent(
            "the development gateway receives no webhooks".to_owned(),
        ))
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        _note: &str,
        receipt: &str,
    ) -> Result<GatewayRefund, PaymentError> {
        if payment_id.is_empty() {
            return Err(PaymentError::Rejected("the payment id is empty".to_owned()));
        }
        check_receipt(receipt)?;
        let refund = GatewayRefund {
            refund_id: format!("dev_rfnd_{}", Uuid::new_v4().simple()),
            amount,
            status: "processed".to_owned(),
        };
        self.refunds
            .lock()
            .map_err(|_| nexus_kernel::Unexpected::msg("the development refunds lock is poisoned"))?
            .insert((payment_id.to_owned(), receipt.to_owned()), refund.clone());
        Ok(refund)
    }

    async fn find_refund(
        &self,
        payment_id: &str,
        receipt: &str,
    ) -> Result<Option<GatewayRefund>, PaymentError> {
        Ok(self
            .refunds
            .lock()
            .map_err(|_| nexus_kernel::Unexpected::msg("the development refunds lock is poisoned"))?
            .get(&(payment_id.to_owned(), receipt.to_owned()))
            .cloned())
    }

    async fn fetch_payment(&self, _payment_id: &str) -> Result<GatewayPayment, PaymentError> {
        Err(PaymentError::Rejected(
            "the development gateway reports no payments".to_owned(),
        ))
    }

    /// No money moves here: a development order is paid by `complete_dev_payment` directly,
    /// so the gateway never holds a payment to report.
    async fn order_payments(
        &self,
        _gateway_order_id: &str,
    ) -> Result<Vec<GatewayPayment>, PaymentError> {
        Ok(Vec::new())
    }
}
