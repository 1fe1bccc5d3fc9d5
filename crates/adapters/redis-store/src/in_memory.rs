//! The in-process twin of the Redis cart store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Unexpected, UserId};
use nexus_orders::{CartItem, CartStore, CartStoreError};

type Carts = HashMap<UserId, HashMap<ProductId, DateTime<Utc>>>;

/// Carts in a mutex-guarded map inside this process: for tests and single-process tools.
///
/// It behaves like [`RedisCartStore`](crate::RedisCartStore) (times kept to the millisecond,
/// same ordering) except that carts never expire and vanish with the process.
#[derive(Debug, Default)]
pub struct InMemoryCartStore {
    carts: Mutex<Carts>,
}

impl InMemoryCartStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Carts>, CartStoreError> {
        // A panic while holding the lock may have left a cart half-written.
        self.carts
            .lock()
            .map_err(|_| Unexpected::msg("in-memory cart store lock poisoned").into())
    }
}

/// `at` cut to whole milliseconds, the precision Redis keeps.
fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

#[async_trait]
impl CartStore for InMemoryCartStore {
    async fn items(&self, user: UserId) -> Result<Vec<CartItem>, CartStoreError> {
        let carts = self.lock()?;
        let mut items: Vec<CartItem> = carts
            .get(&user)
            .into_iter()
            .flatten()
            .map(|(product_id, added_at)| CartItem {
                product_id: *product_id,
                added_at: *added_at,
            })
            .collect();
        // Same order as a Redis sorted set: by time, then by member text (which for
        // lower-case hyphenated UUIDs is the UUIDs' byte order).
        items.sort_by_key(|item| (item.added_at, item.product_id.as_uuid()));
        Ok(items)
    }

    async fn add(
        &self,
        user: UserId,
        product: ProductId,
        now: DateTime<Utc>,
    ) -> Result<bool, CartStoreError> {
        let mut carts = self.lock()?;
        let cart = carts.entry(user).or_default();
        if cart.contains_key(&product) {
            return Ok(false);
        }
        cart.insert(product, to_millis(now));
        Ok(true)
    }

    async fn remove(&self, user: UserId, product: ProductId) -> Result<bool, CartStoreError> {
        let mut carts = self.lock()?;
        let Some(cart) = carts.get_mut(&user) else {
            return Ok(false);
        };
        let removed = cart.remove(&product).is_some();
        if cart.is_empty() {
            carts.remove(&user);
        }
        Ok(removed)
    }

    async fn clear(&self, user: UserId) -> Result<(), CartStoreError> {
        self.lock()?.remove(&user);
        Ok(())
    }
}
