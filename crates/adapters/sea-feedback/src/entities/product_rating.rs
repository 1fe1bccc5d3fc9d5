//! `product_ratings`: the published reviews of each product, summed.

use sea_orm::entity::prelude::*;

/// One row of `product_ratings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_ratings")]
pub struct Model {
    /// The product.
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    /// How many published reviews.
    pub review_count: i64,
    /// The sum of their stars.
    pub rating_sum: i64,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
