//! `user_totp`: one authenticator enrolment per user, its secret sealed.

use sea_orm::entity::prelude::*;

/// One row of `user_totp`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_totp")]
pub struct Model {
    /// Owner (`users.id`, cascade on delete).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The secret, sealed with a server key.
    pub sealed_secret: String,
    /// When it was turned on; null while pending.
    pub enabled_at: Option<DateTimeUtc>,
    /// The last time step whose code was accepted.
    pub last_step: Option<i64>,
    /// When enrolment started.
    pub created_at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
