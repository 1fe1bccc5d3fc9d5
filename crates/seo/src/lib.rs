#![doc = include_str!("../README.md")]

mod block;
mod error;
mod meta;
pub mod permissions;
mod ports;
mod redirect_rules;
mod redirect_service;
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
pub use ports::{
    FindingsStore, RedirectRepository, RedirectStore, RedirectTx, RedirectUnitOfWork, ScanQueue,
    SeoSource,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockFindingsStore, MockRedirectRepository, MockRedirectStore, MockRedirectUnitOfWork,
    MockScanQueue, MockSeoSource,
};
pub use redirect_rules::{
    ENTITY_REDIRECT_RULE, InvalidateRedirects, MAX_NOTE_CHARS, MAX_REDIRECT_RULES, NewRedirectRule,
    REDIRECTS_CACHE_NAMESPACE, RedirectAudit, RedirectChanged, RedirectRule, RedirectRuleChange,
};
pub use redirect_service::RedirectService;
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
