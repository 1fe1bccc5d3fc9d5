use async_trait::async_trait;
use nexus_kernel::{Page, PageRequest, ProductId};

use crate::{CatalogError, Product, ProductFilter, ProductQuery, Slug};

/// Stores and loads products. Implementations must be safe to share across requests and
/// must answer lists with exact totals without loading the whole table.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Inserts a new product.
    ///
    /// # Errors
    /// `SlugTaken` if another product has this slug.
    async fn insert(&self, product: &Product) -> Result<(), CatalogError>;

    /// Loads a product in any status; `Ok(None)` when there is none.
    async fn find(&self, id: ProductId) -> Result<Option<Product>, CatalogError>;

    /// Loads the product with this slug, in any status; `Ok(None)` when there is none.
    async fn find_by_slug(&self, slug: &Slug) -> Result<Option<Product>, CatalogError>;

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

    /// One page of products in any status matching `filter`, newest first (ties by id),
    /// with the exact total.
    async fn list_admin(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError>;
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

/// Keeps a search index in step with the products table. The service calls it after every
/// committed write; a failure is logged, never returned (the write already happened), so an
/// index may lag until the product's next write or a full re-index.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductIndex: Send + Sync {
    /// Adds `product`, or replaces the indexed copy with the same id, in any status (a
    /// [`ProductSearch`] over the index must itself keep to PUBLISHED products).
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses the document.
    async fn upsert(&self, product: &Product) -> Result<(), CatalogError>;

    /// Removes the product from the index; removing one that is not there is fine.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses the removal.
    async fn remove(&self, id: ProductId) -> Result<(), CatalogError>;
}

/// The [`ProductIndex`] for a [`ProductSearch`] that reads the products table itself (the
/// database search), so there is nothing to keep in step: every call succeeds at once.
#[derive(Debug, Clone, Copy)]
pub struct NoopProductIndex;

#[async_trait]
impl ProductIndex for NoopProductIndex {
    async fn upsert(&self, _product: &Product) -> Result<(), CatalogError> {
        Ok(())
    }

    async fn remove(&self, _id: ProductId) -> Result<(), CatalogError> {
        Ok(())
    }
}

/// Answers whether a product was ever bought. Implemented by the orders adapter.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SalesLedger: Send + Sync {
    /// Whether any order line, in an order of any status, references the product: such a
    /// product must stay (archived at most), because a buyer may be entitled to it.
    async fn has_sales(&self, product_id: ProductId) -> Result<bool, CatalogError>;
}
