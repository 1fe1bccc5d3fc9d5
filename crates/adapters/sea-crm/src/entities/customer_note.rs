//! `customer_notes`: what staff wrote on a customer.

use sea_orm::entity::prelude::*;

/// One row of `customer_notes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_notes")]
pub struct Model {
    /// Note id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The customer (`customers.id`, cascade).
    pub customer_id: Uuid,
    /// The author (`users.id`, restrict).
    pub author_id: Uuid,
    /// Plain text.
    pub body: String,
    /// When it was written (UTC).
    pub created_at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
