//! The `account_links` table, as a unit of work reaches it.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use nexus_identity::{AccountLink, IdentityError, LinkPurpose};
use nexus_kernel::{Email, Unexpected, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

use nexus_sea_support::unexpected;

use crate::entities::account_link;

fn to_row(link: &AccountLink) -> account_link::Model {
    account_link::Model {
        id: link.id,
        user_id: link.user_id.as_uuid(),
        purpose: link.purpose.as_str().to_owned(),
        token_hash: link.token_hash.clone(),
        new_email: link.new_email.as_ref().map(|e| e.as_str().to_owned()),
        created_at: link.created_at,
        expires_at: link.expires_at,
        used_at: link.used_at,
    }
}

/// Rebuilds a link through the domain parsers; a bad row is `Unexpected`.
fn from_row(row: account_link::Model) -> Result<AccountLink, Unexpected> {
    let id = row.id;
    Ok(AccountLink {
        id,
        user_id: UserId::from_uuid(row.user_id),
        purpose: LinkPurpose::from_str(&row.purpose).map_err(nexus_sea_support::invalid_row(
            "account_links",
            id,
            "purpose",
        ))?,
        token_hash: row.token_hash,
        new_email: row
            .new_email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(nexus_sea_support::invalid_row(
                "account_links",
                id,
                "new_email",
            ))?,
        created_at: row.created_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
    })
}

/// On `conn`: voids every unused link of the same user and purpose and stores `link`.
/// Call it inside a transaction, so that the two happen together.
pub(crate) async fn replace_link<C: ConnectionTrait>(
    conn: &C,
    link: &AccountLink,
) -> Result<(), IdentityError> {
    // Only the newest link of a purpose works: a new request voids the earlier ones.
    account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(link.created_at))
        .filter(account_link::Column::UserId.eq(link.user_id.as_uuid()))
        .filter(account_link::Column::Purpose.eq(link.purpose.as_str()))
        .filter(account_link::Column::UsedAt.is_null())
        .exec(conn)
        .await
        .map_err(unexpected("voiding earlier account links"))?;
    account_link::Entity::insert(to_row(link).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("storing an account link"))?;
    Ok(())
}

/// On `conn`: the link whose token hashes to `hash`, used or not.
pub(crate) async fn find_link<C: ConnectionTrait>(
    conn: &C,
    hash: &str,
) -> Result<Option<AccountLink>, IdentityError> {
    account_link::Entity::find()
        .filter(account_link::Column::TokenHash.eq(hash))
        .one(conn)
        .await
        .map_err(unexpected("loading an account link"))?
        .map(from_row)
        .transpose()
        .map_err(IdentityError::from)
}

/// On `conn`: marks the link used if it is unused and unexpired at `now`. The guarded
/// `UPDATE` is the claim: of two concurrent uses exactly one changes the row.
pub(crate) async fn consume_link<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, IdentityError> {
    let result = account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(now))
        .filter(account_link::Column::Id.eq(id))
        .filter(account_link::Column::UsedAt.is_null())
        // The domain treats `expires_at <= now` as expired.
        .filter(account_link::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await
        .map_err(unexpected("using an account link"))?;
    Ok(result.rows_affected > 0)
}
