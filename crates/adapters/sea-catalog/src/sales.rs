//! The catalog's [`SalesLedger`], read from `order_lines` (the orders context's table) with
//! one query of its own.

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_catalog::{CatalogError, SalesLedger};
use nexus_sea_support::unexpected;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Tells whether a product was ever ordered. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaSalesLedger {
    db: DatabaseConnection,
}

impl SeaSalesLedger {
    /// A ledger over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SalesLedger for SeaSalesLedger {
    async fn has_sales(&self, product_id: ProductId) -> Result<bool, CatalogError> {
        // Any order counts, paid or not, as the port asks: an unpaid order may still be
        // paid, and the foreign key from order_lines refuses the delete of such a product
        // anyway. Served by ix_order_lines_product_id.
        let query = Query::select()
            .column(Alias::new("order_id"))
            .from(Alias::new("order_lines"))
            .and_where(Expr::col(Alias::new("product_id")).eq(product_id.as_uuid()))
            .limit(1)
            .to_owned();
        let found = self
            .db
            .query_one(&query)
            .await
            .map_err(unexpected("looking for sales of a product"))?;
        Ok(found.is_some())
    }
}
