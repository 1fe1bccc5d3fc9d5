//! [`PageRepository`] and the page writes of [`crate::SeaContentTx`].

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_content::{
    AuditEntry, AuditEntryId, AuditFilter, ContentError, Locale, Page, PageContent, PageFilter,
    PageId, PageRepository, PageSlug, PageStatus, PageVersion, Published,
};
use nexus_kernel::{Page as ListPage, PageRequest, Unexpected, UserId};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, ExprTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use nexus_sea_support::{DbError, begin_read, contains_pattern, unexpected};

use crate::entities::{audit, page, page_version};

/// Reads pages, versions and audit entries with SeaORM. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaPageRepository {
    db: DatabaseConnection,
}

impl SeaPageRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// A page of `select` (already ordered) and its exact total, in one snapshot.
    async fn paged<E, T>(
        &self,
        select: Select<E>,
        page: PageRequest,
        map: impl Fn(E::Model) -> Result<T, ContentError>,
    ) -> Result<ListPage<T>, ContentError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a content list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting a content list"))?;
        let rows = select
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("reading a content list"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a content list"))?;
        Ok(ListPage {
            items: rows.into_iter().map(map).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }
}

fn invalid<E>(table: &'static str, id: Uuid, field: &'static str) -> impl FnOnce(E) -> ContentError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row(table, id, field)
}

fn to_json(content: &PageContent) -> Result<String, ContentError> {
    Ok(serde_json::to_string(content).map_err(Unexpected::with("encoding a page"))?)
}

fn from_json(id: Uuid, field: &'static str, raw: &str) -> Result<PageContent, ContentError> {
    serde_json::from_str(raw).map_err(invalid("pages", id, field))
}

