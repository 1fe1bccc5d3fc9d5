use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::{Page as ListPage, PageRequest};
use nexus_outbox::EventEnvelope;

use crate::{
    AuditEntry, AuditFilter, ContentError, Locale, Page, PageFilter, PageId, PageSlug, PageVersion,
    Post, PostFilter, PostId, PostQuery, TeamMember, TeamMemberId,
};

/// Loads pages, versions and audit entries outside a unit of work. Lists answer exact
/// totals without loading whole tables.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PageRepository: Send + Sync {
    /// A page in any status; `Ok(None)` when there is none.
    async fn find(&self, id: PageId) -> Result<Option<Page>, ContentError>;

    /// The page whose PUBLISHED snapshot is at `slug` in `locale`; `Ok(None)` when none.
    async fn find_published(
        &self,
        slug: &PageSlug,
        locale: &Locale,
    ) -> Result<Option<Page>, ContentError>;

    /// One page of pages matching `filter`, most recently changed first (ties by id).
    async fn list(
        &self,
        filter: &PageFilter,
        page: PageRequest,
    ) -> Result<ListPage<Page>, ContentError>;

    /// One page of a page's versions, newest first.
    async fn versions(
        &self,
        id: PageId,
        page: PageRequest,
    ) -> Result<ListPage<PageVersion>, ContentError>;

    /// Version `number` of a page; `Ok(None)` when there is none.
    async fn version(&self, id: PageId, number: i64) -> Result<Option<PageVersion>, ContentError>;

    /// How many pages are PUBLISHED.
    async fn count_published(&self) -> Result<u64, ContentError>;

    /// Up to `limit` PUBLISHED pages with an id after `after` (from the first when `None`),
    /// in id order: a walk of every public page in batches.
    async fn published_after(
        &self,
        after: Option<PageId>,
        limit: u32,
    ) -> Result<Vec<Page>, ContentError>;

    /// Up to `limit` pages with work due at `now`: SCHEDULED with `publish_at <= now`, or
    /// PUBLISHED with `unpublish_at <= now`; oldest due first.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Page>, ContentError>;

    /// One page of audit entries matching `filter`, newest first.
    async fn audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<ListPage<AuditEntry>, ContentError>;
}

/// Writes pages inside one unit of work (see [`ContentTx::pages`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PageStore: Send + Sync {
    /// Inserts a new page.
    ///
    /// # Errors
    /// `KeyTaken` or `SlugTaken`.
    async fn insert(&self, page: &Page) -> Result<(), ContentError>;

    /// Saves every mutable field of `page` (whose `version` is already the new one) if the
    /// stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `KeyTaken`,
    /// `SlugTaken` (a draft or a published slug taken).
    async fn update(&self, page: &Page, expected_version: i64) -> Result<(), ContentError>;

    /// Deletes a page (and its versions) if its stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not.
    async fn delete(&self, id: PageId, expected_version: i64) -> Result<(), ContentError>;

    /// Stores a version row.
    async fn insert_version(&self, version: &PageVersion) -> Result<(), ContentError>;

    /// Stores an audit entry.
    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), ContentError>;
}

/// Opens units of work over the content records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ContentUnitOfWork: Send + Sync {
    /// Starts one.
    ///
    /// # Errors
    /// `Unexpected` when no transaction can start.
    async fn begin(&self) -> Result<Box<dyn ContentTx>, ContentError>;
}

/// One open unit of work: the page store bound to its transaction and the events it
/// records. Dropped without `commit`, nothing of it happened.
#[async_trait]
pub trait ContentTx: Send {
    /// Pages, versions and audit entries, in this transaction.
    fn pages(&self) -> &dyn PageStore;

    /// Team members, in this transaction.
    fn team(&self) -> &dyn TeamStore;

    /// Blog posts and their old slugs, in this transaction.
    fn posts(&self) -> &dyn PostStore;

    /// Records `event`, written to the outbox with the changes on commit.
    fn record(&mut self, event: EventEnvelope);

    /// Records `record`, written to the audit log with the changes when the unit commits.
    fn audit(&mut self, record: nexus_kernel::AuditRecord);

    /// Writes the changes and the recorded events together.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails.
    async fn commit(self: Box<Self>) -> Result<(), ContentError>;
}

