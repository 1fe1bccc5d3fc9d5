//! User accounts: staff and storefront customers.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `users` with its unique e-mail and the indexes for newest-first listing.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    // The domain lower-cases addresses, so a plain unique index is
                    // case-insensitive uniqueness on every backend.
                    .col(text(Users::Email))
                    .col(text(Users::PasswordHash))
                    .col(text(Users::Role))
                    .col(text(Users::FirstName))
                    .col(text(Users::LastName))
                    .col(boolean(Users::IsActive))
                    .col(boolean(Users::EmailVerified))
                    .col(big_integer(Users::Version))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_email")
                    .table(Users::Table)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The admin user list is newest first, optionally filtered by role.
        manager
            .create_index(
                Index::create()
                    .name("ix_users_created_at_id")
                    .table(Users::Table)
                    .col(Users::CreatedAt)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_role_created_at_id")
                    .table(Users::Table)
                    .col(Users::Role)
                    .col(Users::CreatedAt)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Role,
    FirstName,
    LastName,
    IsActive,
    EmailVerified,
    Version,
    CreatedAt,
    UpdatedAt,
}
