//! What each dashboard holds. Every figure is computed by the database (the reader's
//! aggregates); these types only carry the results.

use chrono::{DateTime, NaiveDate, Utc};
use nexus_kernel::{Money, UserId};
use uuid::Uuid;

/// A dashboard and the time its figures were computed at (ages are measured from it).
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardSnapshot {
    /// When.
    pub at: DateTime<Utc>,
    /// The figures.
    pub dashboard: Dashboard,
}

/// The dashboard of the caller's role.
#[derive(Debug, Clone, PartialEq)]
pub enum Dashboard {
    /// A buyer's.
    Customer(CustomerDashboard),
    /// A customer-service officer's.
    Cso(CsoDashboard),
    /// A manager's.
    Manager(ManagerDashboard),
    /// An administrator's.
    Admin(AdminDashboard),
}

/// How many records have one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// The status as stored (`LEAD`, `PAID`...).
    pub status: String,
    /// How many.
    pub count: u64,
}

/// A buyer's own figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDashboard {
    /// Orders placed, whatever became of them.
    pub orders_placed: u64,
    /// Orders paid (refunded ones included).
    pub orders_paid: u64,
    /// Paid minus refunded, one amount per currency (by currency code).
    pub total_spent: Vec<Money>,
    /// Products owned.
    pub library_size: u64,
    /// OPEN enquiries of the CRM customer linked to the account.
    pub open_enquiries: u64,
    /// The most recent downloads, newest first (at most [`crate::RECENT_DOWNLOADS`]).
    pub recent_downloads: Vec<RecentDownload>,
}

/// One download of a buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentDownload {
    /// The product.
    pub product_id: Uuid,
    /// Its title; `None` when the product was deleted.
    pub title: Option<String>,
    /// When the link was issued.
    pub at: DateTime<Utc>,
}

/// Open enquiries by how long they have waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgeBuckets {
    /// Less than a day.
    pub under_1_day: u64,
    /// One to three days.
    pub from_1_to_3_days: u64,
    /// Three to seven days.
    pub from_3_to_7_days: u64,
    /// More than seven days.
    pub over_7_days: u64,
}

/// A customer-service officer's own figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsoDashboard {
    /// Their customers by status (statuses without customers are left out).
    pub customers_by_status: Vec<StatusCount>,
    /// Their OPEN enquiries by age.
    pub open_enquiries: AgeBuckets,
    /// Their responses in DRAFT.
    pub drafts: u64,
    /// Their responses REJECTED (waiting for a rework).
    pub rejected: u64,
    /// Their responses PENDING_APPROVAL.
    pub waiting_for_approval: u64,
    /// Of those, the ones whose approval deadline is at risk: warning time (`warn_at`)
    /// reached, overdue ones included.
    pub deadlines_at_risk: u64,
    /// Of those, the ones past their approval deadline (`due_at` reached).
    pub deadlines_overdue: u64,
}

/// One response in the approval queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedResponse {
    /// The response.
    pub id: Uuid,
    /// Its subject.
    pub subject: String,
    /// Its author.
    pub author_id: UserId,
    /// The author's name.
    pub author_name: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When its approval deadline passes; `None` when it was submitted without one
    /// (deadlines turned off).
    pub due_at: Option<DateTime<Utc>>,
}

/// The responses waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalQueue {
    /// How many wait.
    pub total: u64,
    /// Of those, the ones whose warning time (`warn_at`) is reached, overdue ones included.
    pub deadlines_at_risk: u64,
    /// Of those, the ones past their deadline (`due_at` reached).
    pub deadlines_overdue: u64,
    /// The oldest ones, oldest first (at most [`crate::APPROVAL_QUEUE_SHOWN`]).
    pub oldest: Vec<QueuedResponse>,
}

/// One officer's work over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerThroughput {
    /// The officer (the responses' author).
    pub officer_id: UserId,
    /// Their name.
    pub name: String,
    /// Responses e-mailed.
    pub sent: u64,
    /// Responses approved.
    pub approved: u64,
    /// Responses rejected.
    pub rejected: u64,
}

impl OfficerThroughput {
    /// Rejections over decisions (approved + rejected); `None` without decisions.
    #[must_use]
    pub fn rejection_rate(&self) -> Option<f64> {
        let decided = self.approved.checked_add(self.rejected)?;
        if decided == 0 {
            return None;
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "counts of responses are far below 2^52"
        )]
        Some(self.rejected as f64 / decided as f64)
    }
}

/// Orders paid over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sales {
    /// How many.
    pub orders_paid: u64,
    /// Their totals, one amount per currency (gross of refunds).
    pub revenue: Vec<Money>,
}

/// A manager's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerDashboard {
    /// The responses waiting for approval.
    pub approval_queue: ApprovalQueue,
    /// Each officer who sent or had decided a response over the window, by name.
    pub team: Vec<OfficerThroughput>,
    /// LEAD customers assigned to nobody.
    pub unassigned_leads: u64,
    /// Sales over the window.
    pub sales: Sales,
}

/// Revenue of one day in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRevenue {
    /// The UTC day.
    pub day: NaiveDate,
    /// Orders paid that day.
    pub orders: u64,
    /// Their totals.
    pub revenue: Money,
}

/// Refunds over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refunds {
    /// How many.
    pub count: u64,
    /// Their amounts, one per currency.
    pub amounts: Vec<Money>,
}

/// A product's sales over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProduct {
    /// The product.
    pub product_id: Uuid,
    /// Its title when sold.
    pub title: String,
    /// Units sold.
    pub units: u64,
    /// Their prices, in one currency.
    pub revenue: Money,
}

/// Orders placed over the window and how many of them were paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    /// Placed.
    pub placed: u64,
    /// Of those, paid.
    pub paid: u64,
}

impl Conversion {
    /// Paid over placed; `None` when nothing was placed.
    #[must_use]
    pub fn rate(&self) -> Option<f64> {
        if self.placed == 0 {
            return None;
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "counts of orders are far below 2^52"
        )]
        Some(self.paid as f64 / self.placed as f64)
    }
}

/// The state of the outbox's deliveries (the background work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryHealth {
    /// Waiting to run (or to be retried).
    pub pending: u64,
    /// Given up (dead letters).
    pub dead: u64,
    /// When the oldest pending one was created.
    pub oldest_pending_since: Option<DateTime<Utc>>,
}

/// An administrator's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminDashboard {
    /// Revenue per day and currency over the window, oldest first (days without sales are
    /// left out).
    pub revenue_by_day: Vec<DayRevenue>,
    /// Every order by status.
    pub orders_by_status: Vec<StatusCount>,
    /// Refunds over the window.
    pub refunds: Refunds,
    /// The best-selling products over the window, by revenue (at most
    /// [`crate::TOP_PRODUCTS`]).
    pub top_products: Vec<TopProduct>,
    /// Conversion over the window.
    pub conversion: Conversion,
    /// The outbox's deliveries.
    pub deliveries: DeliveryHealth,
}
