//! The durable job queue (outbox): e-mails and other work caused by state changes.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `jobs`. Repositories write a job in the same transaction as the state change
/// that causes it; workers claim due jobs with a lease.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(pk_uuid(Jobs::Id))
                    .col(text(Jobs::Kind))
                    // JSON of the payload; NULL once a sensitive payload (a one-time code)
                    // has been cleared after its job ended.
                    .col(text_null(Jobs::Payload))
                    // Decided from the payload at insert, so clearing it needs no JSON.
                    .col(boolean(Jobs::Sensitive))
                    .col(text(Jobs::State))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(text_null(Jobs::LockedBy))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(text_null(Jobs::LastError))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Claiming: `state = 'PENDING' AND run_at <= now` and `state = 'RUNNING' AND
        // locked_until < now` both start with the state; due jobs come in run_at order.
        manager
            .create_index(
                Index::create()
                    .name("ix_jobs_state_run_at")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await?;
        // The admin list: newest first, by state and kind, or unfiltered.
        manager
            .create_index(
                Index::create()
                    .name("ix_jobs_state_kind_created_at")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::Kind)
                    .col(Jobs::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_jobs_created_at_id")
                    .table(Jobs::Table)
                    .col(Jobs::CreatedAt)
                    .col(Jobs::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    Sensitive,
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
