//! Retires the job queue: all follow-up work runs as outbox subscribers, whose deliveries
//! (`event_deliveries`) are the administrators' view of background work. Drops the
//! transitional `background_work` view and the `jobs` table.
//!
//! `down` recreates an empty `jobs` table (and the view) with the shape they had.

use sea_orm_migration::prelude::*;

use crate::m20261121_000005_create_jobs;
use crate::m20261205_080000_create_background_work_view;

/// Drops the view and the table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        m20261205_080000_create_background_work_view::Migration
            .down(manager)
            .await?;
        m20261121_000005_create_jobs::Migration.down(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        m20261121_000005_create_jobs::Migration.up(manager).await?;
        m20261205_080000_create_background_work_view::Migration
            .up(manager)
            .await
    }
}
