//! What handlers share: the domain services, limits, and the database handle for readiness.

use std::sync::Arc;

use nexus_approvals::ApprovalService;
use nexus_customers::{CustomerService, EnquiryService, NoteService, TimelineService};
use nexus_identity::IdentityService;
use nexus_kernel::RateLimiter;
use nexus_outbox::{DeliveryAdmin, DeliveryStore};
use nexus_sea_support::DatabaseConnection;

use crate::settings::LimitSettings;

/// Shared application state, built once by the composition root.
pub struct AppState {
    /// Identity and access.
    pub identity: Arc<IdentityService>,
    /// Sign-in with Google and GitHub.
    pub oauth: Arc<nexus_identity::OAuthService>,
    /// Whether the sign-in binding cookie is `Secure` (the callbacks are https).
    pub oauth_cookie_secure: bool,
    /// The customer CRM.
    pub customers: Arc<CustomerService>,
    /// Enquiries.
    pub enquiries: Arc<EnquiryService>,
    /// Notes on customers.
    pub notes: Arc<NoteService>,
    /// Customer timelines.
    pub timeline: Arc<TimelineService>,
    /// Responses and their approval.
    pub approvals: Arc<ApprovalService>,
    /// The audit log, for administrators.
    pub audit: Arc<nexus_audit::AuditService>,
    /// Event deliveries to subscribers (background work), for administrators.
    pub jobs: Arc<DeliveryAdmin>,
    /// Runs event deliveries (used by the worker loop, not by handlers).
    pub runner: crate::worker::Runners,
    /// Abuse limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Lockouts after wrong passwords.
    pub failures: Arc<dyn nexus_kernel::FailureThrottle>,
    /// Limit settings.
    pub limits: LimitSettings,
    /// The catalog.
    pub products: Arc<nexus_catalog::ProductService>,
    /// Cached public catalog answers (product list pages and details).
    pub catalog_cache: Arc<crate::cache::ResponseCache>,
    /// robots.txt and the sitemap's shape.
    pub site: Arc<crate::http::site::SiteFiles>,
    /// Carts.
    pub cart: Arc<nexus_orders::CartService>,
    /// Orders, payments, refunds, library and downloads.
    pub orders: Arc<nexus_orders::OrderService>,
    /// Invoices.
    pub invoices: Arc<nexus_orders::InvoiceService>,
    /// Links to purchased files, invoices and credit notes.
    pub downloads: Arc<nexus_orders::DownloadService>,
    /// Opens app-signed file links (local storage).
    pub links: Arc<nexus_catalog::FileLinks>,
    /// Largest product file accepted, bytes.
    pub asset_max_bytes: u64,
    /// Receives product files (bounded concurrency, staged on disk).
    pub uploads: crate::http::products::upload::UploadSpool,
    /// The stored deliveries, for the backlog gauges of `/metrics`.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// What the readiness probe checks.
    pub dependencies: crate::http::health::Dependencies,
    /// The database, for the readiness probe and the pool gauges only.
    pub db: DatabaseConnection,
    /// Page metrics: ingestion and staff reports.
    pub analytics: Arc<nexus_analytics::AnalyticsService>,
    /// The dashboard of each role.
    pub dashboards: Arc<nexus_dashboards::DashboardService>,
    /// Site feedback, product reviews, ratings and the CRM's view of them.
    pub feedback: Arc<nexus_feedback::FeedbackService>,
    /// CMS pages.
    pub pages: Arc<nexus_content::PageService>,
    /// Team members and their photos.
    pub team: Arc<nexus_content::TeamService>,
    /// Blog posts.
    pub posts: Arc<nexus_content::PostService>,
    /// Cached public page answers.
    pub content_cache: Arc<crate::cache::ResponseCache>,
    /// SEO audits, the site report and scans.
    pub seo: Arc<nexus_seo::SeoService>,
    /// Redirect rules, for editors.
    pub redirects: Arc<nexus_seo::RedirectService>,
    /// The redirect rules in force, held in memory for the fallback.
    pub redirect_table: Arc<crate::http::redirects::RedirectTable>,
}

impl AppState {
    /// The abuse limits: rate limits per action and lockouts after wrong secrets.
    #[must_use]
    pub fn guard(&self) -> crate::http::limits::Limits<'_> {
        crate::http::limits::Limits::new(
            self.limiter.as_ref(),
            self.failures.as_ref(),
            &self.limits,
        )
    }
}
