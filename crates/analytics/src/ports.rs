//! What page metrics need from the outside world.

use async_trait::async_trait;
use chrono::NaiveDate;
use nexus_kernel::{Page, PageRequest};

use crate::{
    AnalyticsError, CampaignStats, DailySalt, DateRange, DayStats, FunnelCounts, MetricEvent,
    PageStats, ReferrerStats, VisitorHash,
};

/// Turns a visitor's address and user agent into a one-way hash with the day's salt.
/// Implementations must be a cryptographic hash of `salt ‖ client ‖ user_agent`, so that
/// without the salt (deleted after a day) the hash cannot be reversed or linked.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait VisitorHasher: Send + Sync {
    /// The visitor hash of `client` (its address, as the app resolves it) and `user_agent`.
    fn hash(&self, salt: &DailySalt, client: &str, user_agent: &str) -> VisitorHash;
}

/// Keeps one random salt per UTC day, shared by every instance, for today and yesterday
/// only.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SaltStore: Send + Sync {
    /// The salt of `day`, created at random if there is none yet; every caller gets the
    /// same one, even when two create it at once.
    async fn salt_for(&self, day: NaiveDate) -> Result<DailySalt, AnalyticsError>;

    /// Deletes the salts of the days before `day`; returns how many went.
    async fn purge_before(&self, day: NaiveDate) -> Result<u64, AnalyticsError>;
}

/// Stores raw events, rolls them up into daily tables and reads the reports.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MetricsStore: Send + Sync {
    /// Inserts a batch of raw events in one statement.
    async fn insert(&self, events: &[MetricEvent]) -> Result<(), AnalyticsError>;

    /// Claims up to `batch` raw events (rows another roll-up holds are skipped), adds them
    /// to the daily tables, counting each visitor once per day and page (event name, site),
    /// and deletes them, all in one transaction; returns how many were rolled up.
    async fn roll_up(&self, batch: u32) -> Result<u64, AnalyticsError>;

    /// Deletes the visitor dedup set of the days before `day`; returns the rows deleted.
    async fn purge_visitors_before(&self, day: NaiveDate) -> Result<u64, AnalyticsError>;

    /// Pages by views (then path), with their views and visitors over `range`.
    async fn top_pages(
        &self,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<PageStats>, AnalyticsError>;

    /// Referring hosts by views (then host) over `range`.
    async fn top_referrers(
        &self,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<ReferrerStats>, AnalyticsError>;

    /// Campaigns (source, medium, campaign) by views over `range`.
    async fn campaigns(
        &self,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<CampaignStats>, AnalyticsError>;

    /// The days of `range` that have page views, in order (days without are left out).
    async fn daily_totals(&self, range: DateRange) -> Result<Vec<DayStats>, AnalyticsError>;

    /// The funnel's visitor-days over `range`.
    async fn funnel_counts(&self, range: DateRange) -> Result<FunnelCounts, AnalyticsError>;
}
