//! [`CartStore`] on the `carts` table, for installations without Redis.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Unexpected, UserId};
use nexus_orders::{CartItem, CartStore, CartStoreError};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use nexus_sea_support::unexpected;

use crate::entities::cart;

/// Keeps carts in the database: one row per product in a user's cart. Cheap to clone: it
/// shares the pool.
///
/// It behaves like the Redis store (the two share one conformance suite), with two
/// differences: times are kept to the millisecond, as Redis keeps them, so that switching
/// stores changes nothing; and carts never expire, so "renewing the lifetime" on `add` is
/// a no-op.
#[derive(Clone, Debug)]
pub struct SeaCartStore {
    db: DatabaseConnection,
}

impl SeaCartStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CartStore for SeaCartStore {
    async fn items(&self, user: UserId) -> Result<Vec<CartItem>, CartStoreError> {
        let rows = cart::Entity::find()
            .filter(cart::Column::UserId.eq(user.as_uuid()))
            // Oldest first; products added in the same millisecond by id, as in Redis.
            .order_by_asc(cart::Column::AddedAt)
            .order_by_asc(cart::Column::ProductId)
            .all(&self.db)
            .await
            .map_err(unexpected("loading a cart"))?;
        Ok(rows
            .into_iter()
            .map(|row| CartItem {
                product_id: ProductId::from_uuid(row.product_id),
                added_at: row.added_at,
            })
            .collect())
    }

    async fn add(
        &self,
        user: UserId,
        product: ProductId,
        now: DateTime<Utc>,
    ) -> Result<bool, CartStoreError> {
        // One statement: of concurrent adds of one product exactly one inserts, and a
        // product already there keeps the time it was first added.
        let mut insert = Query::insert();
        insert
            .into_table(cart::Entity)
            .columns([
                cart::Column::UserId,
                cart::Column::ProductId,
                cart::Column::AddedAt,
            ])
            .values([
                user.as_uuid().into(),
                product.as_uuid().into(),
                now.trunc_subsecs(3).into(),
            ])
            .map_err(|e| Unexpected::new("building a cart insert", e))?
            .on_conflict(
                OnConflict::columns([cart::Column::UserId, cart::Column::ProductId])
                    .do_nothing()
                    .to_owned(),
            );
        let result = self
            .db
            .execute(&insert)
            .await
            .map_err(unexpected("adding to a cart"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn remove(&self, user: UserId, product: ProductId) -> Result<bool, CartStoreError> {
        let result = cart::Entity::delete_many()
            .filter(cart::Column::UserId.eq(user.as_uuid()))
            .filter(cart::Column::ProductId.eq(product.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(unexpected("removing from a cart"))?;
        Ok(result.rows_affected > 0)
    }

    async fn clear(&self, user: UserId) -> Result<(), CartStoreError> {
        cart::Entity::delete_many()
            .filter(cart::Column::UserId.eq(user.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(unexpected("clearing a cart"))?;
        Ok(())
    }
}
