use crate::ProductId;
use async_trait::async_trait;
use nexus_kernel::{Page, PageRequest};
use nexus_outbox::EventEnvelope;

use crate::{CatalogError, Product, ProductFilter, ProductQuery, Slug};

/// Loads products outside a unit of work. Implementations must be safe to share across
/// requests and must answer lists with exact totals without loading the whole table.
/// Writes go through a [`CatalogTx`], so that each records its event in the same
/// transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Loads a product in any status; `Ok(None)` when there is none.
    async fn find(&self, id: ProductId) -> Result<Option<Product>, CatalogError>;

    /// Loads the product with this slug, in any status; `Ok(None)` when there is none.
    async fn find_by_slug(&self, slug: &Slug) -> Result<Option<Product>, CatalogError>;

    /// One page of products in any status matching `filter`, newest first (ties by id),
    /// with the exact total.
    async fn list_admin(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError>;

    /// Up to `limit` PUBLISHED products whose id is greater than `after` (all of them
    /// when `None`), in id order: a batch of a full re-index. Keyed by id rather than by
    /// page number, so products created or deleted meanwhile never shift a product out of
    /// the walk.
    async fn published_after(
        &self,
        after: Option<ProductId>,
        limit: u32,
    ) -> Result<Vec<Product>, CatalogError>;

    /// How many products are PUBLISHED.
    async fn count_published(&self) -> Result<u64, CatalogError>;
}

/// Stores products inside one unit of work (see [`CatalogTx::products`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Inserts a new product.
    ///
    /// # Errors
    /// `SlugTaken` if another product has this slug.
    async fn insert(&self, product: &Product) -> Result<(), CatalogError>;

    /// Saves every mutable field of `product` (whose `version` is already the new one) if
    /// the stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `SlugTaken`.
    async fn update(&self, product: &Product, expected_version: i64) -> Result<(), CatalogError>;

    /// Deletes a product; `false` when there was none.
    ///
    /// # Errors
    /// `ProductSold` when other records (order lines) still reference it.
    async fn delete(&self, id: ProductId) -> Result<bool, CatalogError>;
}

/// Opens units of work over the catalog's records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CatalogUnitOfWork: Send + Sync {
    /// Starts one.
    ///
    /// # Errors
    /// `Unexpected` when the store cannot start a transaction.
    async fn begin(&self) -> Result<Box<dyn CatalogTx>, CatalogError>;
}

/// One open unit of work: the product store bound to its transaction and the events it
/// records. Dropped without `commit`, nothing of it happened.
#[async_trait]
pub trait CatalogTx: Send {
    /// The products, in this transaction.
    fn products(&self) -> &dyn ProductStore;

    /// Records `event`, written to the outbox with the changes when the unit commits.
    fn record(&mut self, event: EventEnvelope);

    /// Records `record`, written to the audit log with the changes when the unit commits.
    fn audit(&mut self, record: nexus_kernel::AuditRecord);

    /// Writes the changes and the recorded events together.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails (then nothing was written).
    async fn commit(self: Box<Self>) -> Result<(), CatalogError>;
}

/// Searches the public catalog.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductSearch: Send + Sync {
    /// One page of PUBLISHED products matching every filter of `query`, in its order, with
    /// the exact total. Search text is matched as words (never as query syntax, so no input
    /// can make it fail); a text with no searchable word matches nothing.
    async fn search(
        &self,
        query: &ProductQuery,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError>;
}

/// An external search index of the PUBLISHED products (Meilisearch). The `index_product`
/// subscriber ([`crate::IndexProduct`]) keeps it in step after every committed product
/// write; [`crate::Reindexer`] rebuilds it from the database. The database search reads
/// the products table itself and has no index.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductIndex: Send + Sync {
    /// Adds each product, or replaces the indexed copy with the same id.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses the documents.
    async fn upsert(&self, products: &[Product]) -> Result<(), CatalogError>;

    /// Removes the product from the index; removing one that is not there is fine.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses the removal.
    async fn remove(&self, id: ProductId) -> Result<(), CatalogError>;

    /// Removes every document, before a rebuild.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses.
    async fn clear(&self) -> Result<(), CatalogError>;
}

/// Answers whether a product was ever bought. Implemented by the orders adapter.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SalesLedger: Send + Sync {
    /// Whether any order line, in an order of any status, references the product: such a
    /// product must stay (archived at most), because a buyer may be entitled to it.
    async fn has_sales(&self, product_id: ProductId) -> Result<bool, CatalogError>;
}
