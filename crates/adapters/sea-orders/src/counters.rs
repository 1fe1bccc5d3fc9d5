//! The exact order counters the administrator's dashboard reads instead of counting a
//! month of orders: `order_status_counts` (orders per status), `order_day_counts` (per UTC
//! day and currency: orders placed that day and how many of them are paid by now, orders
//! paid that day and their total) and `product_day_counts` (per UTC day of payment, product
//! and currency: lines sold and their amount). Written in the transaction that inserts or
//! saves the order, so a counter commits or rolls back with its order and never drifts from
//! the rows (migration `m20261209_090000_create_order_counters` filled them from the orders
//! stored before).
//!
//! Each write adds what the order counts for now and takes away what it counted for before
//! (nothing for a new order), so any change of status or payment is counted without a rule
//! per transition. The counter rows are upserted in one statement per table, in key order:
//! on PostgreSQL two transactions counting the same row queue on its lock (no increment is
//! lost), and since every transaction takes the counter locks in the same order, after the
//! lock of its own order row, they cannot deadlock.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use nexus_kernel::Unexpected;
use nexus_orders::{OrderParts, OrderStatus};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use uuid::Uuid;

use nexus_sea_support::unexpected;

/// The state of an order that its counters depend on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counted {
    pub(crate) status: OrderStatus,
    pub(crate) paid_at: Option<DateTime<Utc>>,
}

/// `placed, placed_paid, paid, paid_minor` of a `(day, currency)` row.
type DayCounts = [i64; 4];

/// The sums to add to the counter rows, by key.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    statuses: BTreeMap<&'static str, i64>,
    days: BTreeMap<(NaiveDate, String), DayCounts>,
    /// `(units, amount)` and the title of each `(day, product, currency)` row.
    products: BTreeMap<(NaiveDate, Uuid, String), (i64, i64, String)>,
}

impl Changes {
    /// What `order` counts for in `state`, times `sign` (1 to add it, -1 to take it away).
    fn add(&mut self, order: &OrderParts, state: Counted, sign: i64) {
        *self.statuses.entry(state.status.as_str()).or_default() += sign;
        let currency = order.total.currency().as_str().to_owned();
        let placed_on = order.created_at.date_naive();
        let paid = i64::from(state.paid_at.is_some());
        let day = self.days.entry((placed_on, currency.clone())).or_default();
        day[0] += sign;
        day[1] += sign * paid;
        let Some(paid_at) = state.paid_at else {
            return;
        };
        let paid_on = paid_at.date_naive();
        let day = self.days.entry((paid_on, currency)).or_default();
        day[2] += sign;
        day[3] += sign * order.total.amount_minor();
        for line in &order.lines {
            let (units, amount, title) = self
                .products
                .entry((
                    paid_on,
                    line.product_id.as_uuid(),
                    line.unit_price.currency().as_str().to_owned(),
                ))
                .or_default();
            *units += sign;
            *amount += sign * line.unit_price.amount_minor();
            line.title.clone_into(title);
        }
    }

    /// What writing `order` changes in the counters, given the state it was stored in
    /// before (`None` for a new order).
    pub(crate) fn of(order: &OrderParts, before: Option<Counted>) -> Self {
        let mut changes = Self::default();
        changes.add(
            order,
            Counted {
                status: order.status,
                paid_at: order.paid_at,
            },
            1,
        );
        if let Some(before) = before {
            changes.add(order, before, -1);
        }
        changes.statuses.retain(|_, n| *n != 0);
        changes.days.retain(|_, d| d.iter().any(|n| *n != 0));
        changes
            .products
            .retain(|_, (units, amount, _)| *units != 0 || *amount != 0);
        changes
    }

    fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.days.is_empty() && self.products.is_empty()
    }
}

/// `table.column + excluded.column`, for each of `columns`.
fn adding(table: &str, columns: &[&str]) -> Vec<(Alias, Expr)> {
    columns
        .iter()
        .map(|c| {
            (
                Alias::new(*c),
                Expr::cust(format!("{table}.{c} + excluded.{c}")),
            )
        })
        .collect()
}

/// An upsert of `rows` into `table` that adds the `summed` columns to a row already there
/// (and overwrites the `replaced` ones).
async fn upsert<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    key: &[&str],
    summed: &[&str],
    replaced: &[&str],
    rows: Vec<Vec<Expr>>,
) -> Result<(), Unexpected> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns = key
        .iter()
        .chain(summed)
        .chain(replaced)
        .map(|c| Alias::new(*c));
    let mut insert = Query::insert();
    insert.into_table(Alias::new(table)).columns(columns);
    for row in rows {
        insert
            .values(row)
            .map_err(|e| Unexpected::new("building an order counter update", e))?;
    }
    let mut on_conflict = OnConflict::columns(key.iter().map(|c| Alias::new(*c)));
    on_conflict.values(adding(table, summed));
    if !replaced.is_empty() {
        on_conflict.update_columns(replaced.iter().map(|c| Alias::new(*c)));
    }
    insert.on_conflict(on_conflict.to_owned());
    conn.execute(&insert)
        .await
        .map_err(unexpected("counting an order"))?;
    Ok(())
}

