use nexus_kernel::Unexpected;

/// Everything that can go wrong in the SEO context.
#[derive(Debug, thiserror::Error)]
pub enum SeoError {
    /// No stored audit of this item (never audited, not public, or unknown).
    #[error("no SEO audit of this item")]
    NotFound,
    /// The caller's role may not do this.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
