//! `posts`.
//!
//! Each backend also has a search column this mapping leaves out, because no query reads
//! it as a value: PostgreSQL's generated `search_vector` and SQLite's `search_rowid` (the
//! key of the `posts_fts` index, assigned by a trigger).

use sea_orm::entity::prelude::*;

/// One row of `posts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    /// Post id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Current slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Excerpt as written.
    pub excerpt: String,
    /// JSON array of tags (the `post_tags` rows are what filters read).
    pub tags: String,
    /// Author (a team member).
    pub author_id: Uuid,
    /// Cover key.
    pub cover_key: Option<String>,
    /// Cover type.
    pub cover_content_type: Option<String>,
    /// Cover size.
    pub cover_size: Option<i64>,
    /// DRAFT, SCHEDULED, PUBLISHED.
    pub status: String,
    /// Scheduled publication.
    pub publish_at: Option<DateTimeUtc>,
    /// Last publication.
    pub published_at: Option<DateTimeUtc>,
    /// Optimistic version.
    pub version: i64,
    /// Creator.
    pub created_by: Uuid,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
