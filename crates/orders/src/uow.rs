//! Units of work over the orders area's records, the repositories bound to one, and the
//! rules that span two of them (a payment grants products and numbers the invoice; a
//! refund gets a credit note number and, when full, takes the products back).

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use nexus_outbox::EventEnvelope;
use uuid::Uuid;

use crate::events::{OrderPaid, OrderRefunded};
use crate::{
    BuyerActivityLog, CreditNote, CreditNoteNumber, GatewayEventId, InvoiceNumber, Order,
    OrderChange, OrderId, OrderTransition, OrdersError, RefundReason, UnappliedPayment,
};

/// Opens units of work over the orders area's records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrdersUnitOfWork: Send + Sync {
    /// Starts one.
    ///
    /// # Errors
    /// `Unexpected` (an unreachable database among them).
    async fn begin(&self) -> Result<Box<dyn OrdersTx>, OrdersError>;
}

/// One open unit of work: the repositories bound to its transaction and the events it
/// records. Dropped without `commit`, nothing of it happened.
#[async_trait]
pub trait OrdersTx: Send {
    /// Orders, their lines, refunds and credit notes.
    fn orders(&self) -> &dyn OrderStore;
    /// Who owns which product.
    fn entitlements(&self) -> &dyn EntitlementStore;
    /// The gap-free invoice and credit note series.
    fn invoice_numbers(&self) -> &dyn InvoiceNumbers;
    /// The gateway webhook events already processed.
    fn gateway_events(&self) -> &dyn GatewayEventLog;
    /// Payments no order could take.
    fn unapplied_payments(&self) -> &dyn UnappliedPaymentStore;
    /// Buyers' downloads and failed payment attempts.
    fn activity(&self) -> &dyn BuyerActivityLog;
    /// Records `event`, written to the outbox when the unit of work commits.
    fn record(&mut self, event: EventEnvelope);

    /// Records `record`, written to the audit log with the changes when the unit commits.
    fn audit(&mut self, record: nexus_kernel::AuditRecord);
    /// Writes everything (rows and recorded events) at once.
    ///
    /// # Errors
    /// `Unexpected`; nothing is written then.
    async fn commit(self: Box<Self>) -> Result<(), OrdersError>;
}

/// Writes orders within a unit of work. Implementations return only `Unexpected` for
/// failures unless a method says otherwise.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Inserts a new order with its lines.
    ///
    /// # Errors
    /// `Conflict` if an order with this id exists, or if the buyer already has a
    /// PENDING_PAYMENT order with the same checkout key (the database enforces it, so
    /// concurrent checkouts of one cart make one order).
    async fn insert(&self, order: &Order) -> Result<(), OrdersError>;

    /// Saves `order` (whose `version` is already the new one) if the stored version is
    /// still `expected_version`: status, gateway order id, payment id, refunded amount and
    /// the refunds it adds, the pending refund, `paid_at`, `updated_at`, version. It never
    /// writes the invoice number (`set_invoice_number`) nor the invoice key, so a save
    /// from an older copy cannot erase them.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs, the row is gone, or a refund it adds is
    /// already counted on another order.
    async fn save(&self, order: &Order, expected_version: i64) -> Result<(), OrdersError>;

    /// Stores the invoice number allocated to order `id`.
    async fn set_invoice_number(
        &self,
        id: OrderId,
        number: &InvoiceNumber,
    ) -> Result<(), OrdersError>;

    /// Records a credit note (its file comes later, `OrderRepository::set_credit_note_key`).
    async fn add_credit_note(&self, note: &CreditNote) -> Result<(), OrdersError>;
}

/// Grants and takes back products within a unit of work.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EntitlementStore: Send + Sync {
    /// Gives `order`'s buyer each of its products, granted at its payment time.
    ///
    /// # Errors
    /// `AlreadyOwned` when the buyer owns one already through another order (checked by
    /// the database, so two payments racing for one product cannot both be applied);
    /// `Unexpected`.
    async fn grant(&self, order: &Order) -> Result<(), OrdersError>;

    /// Takes back what `order` granted, and gives each of those products back through
    /// another PAID or PARTIALLY_REFUNDED order of the buyer that has it, if any.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn revoke(&self, order: &Order) -> Result<(), OrdersError>;
}

/// The gap-free per-year number series. A number taken in a unit of work that does not
/// commit is given back. Implementations return only `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InvoiceNumbers: Send + Sync {
    /// The next invoice number of `year`.
    async fn next_invoice(&self, year: i32) -> Result<InvoiceNumber, OrdersError>;
    /// The next credit note number of `year`.
    async fn next_credit_note(&self, year: i32) -> Result<CreditNoteNumber, OrdersError>;
}

