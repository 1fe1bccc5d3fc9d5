//! The orders area's unit of work on one SQL transaction: the repositories bound to it
//! (each storing its own records, through the same functions as the pool-based ones) and
//! the events appended to the outbox when it commits.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_orders::{
    BuyerActivityLog, CreditNote, CreditNoteNumber, Download, EntitlementStore, GatewayEventId,
    GatewayEventLog, InvoiceNumber, InvoiceNumbers, Order, OrderId, OrderStore, OrdersError,
    OrdersTx, OrdersUnitOfWork, PaymentFailure, UnappliedPayment, UnappliedPaymentStore,
};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{EventTransaction, Transactions, unexpected};
use uuid::Uuid;

use crate::orders;

/// Opens [`SeaOrdersTx`]s. Cheap to clone: it shares the pool and the routes.
#[derive(Clone, Debug)]
pub struct SeaOrdersUnitOfWork {
    transactions: Transactions,
}

impl SeaOrdersUnitOfWork {
    /// Units of work opened by `transactions`.
    #[must_use]
    pub const fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl OrdersUnitOfWork for SeaOrdersUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn OrdersTx>, OrdersError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting an orders unit of work"))?;
        Ok(Box::new(SeaOrdersTx { tx }))
    }
}

/// One open orders unit of work: an [`EventTransaction`] and the repositories over it.
/// Dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct SeaOrdersTx {
    tx: EventTransaction,
}

#[async_trait]
impl OrdersTx for SeaOrdersTx {
    fn orders(&self) -> &dyn OrderStore {
        self
    }

    fn entitlements(&self) -> &dyn EntitlementStore {
        self
    }

    fn invoice_numbers(&self) -> &dyn InvoiceNumbers {
        self
    }

    fn gateway_events(&self) -> &dyn GatewayEventLog {
        self
    }

    fn unapplied_payments(&self) -> &dyn UnappliedPaymentStore {
        self
    }

    fn activity(&self) -> &dyn BuyerActivityLog {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.tx.audit(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), OrdersError> {
        Ok(self.tx.commit().await?)
    }
}

#[async_trait]
impl OrderStore for SeaOrdersTx {
    async fn insert(&self, order: &Order) -> Result<(), OrdersError> {
        orders::insert_order(self.tx.conn(), order).await
    }

    async fn save(&self, order: &Order, expected_version: i64) -> Result<(), OrdersError> {
        orders::save_order(self.tx.conn(), order, expected_version).await
    }

    async fn set_invoice_number(
        &self,
        id: OrderId,
        number: &InvoiceNumber,
    ) -> Result<(), OrdersError> {
        orders::set_invoice_number(self.tx.conn(), id, number).await
    }

    async fn add_credit_note(&self, note: &CreditNote) -> Result<(), OrdersError> {
        orders::add_credit_note(self.tx.conn(), note).await
    }
}

#[async_trait]
impl EntitlementStore for SeaOrdersTx {
    async fn grant(&self, order: &Order) -> Result<(), OrdersError> {
        orders::grant_entitlements(self.tx.conn(), order).await
    }

    async fn revoke(&self, order: &Order) -> Result<(), OrdersError> {
        orders::revoke_entitlements(self.tx.conn(), order).await
    }
}

#[async_trait]
impl InvoiceNumbers for SeaOrdersTx {
    async fn next_invoice(&self, year: i32) -> Result<InvoiceNumber, OrdersError> {
        orders::next_invoice_number(self.tx.conn(), year).await
    }

    async fn next_credit_note(&self, year: i32) -> Result<CreditNoteNumber, OrdersError> {
        orders::next_credit_note_number(self.tx.conn(), year).await
    }
}

#[async_trait]
impl GatewayEventLog for SeaOrdersTx {
    async fn record(
        &self,
        event_id: &GatewayEventId,
        at: DateTime<Utc>,
    ) -> Result<(), OrdersError> {
        if orders::record_event(self.tx.conn(), event_id, at).await? {
            Ok(())
        } else {
            Err(OrdersError::Conflict)
        }
    }
}

#[async_trait]
impl UnappliedPaymentStore for SeaOrdersTx {
    async fn insert(&self, payment: &UnappliedPayment) -> Result<bool, OrdersError> {
        orders::insert_unapplied(self.tx.conn(), payment).await
    }

    async fn mark_refunded(
        &self,
        id: Uuid,
        refund_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, OrdersError> {
        orders::mark_unapplied_refunded(self.tx.conn(), id, refund_id, at).await
    }
}

#[async_trait]
impl BuyerActivityLog for SeaOrdersTx {
    async fn record_download(&self, download: &Download) -> Result<(), OrdersError> {
        orders::insert_download(self.tx.conn(), download).await
    }

    async fn record_payment_failure(&self, failure: &PaymentFailure) -> Result<(), OrdersError> {
        orders::insert_payment_failure(self.tx.conn(), failure).await
    }
}
