//! One-time codes (hashed) for e-mail verification and password-less sign-in.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `one_time_codes`, owned by `users` (deleting a user deletes their codes).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OneTimeCodes::Table)
                    .col(pk_uuid(OneTimeCodes::Id))
                    .col(uuid(OneTimeCodes::UserId))
                    .col(text(OneTimeCodes::Purpose))
                    .col(text(OneTimeCodes::CodeHash))
                    .col(timestamp_with_time_zone(OneTimeCodes::CreatedAt))
                    .col(timestamp_with_time_zone(OneTimeCodes::ExpiresAt))
                    .col(integer(OneTimeCodes::Attempts))
                    .col(timestamp_with_time_zone_null(OneTimeCodes::ConsumedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_one_time_codes_user_id")
                            .from(OneTimeCodes::Table, OneTimeCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Voiding and finding a user's live code for a purpose, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_one_time_codes_user_id_purpose_created_at")
                    .table(OneTimeCodes::Table)
                    .col(OneTimeCodes::UserId)
                    .col(OneTimeCodes::Purpose)
                    .col(OneTimeCodes::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OneTimeCodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    Id,
    UserId,
    Purpose,
    CodeHash,
    CreatedAt,
    ExpiresAt,
    Attempts,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
