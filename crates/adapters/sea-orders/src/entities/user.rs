//! `users`: staff and storefront accounts.

use sea_orm::entity::prelude::*;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Account id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased sign-in address, unique.
    pub email: String,
    /// bcrypt hash.
    pub password_hash: String,
    /// `ADMIN`, `MANAGER`, `CSO`, `EDITOR` or `CUSTOMER`.
    pub role: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// Whether the address has been proven.
    pub email_verified: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation instant (UTC).
    pub created_at: DateTimeUtc,
    /// Last change (UTC).
    pub updated_at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
