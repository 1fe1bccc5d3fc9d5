//! The orders area's domain events, written to the outbox by its units of work.

use nexus_kernel::{Currency, Money, UserId};
use nexus_outbox::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::OrderId;

/// An order was placed and waits for payment (order expiry runs a while after it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    /// The order.
    pub order_id: OrderId,
    /// Its buyer.
    pub user_id: UserId,
}

impl DomainEvent for OrderPlaced {
    const NAME: &'static str = "orders.order_placed";
    const VERSION: u32 = 1;
}

/// An order was paid: its products are granted and its invoice number allocated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaid {
    /// The order.
    pub order_id: OrderId,
    /// Its buyer.
    pub user_id: UserId,
}

impl DomainEvent for OrderPaid {
    const NAME: &'static str = "orders.order_paid";
    const VERSION: u32 = 1;
}

/// A refund of an order was counted (made here or in the gateway's dashboard); it has a
/// credit note number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRefunded {
    /// The order.
    pub order_id: OrderId,
    /// The gateway's refund id.
    pub refund_id: String,
    /// Amount given back, in minor units.
    pub amount_minor: i64,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// Why, in a sentence for the buyer.
    pub explanation: String,
}

impl DomainEvent for OrderRefunded {
    const NAME: &'static str = "orders.order_refunded";
    const VERSION: u32 = 1;
}

/// Money was captured that no order can take: it is to be refunded through the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentUnapplied {
    /// The orders area's record of the payment.
    pub unapplied_id: Uuid,
    /// The order it was made for.
    pub order_id: OrderId,
}

impl DomainEvent for PaymentUnapplied {
    const NAME: &'static str = "orders.payment_unapplied";
    const VERSION: u32 = 1;
}

/// A payment no order could take was refunded through the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnappliedPaymentRefunded {
    /// The orders area's record of the payment.
    pub unapplied_id: Uuid,
    /// The order it was made for.
    pub order_id: OrderId,
    /// The gateway's refund id.
    pub refund_id: String,
    /// Amount given back, in minor units.
    pub amount_minor: i64,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// Why, in a sentence for the buyer.
    pub explanation: String,
}

impl DomainEvent for UnappliedPaymentRefunded {
    const NAME: &'static str = "orders.unapplied_payment_refunded";
    const VERSION: u32 = 1;
}

/// Reads an amount carried by an event as minor units and a currency code.
pub(crate) fn amount_of(minor: i64, currency: &str) -> Option<Money> {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::new(minor, c).ok())
}
