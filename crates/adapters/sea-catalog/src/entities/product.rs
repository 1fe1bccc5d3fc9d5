//! `products`: the catalog's digital products.
//!
//! Each backend also has a search column this mapping leaves out, because no query reads
//! it as a value: PostgreSQL's generated `search_vector` and SQLite's `search_rowid` (the
//! key of the `products_fts` index, assigned by a trigger).

use sea_orm::entity::prelude::*;

/// One row of `products`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    /// Product id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// URL name, unique.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Description (may be empty).
    pub description: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 currency code of the price.
    pub currency: String,
    /// Normalised category.
    pub category: String,
    /// Tags as a JSON array of strings.
    pub tags: String,
    /// `DRAFT`, `PUBLISHED` or `ARCHIVED`.
    pub status: String,
    /// Asset-store key of the file (all `asset_*` columns are set together or not at all).
    pub asset_key: Option<String>,
    /// Download name of the file.
    pub asset_file_name: Option<String>,
    /// MIME type of the file.
    pub asset_content_type: Option<String>,
    /// Size of the file in bytes.
    pub asset_size: Option<i64>,
    /// SHA-256 of the file, lower-case hex.
    pub asset_sha256: Option<String>,
    /// Listing image URL.
    pub preview_image_url: Option<String>,
    /// Asset-store key of the cover image (all `cover_*` columns are set together or not
    /// at all).
    pub cover_key: Option<String>,
    /// MIME type of the cover.
    pub cover_content_type: Option<String>,
    /// Size of the cover in bytes.
    pub cover_size: Option<i64>,
    /// Creator (`users.id`, restrict).
    pub created_by: Uuid,
    /// Creation instant (UTC).
    pub created_at: DateTimeUtc,
    /// Last change (UTC).
    pub updated_at: DateTimeUtc,
    /// Last publication (UTC).
    pub published_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
