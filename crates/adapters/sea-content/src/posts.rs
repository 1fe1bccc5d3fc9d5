//! [`PostRepository`] and the post writes of [`crate::SeaContentTx`].

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_content::{
    ContentError, PageStatus, Post, PostFilter, PostId, PostRepository, TeamMemberId, TeamPhoto,
};
use nexus_kernel::{Page as ListPage, PageRequest, Unexpected, UserId};
use sea_orm::sea_query::{Expr, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, ExprTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use nexus_sea_support::{DbError, begin_read, contains_pattern, unexpected};

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
        let mut select = post::Entity::find();
        if let Some(status) = filter.status {
            select = select.filter(post::Column::Status.eq(status.as_str()));
        }
        if let Some(tag) = &filter.tag {
            select = select.filter(
                post::Column::Id.in_subquery(
                    Query::select()
                        .column(post_tag::Column::PostId)
                        .from(post_tag::Entity)
                        .and_where(post_tag::Column::Tag.eq(tag.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = contains_pattern(&q.to_lowercase());
            let like = |col: post::Column| {
                Expr::expr(Func::lower(Expr::col((post::Entity, col))))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select = select.filter(
                Condition::any()
                    .add(like(post::Column::Title))
                    .add(like(post::Column::Excerpt))
                    .add(like(post::Column::Body)),
            );
        }
        let select = if published_order {
            select
                .order_by_desc(post::Column::PublishedAt)
                .order_by_desc(post::Column::Id)
        } else {
            select
                .order_by_desc(post::Column::UpdatedAt)
                .order_by_desc(post::Column::Id)
        };
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a post list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting posts"))?;
        let rows = select
            .offset(page.offset())
            .limit(u64::from(page.limit()))
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
