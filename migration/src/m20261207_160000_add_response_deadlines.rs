//! Approval deadlines on responses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

/// Adds the deadline of a response's last submission (`warn_at`, `due_at`) and when the
/// worker acted on it (`warned_at`, `escalated_at`), with the indexes the deadline sweep
/// reads: pending responses by warning time and by due time.
#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [Responses; 4] = [
    Responses::WarnAt,
    Responses::DueAt,
    Responses::WarnedAt,
    Responses::EscalatedAt,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Responses::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, column) in [
            ("ix_responses_status_warn_at", Responses::WarnAt),
            ("ix_responses_status_due_at", Responses::DueAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Responses::Table)
                        .col(Responses::Status)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ix_responses_status_warn_at", "ix_responses_status_due_at"] {
            manager
                .drop_index(Index::drop().name(name).table(Responses::Table).to_owned())
                .await?;
        }
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Responses::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Responses {
    Table,
    Status,
    WarnAt,
    DueAt,
    WarnedAt,
    EscalatedAt,
}
