#![doc = include_str!("../README.md")]

mod audit;
pub mod blocks;
pub mod caching;
mod diff;
mod error;
pub mod events;
mod ids;
mod pages;
pub mod permissions;
mod ports;
pub mod preview;
pub mod seo;
mod service;
#[cfg(test)]
mod service_tests;

pub use audit::{AuditEntry, AuditFilter, ENTITY_PAGE, summarize};
pub use blocks::Block;
pub use caching::{CONTENT_CACHE_NAMESPACE, InvalidateContentCache};
pub use diff::{BlocksDiff, FieldDiff, PageDiff, diff};
pub use error::{ContentError, FieldIssue};
pub use ids::{AuditEntryId, PageId};
pub use pages::{
    InvalidContentValue, Locale, Page, PageChange, PageContent, PageFilter, PageInput, PageKey,
    PageSlug, PageStatus, PageTitle, PageVersion, Published, Seo,
};
pub use ports::{ContentTx, ContentUnitOfWork, PageRepository, PageStore};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockContentUnitOfWork, MockPageRepository, MockPageStore};
#[cfg(any(test, feature = "mocks"))]
pub use preview::MockPreviewSigner;
pub use preview::{PreviewClaims, PreviewLink, PreviewSigner};
pub use seo::{AuditPageSeo, ContentSeoSource, page_path, page_subject};
pub use service::{PageService, PageView, SCHEDULE_BATCH, ScheduleRun};
