//! Team members of the content context.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `team_members` (links as JSON, the photo's object-store key, type and size), with
/// the index of the list order (position, id), also used for the visible-only public list.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TeamMembers::Table)
                    .col(uuid(TeamMembers::Id).primary_key())
                    .col(text(TeamMembers::Name))
                    .col(text(TeamMembers::RoleTitle))
                    .col(text(TeamMembers::Bio))
                    .col(text(TeamMembers::Links))
                    .col(integer(TeamMembers::Position))
                    .col(boolean(TeamMembers::Visible))
                    .col(text_null(TeamMembers::PhotoKey))
                    .col(text_null(TeamMembers::PhotoContentType))
                    .col(big_integer_null(TeamMembers::PhotoSize))
                    .col(big_integer(TeamMembers::Version))
                    .col(timestamp_with_time_zone(TeamMembers::CreatedAt))
                    .col(timestamp_with_time_zone(TeamMembers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_team_members_position")
                    .table(TeamMembers::Table)
                    .col(TeamMembers::Position)
                    .col(TeamMembers::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_team_members_visible_position")
                    .table(TeamMembers::Table)
                    .col(TeamMembers::Visible)
                    .col(TeamMembers::Position)
                    .col(TeamMembers::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TeamMembers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    Name,
    RoleTitle,
    Bio,
    Links,
    Position,
    Visible,
    PhotoKey,
    PhotoContentType,
    PhotoSize,
    Version,
    CreatedAt,
    UpdatedAt,
}
