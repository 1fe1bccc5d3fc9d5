//! [`TotpStore`] on `user_totp`, `totp_recovery_codes` and `mfa_challenges`.
//!
//! Every spend is one guarded `UPDATE` (a time step claimed only if later than the last,
//! a recovery code or a challenge used only if unused), so concurrent uses of one code
//! get exactly one success.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_identity::{ClientInfo, IdentityError, MfaChallenge, TotpEnrolment, TotpStore};
use nexus_kernel::{Unexpected, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryTrait, SelectExt,
};
use uuid::Uuid;

use nexus_sea_support::{begin_write, unexpected};

use crate::entities::{mfa_challenge, totp_recovery_code, user_totp};

/// Stores enrolments, recovery codes and challenges with SeaORM. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaTotpStore {
    db: DatabaseConnection,
}

impl SeaTotpStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn max_attempts() -> Result<i32, Unexpected> {
    i32::try_from(MfaChallenge::MAX_ATTEMPTS)
        .map_err(Unexpected::with("the challenge attempt limit is too large"))
}

fn enrolment_of(row: user_totp::Model) -> TotpEnrolment {
    TotpEnrolment {
        user_id: UserId::from_uuid(row.user_id),
        sealed_secret: row.sealed_secret,
        enabled_at: row.enabled_at,
        last_step: row.last_step,
        created_at: row.created_at,
    }
}

fn challenge_of(row: mfa_challenge::Model) -> Result<MfaChallenge, Unexpected> {
    let id = row.id;
    Ok(MfaChallenge {
        id,
        user_id: UserId::from_uuid(row.user_id),
        token_hash: row.token_hash,
        client: ClientInfo {
            device: row.device_label,
            ip_prefix: row.ip_prefix,
        },
        created_at: row.created_at,
        expires_at: row.expires_at,
        attempts: u32::try_from(row.attempts).map_err(nexus_sea_support::invalid_row(
            "mfa_challenges",
            id,
            "attempts",
        ))?,
        consumed_at: row.consumed_at,
    })
}

#[async_trait]
impl TotpStore for SeaTotpStore {
    async fn find(&self, user: UserId) -> Result<Option<TotpEnrolment>, IdentityError> {
        Ok(user_totp::Entity::find_by_id(user.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading an authenticator enrolment"))?
            .map(enrolment_of))
    }

    async fn is_enabled(&self, user: UserId) -> Result<bool, IdentityError> {
        Ok(user_totp::Entity::find()
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::EnabledAt.is_not_null())
            .exists(&self.db)
            .await
            .map_err(unexpected("checking an authenticator enrolment"))?)
    }

    async fn start(&self, enrolment: &TotpEnrolment) -> Result<bool, IdentityError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting an authenticator enrolment"))?;
        // A pending enrolment is replaced; an enabled one stays.
        user_totp::Entity::delete_many()
            .filter(user_totp::Column::UserId.eq(enrolment.user_id.as_uuid()))
            .filter(user_totp::Column::EnabledAt.is_null())
            .exec(&tx)
            .await
            .map_err(unexpected("replacing a pending enrolment"))?;
        let row = user_totp::Model {
            user_id: enrolment.user_id.as_uuid(),
            sealed_secret: enrolment.sealed_secret.clone(),
            enabled_at: None,
            last_step: None,
            created_at: enrolment.created_at,
        };
        let inserted = user_totp::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(user_totp::Column::UserId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await;
        let inserted = match inserted {
            Ok(rows) => rows,
            Err(sea_orm::DbErr::RecordNotInserted) => 0,
            Err(e) => return Err(unexpected("storing an authenticator enrolment")(e).into()),
        };
        if inserted == 0 {
            return Ok(false);
        }
        tx.commit()
            .await
            .map_err(unexpected("committing an authenticator enrolment"))?;
        Ok(true)
    }

