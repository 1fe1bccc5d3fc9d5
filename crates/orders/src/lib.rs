#![doc = include_str!("../README.md")]

mod cart;
mod invoicing;
mod payments;

#[cfg(any(test, feature = "mocks"))]
pub use cart::MockCartStore;
pub use cart::{CartItem, CartStore, CartStoreError};
#[cfg(any(test, feature = "mocks"))]
pub use invoicing::MockInvoiceRenderer;
pub use invoicing::{
    Buyer, InvoiceDocument, InvoiceLine, InvoiceRenderError, InvoiceRenderer, Seller, TaxLine,
};
#[cfg(any(test, feature = "mocks"))]
pub use payments::MockPaymentGateway;
pub use payments::{
    GatewayKind, GatewayOrder, GatewayRefund, PaymentError, PaymentGateway, PublicKeyId,
    WebhookEvent,
};
