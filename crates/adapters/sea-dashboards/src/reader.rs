//! [`DashboardReader`] with aggregate SQL, the same text on both backends but for a date
//! written as text. A read model: it reads other contexts' tables (`orders`, `order_lines`,
//! `order_refunds`, `entitlements`, `downloads`, `products`, `customers`, `enquiries`,
//! `responses`, `response_events`, `users`, `event_deliveries`) by name, without their
//! adapter crates. Every figure is a `COUNT`, `SUM` or `MIN` (with `CASE` for the
//! conditional ones), grouped where the figure is per status, currency, day, officer or
//! product, and served by an index holding the columns it needs (migrations
//! `m20261207_200100_add_dashboard_indexes` and `m20261208_090000_speed_up_dashboards`).
//! Some figures add up counters their writers keep in the same transaction as the rows: a
//! CSO's customers by status (`customer_counts`), the manager's team throughput
//! (`response_event_counts`, per UTC day) and the administrator's order figures
//! (`order_status_counts`, `order_day_counts`, `product_day_counts`). The manager's and the
//! administrator's queries run concurrently on pooled connections.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::future::{try_join, try_join3, try_join4};
use nexus_dashboards::{
    AdminDashboard, AgeBuckets, ApprovalQueue, Conversion, CsoDashboard, CsoQuery,
    CustomerDashboard, DashboardReader, DashboardsError, DayRevenue, DeliveryHealth,
    ManagerDashboard, OfficerThroughput, QueuedResponse, RecentDownload, Refunds, Sales,
    StatusCount, TopProduct,
};
use nexus_kernel::{Currency, Money, Unexpected, UserId};
use nexus_sea_support::unexpected;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, TryGetable, Value,
};
use uuid::Uuid;

/// Reads the dashboards' figures. Cheap to clone: it shares the connection pool.
#[derive(Clone, Debug)]
pub struct SeaDashboardReader {
    db: DatabaseConnection,
}

impl SeaDashboardReader {
    /// A reader over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn rows(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<QueryResult>, DashboardsError> {
        let statement = statement(self.backend(), sql, values);
        Ok(self
            .db
            .query_all_raw(statement)
            .await
            .map_err(unexpected("reading dashboard figures"))?)
    }

    async fn row(&self, sql: &str, values: Vec<Value>) -> Result<QueryResult, DashboardsError> {
        self.rows(sql, values)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Unexpected::msg("an aggregate query returned no row").into())
    }

    /// `status, n` rows of a `GROUP BY status` query.
    async fn by_status(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<StatusCount>, DashboardsError> {
        self.rows(sql, values)
            .await?
            .iter()
            .map(|row| {
                Ok(StatusCount {
                    status: get(row, "status")?,
                    count: count(row, "n")?,
                })
            })
            .collect()
    }

    /// `currency, n, amount` rows of a `GROUP BY currency` query: the summed count and one
    /// amount per currency.
    async fn by_currency(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<(u64, Vec<Money>), DashboardsError> {
        let rows = self.rows(sql, values).await?;
        let mut total = 0_u64;
        let mut amounts = Vec::with_capacity(rows.len());
        for row in &rows {
            total = total.saturating_add(count(row, "n")?);
            amounts.push(money(row, "amount", "currency")?);
        }
        Ok((total, amounts))
    }
}

/// `sql` with its `?` placeholders as `backend` wants them, bound to `values`.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + values.len() * 3);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, DashboardsError> {
    Ok(row
        .try_get("", column)
        .map_err(unexpected("reading a dashboard figure"))?)
}

fn count(row: &QueryResult, column: &str) -> Result<u64, DashboardsError> {
    let n: Option<i64> = get(row, column)?;
    u64::try_from(n.unwrap_or(0))
        .map_err(|e| Unexpected::new("a negative count in a dashboard figure", e).into())
}

fn money(row: &QueryResult, amount: &str, currency: &str) -> Result<Money, DashboardsError> {
    let minor: Option<i64> = get(row, amount)?;
    let code: String = get(row, currency)?;
    let currency = Currency::parse(&code)
        .map_err(|e| Unexpected::new("a stored currency code is not valid", e))?;
    Ok(Money::new(minor.unwrap_or(0), currency)
        .map_err(|e| Unexpected::new("a dashboard amount is not valid", e))?)
}