/// On `conn`, in the transaction that writes the order: applies `changes`.
pub(crate) async fn apply<C: ConnectionTrait>(
    conn: &C,
    changes: Changes,
) -> Result<(), Unexpected> {
    if changes.is_empty() {
        return Ok(());
    }
    let statuses = changes
        .statuses
        .into_iter()
        .map(|(status, n)| vec![Expr::val(status), Expr::val(n)])
        .collect();
    upsert(
        conn,
        "order_status_counts",
        &["status"],
        &["n"],
        &[],
        statuses,
    )
    .await?;
    let days = changes
        .days
        .into_iter()
        .map(
            |((day, currency), [placed, placed_paid, paid, paid_minor])| {
                vec![
                    Expr::val(day),
                    Expr::val(currency),
                    Expr::val(placed),
                    Expr::val(placed_paid),
                    Expr::val(paid),
                    Expr::val(paid_minor),
                ]
            },
        )
        .collect();
    upsert(
        conn,
        "order_day_counts",
        &["day", "currency"],
        &["placed", "placed_paid", "paid", "paid_minor"],
        &[],
        days,
    )
    .await?;
    let products = changes
        .products
        .into_iter()
        .map(|((day, product, currency), (units, amount, title))| {
            vec![
                Expr::val(day),
                Expr::val(product),
                Expr::val(currency),
                Expr::val(units),
                Expr::val(amount),
                Expr::val(title),
            ]
        })
        .collect();
    upsert(
        conn,
        "product_day_counts",
        &["day", "product_id", "currency"],
        &["units", "amount_minor"],
        &["title"],
        products,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use nexus_catalog::ProductId;
    use nexus_kernel::{Currency, Money, UserId};
    use nexus_orders::{GatewayKind, OrderId, OrderLine};

    fn inr(minor: i64) -> Money {
        Money::new(minor, Currency::INR).expect("money")
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0)
            .single()
            .expect("a time")
    }

    fn date(day: u32) -> NaiveDate {
        at(day, 0).date_naive()
    }

    fn order(status: OrderStatus, paid_at: Option<DateTime<Utc>>) -> OrderParts {
        let line = |title: &str, minor: i64| OrderLine {
            product_id: ProductId::from_uuid(Uuid::from_u128(minor.try_into().expect("small"))),
            title: title.to_owned(),
            unit_price: inr(minor),
        };
        OrderParts {
            id: OrderId::new(),
            user_id: UserId::new(),
            lines: vec![line("A", 300), line("B", 200)],
            total: inr(500),
            status,
            gateway: GatewayKind::Development,
            gateway_order_id: None,
            payment_id: None,
            refunded: inr(0),
            refunds: vec![],
            invoice_number: None,
            invoice_key: None,
            created_at: at(1, 23),
            updated_at: at(1, 23),
            paid_at,
            version: 1,
            checkout_key: None,
            pending_refund: None,
        }
    }

    #[test]
    fn a_new_order_counts_its_status_and_its_placing_day() {
        let changes = Changes::of(&order(OrderStatus::PendingPayment, None), None);
        assert_eq!(
            changes.statuses.into_iter().collect::<Vec<_>>(),
            [("PENDING_PAYMENT", 1)]
        );
        assert_eq!(
            changes.days.into_iter().collect::<Vec<_>>(),
            [((date(1), "INR".to_owned()), [1, 0, 0, 0])]
        );
        assert!(changes.products.is_empty());
    }

    #[test]
    fn a_payment_moves_the_status_and_counts_the_paying_day_and_its_lines() {
        let paid = order(OrderStatus::Paid, Some(at(2, 1)));
        let changes = Changes::of(
            &paid,
            Some(Counted {
                status: OrderStatus::PendingPayment,
                paid_at: None,
            }),
        );
        assert_eq!(
            changes.statuses.into_iter().collect::<Vec<_>>(),
            [("PAID", 1), ("PENDING_PAYMENT", -1)]
        );
        assert_eq!(
            changes.days.into_iter().collect::<Vec<_>>(),
            [
                ((date(1), "INR".to_owned()), [0, 1, 0, 0]),
                ((date(2), "INR".to_owned()), [0, 0, 1, 500]),
            ]
        );
        let products: Vec<_> = changes.products.into_values().collect();
        assert_eq!(
            products,
            [(1, 200, "B".to_owned()), (1, 300, "A".to_owned())]
        );
    }

    #[test]
    fn a_refund_moves_the_status_only_and_a_save_without_change_counts_nothing() {
        let refunded = order(OrderStatus::Refunded, Some(at(2, 1)));
        let changes = Changes::of(
            &refunded,
            Some(Counted {
                status: OrderStatus::Paid,
                paid_at: Some(at(2, 1)),
            }),
        );
        assert_eq!(
            changes.statuses.into_iter().collect::<Vec<_>>(),
            [("PAID", -1), ("REFUNDED", 1)]
        );
        assert!(changes.days.is_empty() && changes.products.is_empty());
        let same = Changes::of(
            &refunded,
            Some(Counted {
                status: OrderStatus::Refunded,
                paid_at: Some(at(2, 1)),
            }),
        );
        assert!(same.is_empty());
    }
}
