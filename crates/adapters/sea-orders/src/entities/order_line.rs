//! `order_lines`: what an order bought, as it was at checkout.

use sea_orm::entity::prelude::*;

/// One row of `order_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    /// The order (`orders.id`, cascade).
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    /// 0-based place of the line in its order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    /// The product (`products.id`, restrict).
    pub product_id: Uuid,
    /// Its title at checkout.
    pub title: String,
    /// Its price at checkout, in minor units.
    pub unit_price_minor: i64,
    /// ISO 4217 code of the price.
    pub currency: String,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
