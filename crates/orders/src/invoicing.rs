//! The invoice-renderer port: an invoice as data, turned into a PDF by an adapter.

use chrono::{DateTime, Utc};
use nexus_kernel::{Money, Unexpected};

/// Who sells (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    /// Legal name.
    pub name: String,
    /// Postal address, one line each.
    pub address_lines: Vec<String>,
    /// Tax registration (GSTIN in India), if any.
    pub tax_id: Option<String>,
    /// Contact e-mail.
    pub email: String,
}

/// Who buys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// One line of the invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    /// What was sold.
    pub description: String,
    /// How many.
    pub quantity: u32,
    /// Price of one.
    pub unit_price: Money,
    /// `unit_price × quantity`.
    pub amount: Money,
}

/// A tax line (for example "GST 18%").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    /// Label.
    pub label: String,
    /// Amount.
    pub amount: Money,
}

/// Everything printed on an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// Gap-free number, e.g. `INV-2026-000001`.
    pub number: String,
    /// Issue date.
    pub issued_at: DateTime<Utc>,
    /// Our order reference.
    pub order_reference: String,
    /// The gateway's payment id.
    pub payment_reference: String,
    /// Seller.
    pub seller: Seller,
    /// Buyer.
    pub buyer: Buyer,
    /// Lines.
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines.
    pub subtotal: Money,
    /// Taxes, if configured.
    pub taxes: Vec<TaxLine>,
    /// What was paid (for a credit note: what was refunded).
    pub total: Money,
    /// `Some(invoice number)` when this is a credit note for that invoice (the refund of
    /// part or all of it), `None` for an invoice.
    pub credit_note_for: Option<String>,
}

/// The invoice could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct InvoiceRenderError(#[from] pub Unexpected);

/// Renders invoices as PDF (CPU-bound: call from a blocking context or accept the cost).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait InvoiceRenderer: Send + Sync {
    /// The PDF bytes of `invoice`.
    ///
    /// # Errors
    /// `InvoiceRenderError` when rendering fails.
    fn render_pdf(&self, invoice: &InvoiceDocument) -> Result<Vec<u8>, InvoiceRenderError>;
}
