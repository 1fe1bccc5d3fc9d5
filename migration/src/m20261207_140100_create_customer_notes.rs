//! Notes that staff add to a customer: append-only, listed newest first.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `customer_notes`, with the index the note list and the timeline read
/// (customer, time, id: newest first, ties by id).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerNotes::Table)
                    .if_not_exists()
                    .col(pk_uuid(CustomerNotes::Id))
                    .col(uuid(CustomerNotes::CustomerId))
                    .col(uuid(CustomerNotes::AuthorId))
                    .col(text(CustomerNotes::Body))
                    .col(timestamp_with_time_zone(CustomerNotes::CreatedAt))
                    // A customer that may be deleted has no history worth keeping; its
                    // notes go with it.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_notes_customer_id")
                            .from(CustomerNotes::Table, CustomerNotes::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_notes_author_id")
                            .from(CustomerNotes::Table, CustomerNotes::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_customer_notes_customer_id_created_at_id")
                    .table(CustomerNotes::Table)
                    .col(CustomerNotes::CustomerId)
                    .col(CustomerNotes::CreatedAt)
                    .col(CustomerNotes::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustomerNotes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CustomerNotes {
    Table,
    Id,
    CustomerId,
    AuthorId,
    Body,
    CreatedAt,
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
