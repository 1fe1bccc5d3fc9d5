//! `background_work`: the job queue and the event deliveries as one list, so the
//! administrators' view of background work (`/api/v1/admin/jobs`) pages over both while the
//! follow-up work of each context moves from jobs to outbox subscribers. A delivery's kind
//! is its subscriber's name; its payload (the event's) is never shown there.

use sea_orm_migration::prelude::*;

/// Creates the view.
#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str = "state, attempts, max_attempts, run_at, locked_by, locked_until, \
                       last_error, created_at, updated_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE VIEW background_work AS \
                 SELECT id, kind, payload, sensitive, {COLUMNS} FROM jobs \
                 UNION ALL \
                 SELECT id, subscriber AS kind, NULL AS payload, FALSE AS sensitive, {COLUMNS} \
                 FROM event_deliveries"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP VIEW IF EXISTS background_work")
            .await?;
        Ok(())
    }
}
