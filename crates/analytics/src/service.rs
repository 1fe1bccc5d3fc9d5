//! Ingestion, roll-up and reports.

use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate};
use nexus_kernel::{Actor, Clock, Page, PageRequest};
use uuid::Uuid;

use crate::permissions::ANALYTICS_READ;
use crate::{
    AnalyticsError, CampaignStats, DailySalt, DateRange, DayStats, FieldProblem, Funnel,
    MetricEvent, MetricsStore, NewEvent, PageStats, RawEvent, ReferrerHost, ReferrerStats,
    SaltStore, VisitorHasher, is_bot,
};

/// The most events one batch may hold.
pub const MAX_BATCH: usize = 50;

/// Raw events claimed by one roll-up transaction.
pub const ROLLUP_BATCH: u32 = 1000;

/// Who sent a batch, as far as metrics may know: used for the day's hash and the bot
/// filter, never stored.
#[derive(Clone)]
pub struct Visitor {
    /// The client address the app resolved (trusted proxies honoured).
    pub client: String,
    /// The `User-Agent` header, or empty.
    pub user_agent: String,
    /// This site's own host (from the `Host` header): referrals from it are dropped.
    pub site: Option<ReferrerHost>,
}

impl std::fmt::Debug for Visitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visitor").finish_non_exhaustive()
    }
}

/// What happened to an accepted batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    /// Events stored.
    pub stored: usize,
    /// Events dropped because the sender is a bot.
    pub dropped: usize,
}

/// Page metrics: takes batches of events in, rolls them up, answers staff reports.
pub struct AnalyticsService {
    store: Arc<dyn MetricsStore>,
    salts: Arc<dyn SaltStore>,
    hasher: Arc<dyn VisitorHasher>,
    clock: Arc<dyn Clock>,
    /// The salts of the last days asked for (today and yesterday at most), so that a batch
    /// costs one statement.
    salt_cache: Mutex<Vec<(NaiveDate, DailySalt)>>,
}

