//! Invoices of paid orders: built from the order, rendered as PDF, stored once.

use std::sync::Arc;

use nexus_catalog::{AssetError, AssetKey, AssetStore};
use nexus_kernel::{Actor, Money, Unexpected};

use crate::order::invoice_key;
use crate::{
    BuyerDirectory, DownloadTarget, InvoiceDocument, InvoiceLine, InvoiceRenderer, Order, OrderId,
    OrderRepository, OrdersError, Seller, TaxLine,
};

/// A tax included in every price (Indian GST on digital goods sold to consumers, say):
/// invoices show the part of the total it accounts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedTax {
    /// Label printed on the invoice, e.g. `GST 18% (included)`.
    pub label: String,
    /// Rate in basis points (1800 for 18%).
    pub rate_basis_points: u32,
}

/// What invoices say about the seller, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerConfig {
    /// The seller block.
    pub seller: Seller,
    /// A tax included in prices, if any.
    pub included_tax: Option<IncludedTax>,
}

/// Generates, stores and hands out invoices. An order gets its invoice number in the unit
/// of work that marks it paid; the PDF is made afterwards by the `generate_invoice`
/// subscriber.
pub struct InvoiceService {
    orders: Arc<dyn OrderRepository>,
    buyers: Arc<dyn BuyerDirectory>,
    renderer: Arc<dyn InvoiceRenderer>,
    assets: Arc<dyn AssetStore>,
    seller: SellerConfig,
}

impl InvoiceService {
    /// Builds the service from its ports and the seller's details.
    #[must_use]
    pub fn new(
        orders: Arc<dyn OrderRepository>,
        buyers: Arc<dyn BuyerDirectory>,
        renderer: Arc<dyn InvoiceRenderer>,
        assets: Arc<dyn AssetStore>,
        seller: SellerConfig,
    ) -> Self {
        Self {
            orders,
            buyers,
            renderer,
            assets,
            seller,
        }
    }

    /// Renders the invoice of a paid order, stores it under `invoices/<year>/<number>.pdf`
    /// and records where. Idempotent: an order whose invoice is stored is left alone, and a
    /// retry after a failure overwrites the same key.
    ///
    /// # Errors
    /// `NotFound` when the order or its buyer no longer exists; `InvalidTransition` when
    /// the order was never paid; `Unexpected` (rendering or storage failed).
    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    pub async fn generate(&self, order_id: OrderId) -> Result<AssetKey, OrdersError> {
        let order = self
            .orders
            .find(order_id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        if let Some(key) = order.invoice_key() {
            tracing::info!("invoice already stored");
            return Ok(key.clone());
        }
        let document = self.document(&order).await?;
        let key = invoice_key(order_number(&order)?)?;
        let pdf = self.renderer.render_pdf(&document).map_err(|e| e.0)?;
        self.assets
            .put(&key, pdf, "application/pdf")
            .await
            .map_err(|e| asset_error("storing an invoice", e))?;
        self.orders.set_invoice_key(order.id(), &key).await?;
        tracing::info!(invoice_number = %document.number, "invoice stored");
        Ok(key)
    }

    /// The stored invoice of an order the actor may see (their own, or any for staff).
    ///
    /// # Errors
    /// `NotFound` when the order is absent, not visible or was never paid;
    /// `InvoiceNotReady` while the invoice is being generated; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn invoice_link(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<DownloadTarget, OrdersError> {
        let order = self
            .orders
            .find(order_id)
            .await?
            .filter(|o| o.is_visible_to(actor))
            .ok_or(OrdersError::NotFound)?;
        let Some(number) = order.invoice_number() else {
            return Err(OrdersError::NotFound);
        };
        let key = order
            .invoice_key()
            .cloned()
            .ok_or(OrdersError::InvoiceNotReady)?;
        Ok(DownloadTarget {
            key,
            file_name: format!("{number}.pdf"),
        })
    }

