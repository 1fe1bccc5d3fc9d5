//! The event outbox: domain events written with the change that caused them, and one
//! delivery per (event, subscriber).

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `outbox_events` and `event_deliveries`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .col(pk_uuid(OutboxEvents::Id))
                    // "<domain>.<event>" and its payload version.
                    .col(text(OutboxEvents::Name))
                    .col(integer(OutboxEvents::Version))
                    // jsonb on PostgreSQL, JSON text on SQLite; NULL once a sensitive
                    // payload was cleared after every delivery of it ended.
                    .col(json_binary_null(OutboxEvents::Payload))
                    .col(boolean(OutboxEvents::Sensitive))
                    .col(text_null(OutboxEvents::RequestId))
                    .col(timestamp_with_time_zone(OutboxEvents::OccurredAt))
                    .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventDeliveries::Table)
                    .col(pk_uuid(EventDeliveries::Id))
                    .col(uuid(EventDeliveries::EventId))
                    // The subscriber's stable name.
                    .col(text(EventDeliveries::Subscriber))
                    .col(text(EventDeliveries::State))
                    .col(integer(EventDeliveries::Attempts))
                    .col(integer(EventDeliveries::MaxAttempts))
                    .col(timestamp_with_time_zone(EventDeliveries::RunAt))
                    .col(text_null(EventDeliveries::LockedBy))
                    .col(timestamp_with_time_zone_null(EventDeliveries::LockedUntil))
                    .col(text_null(EventDeliveries::LastError))
                    .col(timestamp_with_time_zone(EventDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(EventDeliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_event_deliveries_event")
                            .from(EventDeliveries::Table, EventDeliveries::EventId)
                            .to(OutboxEvents::Table, OutboxEvents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One delivery per event and subscriber: the delivery id is the idempotency key.
        manager
            .create_index(
                Index::create()
                    .name("ux_event_deliveries_event_subscriber")
                    .table(EventDeliveries::Table)
                    .col(EventDeliveries::EventId)
                    .col(EventDeliveries::Subscriber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Claiming: PENDING due by run_at, or RUNNING with an ended lease.
        manager
            .create_index(
                Index::create()
                    .name("ix_event_deliveries_state_run_at")
                    .table(EventDeliveries::Table)
                    .col(EventDeliveries::State)
                    .col(EventDeliveries::RunAt)
                    .to_owned(),
            )
            .await?;
        // The admin list: newest first, unfiltered or by state and subscriber.
        manager
            .create_index(
                Index::create()
                    .name("ix_event_deliveries_created_at_id")
                    .table(EventDeliveries::Table)
                    .col(EventDeliveries::CreatedAt)
                    .col(EventDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_event_deliveries_state_subscriber_created_at")
                    .table(EventDeliveries::Table)
                    .col(EventDeliveries::State)
                    .col(EventDeliveries::Subscriber)
                    .col(EventDeliveries::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EventDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OutboxEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    Name,
    Version,
    Payload,
    Sensitive,
    RequestId,
    OccurredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EventDeliveries {
    Table,
    Id,
    EventId,
    Subscriber,
    State,
    Attempts,
    MaxAttempts,
    RunAt,
    LockedBy,
    LockedUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}
