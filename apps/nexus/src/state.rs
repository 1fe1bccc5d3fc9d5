//! What handlers share: the domain services, limits, and the database handle for readiness.

use std::sync::Arc;

use nexus_approvals::ApprovalService;
use nexus_customers::{CustomerService, EnquiryService};
use nexus_identity::IdentityService;
use nexus_kernel::RateLimiter;
use nexus_notifications::JobAdminService;
use nexus_sea_support::DatabaseConnection;

use crate::settings::LimitSettings;

/// Shared application state, built once by the composition root.
pub struct AppState {
    /// Identity and access.
    pub identity: Arc<IdentityService>,
    /// The customer CRM.
    pub customers: Arc<CustomerService>,
    /// Enquiries.
    pub enquiries: Arc<EnquiryService>,
    /// Responses and their approval.
    pub approvals: Arc<ApprovalService>,
    /// The job queue, for administrators.
    pub jobs: Arc<JobAdminService>,
    /// Runs background jobs and event deliveries (used by the worker loop, not by
    /// handlers).
    pub runner: crate::worker::Runners,
    /// Abuse limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Lockouts after wrong passwords.
    pub failures: Arc<dyn nexus_kernel::FailureThrottle>,
    /// Limit settings.
    pub limits: LimitSettings,
    /// The catalog.
    pub products: Arc<nexus_catalog::ProductService>,
    /// Carts.
    pub cart: Arc<nexus_orders::CartService>,
    /// Orders, payments, refunds, library and downloads.
    pub orders: Arc<nexus_orders::OrderService>,
    /// Invoices.
    pub invoices: Arc<nexus_orders::InvoiceService>,
    /// Where files live (download links).
    pub assets: Arc<dyn nexus_catalog::AssetStore>,
    /// Lifetime of download links, seconds.
    pub link_ttl_secs: i64,
    /// Largest product file accepted, bytes.
    pub asset_max_bytes: u64,
    /// Receives product files (bounded concurrency, staged on disk).
    pub uploads: crate::http::products::upload::UploadSpool,
    /// The database, for the readiness probe only.
    pub db: DatabaseConnection,
}
