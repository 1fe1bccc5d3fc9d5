//! `refresh_tokens`: hashed refresh tokens grouped in session families.

use sea_orm::entity::prelude::*;

/// One row of `refresh_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Token id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The sign-in this token descends from.
    pub family_id: Uuid,
    /// Owner (`users.id`, cascade on delete).
    pub user_id: Uuid,
    /// One-way hash of the token, unique.
    pub token_hash: String,
    /// Issued at.
    pub created_at: DateTimeUtc,
    /// Unusable after.
    pub expires_at: DateTimeUtc,
    /// When it was exchanged for the next token.
    pub used_at: Option<DateTimeUtc>,
    /// When its family was revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// The sign-in's device label ("Firefox on Linux"); empty for older tokens.
    pub device_label: String,
    /// The sign-in's client network ("203.0.113.0/24").
    pub ip_prefix: Option<String>,
    /// When the family's sign-in happened; `None` for older tokens.
    pub signed_in_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
