//! [`PostRepository`], [`PostSearch`] and the post writes of [`crate::SeaContentTx`], with
//! full-text search as the catalog's products have it.
//!
//! - **Search text** is reduced to words ([`search_words`]: runs of letters and digits, at
//!   most 16), each a quoted prefix term, all required: `'word':* & ...` for `to_tsquery`
//!   on PostgreSQL, `"word"* ...` for FTS5 `MATCH` on SQLite. No input is ever read as
//!   query syntax; a text without a word matches nothing and is answered without a query.
//! - **PostgreSQL** matches `search_vector @@ tsquery` (English stemming; title A, excerpt
//!   B, body C; GIN index) and ranks by `ts_rank`.
//! - **SQLite** joins `posts_fts` (FTS5, porter stemming, kept in step by triggers; its
//!   rowid is `posts.search_rowid`) and ranks by `bm25` weighted 10 / 4 / 1 for title /
//!   excerpt / body.
//! - **Order**: best match first (ties: last published, then id) when there are words;
//!   otherwise last published first (public) or last changed first (staff). The page and
//!   its exact `COUNT(*)` are read in one snapshot.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_content::{
    ContentError, PageStatus, Post, PostFilter, PostId, PostQuery, PostRepository, PostSearch,
    TeamMemberId, TeamPhoto, search_words,
};
use nexus_kernel::{Page as ListPage, PageRequest, Unexpected, UserId};
use sea_orm::sea_query::{Alias, Expr, JoinType, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};

use nexus_sea_support::{DbError, begin_read, unexpected};

use crate::entities::{post, post_slug, post_tag};

/// Reads blog posts with SeaORM. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaPostRepository {
    db: DatabaseConnection,
}

