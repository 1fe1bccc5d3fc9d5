//! `user_identities`: accounts at sign-in providers linked to users.

use sea_orm::entity::prelude::*;

/// One row of `user_identities`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_identities")]
pub struct Model {
    /// Identity id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner (`users.id`, cascade on delete).
    pub user_id: Uuid,
    /// `google` or `github`.
    pub provider: String,
    /// The provider's stable account id; unique with `provider`.
    pub subject: String,
    /// The e-mail the provider last reported.
    pub email: Option<String>,
    /// Linked at.
    pub created_at: DateTimeUtc,
    /// Last sign-in through it.
    pub last_used_at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
