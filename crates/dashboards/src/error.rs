use nexus_kernel::Unexpected;

/// Everything that can go wrong reading a dashboard.
#[derive(Debug, thiserror::Error)]
pub enum DashboardsError {
    /// The caller's role has no dashboard (EDITOR: their work lives in the content, SEO and
    /// feedback lists).
    #[error("there is no dashboard for your role")]
    NoDashboard,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