fn to_row(p: &Page) -> Result<page::Model, ContentError> {
    let published = p.published.as_ref();
    Ok(page::Model {
        id: p.id.as_uuid(),
        key: p.draft.key.to_string(),
        slug: p.draft.slug.to_string(),
        locale: p.draft.locale.to_string(),
        title: p.draft.title.to_string(),
        content: to_json(&p.draft)?,
        status: p.status.as_str().to_owned(),
        publish_at: p.publish_at,
        unpublish_at: p.unpublish_at,
        published_slug: published.map(|s| s.content.slug.to_string()),
        published_locale: published.map(|s| s.content.locale.to_string()),
        published_content: published.map(|s| to_json(&s.content)).transpose()?,
        published_version: published.map(|s| s.version),
        published_at: published.map(|s| s.at),
        version: p.version,
        created_by: p.created_by.as_uuid(),
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

fn from_row(row: page::Model) -> Result<Page, ContentError> {
    let id = row.id;
    let published = match (
        row.published_content,
        row.published_version,
        row.published_at,
    ) {
        (Some(c), Some(version), Some(at)) => Some(Published {
            content: from_json(id, "published_content", &c)?,
            version,
            at,
        }),
        (None, None, None) => None,
        _ => {
            return Err(Unexpected::msg(format!(
                "pages row {id} has a partial published snapshot"
            ))
            .into());
        }
    };
    Ok(Page {
        id: PageId::from_uuid(id),
        draft: from_json(id, "content", &row.content)?,
        status: PageStatus::from_str(&row.status).map_err(invalid("pages", id, "status"))?,
        publish_at: row.publish_at,
        unpublish_at: row.unpublish_at,
        published,
        version: row.version,
        created_by: UserId::from_uuid(row.created_by),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn version_from_row(row: page_version::Model) -> Result<PageVersion, ContentError> {
    Ok(PageVersion {
        page_id: PageId::from_uuid(row.page_id),
        number: row.number,
        content: serde_json::from_str(&row.content).map_err(invalid(
            "page_versions",
            row.page_id,
            "content",
        ))?,
        author: row.author.map(UserId::from_uuid),
        created_at: row.created_at,
    })
}

fn audit_from_row(row: audit::Model) -> Result<AuditEntry, ContentError> {
    Ok(AuditEntry {
        id: AuditEntryId::from_uuid(row.id),
        at: row.at,
        actor: row.actor_id.map(UserId::from_uuid),
        entity_kind: row.entity_kind,
        entity_id: row.entity_id,
        action: row.action,
        changes: serde_json::from_str(&row.changes).map_err(invalid(
            "content_audit",
            row.id,
            "changes",
        ))?,
    })
}

/// Maps a write error: the unique indexes name what is taken; the rest is `Unexpected`.
fn write_error(context: &'static str) -> impl FnOnce(DbErr) -> ContentError {
    move |err| match DbError::classify(&err) {
        DbError::UniqueViolation(m) if m.contains("ux_pages_key") || m.contains("pages.key") => {
            ContentError::KeyTaken
        }
        DbError::UniqueViolation(m) if m.contains("slug") => ContentError::SlugTaken,
        _ => unexpected(context)(err).into(),
    }
}

/// Inserts a page.
pub(crate) async fn insert_page<C: ConnectionTrait>(
    conn: &C,
    p: &Page,
) -> Result<(), ContentError> {
    page::Entity::insert(to_row(p)?.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(write_error("inserting a page"))?;
    Ok(())
}

/// Saves every mutable field of a page if its stored version is still `expected`.
pub(crate) async fn update_page<C: ConnectionTrait>(
    conn: &C,
    p: &Page,
    expected: i64,
) -> Result<(), ContentError> {
    let mut changes = to_row(p)?.into_active_model().reset_all();
    changes.id = NotSet;
    changes.created_by = NotSet;
    changes.created_at = NotSet;
    let updated = page::Entity::update_many()
        .set(changes)
        .filter(page::Column::Id.eq(p.id.as_uuid()))
        .filter(page::Column::Version.eq(expected))
        .exec(conn)
        .await
        .map_err(write_error("updating a page"))?;
    if updated.rows_affected == 0 {
        return Err(ContentError::Conflict);
    }
    Ok(())
}

/// Deletes a page if its stored version is still `expected`.
pub(crate) async fn delete_page<C: ConnectionTrait>(
    conn: &C,
    id: PageId,
    expected: i64,
) -> Result<(), ContentError> {
    // Versions first: SQLite enforces the cascade only with foreign keys on, and this keeps
    // the order explicit on both backends.
    let deleted = page::Entity::delete_many()
        .filter(page::Column::Id.eq(id.as_uuid()))
        .filter(page::Column::Version.eq(expected))
        .exec(conn)
        .await
        .map_err(unexpected("deleting a page"))?;
    if deleted.rows_affected == 0 {
        return Err(ContentError::Conflict);
    }
    page_version::Entity::delete_many()
        .filter(page_version::Column::PageId.eq(id.as_uuid()))
        .exec(conn)
        .await
        .map_err(unexpected("deleting a page's versions"))?;
    Ok(())
}

/// Stores a version row.
pub(crate) async fn insert_version<C: ConnectionTrait>(
    conn: &C,
    v: &PageVersion,
) -> Result<(), ContentError> {
    let row = page_version::Model {
        page_id: v.page_id.as_uuid(),
        number: v.number,
        content: to_json(&v.content)?,
        author: v.author.map(|a| a.as_uuid()),
        created_at: v.created_at,
    };
    page_version::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(|e| match DbError::classify(&e) {
            // Two writers past the same version: the page update already told one of them.
            DbError::UniqueViolation(_) => ContentError::Conflict,
            _ => unexpected("inserting a page version")(e).into(),
        })?;
    Ok(())
}

/// Stores an audit entry.
pub(crate) async fn insert_audit<C: ConnectionTrait>(
    conn: &C,
    a: &AuditEntry,
) -> Result<(), ContentError> {
    let row = audit::Model {
        id: a.id.as_uuid(),
        at: a.at,
        actor_id: a.actor.map(|u| u.as_uuid()),
        entity_kind: a.entity_kind.clone(),
        entity_id: a.entity_id,
        action: a.action.clone(),
        changes: a.changes.to_string(),
    };
    audit::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("inserting an audit entry"))?;
    Ok(())
}

#[async_trait]
impl PageRepository for SeaPageRepository {
    async fn find(&self, id: PageId) -> Result<Option<Page>, ContentError> {
        page::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a page"))?
            .map(from_row)
            .transpose()
    }

    async fn find_published(
        &self,
        slug: &PageSlug,
        locale: &Locale,
    ) -> Result<Option<Page>, ContentError> {
        page::Entity::find()
            .filter(page::Column::PublishedLocale.eq(locale.as_str()))
            .filter(page::Column::PublishedSlug.eq(slug.as_str()))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a published page"))?
            .map(from_row)
            .transpose()
    }

    async fn list(
        &self,
        filter: &PageFilter,
        page: PageRequest,
    ) -> Result<ListPage<Page>, ContentError> {
        let mut select = page::Entity::find();
        if let Some(status) = filter.status {
            select = select.filter(page::Column::Status.eq(status.as_str()));
        }
        if let Some(locale) = &filter.locale {
            select = select.filter(page::Column::Locale.eq(locale.as_str()));
        }
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = contains_pattern(&q.to_lowercase());
            let like = |col: page::Column| {
                Expr::expr(Func::lower(Expr::col((page::Entity, col))))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select = select.filter(
                Condition::any()
                    .add(like(page::Column::Title))
                    .add(like(page::Column::Key))
                    .add(like(page::Column::Slug)),
            );
        }
        let select = select
            .order_by_desc(page::Column::UpdatedAt)
            .order_by_desc(page::Column::Id);
        self.paged(select, page, from_row).await
    }

    async fn versions(
        &self,
        id: PageId,
        page: PageRequest,
    ) -> Result<ListPage<PageVersion>, ContentError> {
        let select = page_version::Entity::find()
            .filter(page_version::Column::PageId.eq(id.as_uuid()))
            .order_by_desc(page_version::Column::Number);
        self.paged(select, page, version_from_row).await
    }

    async fn version(&self, id: PageId, number: i64) -> Result<Option<PageVersion>, ContentError> {
        page_version::Entity::find_by_id((id.as_uuid(), number))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a page version"))?
            .map(version_from_row)
            .transpose()
    }

    async fn count_published(&self) -> Result<u64, ContentError> {
        Ok(page::Entity::find()
            .filter(page::Column::PublishedSlug.is_not_null())
            .count(&self.db)
            .await
            .map_err(unexpected("counting published pages"))?)
    }

    async fn published_after(
        &self,
        after: Option<PageId>,
        limit: u32,
    ) -> Result<Vec<Page>, ContentError> {
        let mut select = page::Entity::find().filter(page::Column::PublishedSlug.is_not_null());
        if let Some(after) = after {
            select = select.filter(page::Column::Id.gt(after.as_uuid()));
        }
        select
            .order_by_asc(page::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(unexpected("reading a batch of published pages"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Page>, ContentError> {
        let publish = Condition::all()
            .add(page::Column::Status.eq(PageStatus::Scheduled.as_str()))
            .add(page::Column::PublishAt.lte(now));
        let unpublish = Condition::all()
            .add(page::Column::Status.eq(PageStatus::Published.as_str()))
            .add(page::Column::UnpublishAt.lte(now));
        page::Entity::find()
            .filter(Condition::any().add(publish).add(unpublish))
            .order_by_asc(page::Column::UpdatedAt)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(unexpected("reading pages with scheduled work due"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<ListPage<AuditEntry>, ContentError> {
        let mut select = audit::Entity::find();
        if let Some(kind) = &filter.entity_kind {
            select = select.filter(audit::Column::EntityKind.eq(kind.as_str()));
        }
        if let Some(id) = filter.entity_id {
            select = select.filter(audit::Column::EntityId.eq(id));
        }
        let select = select
            .order_by_desc(audit::Column::At)
            .order_by_desc(audit::Column::Id);
        self.paged(select, page, audit_from_row).await
    }
}
