//! Exact order counters the orders adapter keeps in the transactions that write orders, so
//! the administrator's dashboard adds up a month of days instead of counting a month of
//! orders (see `docs/dashboards.md`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, date, text, uuid};
use sea_orm_migration::sea_orm::DbBackend;

/// Creates three counter tables and fills them from the orders already stored:
///
/// - `order_status_counts (status, n)`: orders per status;
/// - `order_day_counts (day, currency, placed, placed_paid, paid, paid_minor)`: per UTC day
///   and currency, the orders placed that day and how many of those are paid by now, and the
///   orders paid that day with their total;
/// - `product_day_counts (day, product_id, currency, title, units, amount_minor)`: per UTC
///   day of payment, product and currency, the lines of paid orders and their amount, with
///   the latest title sold.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrderStatusCounts::Table)
                    .col(text(OrderStatusCounts::Status).primary_key())
                    .col(big_integer(OrderStatusCounts::N))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderDayCounts::Table)
                    .col(date(OrderDayCounts::Day))
                    .col(text(OrderDayCounts::Currency))
                    .col(big_integer(OrderDayCounts::Placed))
                    .col(big_integer(OrderDayCounts::PlacedPaid))
                    .col(big_integer(OrderDayCounts::Paid))
                    .col(big_integer(OrderDayCounts::PaidMinor))
                    .primary_key(
                        Index::create()
                            .name("pk_order_day_counts")
                            .col(OrderDayCounts::Day)
                            .col(OrderDayCounts::Currency),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductDayCounts::Table)
                    .col(date(ProductDayCounts::Day))
                    .col(uuid(ProductDayCounts::ProductId))
                    .col(text(ProductDayCounts::Currency))
                    .col(text(ProductDayCounts::Title))
                    .col(big_integer(ProductDayCounts::Units))
                    .col(big_integer(ProductDayCounts::AmountMinor))
                    .primary_key(
                        Index::create()
                            .name("pk_product_day_counts")
                            .col(ProductDayCounts::Day)
                            .col(ProductDayCounts::ProductId)
                            .col(ProductDayCounts::Currency),
                    )
                    .to_owned(),
            )
            .await?;
        // The UTC day of a stored timestamp: SQLite keeps UTC timestamps as text that starts
        // with the date.
        let day = |column: &str| match manager.get_database_backend() {
            DbBackend::Postgres => format!("CAST(({column} AT TIME ZONE 'UTC') AS DATE)"),
            _ => format!("substr({column}, 1, 10)"),
        };
        let (created, paid) = (day("created_at"), day("paid_at"));
        let line_paid = day("o.paid_at");
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO order_status_counts (status, n) \
             SELECT status, COUNT(*) FROM orders GROUP BY status",
        )
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO order_day_counts (day, currency, placed, placed_paid, paid, paid_minor) \
             SELECT day, currency, CAST(SUM(placed) AS BIGINT), CAST(SUM(placed_paid) AS BIGINT), \
             CAST(SUM(paid) AS BIGINT), CAST(SUM(paid_minor) AS BIGINT) FROM (\
               SELECT {created} AS day, currency, 1 AS placed, \
               CASE WHEN paid_at IS NULL THEN 0 ELSE 1 END AS placed_paid, \
               0 AS paid, 0 AS paid_minor FROM orders \
               UNION ALL \
               SELECT {paid} AS day, currency, 0, 0, 1, total_minor FROM orders \
               WHERE paid_at IS NOT NULL\
             ) o GROUP BY day, currency"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO product_day_counts \
             (day, product_id, currency, title, units, amount_minor) \
             SELECT {line_paid}, l.product_id, l.currency, MAX(l.title), COUNT(*), \
             CAST(SUM(l.unit_price_minor) AS BIGINT) \
             FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE o.paid_at IS NOT NULL \
             GROUP BY {line_paid}, l.product_id, l.currency"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Alias::new("product_day_counts"),
            Alias::new("order_day_counts"),
            Alias::new("order_status_counts"),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OrderStatusCounts {
    Table,
    Status,
    N,
}

#[derive(DeriveIden)]
enum OrderDayCounts {
    Table,
    Day,
    Currency,
    Placed,
    PlacedPaid,
    Paid,
    PaidMinor,
}

#[derive(DeriveIden)]
enum ProductDayCounts {
    Table,
    Day,
    ProductId,
    Currency,
    Title,
    Units,
    AmountMinor,
}
