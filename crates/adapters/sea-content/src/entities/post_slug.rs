//! `post_slug_history`.

use sea_orm::entity::prelude::*;

/// One old slug of a post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_slug_history")]
pub struct Model {
    /// The old slug (unique).
    #[sea_orm(primary_key, auto_increment = false)]
    pub slug: String,
    /// The post that had it.
    pub post_id: Uuid,
    /// When it was left.
    pub created_at: DateTimeUtc,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
