//! [`RazorpayGateway`]: Razorpay's Orders and Refunds APIs plus its signature checks.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use nexus_kernel::{Currency, Money, Unexpected};
use nexus_orders::{
    GatewayKind, GatewayOrder, GatewayPayment, GatewayRefund, PaymentError, PaymentGateway,
    PublicKeyId, WebhookEvent,
};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{InvalidRazorpayConfig, RazorpayConfig, Secret};
use crate::{signature, webhook};

/// Razorpay refuses a `receipt` longer than this many characters.
pub(crate) const MAX_RECEIPT_CHARS: usize = 40;

/// Razorpay keeps at most this many characters in one `notes` value.
const MAX_NOTE_CHARS: usize = 256;

/// The Razorpay payment gateway.
///
/// Calls `POST /v1/orders`, `POST /v1/payments/{id}/refund`, `GET /v1/payments/{id}`,
/// `GET /v1/payments/{id}/refunds` and `GET /v1/orders/{id}/payments` with HTTP basic auth
/// (`key_id:key_secret`) and checks checkout and webhook signatures with HMAC-SHA256 in
/// constant time. Cheap to share: hold it in an `Arc<dyn PaymentGateway>`.
pub struct RazorpayGateway {
    http: reqwest::Client,
    key_id: String,
    key_secret: Secret,
    webhook_secret: Secret,
    api_base: String,
    timeout: Duration,
}

impl RazorpayGateway {
    /// Checks `config` and builds the HTTPS client (rustls with the ring provider and the
    /// bundled webpki roots; no process-wide TLS provider is needed).
    ///
    /// # Errors
    /// An [`InvalidRazorpayConfig`] naming the first unusable setting.
    pub fn new(config: RazorpayConfig) -> Result<Self, InvalidRazorpayConfig> {
        if config.key_id.trim().is_empty() {
            return Err(InvalidRazorpayConfig::EmptyKeyId);
        }
        if config.key_secret.is_empty() {
            return Err(InvalidRazorpayConfig::EmptyKeySecret);
        }
        if config.webhook_secret.is_empty() {
            return Err(InvalidRazorpayConfig::EmptyWebhookSecret);
        }
        if config.timeout.is_zero() {
            return Err(InvalidRazorpayConfig::ZeroTimeout);
        }
        let api_base = api_base(&config.api_base)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirected POST would be a surprise at best; Razorpay's API never redirects.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("nexus-razorpay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| InvalidRazorpayConfig::HttpClient(e.to_string()))?;
        if !api_base.starts_with("https://") {
            tracing::warn!(api_base = %api_base, "Razorpay API base is not HTTPS: use it only for local fakes");
        }
        tracing::info!(
            mode = if config.key_id.starts_with("rzp_live_") {
                "live"
            } else {
                "test"
            },
            "Razorpay payment gateway ready"
        );
        Ok(Self {
            http,
            key_id: config.key_id,
            key_secret: Secret::new(config.key_secret),
            webhook_secret: Secret::new(config.webhook_secret),
            api_base,
            timeout: config.timeout,
        })
    }

