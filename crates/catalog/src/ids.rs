//! The catalog's ids.

nexus_kernel::typed_id!(
    /// Identifies a catalog product.
    pub ProductId
);
