//! `carts`: the products in each user's cart, when carts live in the database.

use sea_orm::entity::prelude::*;

/// One row of `carts`: one product in one user's cart.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carts")]
pub struct Model {
    /// The cart's owner (no foreign key: see the migration).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The product (no foreign key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    /// When it was added (UTC, whole milliseconds).
    pub added_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
