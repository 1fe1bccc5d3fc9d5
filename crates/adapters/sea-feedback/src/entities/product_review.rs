//! `product_reviews`.

use sea_orm::entity::prelude::*;

/// One row of `product_reviews`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_reviews")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Product reviewed.
    pub product_id: Uuid,
    /// Reviewer.
    pub user_id: Uuid,
    /// Stars, 1 to 5.
    pub rating: i32,
    /// Title.
    pub title: Option<String>,
    /// Text.
    pub body: String,
    /// `PENDING`, `PUBLISHED` or `HIDDEN`.
    pub status: String,
    /// Written at.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Last publication.
    pub published_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
