#![doc = include_str!("../README.md")]

mod assets;
mod caching;
mod error;
pub mod events;
mod ids;
pub mod images;
mod indexing;
mod links;
mod model;
pub mod permissions;
mod ports;
mod seo;
mod service;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;

#[cfg(any(test, feature = "mocks"))]
pub use assets::MockAssetStore;
pub use assets::{
    AssetError, AssetKey, AssetStore, InvalidAssetKey, SignedLink, StagedFile, StoredObject,
};
pub use caching::{CATALOG_CACHE_NAMESPACE, InvalidateCatalogCache};
pub use error::CatalogError;
pub use ids::ProductId;
pub use images::{IMAGE_LINK_TTL_SECS, ImageKind, MAX_IMAGE_BYTES, StoredImage};
pub use indexing::{IndexProduct, ReindexProgress, Reindexer};
pub use links::{FileLinks, OpenedFile};
pub use model::{
    CatalogConfig, Category, FileName, InvalidCatalogValue, NewProduct, PreviewUrl, PriceRange,
    Product, ProductAsset, ProductDescription, ProductFilter, ProductQuery, ProductRef,
    ProductSort, ProductStatus, ProductTitle, SearchText, Slug, Tag, Tags, UpdateProduct,
    UploadTicket,
};
pub use ports::{
    CatalogTx, CatalogUnitOfWork, ProductIndex, ProductRepository, ProductSearch, ProductStore,
    SalesLedger,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockCatalogUnitOfWork, MockProductIndex, MockProductRepository, MockProductSearch,
    MockProductStore, MockSalesLedger,
};
pub use seo::{AuditProductSeo, CatalogSeoSource, product_path, product_subject};
pub use service::ProductService;
