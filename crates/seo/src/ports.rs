//! What the SEO context needs from the outside: where its audits are kept, where the public
//! items come from, and how a scan of the whole site is queued.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::{Page, PageRequest};
use nexus_outbox::EventEnvelope;
use uuid::Uuid;

use crate::error::SeoError;
use crate::redirect_rules::{RedirectAudit, RedirectRule};
use crate::stored::{AuditTotals, ScanRequest, StoredAudit};
use crate::subject::{SeoSubject, SubjectKind};

/// Keeps each public item's last audit. Every lookup the rules make of the rest of the site
/// is one indexed query here, so auditing one item never reads every other.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FindingsStore: Send + Sync {
    /// Stores `audit`, replacing the item's previous one.
    async fn save(&self, audit: &StoredAudit) -> Result<(), SeoError>;

    /// The item's stored audit; `Ok(None)` when it has none.
    async fn find(&self, kind: SubjectKind, id: Uuid) -> Result<Option<StoredAudit>, SeoError>;

    /// Drops the item's stored audit, answering what it was.
    async fn remove(&self, kind: SubjectKind, id: Uuid) -> Result<Option<StoredAudit>, SeoError>;

    /// How many stored items other than (`kind`, `id`) have this normalized title.
    async fn count_titles(
        &self,
        title_key: &str,
        kind: SubjectKind,
        id: Uuid,
    ) -> Result<u64, SeoError>;

    /// How many stored items other than (`kind`, `id`) have this normalized description.
    async fn count_descriptions(
        &self,
        description_key: &str,
        kind: SubjectKind,
        id: Uuid,
    ) -> Result<u64, SeoError>;

    /// Up to `limit` stored items whose normalized title is one of `title_keys` or whose
    /// normalized description is one of `description_keys`.
    async fn sharing_text(
        &self,
        title_keys: &[String],
        description_keys: &[String],
        limit: u32,
    ) -> Result<Vec<(SubjectKind, Uuid)>, SeoError>;

    /// Which of `paths` are the path of a stored item.
    async fn existing_paths(&self, paths: &[String]) -> Result<Vec<String>, SeoError>;

    /// Totals over every stored audit.
    async fn totals(&self) -> Result<AuditTotals, SeoError>;

    /// One page of stored audits, lowest score first (ties by path, then id).
    async fn worst_first(&self, page: PageRequest) -> Result<Page<StoredAudit>, SeoError>;

    /// Drops every audit made before `at` (items a scan no longer found public).
    async fn remove_audited_before(&self, at: DateTime<Utc>) -> Result<u64, SeoError>;
}

/// The public items of one context (the catalog's products, the content's pages), described
/// as the rules see them. The context that owns the items implements it; the app composes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SeoSource: Send + Sync {
    /// The kind of item it gives.
    fn kind(&self) -> SubjectKind;

    /// Up to `limit` public items with an id after `after` (from the first when `None`), in
    /// id order: a walk of every public item in batches.
    async fn published_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SeoSubject>, SeoError>;

    /// The public item `id`; `Ok(None)` when it is not public (or does not exist).
    async fn published(&self, id: Uuid) -> Result<Option<SeoSubject>, SeoError>;
}

/// Queues a scan of the whole site for the worker.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ScanQueue: Send + Sync {
    /// Queues a scan unless one is already waiting or running (checked and queued
    /// atomically, so two racing requests queue one scan), and records the request (who
    /// asked, when, what came of it) in the staff audit trail in the same write.
    async fn enqueue(&self, requested_by: Uuid) -> Result<ScanRequest, SeoError>;
}

/// Loads redirect rules outside a unit of work.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RedirectRepository: Send + Sync {
    /// A rule; `Ok(None)` when there is none.
    async fn find(&self, id: Uuid) -> Result<Option<RedirectRule>, SeoError>;

    /// One page of rules by source path (ties by id); with `query`, only those whose source
    /// or target contains it (case-insensitive, literally: no wildcards).
    async fn list(
        &self,
        query: Option<String>,
        page: PageRequest,
    ) -> Result<Page<RedirectRule>, SeoError>;

    /// Every rule, by source path, at most `limit` of them.
    async fn all(&self, limit: u32) -> Result<Vec<RedirectRule>, SeoError>;
}

/// Writes redirect rules inside one unit of work (see [`RedirectTx::redirects`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RedirectStore: Send + Sync {
    /// Every rule as this unit of work sees it, at most `limit` of them. Units of work that
    /// write rules run one at a time, so what this answers stays true until the commit.
    async fn all(&self, limit: u32) -> Result<Vec<RedirectRule>, SeoError>;

    /// Inserts a new rule.
    ///
    /// # Errors
    /// `SourceTaken` when another rule has its source.
    async fn insert(&self, rule: &RedirectRule) -> Result<(), SeoError>;

    /// Saves every mutable field of `rule` (whose `version` is already the new one) if the
    /// stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `SourceTaken`.
    async fn update(&self, rule: &RedirectRule, expected_version: i64) -> Result<(), SeoError>;

    /// Deletes a rule if its stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not (or the row is gone).
    async fn delete(&self, id: Uuid, expected_version: i64) -> Result<(), SeoError>;

    /// Stores an entry of the audit trail.
    async fn insert_audit(&self, entry: &RedirectAudit) -> Result<(), SeoError>;
}

/// Opens units of work over the redirect rules.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RedirectUnitOfWork: Send + Sync {
    /// Starts one; it waits for any other open one that writes rules.
    ///
    /// # Errors
    /// `Unexpected` when no transaction can start.
    async fn begin(&self) -> Result<Box<dyn RedirectTx>, SeoError>;
}

/// One open unit of work over the redirect rules and the events it records. Dropped
/// without `commit`, nothing of it happened.
#[async_trait]
pub trait RedirectTx: Send {
    /// The rules and the audit trail, in this transaction.
    fn redirects(&self) -> &dyn RedirectStore;

    /// Records `event`, written to the outbox with the changes on commit.
    fn record(&mut self, event: EventEnvelope);

    /// Writes the changes and the recorded events together.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails.
    async fn commit(self: Box<Self>) -> Result<(), SeoError>;
}
