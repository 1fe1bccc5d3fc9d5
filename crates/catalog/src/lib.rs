#![doc = include_str!("../README.md")]

mod assets;
mod error;
mod links;
mod model;
mod ports;
mod service;

#[cfg(any(test, feature = "mocks"))]
pub use assets::MockAssetStore;
pub use assets::{
    AssetError, AssetKey, AssetStore, InvalidAssetKey, SignedLink, StagedFile, StoredObject,
};
pub use error::CatalogError;
pub use links::{FileLinks, OpenedFile};
pub use model::{
    CatalogConfig, Category, FileName, InvalidCatalogValue, NewProduct, PreviewUrl, PriceRange,
    Product, ProductAsset, ProductDescription, ProductFilter, ProductQuery, ProductRef,
    ProductSort, ProductStatus, ProductTitle, SearchText, Slug, Tag, Tags, UpdateProduct,
    UploadTicket,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockProductIndex, MockProductRepository, MockProductSearch, MockSalesLedger};
pub use ports::{NoopProductIndex, ProductIndex, ProductRepository, ProductSearch, SalesLedger};
pub use service::ProductService;