impl SeaPostRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// One page and its exact total, read in one snapshot. A search without a searchable
    /// word matches nothing and is answered without asking the database.
    async fn page(
        &self,
        listing: &Listing<'_>,
        page: PageRequest,
    ) -> Result<ListPage<Post>, ContentError> {
        let backend = self.db.get_database_backend();
        let Some(filtered) = filtered(backend, listing) else {
            return Ok(ListPage {
                items: Vec::new(),
                total: 0,
                request: page,
            });
        };
        let statement = ordered(filtered.clone(), backend, listing, page).build(backend);
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a post list"))?;
        let total = filtered
            .count(&tx)
            .await
            .map_err(unexpected("counting posts"))?;
        let rows = post::Entity::find()
            .from_raw_sql(statement)
            .all(&tx)
            .await
            .map_err(unexpected("reading posts"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a post list"))?;
        Ok(ListPage {
            items: rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }
}

/// BM25 weights of the FTS5 columns title, excerpt, body, in the spirit of PostgreSQL's
/// A/B/C weights: a title match outranks an excerpt match, which outranks a body match.
const SQLITE_RANK: &str = "bm25(posts_fts, 10.0, 4.0, 1.0)";

/// The order of a list without search words.
#[derive(Clone, Copy)]
enum Plain {
    /// Last published first (the public list).
    Published,
    /// Last changed first (the staff list).
    Changed,
}

/// What a list asks of the database, whichever port asked.
struct Listing<'a> {
    status: Option<PageStatus>,
    tag: Option<&'a str>,
    words: Option<Vec<String>>,
    plain: Plain,
}

impl<'a> Listing<'a> {
    fn public(query: &'a PostQuery) -> Self {
        Self {
            status: Some(PageStatus::Published),
            tag: query.tag.as_deref(),
            words: query.q.as_deref().map(search_words),
            plain: Plain::Published,
        }
    }

    fn filter(filter: &'a PostFilter, published_order: bool) -> Self {
        Self {
            status: filter.status,
            tag: filter.tag.as_deref(),
            words: filter.q.as_deref().map(search_words),
            plain: if published_order {
                Plain::Published
            } else {
                Plain::Changed
            },
        }
    }
}

/// Builds the exact page statement [`SeaPostRepository`]'s public search runs for `query`
/// on `backend`, or `None` when its text has no searchable word (an empty page, answered
/// without asking the database). Public so that tests can `EXPLAIN` what runs.
#[must_use]
pub fn post_search_statement(
    backend: DbBackend,
    query: &PostQuery,
    page: PageRequest,
) -> Option<sea_orm::Statement> {
    let listing = Listing::public(query);
    let select = filtered(backend, &listing)?;
    Some(ordered(select, backend, &listing, page).build(backend))
}

/// The rows of a list without order or paging (also what the total counts); `None` when
/// the search has no word and so matches nothing.
fn filtered(backend: DbBackend, listing: &Listing<'_>) -> Option<Select<post::Entity>> {
    let mut select = post::Entity::find();
    if let Some(words) = &listing.words {
        if words.is_empty() {
            return None;
        }
        select = match backend {
            DbBackend::Postgres => select.filter(Expr::cust_with_values(
                // Served by the GIN index on `search_vector`.
                "posts.search_vector @@ to_tsquery('english', $1)",
                [postgres_tsquery(words)],
            )),
            _ => {
                let mut select = select;
                QueryTrait::query(&mut select).join(
                    JoinType::InnerJoin,
                    Alias::new("posts_fts"),
                    Expr::cust("posts_fts.rowid = posts.search_rowid"),
                );
                select.filter(Expr::cust_with_values(
                    "posts_fts MATCH ?",
                    [sqlite_match(words)],
                ))
            }
        };
    }
    if let Some(status) = listing.status {
        select = select.filter(post::Column::Status.eq(status.as_str()));
    }
    if let Some(tag) = listing.tag {
        select = select.filter(
            post::Column::Id.in_subquery(
                Query::select()
                    .column(post_tag::Column::PostId)
                    .from(post_tag::Entity)
                    .and_where(post_tag::Column::Tag.eq(tag))
                    .to_owned(),
            ),
        );
    }
    Some(select)
}

/// `filtered` in the listing's order, one page of it.
fn ordered(
    mut select: Select<post::Entity>,
    backend: DbBackend,
    listing: &Listing<'_>,
    page: PageRequest,
) -> Select<post::Entity> {
    let query = QueryTrait::query(&mut select);
    if let Some(words) = &listing.words {
        let (rank, best_first) = match backend {
            DbBackend::Postgres => (
                Expr::cust_with_values(
                    "ts_rank(posts.search_vector, to_tsquery('english', $1))",
                    [postgres_tsquery(words)],
                ),
                Order::Desc,
            ),
            // bm25() is more negative for a better match.
            _ => (Expr::cust(SQLITE_RANK), Order::Asc),
        };
        query
            .order_by_expr(rank, best_first)
            .order_by((post::Entity, post::Column::PublishedAt), Order::Desc)
            .order_by((post::Entity, post::Column::Id), Order::Desc);
    } else {
        let first = match listing.plain {
            Plain::Published => post::Column::PublishedAt,
            Plain::Changed => post::Column::UpdatedAt,
        };
        query
            .order_by((post::Entity, first), Order::Desc)
            .order_by((post::Entity, post::Column::Id), Order::Desc);
    }
    query.offset(page.offset()).limit(u64::from(page.limit()));
    select
}

/// `'word1':* & 'word2':*`: every word, as a quoted prefix term. The words hold only
/// letters and digits, so quoting cannot be escaped.
fn postgres_tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{w}':*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// `"word1"* "word2"*`: every word, as a quoted prefix term (FTS5 ANDs them). The words
/// hold only letters and digits, so the quotes cannot be escaped and `OR`, `NEAR` or `*`
/// typed by a user are plain words.
fn sqlite_match(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prepares a write transaction that may touch `posts` (a content unit of work's).
///
/// On SQLite it first reads `posts`, so that this connection notices a schema change made
/// by another connection (a migration) and reloads its schema before a write whose
/// triggers reach `posts_fts` is prepared: the same guard, for the same SQLite behaviour,
/// as the catalog's writes to `products`.
pub(crate) async fn prepare_post_write<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Sqlite {
        conn.execute_unprepared("SELECT 1 FROM posts LIMIT 0")
            .await?;
    }
    Ok(())
}

fn to_row(p: &Post) -> Result<post::Model, ContentError> {
    Ok(post::Model {
        id: p.id.as_uuid(),
        slug: p.slug.clone(),
        title: p.title.clone(),
        body: p.body.clone(),
        excerpt: p.excerpt.clone(),
        tags: serde_json::to_string(&p.tags).map_err(Unexpected::with("encoding tags"))?,
        author_id: p.author_id.as_uuid(),
        cover_key: p.cover.as_ref().map(|c| c.key.clone()),
        cover_content_type: p.cover.as_ref().map(|c| c.content_type.clone()),
        cover_size: p
            .cover
            .as_ref()
            .map(|c| i64::try_from(c.size).unwrap_or(i64::MAX)),
        status: p.status.as_str().to_owned(),
        publish_at: p.publish_at,
        published_at: p.published_at,
        version: p.version,
        created_by: p.created_by.as_uuid(),
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

fn from_row(row: post::Model) -> Result<Post, ContentError> {
    let id = row.id;
    let cover = match (row.cover_key, row.cover_content_type, row.cover_size) {
        (Some(key), Some(content_type), Some(size)) => Some(TeamPhoto {
            key,
            content_type,
            size: u64::try_from(size).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(Post {
        id: PostId::from_uuid(id),
        slug: row.slug,
        title: row.title,
        body: row.body,
        excerpt: row.excerpt,
        tags: serde_json::from_str(&row.tags).map_err(invalid("posts", id, "tags"))?,
        author_id: TeamMemberId::from_uuid(row.author_id),
        cover,
        status: PageStatus::from_str(&row.status).map_err(invalid("posts", id, "status"))?,
        publish_at: row.publish_at,
        published_at: row.published_at,
        version: row.version,
        created_by: UserId::from_uuid(row.created_by),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn write_error(context: &'static str) -> impl FnOnce(DbErr) -> ContentError {
    move |err| match DbError::classify(&err) {
        DbError::UniqueViolation(m) if m.contains("slug") => ContentError::SlugTaken,
        DbError::ForeignKeyViolation(_) => {
            ContentError::field("authorId", "not_found", "no team member has this id")
        }
        _ => unexpected(context)(err).into(),
    }
}

async fn write_tags<C: ConnectionTrait>(conn: &C, p: &Post) -> Result<(), ContentError> {
    post_tag::Entity::delete_many()
        .filter(post_tag::Column::PostId.eq(p.id.as_uuid()))
        .exec(conn)
        .await
        .map_err(unexpected("clearing a post's tags"))?;
    if p.tags.is_empty() {
        return Ok(());
    }
    post_tag::Entity::insert_many(p.tags.iter().map(|t| {
        post_tag::Model {
            post_id: p.id.as_uuid(),
            tag: t.clone(),
        }
        .into_active_model()
    }))
    .exec_without_returning(conn)
    .await
    .map_err(unexpected("writing a post's tags"))?;
    Ok(())
}

fn invalid<E>(
    table: &'static str,
    id: uuid::Uuid,
    field: &'static str,
) -> impl FnOnce(E) -> ContentError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row(table, id, field)
}

/// Inserts a post and its tags.
pub(crate) async fn insert_post<C: ConnectionTrait>(
    conn: &C,
    p: &Post,
) -> Result<(), ContentError> {
    post::Entity::insert(to_row(p)?.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(write_error("inserting a post"))?;
    write_tags(conn, p).await
}

/// Saves a post (and its tags) if its stored version is still `expected`.
pub(crate) async fn update_post<C: ConnectionTrait>(
    conn: &C,
    p: &Post,
    expected: i64,
) -> Result<(), ContentError> {
    let mut changes = to_row(p)?.into_active_model().reset_all();
    changes.id = NotSet;
    changes.created_by = NotSet;
    changes.created_at = NotSet;
    let updated = post::Entity::update_many()
        .set(changes)
        .filter(post::Column::Id.eq(p.id.as_uuid()))
        .filter(post::Column::Version.eq(expected))
        .exec(conn)
        .await
        .map_err(write_error("updating a post"))?;
    if updated.rows_affected == 0 {
        return Err(ContentError::Conflict);
    }
    write_tags(conn, p).await
}

/// Deletes a post, its tags and old slugs if its stored version is still `expected`.
pub(crate) async fn delete_post<C: ConnectionTrait>(
    conn: &C,
    id: PostId,
    expected: i64,
) -> Result<(), ContentError> {
    let deleted = post::Entity::delete_many()
        .filter(post::Column::Id.eq(id.as_uuid()))
        .filter(post::Column::Version.eq(expected))
        .exec(conn)
        .await
        .map_err(unexpected("deleting a post"))?;
    if deleted.rows_affected == 0 {
        return Err(ContentError::Conflict);
    }
    post_tag::Entity::delete_many()
        .filter(post_tag::Column::PostId.eq(id.as_uuid()))
        .exec(conn)
        .await
        .map_err(unexpected("deleting a post's tags"))?;
    post_slug::Entity::delete_many()
        .filter(post_slug::Column::PostId.eq(id.as_uuid()))
        .exec(conn)
        .await
        .map_err(unexpected("deleting a post's old slugs"))?;
    Ok(())
}

/// Records an old slug.
pub(crate) async fn add_old_slug<C: ConnectionTrait>(
    conn: &C,
    id: PostId,
    slug: &str,
    at: DateTime<Utc>,
) -> Result<(), ContentError> {
    post_slug::Entity::insert(
        post_slug::Model {
            slug: slug.to_owned(),
            post_id: id.as_uuid(),
            created_at: at,
        }
        .into_active_model(),
    )
    .exec_without_returning(conn)
    .await
    .map_err(write_error("recording an old slug"))?;
    Ok(())
}

/// Forgets an old slug of a post.
pub(crate) async fn drop_old_slug<C: ConnectionTrait>(
    conn: &C,
    id: PostId,
    slug: &str,
) -> Result<(), ContentError> {
    post_slug::Entity::delete_many()
        .filter(post_slug::Column::Slug.eq(slug))
        .filter(post_slug::Column::PostId.eq(id.as_uuid()))
        .exec(conn)
        .await
        .map_err(unexpected("forgetting an old slug"))?;
    Ok(())
}

#[async_trait]
impl PostRepository for SeaPostRepository {
    async fn find(&self, id: PostId) -> Result<Option<Post>, ContentError> {
        post::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a post"))?
            .map(from_row)
            .transpose()
    }

    async fn find_by_slug(&self, slug: &str) -> Result<Option<Post>, ContentError> {
        post::Entity::find()
            .filter(post::Column::Slug.eq(slug))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a post by slug"))?
            .map(from_row)
            .transpose()
    }

    async fn find_by_old_slug(&self, slug: &str) -> Result<Option<PostId>, ContentError> {
        Ok(post_slug::Entity::find_by_id(slug.to_owned())
            .one(&self.db)
            .await
            .map_err(unexpected("loading an old slug"))?
            .map(|r| PostId::from_uuid(r.post_id)))
    }

    async fn list(
        &self,
        filter: &PostFilter,
        published_order: bool,
        page: PageRequest,
    ) -> Result<ListPage<Post>, ContentError> {
        self.page(&Listing::filter(filter, published_order), page)
            .await
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Post>, ContentError> {
        post::Entity::find()
            .filter(post::Column::Status.eq(PageStatus::Scheduled.as_str()))
            .filter(post::Column::PublishAt.lte(now))
            .order_by_asc(post::Column::PublishAt)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(unexpected("reading posts due"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn count_published(&self) -> Result<u64, ContentError> {
        Ok(post::Entity::find()
            .filter(post::Column::Status.eq(PageStatus::Published.as_str()))
            .count(&self.db)
            .await
            .map_err(unexpected("counting published posts"))?)
    }

    async fn published_after(
        &self,
        after: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<Post>, ContentError> {
        let mut select =
            post::Entity::find().filter(post::Column::Status.eq(PageStatus::Published.as_str()));
        if let Some(after) = after {
            select = select.filter(post::Column::Id.gt(after.as_uuid()));
        }
        select
            .order_by_asc(post::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(unexpected("reading a batch of published posts"))?
            .into_iter()
            .map(from_row)
            .collect()
    }
}

#[async_trait]
impl PostSearch for SeaPostRepository {
    async fn search(
        &self,
        query: &PostQuery,
        page: PageRequest,
    ) -> Result<ListPage<Post>, ContentError> {
        self.page(&Listing::public(query), page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_quoted_prefix_terms() {
        let words = search_words("Publishing OR \"notes\"*");
        assert_eq!(sqlite_match(&words), "\"publishing\"* \"or\"* \"notes\"*");
        assert_eq!(
            postgres_tsquery(&words),
            "'publishing':* & 'or':* & 'notes':*"
        );
    }

    #[test]
    fn a_search_without_words_gets_no_statement() {
        let query = PostQuery {
            q: Some("\"'&|!:*()".into()),
            tag: None,
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            assert!(post_search_statement(backend, &query, PageRequest::default()).is_none());
        }
    }
}
