//! What the session list shows: each refresh token carries its sign-in's device label,
//! client network and time.

use sea_orm_migration::prelude::*;

/// Adds `device_label`, `ip_prefix` and `signed_in_at` to `refresh_tokens` (one `ALTER`
/// each: SQLite adds one column per statement), and the index the list of a user's live
/// sessions and the per-request liveness check read.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(
                        ColumnDef::new(RefreshTokens::DeviceLabel)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(ColumnDef::new(RefreshTokens::IpPrefix).text().null())
                    .to_owned(),
            )
            .await?;
        // Null for tokens issued before this column existed: their own creation stands in.
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(
                        ColumnDef::new(RefreshTokens::SignedInAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_tokens_family_id_used_at")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .col(RefreshTokens::UsedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_refresh_tokens_family_id_used_at")
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            RefreshTokens::SignedInAt,
            RefreshTokens::IpPrefix,
            RefreshTokens::DeviceLabel,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RefreshTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    FamilyId,
    UsedAt,
    DeviceLabel,
    IpPrefix,
    SignedInAt,
}
