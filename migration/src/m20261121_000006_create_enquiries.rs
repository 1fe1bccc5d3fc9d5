//! Enquiries from the public and customers, routed to an officer.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// Creates `enquiries` with the indexes its lists and the officer routing need, and on
/// PostgreSQL a trigram index for substring search.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every list is newest first (ties by id), optionally filtered by assignee and status (the
/// officer's view, and routing's count of OPEN enquiries per officer), by e-mail (a
/// customer's own enquiries) or by status. `customer_id` serves the cascade when a customer
/// is deleted.
const INDEXES: &[(&str, &[Enquiries])] = &[
    (
        "ix_enquiries_assigned_to_status_created_at_id",
        &[
            Enquiries::AssignedTo,
            Enquiries::Status,
            Enquiries::CreatedAt,
            Enquiries::Id,
        ],
    ),
    (
        "ix_enquiries_email_created_at_id",
        &[Enquiries::Email, Enquiries::CreatedAt, Enquiries::Id],
    ),
    (
        "ix_enquiries_status_created_at_id",
        &[Enquiries::Status, Enquiries::CreatedAt, Enquiries::Id],
    ),
    (
        "ix_enquiries_created_at_id",
        &[Enquiries::CreatedAt, Enquiries::Id],
    ),
    ("ix_enquiries_customer_id", &[Enquiries::CustomerId]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Enquiries::Table)
                    .col(pk_uuid(Enquiries::Id))
                    .col(uuid(Enquiries::CustomerId))
                    .col(text(Enquiries::Name))
                    .col(text(Enquiries::Email))
                    .col(text(Enquiries::Subject))
                    .col(text(Enquiries::Message))
                    // No foreign key yet: the catalog has no table in this schema.
                    .col(uuid_null(Enquiries::ProductId))
                    .col(text(Enquiries::Status))
                    .col(uuid_null(Enquiries::AssignedTo))
                    .col(timestamp_with_time_zone(Enquiries::CreatedAt))
                    .col(timestamp_with_time_zone(Enquiries::UpdatedAt))
                    .col(big_integer(Enquiries::Version))
                    // lower(subject || ' ' || name || ' ' || email), written by the
                    // repository, so search is one column on every backend.
                    .col(text(Enquiries::SearchText))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enquiries_customer_id")
                            .from(Enquiries::Table, Enquiries::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enquiries_assigned_to")
                            .from(Enquiries::Table, Enquiries::AssignedTo)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Enquiries::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            // As for customers: `LIKE '%term%'` uses an index only through trigrams.
            let db = manager.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_enquiries_search_text_trgm \
                 ON enquiries USING gin (search_text gin_trgm_ops)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Enquiries::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Enquiries {
    Table,
    Id,
    CustomerId,
    Name,
    Email,
    Subject,
    Message,
    ProductId,
    Status,
    AssignedTo,
    CreatedAt,
    UpdatedAt,
    Version,
    SearchText,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
