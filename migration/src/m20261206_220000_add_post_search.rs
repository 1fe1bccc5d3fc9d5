//! Full-text search of blog posts, as products have it: a generated `tsvector` with its GIN
//! index on PostgreSQL, an FTS5 table kept in step by triggers on SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Adds the search structures of `posts`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL: a stored, generated `tsvector` (the title weighs most, then the excerpt as
/// written, then the Markdown body) and its GIN index. Existing rows get theirs when the
/// column is added.
const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('english'::regconfig, title), 'A')
         || setweight(to_tsvector('english'::regconfig, excerpt), 'B')
         || setweight(to_tsvector('english'::regconfig, body), 'C')
     ) STORED",
    "CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS ix_posts_search_vector",
    "ALTER TABLE posts DROP COLUMN IF EXISTS search_vector",
];

/// SQLite: an external-content FTS5 index over title, excerpt and body, keyed by
/// `search_rowid` (a stable integer, not the implicit rowid that `VACUUM` may renumber; see
/// the products migration). Existing rows are numbered and indexed here; the insert
/// trigger numbers new ones. The `'delete'` commands pass the old values, as
/// external-content tables require.
const SQLITE_UP: &[&str] = &[
    "ALTER TABLE posts ADD COLUMN search_rowid INTEGER",
    "UPDATE posts SET search_rowid = rowid",
    "CREATE UNIQUE INDEX ux_posts_search_rowid ON posts (search_rowid)",
    "CREATE VIRTUAL TABLE posts_fts USING fts5(
         title, excerpt, body,
         content = 'posts', content_rowid = 'search_rowid',
         tokenize = 'porter unicode61 remove_diacritics 2'
     )",
    "INSERT INTO posts_fts (posts_fts) VALUES ('rebuild')",
    "CREATE TRIGGER posts_fts_after_insert AFTER INSERT ON posts BEGIN
         UPDATE posts
            SET search_rowid = (SELECT coalesce(max(search_rowid), 0) + 1 FROM posts)
          WHERE rowid = new.rowid AND search_rowid IS NULL;
         INSERT INTO posts_fts (rowid, title, excerpt, body)
         SELECT search_rowid, title, excerpt, body FROM posts WHERE rowid = new.rowid;
     END",
    "CREATE TRIGGER posts_fts_after_update AFTER UPDATE OF title, excerpt, body ON posts BEGIN
         INSERT INTO posts_fts (posts_fts, rowid, title, excerpt, body)
         VALUES ('delete', old.search_rowid, old.title, old.excerpt, old.body);
         INSERT INTO posts_fts (rowid, title, excerpt, body)
         VALUES (new.search_rowid, new.title, new.excerpt, new.body);
     END",
    "CREATE TRIGGER posts_fts_after_delete AFTER DELETE ON posts BEGIN
         INSERT INTO posts_fts (posts_fts, rowid, title, excerpt, body)
         VALUES ('delete', old.search_rowid, old.title, old.excerpt, old.body);
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS posts_fts_after_delete",
    "DROP TRIGGER IF EXISTS posts_fts_after_update",
    "DROP TRIGGER IF EXISTS posts_fts_after_insert",
    "DROP TABLE IF EXISTS posts_fts",
    "DROP INDEX IF EXISTS ux_posts_search_rowid",
    "ALTER TABLE posts DROP COLUMN search_rowid",
];

async fn run(manager: &SchemaManager<'_>, postgres: &[&str], sqlite: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_UP, SQLITE_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_DOWN, SQLITE_DOWN).await
    }
}
