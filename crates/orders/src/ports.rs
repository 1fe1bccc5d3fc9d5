//! The driven ports of the orders area (the cart-store, payment-gateway and
//! invoice-renderer ports live in their own modules).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::AssetKey;
use nexus_catalog::ProductId;
use nexus_kernel::{Money, Page, PageRequest, UserId};

use uuid::Uuid;

use crate::{
    Buyer, CreditNote, CreditNoteNumber, GatewayEventId, Order, OrderId, OrderQuery, OrdersError,
    UnappliedPayment,
};

/// A product as the orders area needs it: enough to price a cart, snapshot an order line
/// and serve a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchasableProduct {
    /// The product.
    pub id: ProductId,
    /// Its current title.
    pub title: String,
    /// Its current price.
    pub price: Money,
    /// Whether it is published (only published products can be added or bought; owners
    /// keep downloading unpublished ones).
    pub status_published: bool,
    /// Where its file is stored, if it has one.
    pub asset_key: Option<AssetKey>,
    /// The download name of its file.
    pub asset_file_name: Option<String>,
}

/// Looks products up in the catalog. The app adapts the catalog's own service to this port,
/// so that the orders area does not depend on the catalog's model.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductCatalog: Send + Sync {
    /// The product `id` whatever its status; `Ok(None)` when there is none (deleted).
    /// Implementations return only `Unexpected` for failures.
    async fn purchasable(&self, id: ProductId) -> Result<Option<PurchasableProduct>, OrdersError>;
}

/// One product a user owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryEntry {
    /// The product.
    pub product_id: ProductId,
    /// The order that granted it.
    pub order_id: OrderId,
    /// When it was granted (the order's payment time).
    pub granted_at: DateTime<Utc>,
}

/// Who owns which product. Entitlements are written within a unit of work
/// (`OrdersTx::entitlements`), never through this port. Implementations return only `Unexpected` for
/// failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EntitlementRepository: Send + Sync {
    /// Whether `user` currently owns `product`.
    async fn owns(&self, user: UserId, product: ProductId) -> Result<bool, OrdersError>;

    /// One page of what `user` owns, most recently granted first (ties broken by product
    /// id), with the exact total.
    async fn list(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<LibraryEntry>, OrdersError>;
}

/// Loads orders, and records where their documents are stored (orders are written within a
/// unit of work, `OrdersTx::orders`). Implementations must be safe to share across requests.
/// Unless a method says otherwise, they return only `Unexpected` for failures; a stored row
/// that breaks the model's invariants (`Order::from_parts`) is `Unexpected` too.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// The buyer's PENDING_PAYMENT order with checkout key `key`, if any.
    async fn find_pending_checkout(
        &self,
        user: UserId,
        key: &str,
    ) -> Result<Option<Order>, OrdersError>;

    /// How many PENDING_PAYMENT orders the buyer has.
    async fn count_pending(&self, user: UserId) -> Result<u64, OrdersError>;

    /// The unapplied payment `id`; `Ok(None)` when none.
    async fn find_unapplied(&self, id: Uuid) -> Result<Option<UnappliedPayment>, OrdersError>;

    /// Loads an order; `Ok(None)` when there is none.
    async fn find(&self, id: OrderId) -> Result<Option<Order>, OrdersError>;

    /// Loads the order the gateway knows as `gateway_order_id`; `Ok(None)` when none.
    async fn find_by_gateway_order(
        &self,
        gateway_order_id: &str,
    ) -> Result<Option<Order>, OrdersError>;

    /// Loads the order paid by the gateway payment `payment_id` (to apply its refunds);
    /// `Ok(None)` when none.
    async fn find_by_payment(&self, payment_id: &str) -> Result<Option<Order>, OrdersError>;

    /// One page of orders matching every filter of `query`, newest first (ties broken by
    /// id), with the exact total.
    async fn list(&self, query: &OrderQuery, page: PageRequest)
    -> Result<Page<Order>, OrdersError>;

    /// The credit note of the gateway refund `refund_id`; `Ok(None)` when none.
    async fn find_credit_note(&self, refund_id: &str) -> Result<Option<CreditNote>, OrdersError>;

    /// Records where the credit note `number`'s PDF is stored.
    ///
    /// # Errors
    /// `NotFound` when there is no such credit note.
    async fn set_credit_note_key(
        &self,
        number: &CreditNoteNumber,
        key: &AssetKey,
    ) -> Result<(), OrdersError>;

    /// Records where the order's invoice PDF is stored. Touches nothing else and does not
    /// bump the version (the invoice is a by-product, not a change of the order).
    ///
    /// # Errors
    /// `NotFound` when there is no such order.
    async fn set_invoice_key(&self, id: OrderId, key: &AssetKey) -> Result<(), OrdersError>;
}

/// Remembers which gateway webhook events were processed, so that a redelivered event has
/// no second effect. Events that change an order are recorded in the order's unit of work
/// (`OrdersTx::gateway_events`); this port records those that change nothing. Keep records
/// for at least as long as the gateway redelivers (Razorpay: 24 hours). Implementations
/// return only `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProcessedEvents: Send + Sync {
    /// Whether `event_id` was already recorded.
    async fn seen(&self, event_id: &GatewayEventId) -> Result<bool, OrdersError>;

    /// Records `event_id`; `true` the first time, `false` when it already was.
    async fn record(
        &self,
        event_id: &GatewayEventId,
        at: DateTime<Utc>,
    ) -> Result<bool, OrdersError>;
}

/// Answers who a buyer is, for invoices and confirmation e-mails. Implementations return
/// only `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BuyerDirectory: Send + Sync {
    /// The name and e-mail of user `id`; `Ok(None)` when there is no such user.
    async fn buyer(&self, id: UserId) -> Result<Option<Buyer>, OrdersError>;
}
