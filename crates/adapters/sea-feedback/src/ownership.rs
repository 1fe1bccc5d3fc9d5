//! [`OwnershipCheck`] on the orders' `entitlements` table (read only; its primary key is
//! (user_id, product_id), so this is one index lookup).

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_feedback::{FeedbackError, OwnershipCheck};
use nexus_kernel::UserId;
use nexus_sea_support::unexpected;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::rows::statement;

/// Answers from `entitlements`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaOwnershipCheck {
    db: DatabaseConnection,
}

impl SeaOwnershipCheck {
    /// A check over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl OwnershipCheck for SeaOwnershipCheck {
    async fn owns(&self, user: UserId, product: ProductId) -> Result<bool, FeedbackError> {
        let row = self
            .db
            .query_one_raw(statement(
                self.db.get_database_backend(),
                "SELECT 1 AS owned FROM entitlements WHERE user_id = $1 AND product_id = $2",
                vec![user.as_uuid().into(), product.as_uuid().into()],
            ))
            .await
            .map_err(unexpected("checking an entitlement"))?;
        Ok(row.is_some())
    }
}
