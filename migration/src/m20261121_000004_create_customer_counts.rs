//! Exact customer counters, so list totals never count the whole table.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `customer_counts`: one row per counted slice (`all`, `status:<S>`,
/// `assignee:<id>`, `assignee:<id>:status:<S>`), kept by the customer repository in the
/// same transaction as every customer write. See `docs/counting.md`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerCounts::Table)
                    .col(text(CustomerCounts::Key).primary_key())
                    .col(big_integer(CustomerCounts::N))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustomerCounts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CustomerCounts {
    Table,
    Key,
    N,
}