    /// POSTs `body` as JSON to `path` and reads the JSON answer.
    async fn post<B, R>(&self, path: &str, body: &B, what: &'static str) -> Result<R, PaymentError>
    where
        B: Serialize + Sync,
        R: DeserializeOwned,
    {
        let response = self
            .http
            .post(format!("{}{path}", self.api_base))
            .basic_auth(&self.key_id, Some(self.key_secret.expose()))
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
        if !status.is_success() {
            return Err(status_error(status, &bytes, what));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Unexpected::new(format!("reading Razorpay's answer to {what}"), e).into())
    }

    /// GETs `path` and reads the JSON answer.
    async fn get<R>(&self, path: &str, what: &'static str) -> Result<R, PaymentError>
    where
        R: DeserializeOwned,
    {
        let response = self
            .http
            .get(format!("{}{path}", self.api_base))
            .basic_auth(&self.key_id, Some(self.key_secret.expose()))
            .send()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
        if !status.is_success() {
            return Err(status_error(status, &bytes, what));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Unexpected::new(format!("reading Razorpay's answer to {what}"), e).into())
    }

    fn transport_error(&self, error: &reqwest::Error, what: &'static str) -> PaymentError {
        tracing::warn!(
            error = error as &(dyn StdError + 'static),
            what,
            "Razorpay call failed"
        );
        let message = if error.is_timeout() {
            format!("no answer from Razorpay within {:?} ({what})", self.timeout)
        } else if error.is_connect() {
            format!("could not connect to Razorpay ({what})")
        } else {
            format!("the request to Razorpay failed ({what})")
        };
        PaymentError::Unavailable(message)
    }
}

impl fmt::Debug for RazorpayGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RazorpayGateway")
            .field("key_id", &self.key_id)
            .field("key_secret", &self.key_secret)
            .field("webhook_secret", &self.webhook_secret)
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct CreateOrderRequest<'a> {
    amount: i64,
    currency: &'a str,
    receipt: &'a str,
}

#[derive(Deserialize)]
struct OrderResponse {
    id: String,
    amount: i64,
    currency: String,
    receipt: Option<String>,
}

#[derive(Serialize)]
struct RefundRequest<'a> {
    amount: i64,
    receipt: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    notes: BTreeMap<&'a str, String>,
}

#[derive(Deserialize)]
struct RefundResponse {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    #[serde(default)]
    receipt: Option<String>,
    #[serde(default)]
    notes: Value,
}

/// `GET /v1/payments/{id}/refunds`: `{"entity": "collection", "count": n, "items": [...]}`.
#[derive(Deserialize)]
struct RefundList {
    #[serde(default)]
    items: Vec<RefundResponse>,
}

/// `GET /v1/orders/{id}/payments`: `{"entity": "collection", "count": n, "items": [...]}`.
#[derive(Deserialize)]
struct PaymentList {
    #[serde(default)]
    items: Vec<PaymentResponse>,
}

#[derive(Deserialize)]
struct PaymentResponse {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    #[serde(default)]
    order_id: Option<String>,
}

impl RefundResponse {
    /// Whether we made this refund with `receipt` (Razorpay keeps it as `receipt`; it is
    /// also in our notes, for refunds made before the receipt was echoed).
    fn has_receipt(&self, receipt: &str) -> bool {
        self.receipt.as_deref() == Some(receipt)
            || self.notes.get("receipt").and_then(Value::as_str) == Some(receipt)
    }

    fn into_refund(self) -> Result<GatewayRefund, PaymentError> {
        if self.id.is_empty() {
            return Err(Unexpected::msg("Razorpay answered a refund without an id").into());
        }
        Ok(GatewayRefund {
            amount: answered_money(self.amount, &self.currency, "refund")?,
            refund_id: self.id,
            status: self.status,
        })
    }
}

impl PaymentResponse {
    fn into_payment(self, what: &str) -> Result<GatewayPayment, PaymentError> {
        Ok(GatewayPayment {
            amount: answered_money(self.amount, &self.currency, what)?,
            payment_id: self.id,
            gateway_order_id: self.order_id,
            status: self.status,
        })
    }
}

/// The id goes into the URL path: anything but Razorpay's id alphabet could change which
/// endpoint we call.
fn check_payment_id(payment_id: &str) -> Result<(), PaymentError> {
    check_id(payment_id, "not a Razorpay payment id")
}

/// The same for a gateway order id.
fn check_order_id(gateway_order_id: &str) -> Result<(), PaymentError> {
    check_id(gateway_order_id, "not a Razorpay order id")
}

fn check_id(id: &str, refusal: &str) -> Result<(), PaymentError> {
    if id.is_empty()
        || id.len() > nexus_orders::MAX_GATEWAY_ID_LEN
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(PaymentError::Rejected(refusal.to_owned()));
    }
    Ok(())
}

