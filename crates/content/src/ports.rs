use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::{Page as ListPage, PageRequest};
use nexus_outbox::EventEnvelope;

use crate::{
    AuditEntry, AuditFilter, ContentError, Locale, Page, PageFilter, PageId, PageSlug, PageVersion,
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

    /// Records `event`, written to the outbox with the changes on commit.
    fn record(&mut self, event: EventEnvelope);

    /// Writes the changes and the recorded events together.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails.
    async fn commit(self: Box<Self>) -> Result<(), ContentError>;
}
