//! The SEO service: audits public items against what is stored of the rest of the site,
//! keeps the results, and answers the site report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use nexus_kernel::{Actor, Clock, PageRequest, Permission};
use uuid::Uuid;

use crate::error::SeoError;
use crate::permissions::{SEO_READ, SEO_SCAN};
use crate::ports::{FindingsStore, ScanQueue, SeoSource};
use crate::rules::{SiteContext, audit, internal_path, normalized};
use crate::stored::{ScanRequest, SeoReport, StoredAudit};
use crate::subject::{SeoSubject, SubjectKind};

/// How many items a scan reads at once.
pub const SCAN_BATCH: u32 = 200;

/// How many other items sharing a title or description are audited again after one item
/// changes (the rest catch up at the next scan).
pub const NEIGHBOURS_LIMIT: u32 = 100;

fn require(actor: &Actor, permission: Permission) -> Result<(), SeoError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(SeoError::Forbidden)
    }
}

/// Audits items, keeps their findings and reports on the site.
pub struct SeoService {
    store: Arc<dyn FindingsStore>,
    sources: BTreeMap<SubjectKind, Arc<dyn SeoSource>>,
    queue: Arc<dyn ScanQueue>,
    clock: Arc<dyn Clock>,
    fixed_paths: BTreeSet<String>,
    site_name: String,
}

impl SeoService {
    /// A service keeping audits in `store`, reading items from `sources` (one per kind),
    /// queueing scans on `queue`; `fixed_paths` are the site's paths that are no item (`/`).
    #[must_use]
    pub fn new(
        store: Arc<dyn FindingsStore>,
        sources: Vec<Arc<dyn SeoSource>>,
        queue: Arc<dyn ScanQueue>,
        clock: Arc<dyn Clock>,
        fixed_paths: Vec<String>,
    ) -> Self {
        Self {
            store,
            sources: sources.into_iter().map(|s| (s.kind(), s)).collect(),
            queue,
            clock,
            fixed_paths: fixed_paths.into_iter().collect(),
            site_name: String::new(),
        }
    }

    /// This service auditing items as the site named `site_name` serves them: an item
    /// without a meta title is judged by the generated `title | site_name`
    /// ([`SeoSubject::served`]). Without a name, the title alone.
    #[must_use]
    pub fn for_site(mut self, site_name: &str) -> Self {
        site_name.trim().clone_into(&mut self.site_name);
        self
    }

