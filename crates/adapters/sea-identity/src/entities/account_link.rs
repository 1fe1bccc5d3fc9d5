//! `account_links`: hashed single-use links e-mailed to account holders.

use sea_orm::entity::prelude::*;

/// One row of `account_links`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_links")]
pub struct Model {
    /// Link id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner (`users.id`, cascade on delete).
    pub user_id: Uuid,
    /// `PASSWORD_RESET`.
    pub purpose: String,
    /// One-way hash of the token, unique.
    pub token_hash: String,
    /// The address an e-mail change moves to (`EMAIL_CHANGE` only).
    pub new_email: Option<String>,
    /// Issued at.
    pub created_at: DateTimeUtc,
    /// Unusable from this instant on.
    pub expires_at: DateTimeUtc,
    /// When it was used or voided by a newer link.
    pub used_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
