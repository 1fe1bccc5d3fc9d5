use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Actor, Clock, Page as ListPage, PageRequest, Permission, UserId};
use nexus_outbox::{DomainEvent, EventEnvelope};
use serde_json::json;

use crate::audit::{ENTITY_PAGE, summarize};
use crate::diff::{PageDiff, diff};
use crate::events::{PagePublished, PageUnpublished, PageUpdated};
use crate::permissions::{CONTENT_MANAGE, CONTENT_PUBLISH, CONTENT_READ_AUDIT};
use crate::preview::{PreviewClaims, PreviewLink, PreviewSigner};
use crate::{
    AuditEntry, AuditEntryId, AuditFilter, ContentError, ContentUnitOfWork, Locale, Page,
    PageChange, PageFilter, PageId, PageInput, PageRepository, PageSlug, PageStatus, PageVersion,
    Published,
};

/// How many due pages one scheduler turn handles at most.
pub const SCHEDULE_BATCH: u32 = 50;

/// What the public (or a preview) sees of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageView {
    /// The page.
    pub id: PageId,
    /// The version shown.
    pub version: i64,
    /// The content.
    pub content: crate::PageContent,
    /// When it was published (`None` for a preview of a draft).
    pub published_at: Option<DateTime<Utc>>,
}

/// What one scheduler turn did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleRun {
    /// Pages published.
    pub published: usize,
    /// Pages unpublished.
    pub unpublished: usize,
    /// Pages another writer changed first (left for the next turn).
    pub skipped: usize,
}

/// CMS pages: editing with versions, publishing and scheduling, previews, the public read
/// and the audit trail.
pub struct PageService {
    repo: Arc<dyn PageRepository>,
    uow: Arc<dyn ContentUnitOfWork>,
    signer: Arc<dyn PreviewSigner>,
    clock: Arc<dyn Clock>,
    preview_ttl: Duration,
}

/// Who a write is by: a user, or the scheduler.
#[derive(Clone, Copy)]
enum By {
    User(UserId),
    Scheduler,
}

impl By {
    fn user(self) -> Option<UserId> {
        match self {
            Self::User(u) => Some(u),
            Self::Scheduler => None,
        }
    }
}

fn require(actor: &Actor, permission: Permission) -> Result<(), ContentError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(ContentError::Forbidden)
    }
}

impl PageService {
    /// A service over these ports; preview links live `preview_ttl`.
    #[must_use]
    pub fn new(
        repo: Arc<dyn PageRepository>,
        uow: Arc<dyn ContentUnitOfWork>,
        signer: Arc<dyn PreviewSigner>,
        clock: Arc<dyn Clock>,
        preview_ttl: Duration,
    ) -> Self {
        Self {
            repo,
            uow,
            signer,
            clock,
            preview_ttl,
        }
    }

    async fn load(&self, id: PageId) -> Result<Page, ContentError> {
        self.repo.find(id).await?.ok_or(ContentError::NotFound)
    }

