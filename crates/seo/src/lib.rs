#![doc = include_str!("../README.md")]

mod meta;
mod redirects;
mod rules;
mod sitemap;
mod structured;
mod subject;

pub use meta::{generated_description, generated_title, words};
pub use redirects::{MAX_REDIRECT_HOPS, Redirect, RedirectError, RedirectKind, RedirectTarget};
pub use rules::{
    Audit, Finding, RuleId, Severity, SiteContext, SiteReport, audit, audit_site, normalized,
};
pub use sitemap::{SITEMAP_URL_LIMIT, SitemapPart, SitemapPlan, plan_sitemap};
pub use structured::{BlogPostingLd, OfferLd, OrganizationLd, ProductLd, RatingLd, to_script};
pub use subject::{SeoImage, SeoSubject, SubjectKind};
