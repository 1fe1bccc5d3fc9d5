//! Two-factor sign-in: authenticator enrolments, recovery codes and sign-in challenges.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `user_totp` (one enrolment per user, its secret sealed), `totp_recovery_codes`
/// (hashed, single use) and `mfa_challenges` (hashed tokens of sign-ins waiting for their
/// second factor), all owned by `users` (deleting a user deletes them).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserTotp::Table)
                    .col(pk_uuid(UserTotp::UserId))
                    .col(text(UserTotp::SealedSecret))
                    .col(timestamp_with_time_zone_null(UserTotp::EnabledAt))
                    .col(big_integer_null(UserTotp::LastStep))
                    .col(timestamp_with_time_zone(UserTotp::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_totp_user_id")
                            .from(UserTotp::Table, UserTotp::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpRecoveryCodes::Table)
                    .col(pk_uuid(TotpRecoveryCodes::Id))
                    .col(uuid(TotpRecoveryCodes::UserId))
                    .col(text(TotpRecoveryCodes::CodeHash))
                    .col(timestamp_with_time_zone_null(TotpRecoveryCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_totp_recovery_codes_user_id")
                            .from(TotpRecoveryCodes::Table, TotpRecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_totp_recovery_codes_user_id_code_hash")
                    .table(TotpRecoveryCodes::Table)
                    .col(TotpRecoveryCodes::UserId)
                    .col(TotpRecoveryCodes::CodeHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MfaChallenges::Table)
                    .col(pk_uuid(MfaChallenges::Id))
                    .col(uuid(MfaChallenges::UserId))
                    .col(text(MfaChallenges::TokenHash))
                    .col(text(MfaChallenges::DeviceLabel))
                    .col(text_null(MfaChallenges::IpPrefix))
                    .col(timestamp_with_time_zone(MfaChallenges::CreatedAt))
                    .col(timestamp_with_time_zone(MfaChallenges::ExpiresAt))
                    .col(integer(MfaChallenges::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(MfaChallenges::ConsumedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mfa_challenges_user_id")
                            .from(MfaChallenges::Table, MfaChallenges::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_mfa_challenges_token_hash")
                    .table(MfaChallenges::Table)
                    .col(MfaChallenges::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MfaChallenges::Table.into_iden(),
            TotpRecoveryCodes::Table.into_iden(),
            UserTotp::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    SealedSecret,
    EnabledAt,
    LastStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TotpRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    Id,
    UserId,
    TokenHash,
    DeviceLabel,
    IpPrefix,
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
