//! `team_members`.

use sea_orm::entity::prelude::*;

/// One row of `team_members`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "team_members")]
pub struct Model {
    /// Member id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Role title.
    pub role_title: String,
    /// Bio.
    pub bio: String,
    /// JSON array of `{label, url}`.
    pub links: String,
    /// Place in the list.
    pub position: i32,
    /// Shown to the public.
    pub visible: bool,
    /// Object-store key of the photo.
    pub photo_key: Option<String>,
    /// Its media type.
    pub photo_content_type: Option<String>,
    /// Its size.
    pub photo_size: Option<i64>,
    /// Optimistic version.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
