//! The one driven port: reading the figures.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::UserId;

use crate::{AdminDashboard, CsoDashboard, CustomerDashboard, DashboardsError, ManagerDashboard};

/// What a CSO dashboard is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsoQuery {
    /// The officer.
    pub officer: UserId,
    /// The time the enquiry ages are measured and the approval deadlines compared at.
    pub now: DateTime<Utc>,
}

/// Computes the dashboards' figures, each with aggregate queries (never by loading the rows
/// to count them). Implementations must be safe to share across requests and return only
/// `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DashboardReader: Send + Sync {
    /// The figures of the buyer `user`, with at most `recent_downloads` downloads.
    async fn customer(
        &self,
        user: UserId,
        recent_downloads: u32,
    ) -> Result<CustomerDashboard, DashboardsError>;

    /// The figures of one officer.
    async fn cso(&self, query: &CsoQuery) -> Result<CsoDashboard, DashboardsError>;

    /// The manager's figures: windowed ones from `since`, the approval deadlines compared
    /// at `now`, the `queue_shown` oldest responses waiting for approval.
    async fn manager(
        &self,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
        queue_shown: u32,
    ) -> Result<ManagerDashboard, DashboardsError>;

    /// The administrator's figures: windowed ones from `since`, the `top` best-selling
    /// products.
    async fn admin(
        &self,
        since: DateTime<Utc>,
        top: u32,
    ) -> Result<AdminDashboard, DashboardsError>;
}