/// The UTC day `since` falls in, and the start of the next one: a window from `since` on is
/// that day's rows from `since` to the next day's start, plus the per-day counters of the
/// days after it.
fn first_day(since: DateTime<Utc>) -> Result<(NaiveDate, DateTime<Utc>), DashboardsError> {
    let first_day = since.date_naive();
    let next_day = first_day
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| Unexpected::msg("the window starts at the end of time"))?;
    Ok((first_day, next_day))
}

const STAFF_NAME: &str = "u.first_name || ' ' || u.last_name";

#[async_trait]
impl DashboardReader for SeaDashboardReader {
    async fn customer(
        &self,
        user: UserId,
        recent_downloads: u32,
    ) -> Result<CustomerDashboard, DashboardsError> {
        let me = user.as_uuid();
        let counts = self
            .row(
                "SELECT \
                 (SELECT COUNT(*) FROM orders WHERE user_id = ?) AS placed, \
                 (SELECT COUNT(*) FROM orders WHERE user_id = ? AND paid_at IS NOT NULL) AS paid, \
                 (SELECT COUNT(*) FROM entitlements WHERE user_id = ?) AS library, \
                 (SELECT COUNT(*) FROM enquiries e JOIN customers c ON c.id = e.customer_id \
                  WHERE c.user_id = ? AND e.status = 'OPEN') AS open_enquiries",
                vec![me.into(), me.into(), me.into(), me.into()],
            )
            .await?;
        let (_, total_spent) = self
            .by_currency(
                "SELECT currency, COUNT(*) AS n, \
                 CAST(SUM(total_minor - refunded_minor) AS BIGINT) AS amount \
                 FROM orders WHERE user_id = ? AND paid_at IS NOT NULL \
                 GROUP BY currency ORDER BY currency",
                vec![me.into()],
            )
            .await?;
        let recent = self
            .rows(
                "SELECT d.product_id, p.title, d.at FROM downloads d \
                 LEFT JOIN products p ON p.id = d.product_id \
                 WHERE d.user_id = ? ORDER BY d.at DESC, d.id DESC LIMIT ?",
                vec![me.into(), i64::from(recent_downloads).into()],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(RecentDownload {
                    product_id: get(row, "product_id")?,
                    title: get(row, "title")?,
                    at: get(row, "at")?,
                })
            })
            .collect::<Result<_, DashboardsError>>()?;
        Ok(CustomerDashboard {
            orders_placed: count(&counts, "placed")?,
            orders_paid: count(&counts, "paid")?,
            total_spent,
            library_size: count(&counts, "library")?,
            open_enquiries: count(&counts, "open_enquiries")?,
            recent_downloads: recent,
        })
    }

    async fn cso(&self, query: &CsoQuery) -> Result<CsoDashboard, DashboardsError> {
        let me = query.officer.as_uuid();
        // The CRM keeps an exact counter per officer and status (`customer_counts`, written
        // with every customer change, see docs/counting.md): a few rows instead of counting
        // some 50,000 customers per officer. A status whose counter went back to 0 is left
        // out, as a GROUP BY would.
        let prefix = format!("assignee:{me}:status:");
        let customers_by_status = self
            .by_status(
                &format!(
                    "SELECT substr(key, {}) AS status, n FROM customer_counts \
                     WHERE key LIKE ? AND n > 0 ORDER BY key",
                    prefix.len() + 1
                ),
                vec![format!("{prefix}%").into()],
            )
            .await?;
        let day = |days: i64| -> Value { (query.now - Duration::days(days)).into() };
        let enquiries = self
            .row(
                "SELECT \
                 SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END) AS d0, \
                 SUM(CASE WHEN created_at <= ? AND created_at > ? THEN 1 ELSE 0 END) AS d1, \
                 SUM(CASE WHEN created_at <= ? AND created_at > ? THEN 1 ELSE 0 END) AS d3, \
                 SUM(CASE WHEN created_at <= ? THEN 1 ELSE 0 END) AS d7 \
                 FROM enquiries WHERE assigned_to = ? AND status = 'OPEN'",
                vec![day(1), day(1), day(3), day(3), day(7), day(7), me.into()],
            )
            .await?;
        let now: Value = query.now.into();
        let responses = self
            .row(
                "SELECT \
                 SUM(CASE WHEN status = 'DRAFT' THEN 1 ELSE 0 END) AS drafts, \
                 SUM(CASE WHEN status = 'REJECTED' THEN 1 ELSE 0 END) AS rejected, \
                 SUM(CASE WHEN status = 'PENDING_APPROVAL' THEN 1 ELSE 0 END) AS waiting, \
                 SUM(CASE WHEN status = 'PENDING_APPROVAL' AND warn_at <= ? \
                     THEN 1 ELSE 0 END) AS at_risk, \
                 SUM(CASE WHEN status = 'PENDING_APPROVAL' AND due_at <= ? \
                     THEN 1 ELSE 0 END) AS overdue \
                 FROM responses WHERE author_id = ? \
                 AND status IN ('DRAFT', 'REJECTED', 'PENDING_APPROVAL')",
                vec![now.clone(), now, me.into()],
            )
            .await?;
        Ok(CsoDashboard {
            customers_by_status,
            open_enquiries: AgeBuckets {
                under_1_day: count(&enquiries, "d0")?,
                from_1_to_3_days: count(&enquiries, "d1")?,
                from_3_to_7_days: count(&enquiries, "d3")?,
                over_7_days: count(&enquiries, "d7")?,
            },
            drafts: count(&responses, "drafts")?,
            rejected: count(&responses, "rejected")?,
            waiting_for_approval: count(&responses, "waiting")?,
            deadlines_at_risk: count(&responses, "at_risk")?,
            deadlines_overdue: count(&responses, "overdue")?,
        })
    }

    async fn manager(
        &self,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
        queue_shown: u32,
    ) -> Result<ManagerDashboard, DashboardsError> {
        // One pass over the `(status, warn_at, due_at)` index counts the queue and its
        // deadlines.
        let counts = async {
            self.row(
                "SELECT COUNT(*) AS waiting, \
                 SUM(CASE WHEN warn_at <= ? THEN 1 ELSE 0 END) AS at_risk, \
                 SUM(CASE WHEN due_at <= ? THEN 1 ELSE 0 END) AS overdue, \
                 (SELECT COUNT(*) FROM customers WHERE assigned_to IS NULL AND status = 'LEAD') \
                 AS unassigned_leads \
                 FROM responses WHERE status = 'PENDING_APPROVAL'",
                vec![now.into(), now.into()],
            )
            .await
        };
        let oldest = async {
            self.rows(
                &format!(
                    "SELECT r.id, r.subject, r.author_id, {STAFF_NAME} AS author_name, \
                     r.submitted_at, r.due_at FROM responses r JOIN users u ON u.id = r.author_id \
                     WHERE r.status = 'PENDING_APPROVAL' AND r.submitted_at IS NOT NULL \
                     ORDER BY r.submitted_at ASC, r.id ASC LIMIT ?"
                ),
                vec![i64::from(queue_shown).into()],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(QueuedResponse {
                    id: get(row, "id")?,
                    subject: get(row, "subject")?,
                    author_id: UserId::from_uuid(get(row, "author_id")?),
                    author_name: get(row, "author_name")?,
                    submitted_at: get(row, "submitted_at")?,
                    due_at: get(row, "due_at")?,
                })
            })
            .collect::<Result<Vec<QueuedResponse>, DashboardsError>>()
        };
        // The events from `since` on: whole UTC days after the one `since` falls in from
        // the per-day counters (`response_event_counts`, written with each event), the rest
        // of that first day from the events themselves. Together exactly `at >= since`.
        // Summed per officer before each name is looked up by its key: a few rows, where a
        // join let the planner hash every user.
        let (first_day, next_day) = first_day(since)?;
        let team = async {
            self.rows(
                &format!(
                    "SELECT t.author_id, \
                     (SELECT {STAFF_NAME} FROM users u WHERE u.id = t.author_id) AS name, \
                     t.sent, t.approved, t.rejected \
                     FROM (SELECT author_id, \
                       CAST(SUM(CASE WHEN to_status = 'SENT' THEN n ELSE 0 END) AS BIGINT) \
                       AS sent, \
                       CAST(SUM(CASE WHEN to_status = 'APPROVED' THEN n ELSE 0 END) AS BIGINT) \
                       AS approved, \
                       CAST(SUM(CASE WHEN to_status = 'REJECTED' THEN n ELSE 0 END) AS BIGINT) \
                       AS rejected \
                       FROM (\
                         SELECT author_id, to_status, n FROM response_event_counts \
                         WHERE day > ? AND to_status IN ('SENT', 'APPROVED', 'REJECTED') \
                         UNION ALL \
                         SELECT r.author_id, v.to_status, 1 AS n \
                         FROM response_events v JOIN responses r ON r.id = v.response_id \
                         WHERE v.to_status IN ('SENT', 'APPROVED', 'REJECTED') \
                         AND v.at >= ? AND v.at < ?\
                       ) e GROUP BY author_id\
                     ) t ORDER BY name, t.author_id"
                ),
                vec![first_day.into(), since.into(), next_day.into()],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(OfficerThroughput {
                    officer_id: UserId::from_uuid(get(row, "author_id")?),
                    name: get(row, "name")?,
                    sent: count(row, "sent")?,
                    approved: count(row, "approved")?,
                    rejected: count(row, "rejected")?,
                })
            })
            .collect::<Result<Vec<OfficerThroughput>, DashboardsError>>()
        };
        let sales = async {
            self.by_currency(
                "SELECT currency, COUNT(*) AS n, CAST(SUM(total_minor) AS BIGINT) AS amount \
                 FROM orders WHERE paid_at >= ? GROUP BY currency ORDER BY currency",
                vec![since.into()],
            )
            .await
        };
        // The queries run at once, each on a connection of its own from the pool, so the
        // dashboard takes about as long as its slowest query rather than their sum. Each
        // statement reads its own snapshot, as it did when they ran one after the other.
        let (counts, oldest, team, (orders_paid, revenue)) =
            try_join4(counts, oldest, team, sales).await?;
        Ok(ManagerDashboard {
            approval_queue: ApprovalQueue {
                total: count(&counts, "waiting")?,
                deadlines_at_risk: count(&counts, "at_risk")?,
                deadlines_overdue: count(&counts, "overdue")?,
                oldest,
            },
            team,
            unassigned_leads: count(&counts, "unassigned_leads")?,
            sales: Sales {
                orders_paid,
                revenue,
            },
        })
    }

    async fn admin(
        &self,
        since: DateTime<Utc>,
        top: u32,
    ) -> Result<AdminDashboard, DashboardsError> {
        // Every order figure adds up the counters the orders adapter keeps with each order
        // write (`order_status_counts`, `order_day_counts`, `product_day_counts`, per UTC
        // day): the whole days after the one `since` falls in from the counters, the rest of
        // that first day from the orders themselves, as the manager's team figures do.
        let (first_day, next_day) = first_day(since)?;
        let day = match self.backend() {
            DbBackend::Postgres => "to_char(day, 'YYYY-MM-DD')",
            // SQLite keeps a date as `YYYY-MM-DD` text.
            _ => "day",
        };
        let revenue_by_day = async {
            self.rows(
                &format!(
                    "SELECT day, currency, n, amount FROM (\
                       SELECT {day} AS day, currency, paid AS n, paid_minor AS amount \
                       FROM order_day_counts WHERE day > ? AND paid > 0 \
                       UNION ALL \
                       SELECT CAST(? AS TEXT) AS day, currency, COUNT(*) AS n, \
                       CAST(SUM(total_minor) AS BIGINT) AS amount FROM orders \
                       WHERE paid_at >= ? AND paid_at < ? GROUP BY currency\
                     ) r ORDER BY day, currency"
                ),
                vec![
                    first_day.into(),
                    first_day.format("%Y-%m-%d").to_string().into(),
                    since.into(),
                    next_day.into(),
                ],
            )
            .await?
            .iter()
            .map(|row| {
                let text: String = get(row, "day")?;
                let day = NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|e| Unexpected::new("a revenue day is not a date", e))?;
                Ok(DayRevenue {
                    day,
                    orders: count(row, "n")?,
                    revenue: money(row, "amount", "currency")?,
                })
            })
            .collect::<Result<Vec<DayRevenue>, DashboardsError>>()
        };
        let orders_by_status = async {
            self.by_status(
                "SELECT status, n FROM order_status_counts WHERE n > 0 ORDER BY status",
                vec![],
            )
            .await
        };
        let refunds = async {
            self.by_currency(
                "SELECT currency, COUNT(*) AS n, CAST(SUM(amount_minor) AS BIGINT) AS amount \
                 FROM order_refunds WHERE at >= ? GROUP BY currency ORDER BY currency",
                vec![since.into()],
            )
            .await
        };
        let top_products = async {
            self.rows(
                "SELECT product_id, MAX(title) AS title, currency, \
                 CAST(SUM(units) AS BIGINT) AS n, CAST(SUM(amount) AS BIGINT) AS amount FROM (\
                   SELECT product_id, title, currency, units, amount_minor AS amount \
                   FROM product_day_counts WHERE day > ? \
                   UNION ALL \
                   SELECT l.product_id, l.title, l.currency, 1 AS units, \
                   l.unit_price_minor AS amount \
                   FROM orders o JOIN order_lines l ON l.order_id = o.id \
                   WHERE o.paid_at >= ? AND o.paid_at < ?\
                 ) s GROUP BY product_id, currency \
                 HAVING SUM(units) > 0 \
                 ORDER BY amount DESC, n DESC, title LIMIT ?",
                vec![
                    first_day.into(),
                    since.into(),
                    next_day.into(),
                    i64::from(top).into(),
                ],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(TopProduct {
                    product_id: get::<Uuid>(row, "product_id")?,
                    title: get(row, "title")?,
                    units: count(row, "n")?,
                    revenue: money(row, "amount", "currency")?,
                })
            })
            .collect::<Result<Vec<TopProduct>, DashboardsError>>()
        };
        let conversion = async {
            self.row(
                "SELECT \
                 (SELECT CAST(COALESCE(SUM(placed), 0) AS BIGINT) FROM order_day_counts \
                  WHERE day > ?) + \
                 (SELECT COUNT(*) FROM orders WHERE created_at >= ? AND created_at < ?) \
                 AS placed, \
                 (SELECT CAST(COALESCE(SUM(placed_paid), 0) AS BIGINT) FROM order_day_counts \
                  WHERE day > ?) + \
                 (SELECT COUNT(*) FROM orders \
                  WHERE created_at >= ? AND created_at < ? AND paid_at IS NOT NULL) AS paid",
                vec![
                    first_day.into(),
                    since.into(),
                    next_day.into(),
                    first_day.into(),
                    since.into(),
                    next_day.into(),
                ],
            )
            .await
        };
        let deliveries = async {
            self.row(
                "SELECT \
                 (SELECT COUNT(*) FROM event_deliveries WHERE state = 'PENDING') AS pending, \
                 (SELECT COUNT(*) FROM event_deliveries WHERE state = 'DEAD') AS dead, \
                 (SELECT MIN(created_at) FROM event_deliveries WHERE state = 'PENDING') \
                 AS oldest",
                vec![],
            )
            .await
        };
        // At once, as the manager's.
        let (
            (revenue_by_day, orders_by_status, (refund_count, refund_amounts)),
            (top_products, conversion, deliveries),
        ) = try_join(
            try_join3(revenue_by_day, orders_by_status, refunds),
            try_join3(top_products, conversion, deliveries),
        )
        .await?;
        Ok(AdminDashboard {
            revenue_by_day,
            orders_by_status,
            refunds: Refunds {
                count: refund_count,
                amounts: refund_amounts,
            },
            top_products,
            conversion: Conversion {
                placed: count(&conversion, "placed")?,
                paid: count(&conversion, "paid")?,
            },
            deliveries: DeliveryHealth {
                pending: count(&deliveries, "pending")?,
                dead: count(&deliveries, "dead")?,
                oldest_pending_since: get(&deliveries, "oldest")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let pg = statement(DbBackend::Postgres, "a = ? AND b IN (?, ?)", vec![]);
        assert_eq!(pg.sql, "a = $1 AND b IN ($2, $3)");
        let lite = statement(DbBackend::Sqlite, "a = ?", vec![]);
        assert_eq!(lite.sql, "a = ?");
    }
}
