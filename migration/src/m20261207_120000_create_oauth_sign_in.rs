//! Sign-in with Google and GitHub: the identities linked to accounts and the one-time
//! `state` of each authorization in flight.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `user_identities` (one row per provider account linked to a user: unique on
/// `(provider, subject)` and on `(user_id, provider)`) and `oauth_states` (hashed one-time
/// states with their PKCE verifier, nonce, browser binding and intent).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserIdentities::Table)
                    .col(pk_uuid(UserIdentities::Id))
                    .col(uuid(UserIdentities::UserId))
                    .col(string_len(UserIdentities::Provider, 20))
                    .col(string_len(UserIdentities::Subject, 255))
                    .col(string_len_null(UserIdentities::Email, 254))
                    .col(timestamp_with_time_zone(UserIdentities::CreatedAt))
                    .col(timestamp_with_time_zone(UserIdentities::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_identities_user_id")
                            .from(UserIdentities::Table, UserIdentities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An identity is keyed on the provider's subject, never on the e-mail.
        manager
            .create_index(
                Index::create()
                    .name("ux_user_identities_provider_subject")
                    .table(UserIdentities::Table)
                    .col(UserIdentities::Provider)
                    .col(UserIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // At most one identity per provider per account; also the list of an account's
        // identities.
        manager
            .create_index(
                Index::create()
                    .name("ux_user_identities_user_id_provider")
                    .table(UserIdentities::Table)
                    .col(UserIdentities::UserId)
                    .col(UserIdentities::Provider)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .col(pk_uuid(OauthStates::Id))
                    .col(string_len(OauthStates::StateHash, 128))
                    .col(string_len(OauthStates::BindingHash, 128))
                    .col(string_len(OauthStates::Provider, 20))
                    .col(string_len(OauthStates::PkceVerifier, 128))
                    .col(string_len(OauthStates::Nonce, 128))
                    .col(string_len(OauthStates::Intent, 20))
                    .col(uuid_null(OauthStates::UserId))
                    .col(timestamp_with_time_zone(OauthStates::CreatedAt))
                    .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthStates::ConsumedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_states_user_id")
                            .from(OauthStates::Table, OauthStates::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_oauth_states_state_hash")
                    .table(OauthStates::Table)
                    .col(OauthStates::StateHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Sweeping expired states.
        manager
            .create_index(
                Index::create()
                    .name("ix_oauth_states_expires_at")
                    .table(OauthStates::Table)
                    .col(OauthStates::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthStates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UserIdentities::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum UserIdentities {
    Table,
    Id,
    UserId,
    Provider,
    Subject,
    Email,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Id,
    StateHash,
    BindingHash,
    Provider,
    PkceVerifier,
    Nonce,
    Intent,
    UserId,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