/// Loads team members outside a unit of work.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TeamRepository: Send + Sync {
    /// A member; `Ok(None)` when there is none.
    async fn find(&self, id: TeamMemberId) -> Result<Option<TeamMember>, ContentError>;

    /// One page of members in list order (position, then id); only the visible ones when
    /// `visible_only`.
    async fn list(
        &self,
        visible_only: bool,
        page: PageRequest,
    ) -> Result<ListPage<TeamMember>, ContentError>;

    /// The members among `ids` that exist, in any order.
    async fn find_many(&self, ids: &[TeamMemberId]) -> Result<Vec<TeamMember>, ContentError>;

    /// The largest position in use; `Ok(None)` when there are no members.
    async fn max_position(&self) -> Result<Option<i32>, ContentError>;
}

/// Writes team members inside one unit of work (see [`ContentTx::team`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Inserts a new member.
    async fn insert(&self, member: &TeamMember) -> Result<(), ContentError>;

    /// Saves every mutable field of `member` (whose `version` is already the new one) if the
    /// stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone.
    async fn update(&self, member: &TeamMember, expected_version: i64) -> Result<(), ContentError>;

    /// Deletes a member if its stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not.
    async fn delete(&self, id: TeamMemberId, expected_version: i64) -> Result<(), ContentError>;
}

/// Loads blog posts outside a unit of work. Lists answer exact totals without loading whole
/// tables.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PostRepository: Send + Sync {
    /// A post in any status; `Ok(None)` when there is none.
    async fn find(&self, id: PostId) -> Result<Option<Post>, ContentError>;

    /// The post whose current slug is `slug`, in any status; `Ok(None)` when none.
    async fn find_by_slug(&self, slug: &str) -> Result<Option<Post>, ContentError>;

    /// The post that once had `slug` (an old slug); `Ok(None)` when none.
    async fn find_by_old_slug(&self, slug: &str) -> Result<Option<PostId>, ContentError>;

    /// One page of posts matching `filter`: most recently changed first (staff), or, with
    /// `published_order`, last published first.
    async fn list(
        &self,
        filter: &PostFilter,
        published_order: bool,
        page: PageRequest,
    ) -> Result<ListPage<Post>, ContentError>;

    /// Up to `limit` SCHEDULED posts with `publish_at <= now`, oldest due first.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Post>, ContentError>;

    /// How many posts are PUBLISHED.
    async fn count_published(&self) -> Result<u64, ContentError>;

    /// Up to `limit` PUBLISHED posts with an id after `after`, in id order.
    async fn published_after(
        &self,
        after: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<Post>, ContentError>;
}

/// Writes blog posts inside one unit of work (see [`ContentTx::posts`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PostStore: Send + Sync {
    /// Inserts a new post.
    ///
    /// # Errors
    /// `SlugTaken`.
    async fn insert(&self, post: &Post) -> Result<(), ContentError>;

    /// Saves every mutable field of `post` (whose `version` is already the new one) if the
    /// stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `SlugTaken`.
    async fn update(&self, post: &Post, expected_version: i64) -> Result<(), ContentError>;

    /// Deletes a post and its old slugs if its stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not.
    async fn delete(&self, id: PostId, expected_version: i64) -> Result<(), ContentError>;

    /// Records `slug` as an old slug of post `id` (kept answering with a redirect).
    ///
    /// # Errors
    /// `SlugTaken` when another post's old slug is `slug`.
    async fn add_old_slug(&self, id: PostId, slug: &str) -> Result<(), ContentError>;

    /// Forgets the old slug `slug` of post `id` (it takes it back as its current slug).
    async fn drop_old_slug(&self, id: PostId, slug: &str) -> Result<(), ContentError>;
}

/// Searches the public blog.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PostSearch: Send + Sync {
    /// One page of PUBLISHED posts matching every filter of `query`, with the exact total:
    /// best match first when it has search text, last published first otherwise. Search
    /// text is matched as words (never as query syntax, so no input can make it fail); a
    /// text with no searchable word matches nothing.
    async fn search(
        &self,
        query: &PostQuery,
        page: PageRequest,
    ) -> Result<ListPage<Post>, ContentError>;
}

/// An external search index of the PUBLISHED posts (Meilisearch). The `index_post`
/// subscriber ([`crate::IndexPost`]) keeps it in step after every committed post write;
/// [`crate::PostReindexer`] rebuilds it from the database. The database search reads the
/// posts table itself and needs no index.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PostIndex: Send + Sync {
    /// Adds each post, or replaces the indexed copy with the same id.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses the documents.
    async fn upsert(&self, posts: &[Post]) -> Result<(), ContentError>;

    /// Removes the post from the index; removing one that is not there is fine.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses the removal.
    async fn remove(&self, id: PostId) -> Result<(), ContentError>;

    /// Removes every document, before a rebuild.
    ///
    /// # Errors
    /// `Unexpected` when the index cannot be reached or refuses.
    async fn clear(&self) -> Result<(), ContentError>;
}
