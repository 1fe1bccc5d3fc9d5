//! [`OtpStore`] on the `one_time_codes` table, and the replacement of a code a unit of
//! work makes there.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_identity::{IdentityError, OneTimeCode, OtpPurpose, OtpStore};
use nexus_kernel::{Unexpected, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QueryTrait,
};
use uuid::Uuid;

use nexus_sea_support::unexpected;

use crate::entities::one_time_code;

/// Stores one-time codes (hashed) with SeaORM. Cheap to clone: it shares the pool.
///
/// Counting a wrong guess and using a code are single guarded `UPDATE`s, so concurrent
/// guesses can neither lose a failure nor use a code twice.
#[derive(Clone, Debug)]
pub struct SeaOtpStore {
    db: DatabaseConnection,
}

impl SeaOtpStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// `OneTimeCode::MAX_ATTEMPTS` as stored.
fn max_attempts() -> Result<i32, Unexpected> {
    i32::try_from(OneTimeCode::MAX_ATTEMPTS).map_err(Unexpected::with(
        "the one-time code attempt limit is too large",
    ))
}

fn to_row(code: &OneTimeCode) -> Result<one_time_code::Model, Unexpected> {
    Ok(one_time_code::Model {
        id: code.id,
        user_id: code.user_id.as_uuid(),
        purpose: code.purpose.as_str().to_owned(),
        code_hash: code.code_hash.clone(),
        created_at: code.created_at,
        expires_at: code.expires_at,
        attempts: i32::try_from(code.attempts)
            .map_err(Unexpected::with("one-time code attempts are too large"))?,
        consumed_at: code.consumed_at,
    })
}

/// Rebuilds a code through the domain parsers; a bad row is `Unexpected`.
fn from_row(row: one_time_code::Model) -> Result<OneTimeCode, Unexpected> {
    let id = row.id;
    Ok(OneTimeCode {
        id,
        user_id: UserId::from_uuid(row.user_id),
        purpose: OtpPurpose::from_str(&row.purpose).map_err(invalid(id, "purpose"))?,
        code_hash: row.code_hash,
        created_at: row.created_at,
        expires_at: row.expires_at,
        attempts: u32::try_from(row.attempts).map_err(invalid(id, "attempts"))?,
        consumed_at: row.consumed_at,
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> Unexpected
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("one_time_codes", id, field)
}

/// On `conn`: voids every unused code of the same user and purpose and stores `code`.
/// Call it inside a transaction, so that the two happen together.
pub(crate) async fn replace_code<C: ConnectionTrait>(
    conn: &C,
    code: &OneTimeCode,
) -> Result<(), IdentityError> {
    let row = to_row(code)?;
    // Only the newest code of a purpose is ever live: older ones are voided, so a code
    // that was e-mailed earlier cannot be guessed against any more.
    one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::ConsumedAt,
            Expr::value(code.created_at),
        )
        .filter(one_time_code::Column::UserId.eq(code.user_id.as_uuid()))
        .filter(one_time_code::Column::Purpose.eq(code.purpose.as_str()))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .exec(conn)
        .await
        .map_err(unexpected("voiding older one-time codes"))?;
    one_time_code::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("storing a one-time code"))?;
    Ok(())
}

#[async_trait]
impl OtpStore for SeaOtpStore {
    async fn find_active(
        &self,
        user: UserId,
        purpose: OtpPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeCode>, IdentityError> {
        one_time_code::Entity::find()
            .filter(one_time_code::Column::UserId.eq(user.as_uuid()))
            .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_code::Column::ConsumedAt.is_null())
            // The domain treats `expires_at <= now` as expired.
            .filter(one_time_code::Column::ExpiresAt.gt(now))
            .filter(one_time_code::Column::Attempts.lt(max_attempts()?))
            .order_by_desc(one_time_code::Column::CreatedAt)
            .order_by_desc(one_time_code::Column::Id)
            .one(&self.db)
            .await
            .map_err(unexpected("loading an active one-time code"))?
            .map(from_row)
            .transpose()
            .map_err(IdentityError::from)
    }

    async fn record_failure(&self, id: Uuid) -> Result<u32, IdentityError> {
        // One statement: concurrent wrong guesses each count, none is lost.
        let mut update = one_time_code::Entity::update_many()
            .col_expr(
                one_time_code::Column::Attempts,
                Expr::col(one_time_code::Column::Attempts).add(1),
            )
            .filter(one_time_code::Column::Id.eq(id))
            .into_query();
        update.returning_col(one_time_code::Column::Attempts);
        let row = self
            .db
            .query_one(&update)
            .await
            .map_err(unexpected("counting a wrong one-time code"))?;
        let Some(row) = row else {
            // The code is gone with its user: as good as used up.
            return Ok(OneTimeCode::MAX_ATTEMPTS);
        };
        let attempts: i32 = row
            .try_get("", "attempts")
            .map_err(unexpected("reading one-time code attempts"))?;
        Ok(u32::try_from(attempts).map_err(invalid(id, "attempts"))?)
    }

    async fn consume(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError> {
        // The guard is the claim: of two concurrent right guesses exactly one uses the
        // code, and a code with its attempts spent can never be used.
        let result = one_time_code::Entity::update_many()
            .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
            .filter(one_time_code::Column::Id.eq(id))
            .filter(one_time_code::Column::ConsumedAt.is_null())
            .filter(one_time_code::Column::Attempts.lt(max_attempts()?))
            .exec(&self.db)
            .await
            .map_err(unexpected("using a one-time code"))?;
        Ok(result.rows_affected > 0)
    }
}