    /// The stored credit note of the refund `refund_id` of an order the actor may see.
    ///
    /// # Errors
    /// `NotFound` when the order is absent or not visible, or the refund has no credit note;
    /// `InvoiceNotReady` while the credit note is being generated; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn credit_note_link(
        &self,
        actor: &Actor,
        order_id: OrderId,
        refund_id: &str,
    ) -> Result<DownloadTarget, OrdersError> {
        if !crate::is_gateway_id(refund_id) {
            return Err(OrdersError::NotFound);
        }
        self.orders
            .find(order_id)
            .await?
            .filter(|o| o.is_visible_to(actor))
            .ok_or(OrdersError::NotFound)?;
        let note = self
            .orders
            .find_credit_note(refund_id)
            .await?
            .filter(|n| n.order_id == order_id)
            .ok_or(OrdersError::NotFound)?;
        let key = note.key.ok_or(OrdersError::InvoiceNotReady)?;
        Ok(DownloadTarget {
            key,
            file_name: format!("{}.pdf", note.number),
        })
    }

    /// Everything printed on the invoice of `order`.
    async fn document(&self, order: &Order) -> Result<InvoiceDocument, OrdersError> {
        let number = order_number(order)?;
        let (Some(paid_at), Some(payment_id)) = (order.paid_at(), order.payment_id()) else {
            return Err(Unexpected::msg("an order with an invoice number is paid").into());
        };
        let buyer = self
            .buyers
            .buyer(order.user_id())
            .await?
            .ok_or(OrdersError::NotFound)?;
        let lines = order
            .lines()
            .iter()
            .map(|l| InvoiceLine {
                description: l.title.clone(),
                quantity: 1,
                unit_price: l.unit_price,
                amount: l.unit_price,
            })
            .collect();
        let taxes = match &self.seller.included_tax {
            Some(tax) => vec![TaxLine {
                label: tax.label.clone(),
                amount: included_tax(order.total(), tax.rate_basis_points)?,
            }],
            None => Vec::new(),
        };
        Ok(InvoiceDocument {
            number: number.as_str().to_owned(),
            issued_at: paid_at,
            order_reference: order.id().to_string(),
            payment_reference: payment_id.to_owned(),
            seller: self.seller.seller.clone(),
            buyer,
            lines,
            subtotal: order.total(),
            taxes,
            total: order.total(),
            credit_note_for: None,
        })
    }

    /// Renders the credit note of the refund `refund_id` of `order_id`, stores it under
    /// `credit-notes/<year>/<number>.pdf` and records where. Idempotent like invoices.
    ///
    /// # Errors
    /// `NotFound` when the order, the refund, its credit note or the buyer is missing;
    /// `Unexpected` (rendering or storage failed).
    #[tracing::instrument(skip_all, fields(order_id = %order_id, refund_id = refund_id))]
    pub async fn generate_credit_note(
        &self,
        order_id: OrderId,
        refund_id: &str,
    ) -> Result<AssetKey, OrdersError> {
        let note = self
            .orders
            .find_credit_note(refund_id)
            .await?
            .filter(|n| n.order_id == order_id)
            .ok_or(OrdersError::NotFound)?;
        if let Some(key) = note.key {
            return Ok(key);
        }
        let order = self
            .orders
            .find(order_id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        let refund = order
            .refunds()
            .iter()
            .find(|r| r.refund_id == refund_id)
            .ok_or(OrdersError::NotFound)?;
        let invoice = self.document(&order).await?;
        let description = match &refund.reason {
            Some(reason) => format!("Refund: {reason}"),
            None => "Refund".to_owned(),
        };
        let taxes = match &self.seller.included_tax {
            Some(tax) => vec![TaxLine {
                label: tax.label.clone(),
                amount: included_tax(refund.amount, tax.rate_basis_points)?,
            }],
            None => Vec::new(),
        };
        let document = InvoiceDocument {
            number: note.number.as_str().to_owned(),
            issued_at: note.issued_at,
            payment_reference: refund.refund_id.clone(),
            lines: vec![InvoiceLine {
                description,
                quantity: 1,
                unit_price: refund.amount,
                amount: refund.amount,
            }],
            subtotal: refund.amount,
            taxes,
            total: refund.amount,
            credit_note_for: Some(invoice.number.clone()),
            ..invoice
        };
        let key = crate::credit_note_key(&note.number)?;
        let pdf = self.renderer.render_pdf(&document).map_err(|e| e.0)?;
        self.assets
            .put(&key, pdf, "application/pdf")
            .await
            .map_err(|e| asset_error("storing a credit note", e))?;
        self.orders.set_credit_note_key(&note.number, &key).await?;
        tracing::info!(credit_note = %note.number, "credit note stored");
        Ok(key)
    }
}

/// The order's invoice number, which only a paid order has.
fn order_number(order: &Order) -> Result<&crate::InvoiceNumber, OrdersError> {
    order
        .invoice_number()
        .ok_or(OrdersError::InvalidTransition {
            from: order.status(),
            action: "invoice",
        })
}

/// The part of a tax-inclusive `total` that is tax at `rate_basis_points`, rounded half up
/// to the minor unit: `total × rate / (1 + rate)`.
pub(crate) fn included_tax(total: Money, rate_basis_points: u32) -> Result<Money, Unexpected> {
    let rate = i128::from(rate_basis_points);
    let denominator = 10_000 + rate;
    let tax = (i128::from(total.amount_minor()) * rate + denominator / 2) / denominator;
    let tax = i64::try_from(tax).map_err(Unexpected::with("tax amount overflows"))?;
    Money::new(tax, total.currency()).map_err(Unexpected::with("tax amount is negative"))
}

fn asset_error(context: &'static str, err: AssetError) -> OrdersError {
    match err {
        AssetError::Unexpected(e) => OrdersError::Unexpected(e),
        other => OrdersError::Unexpected(Unexpected::new(context, other)),
    }
}

#[cfg(test)]
#[path = "invoice_service_tests.rs"]
mod tests;
