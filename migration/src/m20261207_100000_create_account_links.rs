//! Single-use links e-mailed to an account holder: password reset, e-mail change.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `account_links`, owned by `users` (deleting a user deletes their links). Only a
/// hash of each link's token is stored, unique, so a link is found by its token alone.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountLinks::Table)
                    .col(pk_uuid(AccountLinks::Id))
                    .col(uuid(AccountLinks::UserId))
                    .col(text(AccountLinks::Purpose))
                    .col(text(AccountLinks::TokenHash))
                    .col(text_null(AccountLinks::NewEmail))
                    .col(timestamp_with_time_zone(AccountLinks::CreatedAt))
                    .col(timestamp_with_time_zone(AccountLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccountLinks::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_links_user_id")
                            .from(AccountLinks::Table, AccountLinks::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A link is looked up by its token's hash.
        manager
            .create_index(
                Index::create()
                    .name("ux_account_links_token_hash")
                    .table(AccountLinks::Table)
                    .col(AccountLinks::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Voiding a user's earlier links of a purpose when a new one is issued.
        manager
            .create_index(
                Index::create()
                    .name("ix_account_links_user_id_purpose")
                    .table(AccountLinks::Table)
                    .col(AccountLinks::UserId)
                    .col(AccountLinks::Purpose)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountLinks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AccountLinks {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    NewEmail,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
