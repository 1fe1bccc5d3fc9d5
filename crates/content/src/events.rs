//! What the content context records when a page changes. Each event carries the page's id
//! (and, for the public ones, the locale and slug the public reads it at), so a subscriber
//! (the cache, later the sitemap and SEO rules) can re-read the current state.

use nexus_outbox::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::{PageId, PostId, TeamMemberId};

/// A page's draft (or its schedule) changed; what the public sees did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageUpdated {
    /// The page.
    pub page_id: PageId,
    /// Its version after the change.
    pub version: i64,
}

impl DomainEvent for PageUpdated {
    const NAME: &'static str = "content.page_updated";
    const VERSION: u32 = 1;
}

/// A page's draft became its published snapshot (now, or by its schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PagePublished {
    /// The page.
    pub page_id: PageId,
    /// Its version after publishing.
    pub version: i64,
    /// Locale of the published snapshot.
    pub locale: String,
    /// Slug of the published snapshot.
    pub slug: String,
}

impl DomainEvent for PagePublished {
    const NAME: &'static str = "content.page_published";
    const VERSION: u32 = 1;
}

/// A page is no longer public (unpublished now, or by its schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageUnpublished {
    /// The page.
    pub page_id: PageId,
    /// Its version after unpublishing.
    pub version: i64,
    /// Locale it was public at.
    pub locale: String,
    /// Slug it was public at.
    pub slug: String,
}

impl DomainEvent for PageUnpublished {
    const NAME: &'static str = "content.page_unpublished";
    const VERSION: u32 = 1;
}

/// A team member was created, changed, reordered, given a photo or deleted: the public team
/// list may have changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamMemberChanged {
    /// The member.
    pub member_id: TeamMemberId,
    /// Its version after the change (`None` once deleted).
    pub version: Option<i64>,
}

impl DomainEvent for TeamMemberChanged {
    const NAME: &'static str = "content.team_member_changed";
    const VERSION: u32 = 1;
}

/// A blog post changed (created, edited, published, unpublished, scheduled, given a cover,
/// deleted): the public post list, its pages, the feeds and the sitemap may have changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostChanged {
    /// The post.
    pub post_id: PostId,
    /// Its version after the change (`None` once deleted).
    pub version: Option<i64>,
    /// Its status after the change (`DELETED` once deleted).
    pub status: String,
    /// Its slug after the change.
    pub slug: String,
}

impl DomainEvent for PostChanged {
    const NAME: &'static str = "content.post_changed";
    const VERSION: u32 = 1;
}