    /// The site report: its score, counts by severity and one page of items worst first.
    ///
    /// # Errors
    /// `Forbidden` without `seo.read`; `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn report(&self, actor: &Actor, page: PageRequest) -> Result<SeoReport, SeoError> {
        require(actor, SEO_READ)?;
        let totals = self.store.totals().await?;
        let items = self.store.worst_first(page).await?;
        Ok(SeoReport::new(totals, items))
    }

    /// One item's stored audit.
    ///
    /// # Errors
    /// `Forbidden` without `seo.read`; `NotFound` when it was never audited (or is no longer
    /// public); `Unexpected`.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), id = %id))]
    pub async fn item(
        &self,
        actor: &Actor,
        kind: SubjectKind,
        id: Uuid,
    ) -> Result<StoredAudit, SeoError> {
        require(actor, SEO_READ)?;
        self.store.find(kind, id).await?.ok_or(SeoError::NotFound)
    }

    /// Queues an audit of the whole site for the worker, unless one is waiting or running.
    ///
    /// # Errors
    /// `Forbidden` without `seo.scan`; `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn request_scan(&self, actor: &Actor) -> Result<ScanRequest, SeoError> {
        require(actor, SEO_SCAN)?;
        self.queue.enqueue(actor.user_id().as_uuid()).await
    }

    /// Audits item `id` of `kind` as it is public now, then the items that shared its title
    /// or description before or share them now; drops its audit when it is not public.
    /// Run by the outbox subscribers when an item changes.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), id = %id))]
    pub async fn refresh(&self, kind: SubjectKind, id: Uuid) -> Result<(), SeoError> {
        let Some(source) = self.sources.get(&kind) else {
            return Ok(());
        };
        let before = self.store.find(kind, id).await?;
        let mut titles = Vec::new();
        let mut descriptions = Vec::new();
        if let Some(before) = &before {
            titles.push(before.title_key.clone());
            descriptions.extend(before.description_key.clone());
        }
        match source.published(id).await? {
            Some(subject) => {
                let stored = self.audit_one(&subject).await?;
                titles.push(stored.title_key.clone());
                descriptions.extend(stored.description_key.clone());
            }
            None => {
                if before.is_none() {
                    return Ok(());
                }
                self.store.remove(kind, id).await?;
            }
        }
        titles.retain(|t| !t.is_empty());
        titles.dedup();
        descriptions.dedup();
        let neighbours = self
            .store
            .sharing_text(&titles, &descriptions, NEIGHBOURS_LIMIT + 1)
            .await?;
        for (other_kind, other_id) in neighbours {
            if (other_kind, other_id) == (kind, id) {
                continue;
            }
            self.reaudit(other_kind, other_id).await?;
        }
        Ok(())
    }

    /// Drops the stored audit of item `id` of `kind` (it was deleted), then audits again
    /// the items that shared its title or description.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), id = %id))]
    pub async fn forget(&self, kind: SubjectKind, id: Uuid) -> Result<(), SeoError> {
        let Some(before) = self.store.remove(kind, id).await? else {
            return Ok(());
        };
        let titles = vec![before.title_key];
        let descriptions: Vec<String> = before.description_key.into_iter().collect();
        for (other_kind, other_id) in self
            .store
            .sharing_text(&titles, &descriptions, NEIGHBOURS_LIMIT)
            .await?
        {
            self.reaudit(other_kind, other_id).await?;
        }
        Ok(())
    }

    /// Audits every public item of every source in batches of [`SCAN_BATCH`], twice: the
    /// first pass stores every item, so the second sees the whole site's titles,
    /// descriptions and paths. Then drops the audits of items no longer public. Run by the
    /// worker for a queued scan.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn scan(&self) -> Result<u64, SeoError> {
        let started = self.clock.now();
        self.audit_everything().await?;
        let audited = self.audit_everything().await?;
        let dropped = self.store.remove_audited_before(started).await?;
        tracing::info!(audited, dropped, "SEO scan done");
        Ok(audited)
    }

    /// Audits every public item of every source once, in batches.
    async fn audit_everything(&self) -> Result<u64, SeoError> {
        let mut audited = 0;
        for source in self.sources.values() {
            let mut after = None;
            loop {
                let batch = source.published_after(after, SCAN_BATCH).await?;
                let Some(last) = batch.last() else { break };
                after = Some(last.id);
                for subject in &batch {
                    self.audit_one(subject).await?;
                    audited += 1;
                }
                if batch.len() < SCAN_BATCH as usize {
                    break;
                }
            }
        }
        Ok(audited)
    }

    async fn reaudit(&self, kind: SubjectKind, id: Uuid) -> Result<(), SeoError> {
        let Some(source) = self.sources.get(&kind) else {
            return Ok(());
        };
        match source.published(id).await? {
            Some(subject) => {
                self.audit_one(&subject).await?;
            }
            None => {
                self.store.remove(kind, id).await?;
            }
        }
        Ok(())
    }

    /// Audits `subject` as it is served (its generated meta title and description where it
    /// has none) against the stored rest of the site (three indexed lookups) and stores the
    /// result.
    async fn audit_one(&self, subject: &SeoSubject) -> Result<StoredAudit, SeoError> {
        let subject = &subject.served(&self.site_name);
        let site = self.context_of(subject).await?;
        let result = audit(subject, &site);
        let stored = StoredAudit::of(subject, result, self.clock.now());
        self.store.save(&stored).await?;
        Ok(stored)
    }

    /// What the rules need of the rest of the site to audit `subject`: whether its internal
    /// links lead somewhere, and how many items share its title and description.
    async fn context_of(&self, subject: &SeoSubject) -> Result<SiteContext, SeoError> {
        let mut site = SiteContext::default();
        site.known_paths.extend(self.fixed_paths.iter().cloned());
        site.known_paths.insert(subject.path.clone());
        let links: BTreeSet<String> = subject
            .links
            .iter()
            .filter_map(|l| internal_path(l))
            .filter(|p| !site.known_paths.contains(*p))
            .map(str::to_owned)
            .collect();
        if !links.is_empty() {
            let links: Vec<String> = links.into_iter().collect();
            site.known_paths
                .extend(self.store.existing_paths(&links).await?);
        }
        let title_key = normalized(subject.effective_title());
        if !title_key.is_empty() {
            let others = self
                .store
                .count_titles(&title_key, subject.kind, subject.id)
                .await?;
            site.title_counts.insert(title_key, one_more(others));
        }
        if let Some(key) = subject.effective_description().map(normalized) {
            let others = self
                .store
                .count_descriptions(&key, subject.kind, subject.id)
                .await?;
            site.description_counts.insert(key, one_more(others));
        }
        Ok(site)
    }
}

/// `others` items plus the one being audited.
fn one_more(others: u64) -> usize {
    usize::try_from(others)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
