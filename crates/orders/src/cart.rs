//! The cart-store port: which products a user has put in their cart.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Unexpected, UserId};

/// One product in a cart (prices are never stored: the cart always shows current ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartItem {
    /// The product.
    pub product_id: ProductId,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// The cart store failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CartStoreError(#[from] pub Unexpected);

/// Keeps carts: Redis with a time-to-live when configured, the database otherwise. Digital
/// products are bought once, so a cart holds each product at most once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The user's items, oldest first (empty when there is no cart).
    async fn items(&self, user: UserId) -> Result<Vec<CartItem>, CartStoreError>;

    /// Adds a product; `false` when it was already there. Renews the cart's lifetime.
    async fn add(
        &self,
        user: UserId,
        product: ProductId,
        now: DateTime<Utc>,
    ) -> Result<bool, CartStoreError>;

    /// Removes a product; `false` when it was not there.
    async fn remove(&self, user: UserId, product: ProductId) -> Result<bool, CartStoreError>;

    /// Empties the cart.
    async fn clear(&self, user: UserId) -> Result<(), CartStoreError>;
}
