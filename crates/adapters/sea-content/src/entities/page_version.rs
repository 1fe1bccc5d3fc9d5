//! `page_versions`.

use sea_orm::entity::prelude::*;

/// One row of `page_versions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "page_versions")]
pub struct Model {
    /// The page.
    #[sea_orm(primary_key, auto_increment = false)]
    pub page_id: Uuid,
    /// Version number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i64,
    /// JSON `PageContent`.
    pub content: String,
    /// Author (`None`: the scheduler).
    pub author: Option<Uuid>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