    /// Creates a DRAFT page (version 1).
    ///
    /// # Errors
    /// `Forbidden`, `Invalid`, `KeyTaken`, `SlugTaken`.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: PageInput) -> Result<Page, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let content = input.into_content()?;
        let now = self.clock.now();
        let page = Page {
            id: PageId::new(),
            draft: content,
            status: PageStatus::Draft,
            publish_at: None,
            unpublish_at: None,
            published: None,
            version: 1,
            created_by: actor.user_id(),
            created_at: now,
            updated_at: now,
        };
        let changes = summarize(None, &page.draft);
        let mut tx = self.uow.begin().await?;
        tx.pages().insert(&page).await?;
        self.finish_write(
            &mut *tx,
            &page,
            By::User(actor.user_id()),
            "created",
            changes,
        )
        .await?;
        tx.record(envelope(
            &PageUpdated {
                page_id: page.id,
                version: page.version,
            },
            now,
        )?);
        tx.commit().await?;
        Ok(page)
    }

    /// Writes the version row and the audit entry of a write of `page`.
    async fn finish_write(
        &self,
        tx: &mut dyn crate::ContentTx,
        page: &Page,
        by: By,
        action: &str,
        changes: serde_json::Value,
    ) -> Result<(), ContentError> {
        let now = page.updated_at;
        tx.pages()
            .insert_version(&PageVersion {
                page_id: page.id,
                number: page.version,
                content: page.draft.clone(),
                author: by.user(),
                created_at: now,
            })
            .await?;
        tx.pages()
            .insert_audit(&AuditEntry {
                id: AuditEntryId::new(),
                at: now,
                actor: by.user(),
                entity_kind: ENTITY_PAGE.to_owned(),
                entity_id: page.id.as_uuid(),
                action: action.to_owned(),
                changes,
            })
            .await
    }

    /// Saves `page` (already changed, version not yet bumped) from `expected`, with its
    /// version row, audit entry and events, in one unit of work.
    async fn save(
        &self,
        mut page: Page,
        expected: i64,
        by: By,
        action: &str,
        mut changes: serde_json::Value,
        events: Vec<EventEnvelope>,
    ) -> Result<Page, ContentError> {
        page.version = expected.checked_add(1).ok_or(ContentError::Conflict)?;
        page.updated_at = self.clock.now();
        if let Some(map) = changes.as_object_mut() {
            map.insert("version".to_owned(), json!(page.version));
        }
        let mut tx = self.uow.begin().await?;
        tx.pages().update(&page, expected).await?;
        self.finish_write(&mut *tx, &page, by, action, changes)
            .await?;
        for e in events {
            tx.record(e);
        }
        tx.commit().await?;
        Ok(page)
    }

    /// Changes a page's draft; the public keeps seeing the published snapshot.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (stale `expected`), `Invalid`, `KeyTaken`,
    /// `SlugTaken`.
    #[tracing::instrument(skip_all, fields(page_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: PageId,
        expected: i64,
        change: PageChange,
    ) -> Result<Page, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let mut page = self.load(id).await?;
        if page.version != expected {
            return Err(ContentError::Conflict);
        }
        let draft = change.apply(&page.draft)?;
        let changes = summarize(Some(&page.draft), &draft);
        page.draft = draft;
        let event = envelope(
            &PageUpdated {
                page_id: id,
                version: expected + 1,
            },
            self.clock.now(),
        )?;
        self.save(
            page,
            expected,
            By::User(actor.user_id()),
            "updated",
            changes,
            vec![event],
        )
        .await
    }

    /// Makes a new version whose content equals version `number`.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound` (page or version), `Conflict`, `KeyTaken`, `SlugTaken`.
    #[tracing::instrument(skip_all, fields(page_id = %id))]
    pub async fn restore(
        &self,
        actor: &Actor,
        id: PageId,
        number: i64,
        expected: i64,
    ) -> Result<Page, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let mut page = self.load(id).await?;
        if page.version != expected {
            return Err(ContentError::Conflict);
        }
        let old = self
            .repo
            .version(id, number)
            .await?
            .ok_or(ContentError::NotFound)?;
        let mut changes = summarize(Some(&page.draft), &old.content);
        if let Some(map) = changes.as_object_mut() {
            map.insert("restoredFrom".to_owned(), json!(number));
        }
        page.draft = old.content;
        let event = envelope(
            &PageUpdated {
                page_id: id,
                version: expected + 1,
            },
            self.clock.now(),
        )?;
        self.save(
            page,
            expected,
            By::User(actor.user_id()),
            "restored",
            changes,
            vec![event],
        )
        .await
    }

    /// Deletes a page that is not public (DRAFT); a PUBLISHED or SCHEDULED page must be
    /// unpublished first. Its versions go with it; its audit entries stay.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `InvalidTransition`.
    #[tracing::instrument(skip_all, fields(page_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: PageId) -> Result<(), ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let page = self.load(id).await?;
        if page.status != PageStatus::Draft {
            return Err(ContentError::InvalidTransition {
                from: page.status,
                action: "delete",
            });
        }
        let tx = self.uow.begin().await?;
        tx.pages().delete(id, page.version).await?;
        tx.pages()
            .insert_audit(&AuditEntry {
                id: AuditEntryId::new(),
                at: self.clock.now(),
                actor: Some(actor.user_id()),
                entity_kind: ENTITY_PAGE.to_owned(),
                entity_id: id.as_uuid(),
                action: "deleted".to_owned(),
                changes: json!({ "fields": [], "version": page.version, "key": page.draft.key }),
            })
            .await?;
        tx.commit().await
    }

    /// A page, for staff.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn get(&self, actor: &Actor, id: PageId) -> Result<Page, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.load(id).await
    }

    /// One page of pages, for staff.
    ///
    /// # Errors
    /// `Forbidden`.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: PageFilter,
        page: PageRequest,
    ) -> Result<ListPage<Page>, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.repo.list(&filter, page).await
    }

    /// One page of a page's versions, newest first.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn versions(
        &self,
        actor: &Actor,
        id: PageId,
        page: PageRequest,
    ) -> Result<ListPage<PageVersion>, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.load(id).await?;
        self.repo.versions(id, page).await
    }

    /// Version `number` of a page.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn version(
        &self,
        actor: &Actor,
        id: PageId,
        number: i64,
    ) -> Result<PageVersion, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.repo
            .version(id, number)
            .await?
            .ok_or(ContentError::NotFound)
    }

    /// What changed from version `from` to version `to`.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound` (either version).
    pub async fn diff(
        &self,
        actor: &Actor,
        id: PageId,
        from: i64,
        to: i64,
    ) -> Result<PageDiff, ContentError> {
        let old = self.version(actor, id, from).await?;
        let new = self.version(actor, id, to).await?;
        Ok(diff(from, &old.content, to, &new.content))
    }

    /// Publishes the current draft now: it becomes what the public sees; any pending
    /// `publish_at` is cleared (an `unpublish_at` stays).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `SlugTaken` (another page is public there).
    #[tracing::instrument(skip_all, fields(page_id = %id))]
    pub async fn publish(
        &self,
        actor: &Actor,
        id: PageId,
        expected: i64,
    ) -> Result<Page, ContentError> {
        require(actor, CONTENT_PUBLISH)?;
        let page = self.load(id).await?;
        if page.version != expected {
            return Err(ContentError::Conflict);
        }
        self.publish_page(page, By::User(actor.user_id())).await
    }

    async fn publish_page(&self, mut page: Page, by: By) -> Result<Page, ContentError> {
        let now = self.clock.now();
        let expected = page.version;
        let before = page.published.as_ref().map(|p| p.content.clone());
        let mut changes = summarize(before.as_ref(), &page.draft);
        if let Some(map) = changes.as_object_mut() {
            map.insert(
                "status".to_owned(),
                json!({ "from": page.status, "to": PageStatus::Published }),
            );
        }
        page.published = Some(Published {
            content: page.draft.clone(),
            version: expected + 1,
            at: now,
        });
        page.status = PageStatus::Published;
        page.publish_at = None;
        let mut events = Vec::new();
        if let Some(old) = before
            && (old.slug != page.draft.slug || old.locale != page.draft.locale)
        {
            // The old address stops answering: tell whoever indexes it.
            events.push(envelope(
                &PageUnpublished {
                    page_id: page.id,
                    version: expected + 1,
                    locale: old.locale.to_string(),
                    slug: old.slug.to_string(),
                },
                now,
            )?);
        }
        events.push(envelope(
            &PagePublished {
                page_id: page.id,
                version: expected + 1,
                locale: page.draft.locale.to_string(),
                slug: page.draft.slug.to_string(),
            },
            now,
        )?);
        self.save(page, expected, by, "published", changes, events)
            .await
    }

    /// Takes a page out of public view (back to DRAFT), clearing its schedule.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `InvalidTransition` (a DRAFT).
    #[tracing::instrument(skip_all, fields(page_id = %id))]
    pub async fn unpublish(
        &self,
        actor: &Actor,
        id: PageId,
        expected: i64,
    ) -> Result<Page, ContentError> {
        require(actor, CONTENT_PUBLISH)?;
        let page = self.load(id).await?;
        if page.version != expected {
            return Err(ContentError::Conflict);
        }
        if page.status == PageStatus::Draft {
            return Err(ContentError::InvalidTransition {
                from: page.status,
                action: "unpublish",
            });
        }
        self.unpublish_page(page, By::User(actor.user_id())).await
    }

    async fn unpublish_page(&self, mut page: Page, by: By) -> Result<Page, ContentError> {
        let expected = page.version;
        let changes = json!({
            "fields": ["status"],
            "values": { "status": { "from": page.status, "to": PageStatus::Draft } },
        });
        let mut events = Vec::new();
        if let Some(old) = page.published.take() {
            events.push(envelope(
                &PageUnpublished {
                    page_id: page.id,
                    version: expected + 1,
                    locale: old.content.locale.to_string(),
                    slug: old.content.slug.to_string(),
                },
                self.clock.now(),
            )?);
        } else {
            events.push(envelope(
                &PageUpdated {
                    page_id: page.id,
                    version: expected + 1,
                },
                self.clock.now(),
            )?);
        }
        page.status = PageStatus::Draft;
        page.publish_at = None;
        page.unpublish_at = None;
        self.save(page, expected, by, "unpublished", changes, events)
            .await
    }

    /// Schedules publishing (`publish_at`: the page becomes SCHEDULED; not for a
    /// PUBLISHED page, which is published now or unpublished first) and/or unpublishing
    /// (`unpublish_at`: of a PUBLISHED page, or of a page scheduled earlier). Times must be
    /// in the future, and `unpublish_at` after `publish_at`.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `Invalid`, `InvalidTransition`.
    #[tracing::instrument(skip_all, fields(page_id = %id))]
    pub async fn schedule(
        &self,
        actor: &Actor,
        id: PageId,
        expected: i64,
        publish_at: Option<DateTime<Utc>>,
        unpublish_at: Option<DateTime<Utc>>,
    ) -> Result<Page, ContentError> {
        require(actor, CONTENT_PUBLISH)?;
        let now = self.clock.now();
        let mut issues = Vec::new();
        if publish_at.is_none() && unpublish_at.is_none() {
            issues.push(crate::FieldIssue::new(
                "publishAt",
                "required",
                "give publishAt, unpublishAt or both",
            ));
        }
        for (field, at) in [("publishAt", publish_at), ("unpublishAt", unpublish_at)] {
            if at.is_some_and(|t| t <= now) {
                issues.push(crate::FieldIssue::new(
                    field,
                    "not_future",
                    "must be in the future",
                ));
            }
        }
        if !issues.is_empty() {
            return Err(ContentError::Invalid(issues));
        }
        let mut page = self.load(id).await?;
        if page.version != expected {
            return Err(ContentError::Conflict);
        }
        if publish_at.is_some() && page.status == PageStatus::Published {
            return Err(ContentError::InvalidTransition {
                from: page.status,
                action: "schedule the publication of",
            });
        }
        let effective_publish = publish_at.or(page.publish_at);
        if unpublish_at.is_some() && page.status == PageStatus::Draft && publish_at.is_none() {
            return Err(ContentError::InvalidTransition {
                from: page.status,
                action: "schedule the unpublication of",
            });
        }
        let effective_unpublish = unpublish_at.or(page.unpublish_at);
        if let (Some(p), Some(u)) = (effective_publish, effective_unpublish)
            && u <= p
        {
            return Err(ContentError::field(
                "unpublishAt",
                "before_publish",
                "must be after publishAt",
            ));
        }
        let old_status = page.status;
        if publish_at.is_some() {
            page.status = PageStatus::Scheduled;
            page.publish_at = publish_at;
        }
        if unpublish_at.is_some() {
            page.unpublish_at = unpublish_at;
        }
        let changes = json!({
            "fields": ["schedule"],
            "status": { "from": old_status, "to": page.status },
            "publishAt": page.publish_at,
            "unpublishAt": page.unpublish_at,
        });
        let event = envelope(
            &PageUpdated {
                page_id: id,
                version: expected + 1,
            },
            now,
        )?;
        self.save(
            page,
            expected,
            By::User(actor.user_id()),
            "scheduled",
            changes,
            vec![event],
        )
        .await
    }

    /// Publishes the SCHEDULED pages whose time came and unpublishes the PUBLISHED ones
    /// whose end came, each in its own unit of work guarded by the version read: with two
    /// workers, one wins each page and the other's write is a `Conflict`, skipped.
    ///
    /// # Errors
    /// `Unexpected` when the due pages cannot be read; a failure on one page is logged and
    /// the others still run.
    pub async fn run_schedule(&self) -> Result<ScheduleRun, ContentError> {
        let now = self.clock.now();
        let mut run = ScheduleRun::default();
        for page in self.repo.due(now, SCHEDULE_BATCH).await? {
            let id = page.id;
            let publish =
                page.status == PageStatus::Scheduled && page.publish_at.is_some_and(|t| t <= now);
            let result = if publish {
                self.publish_page(page, By::Scheduler).await.map(|_| true)
            } else if page.status == PageStatus::Published
                && page.unpublish_at.is_some_and(|t| t <= now)
            {
                self.unpublish_page(page, By::Scheduler)
                    .await
                    .map(|_| false)
            } else {
                continue;
            };
            match result {
                Ok(true) => run.published += 1,
                Ok(false) => run.unpublished += 1,
                Err(ContentError::Conflict) => run.skipped += 1,
                Err(err) => {
                    run.skipped += 1;
                    tracing::warn!(page_id = %id, error = %err, "a scheduled page change failed; it is tried again on the next turn");
                }
            }
        }
        Ok(run)
    }

    /// A signed link to the current draft version of a page, valid for the preview TTL.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn preview_link(
        &self,
        actor: &Actor,
        id: PageId,
    ) -> Result<PreviewLink, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let page = self.load(id).await?;
        let claims = PreviewClaims {
            page_id: id,
            version: page.version,
            expires_at: self.clock.now() + self.preview_ttl,
        };
        Ok(PreviewLink {
            token: claims.token(self.signer.as_ref()),
            claims,
        })
    }

    /// The version a preview token names, for whoever holds it.
    ///
    /// # Errors
    /// `NotFound` (malformed or tampered token, or the page is gone), `PreviewExpired`.
    pub async fn preview(&self, token: &str) -> Result<PageView, ContentError> {
        let claims =
            PreviewClaims::verify(token, self.signer.as_ref()).ok_or(ContentError::NotFound)?;
        if claims.expires_at <= self.clock.now() {
            return Err(ContentError::PreviewExpired);
        }
        let v = self
            .repo
            .version(claims.page_id, claims.version)
            .await?
            .ok_or(ContentError::NotFound)?;
        Ok(PageView {
            id: claims.page_id,
            version: v.number,
            content: v.content,
            published_at: None,
        })
    }

    /// The published snapshot at `slug` in `locale`, for anyone.
    ///
    /// # Errors
    /// `NotFound` when nothing is published there.
    pub async fn public(&self, slug: &PageSlug, locale: &Locale) -> Result<PageView, ContentError> {
        let page = self
            .repo
            .find_published(slug, locale)
            .await?
            .ok_or(ContentError::NotFound)?;
        let published = page.published.ok_or(ContentError::NotFound)?;
        Ok(PageView {
            id: page.id,
            version: published.version,
            content: published.content,
            published_at: Some(published.at),
        })
    }

    /// How many pages are published, for anyone (the sitemap plans its files with it).
    ///
    /// # Errors
    /// `Unexpected` when the store fails.
    pub async fn count_published(&self) -> Result<u64, ContentError> {
        self.repo.count_published().await
    }

    /// Up to `limit` published snapshots of the pages after `after` in id order, each with
    /// its page's id, for anyone: the sitemap walks every public page with it in batches.
    ///
    /// # Errors
    /// `Unexpected` when the store fails.
    pub async fn published_after(
        &self,
        after: Option<PageId>,
        limit: u32,
    ) -> Result<Vec<(PageId, Published)>, ContentError> {
        Ok(self
            .repo
            .published_after(after, limit)
            .await?
            .into_iter()
            .filter_map(|page| page.published.map(|p| (page.id, p)))
            .collect())
    }

    /// One page of the audit trail.
    ///
    /// # Errors
    /// `Forbidden`.
    pub async fn audit(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<ListPage<AuditEntry>, ContentError> {
        require(actor, CONTENT_READ_AUDIT)?;
        self.repo.audit(&filter, page).await
    }
}

fn envelope<E: DomainEvent>(event: &E, now: DateTime<Utc>) -> Result<EventEnvelope, ContentError> {
    Ok(EventEnvelope::new(event, now)?)
}
