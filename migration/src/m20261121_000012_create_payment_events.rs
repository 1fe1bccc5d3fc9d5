//! Gateway webhook events already processed, so that a redelivery has no second effect.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `payment_events`: one row per gateway event id, written in the transaction of
/// the change the event causes (or alone, for an event that changes nothing).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentEvents::Table)
                    // The gateway's event id (Razorpay's `X-Razorpay-Event-Id`).
                    .col(text(PaymentEvents::EventId).primary_key())
                    .col(timestamp_with_time_zone(PaymentEvents::ProcessedAt))
                    .to_owned(),
            )
            .await?;
        // Lets old records be pruned once the gateway no longer redelivers them.
        manager
            .create_index(
                Index::create()
                    .name("ix_payment_events_processed_at")
                    .table(PaymentEvents::Table)
                    .col(PaymentEvents::ProcessedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaymentEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PaymentEvents {
    Table,
    EventId,
    ProcessedAt,
}