/// Razorpay's error body: `{"error": {"code", "description", "field", "source", "step", "reason", "metadata"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    description: Option<String>,
    field: Option<String>,
    source: Option<String>,
    step: Option<String>,
    reason: Option<String>,
}

#[async_trait]
impl PaymentGateway for RazorpayGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Razorpay
    }

    fn key_id(&self) -> PublicKeyId {
        PublicKeyId(self.key_id.clone())
    }

    #[tracing::instrument(skip_all, fields(receipt = receipt))]
    async fn create_order(
        &self,
        amount: Money,
        receipt: &str,
    ) -> Result<GatewayOrder, PaymentError> {
        check_receipt(receipt)?;
        let currency = amount.currency();
        let request = CreateOrderRequest {
            amount: amount.amount_minor(),
            currency: currency.as_str(),
            receipt,
        };
        let order: OrderResponse = self.post("/v1/orders", &request, "create order").await?;
        if order.id.is_empty() {
            return Err(Unexpected::msg("Razorpay answered create order without an id").into());
        }
        Ok(GatewayOrder {
            amount: answered_money(order.amount, &order.currency, "create order")?,
            receipt: order.receipt.unwrap_or_else(|| receipt.to_owned()),
            gateway_order_id: order.id,
        })
    }

    fn verify_checkout_signature(
        &self,
        gateway_order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> bool {
        signature::checkout_signature_matches(
            self.key_secret.expose().as_bytes(),
            gateway_order_id,
            payment_id,
            signature,
        )
    }

    fn verify_webhook_signature(&self, raw_body: &[u8], signature: &str) -> bool {
        signature::webhook_signature_matches(
            self.webhook_secret.expose().as_bytes(),
            raw_body,
            signature,
        )
    }

    fn parse_webhook(&self, raw_body: &[u8]) -> Result<WebhookEvent, PaymentError> {
        webhook::parse(raw_body)
    }

    #[tracing::instrument(skip_all, fields(payment_id = payment_id))]
    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        note: &str,
        receipt: &str,
    ) -> Result<GatewayRefund, PaymentError> {
        check_payment_id(payment_id)?;
        check_receipt(receipt)?;
        let mut notes = BTreeMap::new();
        if !note.trim().is_empty() {
            notes.insert("reason", note.chars().take(MAX_NOTE_CHARS).collect());
        }
        notes.insert("receipt", receipt.to_owned());
        let request = RefundRequest {
            amount: amount.amount_minor(),
            receipt,
            notes,
        };
        let refund: RefundResponse = self
            .post(
                &format!("/v1/payments/{payment_id}/refund"),
                &request,
                "refund",
            )
            .await?;
        refund.into_refund()
    }

    #[tracing::instrument(skip_all, fields(payment_id = payment_id))]
    async fn find_refund(
        &self,
        payment_id: &str,
        receipt: &str,
    ) -> Result<Option<GatewayRefund>, PaymentError> {
        check_payment_id(payment_id)?;
        // A payment has few refunds (each is at least one minor unit of it); 100 is
        // Razorpay's largest page.
        let list: RefundList = self
            .get(
                &format!("/v1/payments/{payment_id}/refunds?count=100"),
                "list refunds",
            )
            .await?;
        list.items
            .into_iter()
            .find(|r| r.has_receipt(receipt))
            .map(RefundResponse::into_refund)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(payment_id = payment_id))]
    async fn fetch_payment(&self, payment_id: &str) -> Result<GatewayPayment, PaymentError> {
        check_payment_id(payment_id)?;
        let payment: PaymentResponse = self
            .get(&format!("/v1/payments/{payment_id}"), "fetch payment")
            .await?;
        payment.into_payment("fetch payment")
    }

    #[tracing::instrument(skip_all, fields(gateway_order_id = gateway_order_id))]
    async fn order_payments(
        &self,
        gateway_order_id: &str,
    ) -> Result<Vec<GatewayPayment>, PaymentError> {
        check_order_id(gateway_order_id)?;
        // Razorpay answers every attempt of the order at once (no paging on this endpoint).
        let list: PaymentList = self
            .get(
                &format!("/v1/orders/{gateway_order_id}/payments"),
                "list order payments",
            )
            .await?;
        list.items
            .into_iter()
            .map(|p| p.into_payment("list order payments"))
            .collect()
    }
}

