//! Staff responses to customers, their approval workflow, and its append-only history.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `responses` and `response_events`. A response goes with its customer; its
/// history goes with the response; the people in it (author, reviewer, actors) cannot be
/// deleted from under it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Lists are newest first (ties by id): the review queue by status, a customer's
/// responses, an author's own, or everything. `enquiry_id` serves the `SET NULL` when an
/// enquiry goes.
const RESPONSE_INDEXES: &[(&str, &[Responses])] = &[
    (
        "ix_responses_status_created_at_id",
        &[Responses::Status, Responses::CreatedAt, Responses::Id],
    ),
    (
        "ix_responses_customer_id_created_at_id",
        &[Responses::CustomerId, Responses::CreatedAt, Responses::Id],
    ),
    (
        "ix_responses_author_id_created_at_id",
        &[Responses::AuthorId, Responses::CreatedAt, Responses::Id],
    ),
    (
        "ix_responses_created_at_id",
        &[Responses::CreatedAt, Responses::Id],
    ),
    ("ix_responses_enquiry_id", &[Responses::EnquiryId]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Responses::Table)
                    .col(pk_uuid(Responses::Id))
                    .col(uuid(Responses::CustomerId))
                    .col(uuid_null(Responses::EnquiryId))
                    .col(uuid(Responses::AuthorId))
                    .col(text(Responses::Subject))
                    .col(text(Responses::Content))
                    .col(text(Responses::Status))
                    .col(big_integer(Responses::Version))
                    .col(timestamp_with_time_zone(Responses::CreatedAt))
                    .col(timestamp_with_time_zone(Responses::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Responses::SubmittedAt))
                    .col(uuid_null(Responses::DecidedBy))
                    .col(timestamp_with_time_zone_null(Responses::DecidedAt))
                    .col(text_null(Responses::DecisionNotes))
                    .col(timestamp_with_time_zone_null(Responses::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_responses_customer_id")
                            .from(Responses::Table, Responses::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_responses_enquiry_id")
                            .from(Responses::Table, Responses::EnquiryId)
                            .to(Enquiries::Table, Enquiries::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_responses_author_id")
                            .from(Responses::Table, Responses::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        // A decided response must keep its reviewer (four eyes is checked
                        // on reload), so the reviewer's account cannot vanish.
                        ForeignKey::create()
                            .name("fk_responses_decided_by")
                            .from(Responses::Table, Responses::DecidedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in RESPONSE_INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Responses::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ResponseEvents::Table)
                    .col(pk_uuid(ResponseEvents::Id))
                    .col(uuid(ResponseEvents::ResponseId))
                    // NULL for the system (the mail worker marking a response sent).
                    .col(uuid_null(ResponseEvents::ActorId))
                    // NULL for the creation.
                    .col(text_null(ResponseEvents::FromStatus))
                    .col(text(ResponseEvents::ToStatus))
                    .col(text_null(ResponseEvents::Notes))
                    .col(timestamp_with_time_zone(ResponseEvents::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_response_events_response_id")
                            .from(ResponseEvents::Table, ResponseEvents::ResponseId)
                            .to(Responses::Table, Responses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_response_events_actor_id")
                            .from(ResponseEvents::Table, ResponseEvents::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // A response's history, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_response_events_response_id_at")
                    .table(ResponseEvents::Table)
                    .col(ResponseEvents::ResponseId)
                    .col(ResponseEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResponseEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Responses::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Responses {
    Table,
    Id,
    CustomerId,
    EnquiryId,
    AuthorId,
    Subject,
    Content,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    DecidedBy,
    DecidedAt,
    DecisionNotes,
    SentAt,
}

#[derive(DeriveIden)]
enum ResponseEvents {
    Table,
    Id,
    ResponseId,
    ActorId,
    FromStatus,
    ToStatus,
    Notes,
    At,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Enquiries {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
