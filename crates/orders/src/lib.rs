#![doc = include_str!("../README.md")]

mod activity;
mod cart;
mod cart_service;
mod downloads;
mod error;
mod events;
mod expiry;
mod invoice_service;
mod invoicing;
mod mailing;
mod order;
mod payments;
pub mod permissions;
mod ports;
mod privacy;
mod reconcile;
mod refunds;
mod service;
#[cfg(test)]
mod test_tx;
#[cfg(feature = "testkit")]
pub mod testkit;
mod uow;

#[cfg(any(test, feature = "mocks"))]
pub use activity::MockBuyerActivityLog;
pub use activity::{
    BuyerActivityLog, Download, MAX_ERROR_CODE_CHARS, MAX_ERROR_DESCRIPTION_CHARS, PaymentFailure,
};
#[cfg(any(test, feature = "mocks"))]
pub use cart::MockCartStore;
pub use cart::{CartItem, CartStore, CartStoreError};
pub use cart_service::{Cart, CartIssue, CartLine, CartService};
pub use downloads::DownloadService;
pub use error::OrdersError;
pub use events::{
    OrderPaid, OrderPlaced, OrderRefunded, PaymentUnapplied, UnappliedPaymentRefunded,
};
pub use expiry::OrderExpirySubscriber;
pub use invoice_service::{IncludedTax, InvoiceService, SellerConfig};
#[cfg(any(test, feature = "mocks"))]
pub use invoicing::MockInvoiceRenderer;
pub use invoicing::{
    Buyer, InvoiceDocument, InvoiceLine, InvoiceRenderError, InvoiceRenderer, Seller, TaxLine,
};
pub use mailing::{
    CreditNoteSubscriber, InvoiceSubscriber, OrderConfirmationSubscriber, format_money,
};
pub use order::{
    CreditNote, CreditNoteNumber, GatewayEventId, InconsistentOrder, InvalidOrderValue,
    InvoiceNumber, Order, OrderChange, OrderId, OrderLine, OrderParts, OrderQuery, OrderRefund,
    OrderStatus, OrderTransition, PendingRefund, RefundReason, UnappliedPayment, UnappliedReason,
    checkout_fingerprint, credit_note_key, invoice_key, reads_all_orders,
};
#[cfg(any(test, feature = "mocks"))]
pub use payments::MockPaymentGateway;
pub use payments::{
    GatewayKind, GatewayOrder, GatewayPayment, GatewayRefund, MAX_GATEWAY_ID_LEN, PaymentError,
    PaymentGateway, PublicKeyId, WebhookEvent, is_gateway_id,
};
pub use ports::{
    BuyerDirectory, EntitlementRepository, LibraryEntry, OrderRepository, ProcessedEvents,
    ProductCatalog, PurchasableProduct,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockBuyerDirectory, MockEntitlementRepository, MockOrderRepository, MockProcessedEvents,
    MockProductCatalog,
};
pub use privacy::{DropErasedCart, EXPORT_LIMIT, OrdersExport};
pub use reconcile::PaymentReconcileSubscriber;
pub use refunds::{RefundNoticeSubscriber, UnappliedPaymentRefundSubscriber};
pub use service::{CheckoutSession, DownloadTarget, OrderService, WebhookOutcome};
pub use uow::{
    EntitlementStore, GatewayEventLog, InvoiceNumbers, OrderStore, OrdersTx, OrdersUnitOfWork,
    UnappliedPaymentStore, write_change,
};
#[cfg(any(test, feature = "mocks"))]
pub use uow::{
    MockEntitlementStore, MockGatewayEventLog, MockInvoiceNumbers, MockOrderStore,
    MockOrdersUnitOfWork, MockUnappliedPaymentStore,
};
