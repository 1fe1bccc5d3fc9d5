//! `totp_recovery_codes`: hashed single-use recovery codes.

use sea_orm::entity::prelude::*;

/// One row of `totp_recovery_codes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_recovery_codes")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner (`users.id`, cascade on delete).
    pub user_id: Uuid,
    /// Keyed hash of the code.
    pub code_hash: String,
    /// When it was used.
    pub used_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
