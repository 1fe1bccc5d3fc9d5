use nexus_kernel::Unexpected;

use crate::{AssetError, ProductStatus};

/// Everything that can go wrong in the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No such product, or not one the caller may see (a draft, for the public).
    #[error("product not found")]
    NotFound,
    /// The caller's role may not do this at all.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// Another product already has this slug.
    #[error("a product with this slug already exists")]
    SlugTaken,
    /// The product changed since the caller read it.
    #[error("the product was changed by someone else")]
    Conflict,
    /// Somebody bought the product, so it can no longer be deleted or unpublished (their
    /// downloads depend on it); archive it instead.
    #[error("the product has been sold; archive it instead")]
    ProductSold,
    /// The product's status does not allow this action.
    #[error("cannot {action} a product that is {from}")]
    InvalidTransition {
        /// The product's current status.
        from: ProductStatus,
        /// What was attempted (`publish`, `archive`, `unpublish`, `edit`, `attach a file to`).
        action: &'static str,
    },
    /// The price's currency is not one the store sells in.
    #[error("the store sells only in {accepted}")]
    CurrencyNotAccepted {
        /// The accepted codes, comma-separated.
        accepted: String,
    },
    /// The price exceeds the configured ceiling.
    #[error("a price may be at most {max} minor units")]
    PriceTooHigh {
        /// The ceiling, in minor units.
        max: i64,
    },
    /// A product is published only once it has a file to sell.
    #[error("the product has no file yet")]
    AssetMissing,
    /// The file exceeds the configured limit.
    #[error("the file is larger than {max} bytes")]
    AssetTooLarge {
        /// The limit, in bytes.
        max: u64,
    },
    /// The file's MIME type is not on the configured list.
    #[error("this type of file is not accepted")]
    ContentTypeNotAllowed,
    /// A cover is not a PNG, JPEG or WebP by its first bytes.
    #[error("a cover must be a PNG, JPEG or WebP image")]
    UnsupportedImage,
    /// A cover is over the image limit.
    #[error("the image is larger than {max} bytes")]
    ImageTooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// The asset store has no direct uploads (the local store); upload through the app.
    #[error("direct uploads are not available; upload the file through the API")]
    UploadLinkUnsupported,
    /// An asset-store outcome: `NotFound` (no file under that key) or `InvalidLink`.
    /// Never `AssetError::Unexpected`, which converts to [`CatalogError::Unexpected`].
    #[error(transparent)]
    Asset(AssetError),
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<AssetError> for CatalogError {
    /// Keeps the store's business outcomes and turns its failures into `Unexpected`, so
    /// that a storage outage is never answered as a client error.
    fn from(err: AssetError) -> Self {
        match err {
            AssetError::Unexpected(inner) => Self::Unexpected(inner),
            outcome => Self::Asset(outcome),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_become_unexpected_and_outcomes_stay_asset_errors() {
        let failure = CatalogError::from(AssetError::Unexpected(Unexpected::msg("disk gone")));
        assert!(matches!(failure, CatalogError::Unexpected(_)));
        let missing = CatalogError::from(AssetError::NotFound);
        assert!(matches!(missing, CatalogError::Asset(AssetError::NotFound)));
        let link = CatalogError::from(AssetError::InvalidLink);
        assert!(matches!(link, CatalogError::Asset(AssetError::InvalidLink)));
    }
}
