//! Gap-free invoice numbering, one counter per calendar year.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `invoice_counters`: `last` is the last number issued in `year`. The order
/// repository increments it with one upsert in the transaction that marks an order paid:
/// the row lock serialises concurrent payments, and a rolled-back payment gives its
/// number back, so numbers have no gaps.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InvoiceCounters::Table)
                    .col(integer(InvoiceCounters::Year).primary_key())
                    .col(big_integer(InvoiceCounters::Last))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InvoiceCounters::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum InvoiceCounters {
    Table,
    Year,
    Last,
}
