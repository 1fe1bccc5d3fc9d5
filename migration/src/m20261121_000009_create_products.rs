//! Catalog products, with the indexes the public catalog and the staff list need, and
//! full-text search: a generated `tsvector` plus trigram index on PostgreSQL, an FTS5
//! table kept in step by triggers on SQLite.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// Creates `products`, its list indexes and its search structures.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Secondary indexes. The public catalog filters on PUBLISHED and sorts by newest or by
/// price; a category page adds the category; the staff list is newest first, optionally
/// by status. Each ends in `id`, the tie-breaker, so a page is one index range scan.
const INDEXES: &[(&str, &[Products])] = &[
    (
        "ix_products_status_created_at_id",
        &[Products::Status, Products::CreatedAt, Products::Id],
    ),
    (
        "ix_products_status_price_minor_id",
        &[Products::Status, Products::PriceMinor, Products::Id],
    ),
    (
        "ix_products_category_status_created_at_id",
        &[
            Products::Category,
            Products::Status,
            Products::CreatedAt,
            Products::Id,
        ],
    ),
    (
        "ix_products_created_at_id",
        &[Products::CreatedAt, Products::Id],
    ),
];

/// PostgreSQL: a stored, generated `tsvector` (title weighs most, then tags and category,
/// then description), its GIN index, a trigram index on `lower(title)` for typo-tolerant
/// matching, and a GIN index on the tags for the every-tag filter (`@>`).
const POSTGRES_SEARCH: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('english'::regconfig, title), 'A')
         || setweight(to_tsvector('english'::regconfig, tags), 'B')
         || setweight(to_tsvector('english'::regconfig, category), 'B')
         || setweight(to_tsvector('english'::regconfig, description), 'C')
     ) STORED",
    "CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)",
    "CREATE INDEX ix_products_title_trgm ON products USING gin (lower(title) gin_trgm_ops)",
    "CREATE INDEX ix_products_tags ON products USING gin ((tags::jsonb) jsonb_path_ops)",
];

/// SQLite: an external-content FTS5 index over title, description, tags and category (the
/// columns PostgreSQL's `search_vector` covers).
///
/// Its rowid is `search_rowid`, a stable integer the insert trigger assigns, and not the
/// table's implicit rowid: without an `INTEGER PRIMARY KEY`, `VACUUM` may renumber
/// implicit rowids and would silently detach the index from its rows. Triggers keep the
/// index in step with every write, including writes that bypass the repository. The
/// `'delete'` commands pass the old values, as external-content tables require.
const SQLITE_SEARCH: &[&str] = &[
    "ALTER TABLE products ADD COLUMN search_rowid INTEGER",
    "CREATE UNIQUE INDEX ux_products_search_rowid ON products (search_rowid)",
    "CREATE VIRTUAL TABLE products_fts USING fts5(
         title, description, tags, category,
         content = 'products', content_rowid = 'search_rowid',
         tokenize = 'porter unicode61 remove_diacritics 2'
     )",
    "CREATE TRIGGER products_fts_after_insert AFTER INSERT ON products BEGIN
         UPDATE products
            SET search_rowid = (SELECT coalesce(max(search_rowid), 0) + 1 FROM products)
          WHERE rowid = new.rowid AND search_rowid IS NULL;
         INSERT INTO products_fts (rowid, title, description, tags, category)
         SELECT search_rowid, title, description, tags, category
           FROM products WHERE rowid = new.rowid;
     END",
    "CREATE TRIGGER products_fts_after_update
     AFTER UPDATE OF title, description, tags, category ON products BEGIN
         INSERT INTO products_fts (products_fts, rowid, title, description, tags, category)
         VALUES ('delete', old.search_rowid, old.title, old.description, old.tags,
                 old.category);
         INSERT INTO products_fts (rowid, title, description, tags, category)
         VALUES (new.search_rowid, new.title, new.description, new.tags, new.category);
     END",
    "CREATE TRIGGER products_fts_after_delete AFTER DELETE ON products BEGIN
         INSERT INTO products_fts (products_fts, rowid, title, description, tags, category)
         VALUES ('delete', old.search_rowid, old.title, old.description, old.tags,
                 old.category);
     END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(pk_uuid(Products::Id))
                    .col(text(Products::Slug))
                    .col(text(Products::Title))
                    .col(text(Products::Description))
                    .col(big_integer(Products::PriceMinor))
                    .col(text(Products::Currency))
                    .col(text(Products::Category))
                    // A JSON array in a text column, as for customers; PostgreSQL indexes
                    // it as jsonb for the tag filter.
                    .col(text(Products::Tags))
                    .col(text(Products::Status))
                    // The file: all five set, or all NULL.
                    .col(text_null(Products::AssetKey))
                    .col(text_null(Products::AssetFileName))
                    .col(text_null(Products::AssetContentType))
                    .col(big_integer_null(Products::AssetSize))
                    .col(text_null(Products::AssetSha256))
                    .col(text_null(Products::PreviewImageUrl))
                    .col(uuid(Products::CreatedBy))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Products::PublishedAt))
                    .col(big_integer(Products::Version))
                    .foreign_key(
                        // A creator is history, as for customers.
                        ForeignKey::create()
                            .name("fk_products_created_by")
                            .from(Products::Table, Products::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_products_slug")
                    .table(Products::Table)
                    .col(Products::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Products::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        let search = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_SEARCH,
            _ => SQLITE_SEARCH,
        };
        let db = manager.get_connection();
        for statement in search {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            // The triggers go with the table; the FTS table does not.
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS products_fts")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Products::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    Id,
    Slug,
    Title,
    Description,
    PriceMinor,
    Currency,
    Category,
    Tags,
    Status,
    AssetKey,
    AssetFileName,
    AssetContentType,
    AssetSize,
    AssetSha256,
    PreviewImageUrl,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
    Version,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
