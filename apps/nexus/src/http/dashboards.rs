//! `GET /api/v1/me/dashboard`: the figures of the caller's role, one body per role told
//! apart by its `role` field.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use nexus_dashboards::{
    AdminDashboard, AgeBuckets, CsoDashboard, CustomerDashboard, Dashboard, ManagerDashboard,
    StatusCount,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Auth;
use crate::http::orders::dto::MoneyDto;
use crate::state::AppState;

/// Mounts the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/dashboard").route(web::get().to(my_dashboard)));
}

/// How many records have one status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCountDto {
    /// The status (`LEAD`, `PAID`...).
    pub status: String,
    /// How many.
    pub count: u64,
}

impl From<StatusCount> for StatusCountDto {
    fn from(s: StatusCount) -> Self {
        Self {
            status: s.status,
            count: s.count,
        }
    }
}

fn statuses(list: Vec<StatusCount>) -> Vec<StatusCountDto> {
    list.into_iter().map(StatusCountDto::from).collect()
}

fn amounts(list: Vec<nexus_kernel::Money>) -> Vec<MoneyDto> {
    list.into_iter().map(MoneyDto::from).collect()
}

/// One recent download.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecentDownloadDto {
    /// The product.
    pub product_id: Uuid,
    /// Its title (null when the product was deleted).
    pub title: Option<String>,
    /// When the link was issued.
    pub at: DateTime<Utc>,
}

/// A buyer's figures.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDashboardDto {
    /// Orders placed, whatever became of them.
    pub orders_placed: u64,
    /// Orders paid (refunded ones included).
    pub orders_paid: u64,
    /// Paid minus refunded, one amount per currency.
    pub total_spent: Vec<MoneyDto>,
    /// Products owned.
    pub library_size: u64,
    /// OPEN enquiries of the CRM customer linked to the account.
    pub open_enquiries: u64,
    /// The 5 most recent downloads, newest first.
    pub recent_downloads: Vec<RecentDownloadDto>,
}

impl From<CustomerDashboard> for CustomerDashboardDto {
    fn from(d: CustomerDashboard) -> Self {
        Self {
            orders_placed: d.orders_placed,
            orders_paid: d.orders_paid,
            total_spent: amounts(d.total_spent),
            library_size: d.library_size,
            open_enquiries: d.open_enquiries,
            recent_downloads: d
                .recent_downloads
                .into_iter()
                .map(|r| RecentDownloadDto {
                    product_id: r.product_id,
                    title: r.title,
                    at: r.at,
                })
                .collect(),
        }
    }
}

/// Open enquiries by how long they have waited.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgeBucketsDto {
    /// Less than a day.
    pub under_1_day: u64,
    /// One to three days.
    pub from_1_to_3_days: u64,
    /// Three to seven days.
    pub from_3_to_7_days: u64,
    /// More than seven days.
    pub over_7_days: u64,
}

impl From<AgeBuckets> for AgeBucketsDto {
    fn from(b: AgeBuckets) -> Self {
        Self {
            under_1_day: b.under_1_day,
            from_1_to_3_days: b.from_1_to_3_days,
            from_3_to_7_days: b.from_3_to_7_days,
            over_7_days: b.over_7_days,
        }
    }
}

/// A customer-service officer's own figures.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsoDashboardDto {
    /// Their customers by status.
    pub customers_by_status: Vec<StatusCountDto>,
    /// Their OPEN enquiries by age.
    pub open_enquiries: AgeBucketsDto,
    /// Their responses in DRAFT.
    pub drafts: u64,
    /// Their responses REJECTED.
    pub rejected: u64,
    /// Their responses PENDING_APPROVAL.
    pub waiting_for_approval: u64,
    /// Of those, the ones whose approval deadline is at risk: their warning time
    /// (`warnAt`) is reached, overdue ones included.
    pub deadlines_at_risk: u64,
    /// Of those, the ones past their approval deadline (`dueAt` reached).
    pub deadlines_overdue: u64,
}

impl From<CsoDashboard> for CsoDashboardDto {
    fn from(d: CsoDashboard) -> Self {
        Self {
            customers_by_status: statuses(d.customers_by_status),
            open_enquiries: d.open_enquiries.into(),
            drafts: d.drafts,
            rejected: d.rejected,
            waiting_for_approval: d.waiting_for_approval,
            deadlines_at_risk: d.deadlines_at_risk,
            deadlines_overdue: d.deadlines_overdue,
        }
    }
}

