//! Why a store could not be built.

/// A store's configuration is unusable; raised once, at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    /// The public base URL (local store) or an endpoint (S3) is not an absolute `http(s)` URL.
    #[error("{what} must be an absolute http(s) URL")]
    InvalidUrl {
        /// Which setting is wrong.
        what: &'static str,
    },
    /// The local store's link-signing key is empty.
    #[error("the link-signing key must not be empty")]
    EmptySigningKey,
    /// The local store's root directory cannot be created or resolved.
    #[error("the asset directory {root} cannot be used")]
    Root {
        /// The directory as configured.
        root: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The S3 client rejected its settings (bucket, region, endpoint).
    #[error("the S3 client cannot be built from its settings")]
    S3 {
        /// What object_store reported; it never contains the secret key.
        #[source]
        source: object_store::Error,
    },
}
