//! `entitlements`: who owns which product, and which order granted it.

use sea_orm::entity::prelude::*;

/// One row of `entitlements`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "entitlements")]
pub struct Model {
    /// The owner (`users.id`, cascade).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The product (`products.id`, restrict).
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    /// The order that granted it (`orders.id`, cascade).
    pub order_id: Uuid,
    /// The granting order's payment time (UTC).
    pub granted_at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
