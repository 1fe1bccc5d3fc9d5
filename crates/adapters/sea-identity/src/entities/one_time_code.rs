//! `one_time_codes`: hashed one-time codes.

use sea_orm::entity::prelude::*;

/// One row of `one_time_codes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_codes")]
pub struct Model {
    /// Code id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner (`users.id`, cascade on delete).
    pub user_id: Uuid,
    /// `VERIFY_EMAIL` or `LOGIN`.
    pub purpose: String,
    /// Keyed hash of the code.
    pub code_hash: String,
    /// Issued at.
    pub created_at: DateTimeUtc,
    /// Unusable from this instant on.
    pub expires_at: DateTimeUtc,
    /// Wrong guesses so far.
    pub attempts: i32,
    /// When it was used or voided by a newer code.
    pub consumed_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