    async fn enable(
        &self,
        user: UserId,
        recovery_hashes: &[String],
        step: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting to turn two-factor sign-in on"))?;
        let claimed = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::EnabledAt, Expr::value(now))
            .col_expr(user_totp::Column::LastStep, Expr::value(step))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::EnabledAt.is_null())
            .exec(&tx)
            .await
            .map_err(unexpected("turning two-factor sign-in on"))?;
        if claimed.rows_affected == 0 {
            return Ok(false);
        }
        totp_recovery_code::Entity::delete_many()
            .filter(totp_recovery_code::Column::UserId.eq(user.as_uuid()))
            .exec(&tx)
            .await
            .map_err(unexpected("removing old recovery codes"))?;
        let rows = recovery_hashes.iter().map(|hash| {
            totp_recovery_code::Model {
                id: Uuid::now_v7(),
                user_id: user.as_uuid(),
                code_hash: hash.clone(),
                used_at: None,
            }
            .into_active_model()
        });
        totp_recovery_code::Entity::insert_many(rows)
            .exec_without_returning(&tx)
            .await
            .map_err(unexpected("storing recovery codes"))?;
        tx.commit()
            .await
            .map_err(unexpected("committing two-factor sign-in"))?;
        Ok(true)
    }

    async fn disable(&self, user: UserId) -> Result<bool, IdentityError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting to turn two-factor sign-in off"))?;
        let removed = user_totp::Entity::delete_many()
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .exec(&tx)
            .await
            .map_err(unexpected("turning two-factor sign-in off"))?;
        totp_recovery_code::Entity::delete_many()
            .filter(totp_recovery_code::Column::UserId.eq(user.as_uuid()))
            .exec(&tx)
            .await
            .map_err(unexpected("removing recovery codes"))?;
        tx.commit()
            .await
            .map_err(unexpected("committing two-factor sign-in off"))?;
        Ok(removed.rows_affected > 0)
    }

    async fn claim_step(&self, user: UserId, step: i64) -> Result<bool, IdentityError> {
        let result = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::LastStep, Expr::value(step))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::EnabledAt.is_not_null())
            .filter(
                user_totp::Column::LastStep
                    .is_null()
                    .or(user_totp::Column::LastStep.lt(step)),
            )
            .exec(&self.db)
            .await
            .map_err(unexpected("claiming an authenticator code"))?;
        Ok(result.rows_affected > 0)
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError> {
        let result = totp_recovery_code::Entity::update_many()
            .col_expr(totp_recovery_code::Column::UsedAt, Expr::value(now))
            .filter(totp_recovery_code::Column::UserId.eq(user.as_uuid()))
            .filter(totp_recovery_code::Column::CodeHash.eq(hash))
            .filter(totp_recovery_code::Column::UsedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(unexpected("using a recovery code"))?;
        Ok(result.rows_affected > 0)
    }

    async fn insert_challenge(&self, challenge: &MfaChallenge) -> Result<(), IdentityError> {
        let row = mfa_challenge::Model {
            id: challenge.id,
            user_id: challenge.user_id.as_uuid(),
            token_hash: challenge.token_hash.clone(),
            device_label: challenge.client.device.clone(),
            ip_prefix: challenge.client.ip_prefix.clone(),
            created_at: challenge.created_at,
            expires_at: challenge.expires_at,
            attempts: i32::try_from(challenge.attempts)
                .map_err(Unexpected::with("challenge attempts are too large"))?,
            consumed_at: challenge.consumed_at,
        };
        mfa_challenge::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(unexpected("storing a sign-in challenge"))?;
        Ok(())
    }

    async fn find_challenge(&self, hash: &str) -> Result<Option<MfaChallenge>, IdentityError> {
        mfa_challenge::Entity::find()
            .filter(mfa_challenge::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a sign-in challenge"))?
            .map(challenge_of)
            .transpose()
            .map_err(IdentityError::from)
    }

    async fn record_challenge_failure(&self, id: Uuid) -> Result<u32, IdentityError> {
        let mut update = mfa_challenge::Entity::update_many()
            .col_expr(
                mfa_challenge::Column::Attempts,
                Expr::col(mfa_challenge::Column::Attempts).add(1),
            )
            .filter(mfa_challenge::Column::Id.eq(id))
            .into_query();
        update.returning_col(mfa_challenge::Column::Attempts);
        let row = self
            .db
            .query_one(&update)
            .await
            .map_err(unexpected("counting a wrong second factor"))?;
        let Some(row) = row else {
            return Ok(MfaChallenge::MAX_ATTEMPTS);
        };
        let attempts: i32 = row
            .try_get("", "attempts")
            .map_err(unexpected("reading challenge attempts"))?;
        Ok(
            u32::try_from(attempts).map_err(nexus_sea_support::invalid_row::<_, Unexpected>(
                "mfa_challenges",
                id,
                "attempts",
            ))?,
        )
    }

    async fn consume_challenge(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError> {
        let result = mfa_challenge::Entity::update_many()
            .col_expr(mfa_challenge::Column::ConsumedAt, Expr::value(now))
            .filter(mfa_challenge::Column::Id.eq(id))
            .filter(mfa_challenge::Column::ConsumedAt.is_null())
            .filter(mfa_challenge::Column::ExpiresAt.gt(now))
            .filter(mfa_challenge::Column::Attempts.lt(max_attempts()?))
            .exec(&self.db)
            .await
            .map_err(unexpected("using a sign-in challenge"))?;
        Ok(result.rows_affected > 0)
    }
}
