//! [`SessionStore`] on the `refresh_tokens` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_identity::{
    ClientInfo, IdentityError, LiveCaller, RefreshSession, SessionStore, SessionSummary,
};
use nexus_identity::{SessionFamilyId, SessionId};
use nexus_kernel::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use nexus_sea_support::{begin_write, unexpected};

use crate::entities::{refresh_token, user, user_totp};
use crate::users;

/// The column of [`SessionStore::find_live_caller`]'s answer that says whether the caller has
/// an authenticator enabled.
const TWO_FACTOR: &str = "two_factor_enabled";

/// Stores refresh-token families with SeaORM. Cheap to clone: it shares the connection pool.
#[derive(Clone, Debug)]
pub struct SeaSessionStore {
    db: DatabaseConnection,
}

impl SeaSessionStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_row(session: &RefreshSession) -> refresh_token::Model {
    refresh_token::Model {
        id: session.id.as_uuid(),
        family_id: session.family_id.as_uuid(),
        user_id: session.user_id.as_uuid(),
        token_hash: session.token_hash.clone(),
        created_at: session.created_at,
        expires_at: session.expires_at,
        used_at: session.used_at,
        revoked_at: session.revoked_at,
        device_label: session.client.device.clone(),
        ip_prefix: session.client.ip_prefix.clone(),
        signed_in_at: Some(session.signed_in_at),
    }
}

fn from_row(row: refresh_token::Model) -> RefreshSession {
    RefreshSession {
        id: SessionId::from_uuid(row.id),
        family_id: SessionFamilyId::from_uuid(row.family_id),
        user_id: UserId::from_uuid(row.user_id),
        token_hash: row.token_hash,
        created_at: row.created_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
        revoked_at: row.revoked_at,
        client: ClientInfo {
            device: row.device_label,
            ip_prefix: row.ip_prefix,
        },
        signed_in_at: row.signed_in_at.unwrap_or(row.created_at),
    }
}

/// The newest token of each live family of a query: unused, unrevoked and unexpired at
/// `now`. Rotation marks a token used and stores the next in one transaction, and
/// revocation revokes every token of a family, so a family is live exactly when it has
/// such a token, and has at most one.
fn live_tokens(now: DateTime<Utc>) -> sea_orm::Select<refresh_token::Entity> {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(now))
}

/// On `conn`: revokes every family of `user`, except `keep` if given.
pub(crate) async fn revoke_user_sessions<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    keep: Option<SessionFamilyId>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let mut update = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user.as_uuid()))
        .filter(refresh_token::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(refresh_token::Column::FamilyId.ne(keep.as_uuid()));
    }
    update
        .exec(conn)
        .await
        .map_err(unexpected("revoking a user's sessions"))?;
    Ok(())
}

#[async_trait]
impl SessionStore for SeaSessionStore {
    async fn insert(&self, session: &RefreshSession) -> Result<(), IdentityError> {
        refresh_token::Entity::insert(to_row(session).into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(unexpected("storing a refresh token"))?;
        Ok(())
    }

    async fn find_by_token_hash(
        &self,
        hash: &str,
    ) -> Result<Option<RefreshSession>, IdentityError> {
        Ok(refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a refresh token"))?
            .map(from_row))
    }

    async fn rotate(
        &self,
        current: SessionId,
        next: &RefreshSession,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a token rotation"))?;
        // The guarded UPDATE is the claim: of two concurrent refreshes with the same
        // token, exactly one sees a row still unused and unrevoked.
        let claimed = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(current.as_uuid()))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&tx)
            .await
            .map_err(unexpected("claiming a refresh token"))?;
        if claimed.rows_affected == 0 {
            // Dropping the transaction rolls it back; nothing was written anyway.
            return Ok(false);
        }
        refresh_token::Entity::insert(to_row(next).into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(unexpected("storing the next refresh token"))?;
        tx.commit()
            .await
            .map_err(unexpected("committing a token rotation"))?;
        Ok(true)
    }

    async fn revoke_family(
        &self,
        family: SessionFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::FamilyId.eq(family.as_uuid()))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(unexpected("revoking a session family"))?;
        Ok(())
    }

    async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<SessionFamilyId>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        revoke_user_sessions(&self.db, user, keep, now).await
    }

    async fn find_live_caller(
        &self,
        family: SessionFamilyId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveCaller>, IdentityError> {
        // One statement, one round trip: the user's row by its key, only if the family holds
        // a live token of theirs (a lookup on (family_id, used_at)), with whether an
        // authenticator is enabled (a lookup on user_totp's key).
        let live = live_tokens(now)
            .select_only()
            .expr(Expr::cust("1"))
            .filter(refresh_token::Column::FamilyId.eq(family.as_uuid()))
            .filter(refresh_token::Column::UserId.eq(user.as_uuid()))
            .into_query();
        let authenticator = user_totp::Entity::find()
            .select_only()
            .expr(Expr::cust("1"))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::EnabledAt.is_not_null())
            .into_query();
        let statement = user::Entity::find_by_id(user.as_uuid())
            .filter(Expr::exists(live))
            .column_as(Expr::exists(authenticator), TWO_FACTOR)
            .build(self.db.get_database_backend());
        let Some(row) = self
            .db
            .query_one_raw(statement)
            .await
            .map_err(unexpected("loading the caller of a session"))?
        else {
            return Ok(None);
        };
        let model = user::Model::from_query_result(&row, "")
            .map_err(unexpected("reading the caller of a session"))?;
        let two_factor_enabled: bool = row
            .try_get("", TWO_FACTOR)
            .map_err(unexpected("reading the caller of a session"))?;
        Ok(Some(LiveCaller {
            user: users::from_row(model)?,
            two_factor_enabled,
        }))
    }

    async fn revoke_family_of(
        &self,
        family: SessionFamilyId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a session revocation"))?;
        // The guarded UPDATE of the family's live token decides: of two concurrent
        // revocations (or a revocation and a refresh) one claims it.
        let claimed = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::FamilyId.eq(family.as_uuid()))
            .filter(refresh_token::Column::UserId.eq(user.as_uuid()))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .filter(refresh_token::Column::ExpiresAt.gt(now))
            .exec(&tx)
            .await
            .map_err(unexpected("revoking a session"))?;
        if claimed.rows_affected == 0 {
            return Ok(false);
        }
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::FamilyId.eq(family.as_uuid()))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&tx)
            .await
            .map_err(unexpected("revoking a session"))?;
        tx.commit()
            .await
            .map_err(unexpected("committing a session revocation"))?;
        Ok(true)
    }

    async fn list_live(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>, IdentityError> {
        let rows = live_tokens(now)
            .filter(refresh_token::Column::UserId.eq(user.as_uuid()))
            .order_by_desc(refresh_token::Column::CreatedAt)
            .order_by_desc(refresh_token::Column::Id)
            .all(&self.db)
            .await
            .map_err(unexpected("listing sessions"))?;
        Ok(rows
            .into_iter()
            .map(|row| SessionSummary {
                id: SessionFamilyId::from_uuid(row.family_id),
                signed_in_at: row.signed_in_at.unwrap_or(row.created_at),
                last_used_at: row.created_at,
                expires_at: row.expires_at,
                client: ClientInfo {
                    device: row.device_label,
                    ip_prefix: row.ip_prefix,
                },
                current: false,
            })
            .collect())
    }
}