/// The gateway webhook events processed, within a unit of work.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait GatewayEventLog: Send + Sync {
    /// Records `event_id` as processed at `at`.
    ///
    /// # Errors
    /// `Conflict` when it already is (the unit of work must then not commit);
    /// `Unexpected`.
    async fn record(&self, event_id: &GatewayEventId, at: DateTime<Utc>)
    -> Result<(), OrdersError>;
}

/// Payments no order could take, within a unit of work. Implementations return only
/// `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UnappliedPaymentStore: Send + Sync {
    /// Records `payment` unless one is recorded for the same gateway payment; whether it
    /// was new.
    async fn insert(&self, payment: &UnappliedPayment) -> Result<bool, OrdersError>;

    /// Stores the gateway refund of the unapplied payment `id` unless one is stored
    /// already; whether it was stored now.
    async fn mark_refunded(
        &self,
        id: Uuid,
        refund_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, OrdersError>;
}

/// The sentence the buyer reads about a refund.
pub(crate) fn refund_explanation(reason: Option<&RefundReason>) -> String {
    reason
        .map_or(
            "a refund was made at the payment gateway",
            RefundReason::as_str,
        )
        .to_owned()
}

/// Writes `change` of an order stored at `expected_version` in `tx`, with what its
/// transition means, and records its events; the caller commits.
///
/// - the order is saved, version-guarded (`Conflict` when it moved on);
/// - [`OrderTransition::Paid`]: the products are granted (`AlreadyOwned` refuses the whole
///   unit of work), then the next invoice number of the payment's year is taken and stored,
///   and `orders.order_paid` is recorded;
/// - [`OrderTransition::Refunded`]: the refund gets the next credit note number of its
///   year, a full refund takes the products back, and `orders.order_refunded` is recorded;
/// - `event` (a webhook's) is recorded as processed last (`Conflict` when it already is).
///
/// The invoice counter is the one lock every payment shares, so it is taken after the
/// order's row and the entitlements; only the event insert may wait after it.
///
/// Returns the order as stored (with its invoice number).
///
/// # Errors
/// `Conflict`, `AlreadyOwned`, `Unexpected`; the caller must then drop `tx`.
pub async fn write_change(
    tx: &mut dyn OrdersTx,
    expected_version: i64,
    change: OrderChange,
    event: Option<&GatewayEventId>,
) -> Result<Order, OrdersError> {
    let OrderChange {
        mut order,
        transition,
    } = change;
    let at = order.updated_at();
    tx.orders().save(&order, expected_version).await?;
    let mut recorded = None;
    match transition {
        OrderTransition::Updated => {}
        OrderTransition::Paid => {
            let paid_at = order.paid_at().ok_or_else(|| {
                nexus_kernel::Unexpected::msg(format!("order {} paid without paid_at", order.id()))
            })?;
            tx.entitlements().grant(&order).await?;
            let number = tx.invoice_numbers().next_invoice(paid_at.year()).await?;
            tx.orders().set_invoice_number(order.id(), &number).await?;
            order = order.with_invoice_number(number);
            recorded = Some(EventEnvelope::new(
                &OrderPaid {
                    order_id: order.id(),
                    user_id: order.user_id(),
                },
                at,
            )?);
        }
        OrderTransition::Refunded { refund, full } => {
            let number = tx
                .invoice_numbers()
                .next_credit_note(refund.at.year())
                .await?;
            tx.orders()
                .add_credit_note(&CreditNote {
                    number,
                    order_id: order.id(),
                    refund_id: refund.refund_id.clone(),
                    issued_at: refund.at,
                    key: None,
                })
                .await?;
            if full {
                // Only what this order granted: a product the buyer owns through another
                // order stays theirs.
                tx.entitlements().revoke(&order).await?;
            }
            recorded = Some(EventEnvelope::new(
                &OrderRefunded {
                    order_id: order.id(),
                    refund_id: refund.refund_id.clone(),
                    amount_minor: refund.amount.amount_minor(),
                    currency: refund.amount.currency().as_str().to_owned(),
                    explanation: refund_explanation(refund.reason.as_ref()),
                },
                at,
            )?);
        }
    }
    if let Some(event) = event {
        tx.gateway_events().record(event, at).await?;
    }
    if let Some(envelope) = recorded {
        tx.record(envelope);
    }
    Ok(order)
}

#[cfg(test)]
#[path = "uow_tests.rs"]
mod tests;
