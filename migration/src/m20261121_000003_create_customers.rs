//! Customers of the CRM, with the indexes every list order and filter needs.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// Creates `customers`, one index per list order (each ending in `id`, the tie-breaker),
/// and on PostgreSQL a trigram index for substring search.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Secondary indexes: every sort the API offers, globally and within one officer's
/// customers (the CSO view), plus the status filter. Each ends in `id` because lists
/// break ties by id, so a page is one index range scan with no sort step.
const INDEXES: &[(&str, &[Customers])] = &[
    (
        "ix_customers_created_at_id",
        &[Customers::CreatedAt, Customers::Id],
    ),
    (
        "ix_customers_updated_at_id",
        &[Customers::UpdatedAt, Customers::Id],
    ),
    (
        "ix_customers_last_name_id",
        &[Customers::LastName, Customers::Id],
    ),
    (
        "ix_customers_assigned_to_created_at_id",
        &[Customers::AssignedTo, Customers::CreatedAt, Customers::Id],
    ),
    (
        "ix_customers_assigned_to_updated_at_id",
        &[Customers::AssignedTo, Customers::UpdatedAt, Customers::Id],
    ),
    (
        "ix_customers_assigned_to_last_name_id",
        &[Customers::AssignedTo, Customers::LastName, Customers::Id],
    ),
    (
        "ix_customers_assigned_to_email",
        &[Customers::AssignedTo, Customers::Email],
    ),
    (
        "ix_customers_status_created_at_id",
        &[Customers::Status, Customers::CreatedAt, Customers::Id],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(pk_uuid(Customers::Id))
                    .col(text(Customers::FirstName))
                    .col(text(Customers::LastName))
                    .col(text(Customers::Email))
                    .col(text_null(Customers::Phone))
                    .col(text_null(Customers::Company))
                    .col(text(Customers::Status))
                    // A JSON array in a text column: portable, and tags are never queried
                    // by the database.
                    .col(text(Customers::Tags))
                    .col(uuid_null(Customers::AssignedTo))
                    .col(uuid(Customers::CreatedBy))
                    .col(timestamp_with_time_zone(Customers::CreatedAt))
                    .col(timestamp_with_time_zone(Customers::UpdatedAt))
                    .col(big_integer(Customers::Version))
                    // lower(first_name || ' ' || last_name || ' ' || email), written by the
                    // repository, so search is one indexed column on every backend.
                    .col(text(Customers::SearchText))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customers_assigned_to")
                            .from(Customers::Table, Customers::AssignedTo)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        // A creator is history: their account cannot vanish from under
                        // the records they made.
                        ForeignKey::create()
                            .name("fk_customers_created_by")
                            .from(Customers::Table, Customers::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_customers_email")
                    .table(Customers::Table)
                    .col(Customers::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Customers::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            // `LIKE '%term%'` can only use an index through trigrams. SQLite has no
            // equivalent; there the search scans, which is fine at embedded scale.
            let db = manager.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_customers_search_text_trgm \
                 ON customers USING gin (search_text gin_trgm_ops)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The pg_trgm extension stays: other tables may come to rely on it.
        manager
            .drop_table(Table::drop().table(Customers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    Id,
    FirstName,
    LastName,
    Email,
    Phone,
    Company,
    Status,
    Tags,
    AssignedTo,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
    SearchText,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