impl AnalyticsService {
    /// A service over these ports.
    #[must_use]
    pub fn new(
        store: Arc<dyn MetricsStore>,
        salts: Arc<dyn SaltStore>,
        hasher: Arc<dyn VisitorHasher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            salts,
            hasher,
            clock,
            salt_cache: Mutex::new(Vec::new()),
        }
    }

    /// Validates a batch of 1 to [`MAX_BATCH`] events and stores them in one statement,
    /// each attributed to the visitor's hash of its day. A bot's batch is validated, then
    /// dropped and counted in `nexus_metrics_bot_events_total`.
    ///
    /// # Errors
    /// `InvalidBatch` naming every refused field (`events[3].path`), nothing stored.
    #[tracing::instrument(skip_all, fields(events = raw.len()))]
    pub async fn ingest(
        &self,
        raw: &[RawEvent],
        visitor: &Visitor,
    ) -> Result<Ingested, AnalyticsError> {
        if raw.is_empty() || raw.len() > MAX_BATCH {
            return Err(AnalyticsError::InvalidBatch(vec![FieldProblem {
                field: "events".to_owned(),
                code: if raw.is_empty() {
                    "too_short"
                } else {
                    "too_long"
                },
                message: format!("a batch holds 1 to {MAX_BATCH} events"),
            }]));
        }
        let now = self.clock.now();
        let mut events = Vec::with_capacity(raw.len());
        let mut problems = Vec::new();
        for (i, event) in raw.iter().enumerate() {
            match NewEvent::parse(event, now, visitor.site.as_ref()) {
                Ok(event) => events.push(event),
                Err(fields) => problems.extend(fields.into_iter().map(|(field, e)| FieldProblem {
                    field: format!("events[{i}].{field}"),
                    code: e.code,
                    message: e.message.to_owned(),
                })),
            }
        }
        if !problems.is_empty() {
            return Err(AnalyticsError::InvalidBatch(problems));
        }
        if is_bot(&visitor.user_agent) {
            metrics::counter!("nexus_metrics_bot_events_total").increment(events.len() as u64);
            return Ok(Ingested {
                stored: 0,
                dropped: events.len(),
            });
        }
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let day = event.day();
            let salt = self.salt(day).await?;
            rows.push(MetricEvent {
                id: Uuid::now_v7(),
                visitor: self
                    .hasher
                    .hash(&salt, &visitor.client, &visitor.user_agent),
                day,
                event,
                created_at: now,
            });
        }
        self.store.insert(&rows).await?;
        metrics::counter!("nexus_metrics_events_total").increment(rows.len() as u64);
        Ok(Ingested {
            stored: rows.len(),
            dropped: 0,
        })
    }

    async fn salt(&self, day: NaiveDate) -> Result<DailySalt, AnalyticsError> {
        let cached = self.salt_cache.lock().ok().and_then(|cache| {
            cache
                .iter()
                .find(|(d, _)| *d == day)
                .map(|(_, salt)| salt.clone())
        });
        if let Some(salt) = cached {
            return Ok(salt);
        }
        let salt = self.salts.salt_for(day).await?;
        if let Ok(mut cache) = self.salt_cache.lock() {
            cache.retain(|(d, _)| *d >= day - Duration::days(1));
            cache.push((day, salt.clone()));
        }
        Ok(salt)
    }

    /// Rolls every raw event up ([`ROLLUP_BATCH`] per transaction), then deletes the salts
    /// and visitor dedup sets of the days before yesterday; returns the events rolled up.
    ///
    /// # Errors
    /// `Unexpected` when the store fails; what was committed before stays rolled up.
    #[tracing::instrument(skip_all)]
    pub async fn roll_up(&self) -> Result<u64, AnalyticsError> {
        let mut total = 0;
        loop {
            let n = self.store.roll_up(ROLLUP_BATCH).await?;
            total += n;
            if n < u64::from(ROLLUP_BATCH) {
                break;
            }
        }
        let yesterday = self.clock.now().date_naive() - Duration::days(1);
        self.salts.purge_before(yesterday).await?;
        self.store.purge_visitors_before(yesterday).await?;
        if let Ok(mut cache) = self.salt_cache.lock() {
            cache.retain(|(d, _)| *d >= yesterday);
        }
        if total > 0 {
            tracing::debug!(events = total, "metrics rolled up");
        }
        Ok(total)
    }

    fn check(actor: &Actor) -> Result<(), AnalyticsError> {
        if actor.can(ANALYTICS_READ) {
            Ok(())
        } else {
            Err(AnalyticsError::Forbidden)
        }
    }

    /// Top pages over `range`.
    ///
    /// # Errors
    /// `Forbidden` without `analytics.read`.
    pub async fn pages(
        &self,
        actor: &Actor,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<PageStats>, AnalyticsError> {
        Self::check(actor)?;
        self.store.top_pages(range, page).await
    }

    /// Top referring hosts over `range`.
    ///
    /// # Errors
    /// `Forbidden` without `analytics.read`.
    pub async fn referrers(
        &self,
        actor: &Actor,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<ReferrerStats>, AnalyticsError> {
        Self::check(actor)?;
        self.store.top_referrers(range, page).await
    }

    /// Campaigns over `range`.
    ///
    /// # Errors
    /// `Forbidden` without `analytics.read`.
    pub async fn campaigns(
        &self,
        actor: &Actor,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<CampaignStats>, AnalyticsError> {
        Self::check(actor)?;
        self.store.campaigns(range, page).await
    }

    /// Every day of `range` with its views and visitors, days without any as zeros.
    ///
    /// # Errors
    /// `Forbidden` without `analytics.read`.
    pub async fn trend(
        &self,
        actor: &Actor,
        range: DateRange,
    ) -> Result<Vec<DayStats>, AnalyticsError> {
        Self::check(actor)?;
        let known = self.store.daily_totals(range).await?;
        Ok(fill_days(range, &known))
    }

    /// The funnel view → cart → purchase over `range`.
    ///
    /// # Errors
    /// `Forbidden` without `analytics.read`.
    pub async fn conversions(
        &self,
        actor: &Actor,
        range: DateRange,
    ) -> Result<Funnel, AnalyticsError> {
        Self::check(actor)?;
        Ok(Funnel::from_counts(self.store.funnel_counts(range).await?))
    }
}

/// Every day of `range`, taking the numbers of `known` where it has the day.
fn fill_days(range: DateRange, known: &[DayStats]) -> Vec<DayStats> {
    range
        .days()
        .map(|day| {
            known
                .iter()
                .find(|k| k.day == day)
                .cloned()
                .unwrap_or(DayStats {
                    day,
                    views: 0,
                    visitors: 0,
                })
        })
        .collect()
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
