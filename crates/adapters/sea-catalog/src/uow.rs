//! The catalog's unit of work on the database: one write transaction ([`EventTransaction`])
//! whose product writes and recorded events commit together.

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_catalog::{CatalogError, CatalogTx, CatalogUnitOfWork, Product, ProductStore};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{EventTransaction, Transactions, unexpected};

use crate::products::{delete_product, insert_product, prepare_product_write, update_product};

/// Opens [`SeaCatalogTx`]s. Cheap to clone: it shares the pool and the routes.
#[derive(Clone, Debug)]
pub struct SeaCatalogUnitOfWork {
    transactions: Transactions,
}

impl SeaCatalogUnitOfWork {
    /// Units of work over `transactions`' database, which must be migrated.
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl CatalogUnitOfWork for SeaCatalogUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn CatalogTx>, CatalogError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting a catalog unit of work"))?;
        prepare_product_write(tx.conn())
            .await
            .map_err(unexpected("starting a catalog unit of work"))?;
        Ok(Box::new(SeaCatalogTx { tx }))
    }
}

/// One open catalog unit of work: it stores products itself, over its transaction.
#[derive(Debug)]
pub struct SeaCatalogTx {
    tx: EventTransaction,
}

#[async_trait]
impl ProductStore for SeaCatalogTx {
    async fn insert(&self, product: &Product) -> Result<(), CatalogError> {
        insert_product(self.tx.conn(), product).await
    }

    async fn update(&self, product: &Product, expected_version: i64) -> Result<(), CatalogError> {
        update_product(self.tx.conn(), product, expected_version).await
    }

    async fn delete(&self, id: ProductId) -> Result<bool, CatalogError> {
        delete_product(self.tx.conn(), id).await
    }
}

#[async_trait]
impl CatalogTx for SeaCatalogTx {
    fn products(&self) -> &dyn ProductStore {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.tx.audit(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), CatalogError> {
        Ok(self.tx.commit().await?)
    }
}
