//! `pages`.

use sea_orm::entity::prelude::*;

/// One row of `pages`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pages")]
pub struct Model {
    /// Page id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Key of the draft (unique).
    pub key: String,
    /// Slug of the draft.
    pub slug: String,
    /// Locale of the draft.
    pub locale: String,
    /// Title of the draft.
    pub title: String,
    /// The draft, JSON `PageContent`.
    pub content: String,
    /// `DRAFT`, `SCHEDULED` or `PUBLISHED`.
    pub status: String,
    /// Scheduled publication.
    pub publish_at: Option<DateTimeUtc>,
    /// Scheduled unpublication.
    pub unpublish_at: Option<DateTimeUtc>,
    /// Slug of the published snapshot.
    pub published_slug: Option<String>,
    /// Locale of the published snapshot.
    pub published_locale: Option<String>,
    /// The published snapshot, JSON `PageContent`.
    pub published_content: Option<String>,
    /// Version the snapshot was taken at.
    pub published_version: Option<i64>,
    /// When it was published.
    pub published_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creator.
    pub created_by: Uuid,
    /// Creation.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