/// A response waiting for approval.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedResponseDto {
    /// The response.
    pub id: Uuid,
    /// Its subject.
    pub subject: String,
    /// Its author.
    pub author_id: Uuid,
    /// The author's name.
    pub author_name: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// How long it has waited, in seconds.
    pub age_seconds: i64,
    /// When its approval deadline passes; null when it was submitted without one
    /// (deadlines turned off).
    pub due_at: Option<DateTime<Utc>>,
}

/// The approval queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalQueueDto {
    /// How many responses wait.
    pub total: u64,
    /// Of those, the ones whose approval deadline is at risk: their warning time
    /// (`warnAt`) is reached, overdue ones included.
    pub deadlines_at_risk: u64,
    /// Of those, the ones past their approval deadline (`dueAt` reached).
    pub deadlines_overdue: u64,
    /// The 10 oldest, oldest first.
    pub oldest: Vec<QueuedResponseDto>,
}

/// One officer's work over 30 days.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfficerThroughputDto {
    /// The officer.
    pub officer_id: Uuid,
    /// Their name.
    pub name: String,
    /// Responses sent.
    pub sent: u64,
    /// Responses approved.
    pub approved: u64,
    /// Responses rejected.
    pub rejected: u64,
    /// Rejected over decided (approved + rejected); null without decisions.
    pub rejection_rate: Option<f64>,
}

/// Sales over 30 days.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesDto {
    /// Orders paid.
    pub orders_paid: u64,
    /// Their totals, one amount per currency (before refunds).
    pub revenue: Vec<MoneyDto>,
}

/// A manager's figures.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagerDashboardDto {
    /// Responses waiting for approval.
    pub approval_queue: ApprovalQueueDto,
    /// Each officer who sent or had decided a response over 30 days.
    pub team: Vec<OfficerThroughputDto>,
    /// LEAD customers assigned to nobody.
    pub unassigned_leads: u64,
    /// Sales over 30 days.
    pub sales_last_30_days: SalesDto,
}

impl ManagerDashboardDto {
    fn new(d: ManagerDashboard, now: DateTime<Utc>) -> Self {
        Self {
            approval_queue: ApprovalQueueDto {
                total: d.approval_queue.total,
                deadlines_at_risk: d.approval_queue.deadlines_at_risk,
                deadlines_overdue: d.approval_queue.deadlines_overdue,
                oldest: d
                    .approval_queue
                    .oldest
                    .into_iter()
                    .map(|q| QueuedResponseDto {
                        id: q.id,
                        subject: q.subject,
                        author_id: q.author_id.as_uuid(),
                        author_name: q.author_name,
                        submitted_at: q.submitted_at,
                        age_seconds: (now - q.submitted_at).num_seconds().max(0),
                        due_at: q.due_at,
                    })
                    .collect(),
            },
            team: d
                .team
                .into_iter()
                .map(|t| OfficerThroughputDto {
                    rejection_rate: t.rejection_rate(),
                    officer_id: t.officer_id.as_uuid(),
                    name: t.name,
                    sent: t.sent,
                    approved: t.approved,
                    rejected: t.rejected,
                })
                .collect(),
            unassigned_leads: d.unassigned_leads,
            sales_last_30_days: SalesDto {
                orders_paid: d.sales.orders_paid,
                revenue: amounts(d.sales.revenue),
            },
        }
    }
}

/// Revenue of one UTC day in one currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayRevenueDto {
    /// The day.
    pub day: NaiveDate,
    /// Orders paid that day.
    pub orders: u64,
    /// Their totals.
    pub revenue: MoneyDto,
}

/// Refunds over 30 days.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundsDto {
    /// How many.
    pub count: u64,
    /// Their amounts, one per currency.
    pub amounts: Vec<MoneyDto>,
}

/// A product's sales over 30 days.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopProductDto {
    /// The product.
    pub product_id: Uuid,
    /// Its title when sold.
    pub title: String,
    /// Units sold.
    pub units: u64,
    /// Their prices, in one currency.
    pub revenue: MoneyDto,
}

