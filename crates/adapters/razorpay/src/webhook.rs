//! Reading Razorpay webhook bodies into [`WebhookEvent`]s.
//!
//! A Razorpay webhook is `{"entity": "event", "event": "<name>", "contains": [...],
//! "payload": {"payment": {"entity": {...}}, "order": {"entity": {...}}, ...}, "created_at": n}`.
//! The payload is a snapshot of each entity when the event fired; only the fields below are
//! read, so Razorpay adding fields changes nothing.

use nexus_kernel::{Currency, Money};
use nexus_orders::{PaymentError, WebhookEvent};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Deserialize)]
struct Envelope {
    entity: String,
    event: String,
    #[serde(default)]
    payload: Value,
}

#[derive(Deserialize)]
struct PaymentEntity {
    id: String,
    order_id: Option<String>,
    amount: i64,
    currency: String,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct OrderEntity {
    id: String,
    amount_paid: i64,
    currency: String,
}

#[derive(Deserialize)]
struct RefundEntity {
    id: String,
    payment_id: String,
    amount: i64,
    currency: String,
}

/// Parses a (verified) webhook body. Unknown events become `Other` without their payload
/// being read, so a new Razorpay event never breaks the endpoint.
pub(crate) fn parse(raw_body: &[u8]) -> Result<WebhookEvent, PaymentError> {
    let envelope: Envelope = serde_json::from_slice(raw_body)
        .map_err(|e| malformed(format!("not a Razorpay event: {e}")))?;
    if envelope.entity != "event" {
        return Err(malformed("not a Razorpay event: entity is not \"event\""));
    }
    let payload = &envelope.payload;
    match envelope.event.as_str() {
        "payment.captured" => {
            let payment: PaymentEntity = entity(payload, "payment")?;
            Ok(WebhookEvent::PaymentCaptured {
                gateway_order_id: required_order_id(&payment)?,
                amount: money(payment.amount, &payment.currency, "payment")?,
                payment_id: non_empty(payment.id, "payment.id")?,
            })
        }
        "payment.failed" => {
            let payment: PaymentEntity = entity(payload, "payment")?;
            Ok(WebhookEvent::PaymentFailed {
                gateway_order_id: required_order_id(&payment)?,
                payment_id: non_empty(payment.id, "payment.id")?,
                // Razorpay sends "" as well as null when there is no code or description.
                code: payment.error_code.filter(|c| !c.trim().is_empty()),
                reason: payment.error_description.filter(|r| !r.trim().is_empty()),
            })
        }
        "order.paid" => {
            let order: OrderEntity = entity(payload, "order")?;
            let payment: PaymentEntity = entity(payload, "payment")?;
            Ok(WebhookEvent::OrderPaid {
                amount: money(order.amount_paid, &order.currency, "order")?,
                gateway_order_id: non_empty(order.id, "order.id")?,
                payment_id: non_empty(payment.id, "payment.id")?,
            })
        }
        "refund.processed" => {
            let refund: RefundEntity = entity(payload, "refund")?;
            // The payment is optional: only its order and amount are used, when present.
            let captured_for = entity::<PaymentEntity>(payload, "payment")
                .ok()
                .and_then(|p| {
                    let order = p.order_id.filter(|o| !o.is_empty())?;
                    Some((order, money(p.amount, &p.currency, "payment").ok()?))
                });
            Ok(WebhookEvent::RefundProcessed {
                captured_for,
                amount: money(refund.amount, &refund.currency, "refund")?,
                payment_id: non_empty(refund.payment_id, "refund.payment_id")?,
                refund_id: non_empty(refund.id, "refund.id")?,
            })
        }
        "" => Err(malformed("the event name is empty")),
        other => Ok(WebhookEvent::Other {
            event: other.to_owned(),
        }),
    }
}

/// Reads `payload.<name>.entity`.
fn entity<T: DeserializeOwned>(payload: &Value, name: &str) -> Result<T, PaymentError> {
    let value = payload
        .get(name)
        .and_then(|wrapper| wrapper.get("entity"))
        .ok_or_else(|| malformed(format!("payload.{name}.entity is missing")))?;
    T::deserialize(value).map_err(|e| malformed(format!("payload.{name}.entity: {e}")))
}

fn required_order_id(payment: &PaymentEntity) -> Result<String, PaymentError> {
    match payment.order_id.as_deref() {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(malformed("payment.order_id is missing")),
    }
}

fn non_empty(value: String, field: &str) -> Result<String, PaymentError> {
    if value.is_empty() {
        Err(malformed(format!("{field} is empty")))
    } else {
        Ok(value)
    }
}

fn money(amount: i64, currency: &str, entity: &str) -> Result<Money, PaymentError> {
    let currency =
        Currency::parse(currency).map_err(|e| malformed(format!("{entity}.currency: {e}")))?;
    Money::new(amount, currency).map_err(|e| malformed(format!("{entity}.amount: {e}")))
}

fn malformed(message: impl Into<String>) -> PaymentError {
    PaymentError::MalformedEvent(message.into())
}
