//! [`TeamRepository`] and the team writes of [`crate::SeaContentTx`].

use async_trait::async_trait;
use nexus_content::{ContentError, TeamLink, TeamMember, TeamMemberId, TeamPhoto, TeamRepository};
use nexus_kernel::{Page as ListPage, PageRequest, Unexpected};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use nexus_sea_support::{begin_read, unexpected};

use crate::entities::team_member;

/// Reads team members with SeaORM. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaTeamRepository {
    db: DatabaseConnection,
}

impl SeaTeamRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[derive(Serialize, Deserialize)]
struct LinkRow {
    label: String,
    url: String,
}

fn to_row(m: &TeamMember) -> Result<team_member::Model, ContentError> {
    let links: Vec<LinkRow> = m
        .links
        .iter()
        .map(|l| LinkRow {
            label: l.label.clone(),
            url: l.url.clone(),
        })
        .collect();
    Ok(team_member::Model {
        id: m.id.as_uuid(),
        name: m.name.clone(),
        role_title: m.role_title.clone(),
        bio: m.bio.clone(),
        links: serde_json::to_string(&links).map_err(Unexpected::with("encoding links"))?,
        position: m.position,
        visible: m.visible,
        photo_key: m.photo.as_ref().map(|p| p.key.clone()),
        photo_content_type: m.photo.as_ref().map(|p| p.content_type.clone()),
        photo_size: m
            .photo
            .as_ref()
            .map(|p| i64::try_from(p.size).unwrap_or(i64::MAX)),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn from_row(row: team_member::Model) -> Result<TeamMember, ContentError> {
    let links: Vec<LinkRow> =
        serde_json::from_str(&row.links).map_err(invalid("team_members", row.id, "links"))?;
    let photo = match (row.photo_key, row.photo_content_type, row.photo_size) {
        (Some(key), Some(content_type), Some(size)) => Some(TeamPhoto {
            key,
            content_type,
            size: u64::try_from(size).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(TeamMember {
        id: TeamMemberId::from_uuid(row.id),
        name: row.name,
        role_title: row.role_title,
        bio: row.bio,
        links: links
            .into_iter()
            .map(|l| TeamLink {
                label: l.label,
                url: l.url,
            })
            .collect(),
        position: row.position,
        visible: row.visible,
        photo,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
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

/// Inserts a member.
pub(crate) async fn insert_member<C: ConnectionTrait>(
    conn: &C,
    m: &TeamMember,
) -> Result<(), ContentError> {
    team_member::Entity::insert(to_row(m)?.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("inserting a team member"))?;
    Ok(())
}

/// Saves a member if its stored version is still `expected`.
pub(crate) async fn update_member<C: ConnectionTrait>(
    conn: &C,
    m: &TeamMember,
    expected: i64,
) -> Result<(), ContentError> {
    let mut changes = to_row(m)?.into_active_model().reset_all();
    changes.id = NotSet;
    changes.created_at = NotSet;
    let updated = team_member::Entity::update_many()
        .set(changes)
        .filter(team_member::Column::Id.eq(m.id.as_uuid()))
        .filter(team_member::Column::Version.eq(expected))
        .exec(conn)
        .await
        .map_err(unexpected("updating a team member"))?;
    if updated.rows_affected == 0 {
        return Err(ContentError::Conflict);
    }
    Ok(())
}

/// Deletes a member if its stored version is still `expected`.
pub(crate) async fn delete_member<C: ConnectionTrait>(
    conn: &C,
    id: TeamMemberId,
    expected: i64,
) -> Result<(), ContentError> {
    let deleted = team_member::Entity::delete_many()
        .filter(team_member::Column::Id.eq(id.as_uuid()))
        .filter(team_member::Column::Version.eq(expected))
        .exec(conn)
        .await
        .map_err(|e| match nexus_sea_support::DbError::classify(&e) {
            nexus_sea_support::DbError::ForeignKeyViolation(_) => {
                ContentError::InUse("the team member is the author of blog posts")
            }
            _ => unexpected("deleting a team member")(e).into(),
        })?;
    if deleted.rows_affected == 0 {
        return Err(ContentError::Conflict);
    }
    Ok(())
}

#[async_trait]
impl TeamRepository for SeaTeamRepository {
    async fn find(&self, id: TeamMemberId) -> Result<Option<TeamMember>, ContentError> {
        team_member::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a team member"))?
            .map(from_row)
            .transpose()
    }

    async fn list(
        &self,
        visible_only: bool,
        page: PageRequest,
    ) -> Result<ListPage<TeamMember>, ContentError> {
        let mut select = team_member::Entity::find();
        if visible_only {
            select = select.filter(team_member::Column::Visible.eq(true));
        }
        let select = select
            .order_by_asc(team_member::Column::Position)
            .order_by_asc(team_member::Column::Id);
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a team list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting team members"))?;
        let rows = select
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("reading team members"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a team list"))?;
        Ok(ListPage {
            items: rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn find_many(&self, ids: &[TeamMemberId]) -> Result<Vec<TeamMember>, ContentError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        team_member::Entity::find()
            .filter(team_member::Column::Id.is_in(ids.iter().map(TeamMemberId::as_uuid)))
            .all(&self.db)
            .await
            .map_err(unexpected("loading team members"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn max_position(&self) -> Result<Option<i32>, ContentError> {
        Ok(team_member::Entity::find()
            .order_by_desc(team_member::Column::Position)
            .one(&self.db)
            .await
            .map_err(unexpected("reading the last team position"))?
            .map(|m| m.position))
    }
}
