//! `mfa_challenges`: sign-ins waiting for their second factor (hashed tokens).

use sea_orm::entity::prelude::*;

/// One row of `mfa_challenges`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_challenges")]
pub struct Model {
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who is signing in (`users.id`, cascade on delete).
    pub user_id: Uuid,
    /// One-way hash of the challenge token, unique.
    pub token_hash: String,
    /// The sign-in's device label.
    pub device_label: String,
    /// The sign-in's client network.
    pub ip_prefix: Option<String>,
    /// Issued at.
    pub created_at: DateTimeUtc,
    /// Unusable from this instant on.
    pub expires_at: DateTimeUtc,
    /// Wrong codes so far.
    pub attempts: i32,
    /// When it was exchanged for tokens.
    pub consumed_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
