#![doc = include_str!("../README.md")]

mod block;
mod error;
mod meta;
pub mod permissions;
mod ports;
mod redirects;
mod rules;
mod scan;
mod service;
mod sitemap;
mod stored;
mod structured;
mod subject;

pub use block::{DEFAULT_ROBOTS, SeoBlock, SeoInput, SeoSite, major_units};
pub use error::SeoError;
pub use meta::{generated_description, generated_title, words};
pub use ports::{FindingsStore, ScanQueue, SeoSource};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockFindingsStore, MockScanQueue, MockSeoSource};
pub use redirects::{MAX_REDIRECT_HOPS, Redirect, RedirectError, RedirectKind, RedirectTarget};
pub use rules::{
    Audit, Finding, RuleId, Severity, SiteContext, SiteReport, audit, audit_site, internal_path,
    normalized,
};
pub use scan::{RunSeoScan, ScanRequested};
pub use service::{NEIGHBOURS_LIMIT, SCAN_BATCH, SeoService};
pub use sitemap::{SITEMAP_URL_LIMIT, SitemapPart, SitemapPlan, plan_sitemap};
pub use stored::{AuditTotals, ScanRequest, SeoReport, StoredAudit};
pub use structured::{
    BlogPostingLd, OfferLd, OrganizationLd, ProductLd, RatingLd, WebPageLd, to_script,
};
pub use subject::{SeoImage, SeoSubject, SubjectKind};