/// Orders placed over 30 days and how many were paid.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionDto {
    /// Placed.
    pub placed: u64,
    /// Of those, paid.
    pub paid: u64,
    /// Paid over placed; null when nothing was placed.
    pub rate: Option<f64>,
}

/// The state of the background work (outbox deliveries).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryHealthDto {
    /// Waiting to run or to be retried.
    pub pending: u64,
    /// Given up (dead letters).
    pub dead: u64,
    /// How long the oldest pending one has waited, in seconds; null when none is pending.
    pub oldest_pending_age_seconds: Option<i64>,
}

/// An administrator's figures.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminDashboardDto {
    /// Revenue per UTC day and currency over 30 days, oldest first (days without sales
    /// left out).
    pub revenue_by_day: Vec<DayRevenueDto>,
    /// Every order by status.
    pub orders_by_status: Vec<StatusCountDto>,
    /// Refunds over 30 days.
    pub refunds_last_30_days: RefundsDto,
    /// The 5 best-selling products over 30 days, by revenue.
    pub top_products: Vec<TopProductDto>,
    /// Conversion over 30 days.
    pub conversion: ConversionDto,
    /// The background work.
    pub deliveries: DeliveryHealthDto,
}

impl AdminDashboardDto {
    fn new(d: AdminDashboard, now: DateTime<Utc>) -> Self {
        Self {
            revenue_by_day: d
                .revenue_by_day
                .into_iter()
                .map(|r| DayRevenueDto {
                    day: r.day,
                    orders: r.orders,
                    revenue: r.revenue.into(),
                })
                .collect(),
            orders_by_status: statuses(d.orders_by_status),
            refunds_last_30_days: RefundsDto {
                count: d.refunds.count,
                amounts: amounts(d.refunds.amounts),
            },
            top_products: d
                .top_products
                .into_iter()
                .map(|p| TopProductDto {
                    product_id: p.product_id,
                    title: p.title,
                    units: p.units,
                    revenue: p.revenue.into(),
                })
                .collect(),
            conversion: ConversionDto {
                rate: d.conversion.rate(),
                placed: d.conversion.placed,
                paid: d.conversion.paid,
            },
            deliveries: DeliveryHealthDto {
                pending: d.deliveries.pending,
                dead: d.deliveries.dead,
                oldest_pending_age_seconds: d
                    .deliveries
                    .oldest_pending_since
                    .map(|since| (now - since).num_seconds().max(0)),
            },
        }
    }
}

/// The caller's dashboard; `role` says which one it is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "role")]
pub enum DashboardResponse {
    /// A buyer's.
    #[serde(rename = "CUSTOMER")]
    Customer(CustomerDashboardDto),
    /// A customer-service officer's.
    #[serde(rename = "CSO")]
    Cso(CsoDashboardDto),
    /// A manager's.
    #[serde(rename = "MANAGER")]
    Manager(ManagerDashboardDto),
    /// An administrator's.
    #[serde(rename = "ADMIN")]
    Admin(AdminDashboardDto),
}

impl DashboardResponse {
    fn new(dashboard: Dashboard, now: DateTime<Utc>) -> Self {
        match dashboard {
            Dashboard::Customer(d) => Self::Customer(d.into()),
            Dashboard::Cso(d) => Self::Cso(d.into()),
            Dashboard::Manager(d) => Self::Manager(ManagerDashboardDto::new(d, now)),
            Dashboard::Admin(d) => Self::Admin(AdminDashboardDto::new(d, now)),
        }
    }
}

/// The caller's dashboard: CUSTOMER, CSO (their own figures only), MANAGER or ADMIN, each
/// computed by the database when asked. EDITOR has none (403 `no_dashboard`).
#[utoipa::path(get, path = "/api/v1/me/dashboard", tag = "dashboards", security(("bearer" = [])),
    responses(
        (status = 200, body = DashboardResponse),
        (status = 401, body = ErrorBody, description = "No valid access token"),
        (status = 403, body = ErrorBody, description = "The role has no dashboard (EDITOR): `no_dashboard`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn my_dashboard(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.dashboards.for_actor(&auth.actor()).await?;
    Ok(HttpResponse::Ok().json(DashboardResponse::new(snapshot.dashboard, snapshot.at)))
}