/// Razorpay's receipt is 1 to 40 characters; refusing here gives the same answer sooner.
pub(crate) fn check_receipt(receipt: &str) -> Result<(), PaymentError> {
    let chars = receipt.chars().count();
    if chars == 0 || chars > MAX_RECEIPT_CHARS {
        return Err(PaymentError::Rejected(format!(
            "the receipt must be 1 to {MAX_RECEIPT_CHARS} characters"
        )));
    }
    Ok(())
}

fn answered_money(amount: i64, currency: &str, what: &str) -> Result<Money, PaymentError> {
    let currency = Currency::parse(currency)
        .map_err(|e| Unexpected::new(format!("Razorpay's currency in {what}"), e))?;
    Money::new(amount, currency)
        .map_err(|e| Unexpected::new(format!("Razorpay's amount in {what}"), e).into())
}

/// Maps a non-2xx answer: 4xx is a refusal carrying Razorpay's description, except 429 (rate
/// limited), which like 5xx may pass and so is `Unavailable`.
fn status_error(status: StatusCode, body: &[u8], what: &'static str) -> PaymentError {
    let detail = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let description = detail
        .as_ref()
        .and_then(|d| d.description.clone())
        .filter(|d| !d.trim().is_empty());
    if let Some(d) = &detail {
        tracing::warn!(
            status = status.as_u16(),
            what,
            code = d.code.as_deref(),
            field = d.field.as_deref(),
            source = d.source.as_deref(),
            step = d.step.as_deref(),
            reason = d.reason.as_deref(),
            "Razorpay refused a call"
        );
    } else {
        tracing::warn!(
            status = status.as_u16(),
            what,
            "Razorpay answered without its error body"
        );
    }
    if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
        PaymentError::Rejected(description.unwrap_or_else(|| format!("HTTP {status} ({what})")))
    } else {
        PaymentError::Unavailable(format!("Razorpay answered HTTP {status} ({what})"))
    }
}

/// Accepts an `http(s)` origin, optionally with a path prefix, and drops the trailing `/`.
fn api_base(raw: &str) -> Result<String, InvalidRazorpayConfig> {
    let url = Url::parse(raw.trim()).map_err(|_| InvalidRazorpayConfig::ApiBase)?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !usable {
        return Err(InvalidRazorpayConfig::ApiBase);
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// rustls with the ring provider chosen here rather than process-wide, so no other crate's
/// provider choice (or lack of one) matters, and Mozilla's roots bundled by webpki-roots so
/// the container image needs no CA package.
fn tls_config() -> Result<rustls::ClientConfig, InvalidRazorpayConfig> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| InvalidRazorpayConfig::HttpClient(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // reqwest is built without HTTP/2 here, so only offer HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_accepts_origins_and_refuses_credentials_queries_and_other_schemes() {
        assert_eq!(
            api_base("https://api.razorpay.com/").as_deref(),
            Ok("https://api.razorpay.com")
        );
        assert_eq!(
            api_base("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        for bad in [
            "",
            "api.razorpay.com",
            "ftp://api.razorpay.com",
            "https://user:pass@api.razorpay.com",
            "https://api.razorpay.com?x=1",
            "https://api.razorpay.com#frag",
        ] {
            assert_eq!(api_base(bad), Err(InvalidRazorpayConfig::ApiBase), "{bad}");
        }
    }

    #[test]
    fn receipts_are_one_to_forty_characters() {
        assert!(check_receipt(&"r".repeat(40)).is_ok());
        assert!(check_receipt(&"₹".repeat(40)).is_ok());
        assert!(matches!(check_receipt(""), Err(PaymentError::Rejected(_))));
        assert!(matches!(
            check_receipt(&"r".repeat(41)),
            Err(PaymentError::Rejected(_))
        ));
    }
}
