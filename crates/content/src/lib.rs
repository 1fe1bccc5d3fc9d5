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
mod post_indexing;
mod post_service;
#[cfg(test)]
mod post_service_tests;
mod posts;
pub mod preview;
pub mod seo;
mod service;
#[cfg(test)]
mod service_tests;
mod team;
mod team_service;
#[cfg(test)]
mod team_service_tests;
#[cfg(test)]
mod test_support;

pub use audit::{AuditEntry, AuditFilter, ENTITY_PAGE, ENTITY_POST, ENTITY_TEAM_MEMBER, summarize};
pub use blocks::Block;
pub use caching::{CONTENT_CACHE_NAMESPACE, InvalidateContentCache};
pub use diff::{BlocksDiff, FieldDiff, PageDiff, diff};
pub use error::{ContentError, FieldIssue};
pub use ids::{AuditEntryId, PageId, PostId, TeamMemberId};
pub use nexus_catalog::ImageKind;
pub use pages::{
    InvalidContentValue, Locale, Page, PageChange, PageContent, PageFilter, PageInput, PageKey,
    PageSlug, PageStatus, PageTitle, PageVersion, Published, Seo,
};
pub use ports::{
    ContentTx, ContentUnitOfWork, PageRepository, PageStore, PostIndex, PostRepository, PostSearch,
    PostStore, TeamRepository, TeamStore,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockContentUnitOfWork, MockPageRepository, MockPageStore, MockPostIndex, MockPostRepository,
    MockPostSearch, MockPostStore, MockTeamRepository, MockTeamStore,
};
pub use post_indexing::{IndexPost, PostReindexer};
pub use post_service::{PostService, PostView, PublicPost};
#[cfg(any(test, feature = "mocks"))]
pub use posts::MockMarkdownRenderer;
pub use posts::{
    MAX_SEARCH_WORDS, MarkdownRenderer, NewPost, Post, PostChange, PostFilter, PostQuery,
    RenderedBody, check_post_slug, check_tag, search_words,
};
#[cfg(any(test, feature = "mocks"))]
pub use preview::MockPreviewSigner;
pub use preview::{PreviewClaims, PreviewLink, PreviewSigner};
pub use seo::{
    AuditPageSeo, AuditPostSeo, ContentSeoSource, PostSeoSource, page_path, page_subject,
    post_meta_description, post_path, post_subject,
};
pub use service::{PageService, PageView, SCHEDULE_BATCH, ScheduleRun};
pub use team::{MAX_PHOTO_BYTES, NewTeamMember, TeamLink, TeamMember, TeamMemberChange, TeamPhoto};
pub use team_service::{PHOTO_LINK_TTL_SECS, TeamService};
