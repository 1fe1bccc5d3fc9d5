//! The audit log: one append-only row per staff action that changes data.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// Creates `audit_log` with the indexes its filters read (newest first, ties by id), and
/// triggers that refuse every `UPDATE` and `DELETE` on it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL: one function raising an error, fired before any update or delete.
const POSTGRES_GUARD: &[&str] = &[
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
     BEGIN
         RAISE EXCEPTION 'audit_log is append-only';
     END;
     $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
         FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
         FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
];

/// SQLite: the same refusal with `RAISE(ABORT)`.
const SQLITE_GUARD: &[&str] = &[
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(pk_uuid(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    // No foreign key: the log outlives the accounts it names.
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len_null(AuditLog::ActorRole, 32))
                    .col(string_len(AuditLog::Action, 100))
                    .col(string_len(AuditLog::TargetKind, 50))
                    .col(string_len(AuditLog::TargetId, 200))
                    .col(json_binary(AuditLog::Summary))
                    .col(string_len_null(AuditLog::RequestId, 200))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &[AuditLog]); 4] = [
            (
                "ix_audit_log_occurred_at_id",
                &[AuditLog::OccurredAt, AuditLog::Id],
            ),
            (
                "ix_audit_log_actor_id_occurred_at",
                &[AuditLog::ActorId, AuditLog::OccurredAt, AuditLog::Id],
            ),
            (
                "ix_audit_log_target_occurred_at",
                &[
                    AuditLog::TargetKind,
                    AuditLog::TargetId,
                    AuditLog::OccurredAt,
                    AuditLog::Id,
                ],
            ),
            (
                "ix_audit_log_action_occurred_at",
                &[AuditLog::Action, AuditLog::OccurredAt, AuditLog::Id],
            ),
        ];
        for (name, cols) in indexes {
            let mut index = Index::create();
            index.name(name).table(AuditLog::Table);
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        let guard = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_GUARD,
            _ => SQLITE_GUARD,
        };
        let db = manager.get_connection();
        for statement in guard {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    OccurredAt,
    ActorId,
    ActorRole,
    Action,
    TargetKind,
    TargetId,
    Summary,
    RequestId,
}
