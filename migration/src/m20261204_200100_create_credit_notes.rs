//! Credit notes: one per refund of an invoiced order, numbered in their own gap-free series.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `credit_note_counters` (`last` number issued per year, like `invoice_counters`)
/// and `credit_notes`: the number (`CN-<year>-<sequence>`) allocated in the transaction that
/// counts the refund, the refund it documents, and where its PDF is stored once rendered.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CreditNoteCounters::Table)
                    .col(integer(CreditNoteCounters::Year).primary_key())
                    .col(big_integer(CreditNoteCounters::Last))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CreditNotes::Table)
                    .col(text(CreditNotes::Number).primary_key())
                    .col(uuid(CreditNotes::OrderId))
                    // The gateway refund it documents: one credit note per refund.
                    .col(text(CreditNotes::RefundId).unique_key())
                    .col(timestamp_with_time_zone(CreditNotes::IssuedAt))
                    .col(text_null(CreditNotes::FileKey))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credit_notes_order_id")
                            .from(CreditNotes::Table, CreditNotes::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_credit_notes_order_id")
                    .table(CreditNotes::Table)
                    .col(CreditNotes::OrderId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CreditNotes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CreditNoteCounters::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CreditNoteCounters {
    Table,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum CreditNotes {
    Table,
    Number,
    OrderId,
    RefundId,
    IssuedAt,
    FileKey,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}
