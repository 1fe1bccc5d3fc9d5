//! Removing an erased account's credentials, inside identity's unit of work.

use nexus_identity::IdentityError;
use nexus_kernel::UserId;
use nexus_sea_support::unexpected;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{account_link, oauth_state, one_time_code, user_identity};

/// Deletes every sign-in identity, one-time code, account link and sign-in state in flight
/// of `user`. Refresh tokens are revoked by the caller (their rows keep only hashes and
/// dates), so that a revoked token is refused like any other. Deleting what is gone already
/// changes nothing, so this is idempotent.
pub(crate) async fn erase_user_credentials<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
) -> Result<(), IdentityError> {
    let id = user.as_uuid();
    user_identity::Entity::delete_many()
        .filter(user_identity::Column::UserId.eq(id))
        .exec(conn)
        .await
        .map_err(unexpected(
            "deleting an erased account's sign-in identities",
        ))?;
    one_time_code::Entity::delete_many()
        .filter(one_time_code::Column::UserId.eq(id))
        .exec(conn)
        .await
        .map_err(unexpected("deleting an erased account's one-time codes"))?;
    account_link::Entity::delete_many()
        .filter(account_link::Column::UserId.eq(id))
        .exec(conn)
        .await
        .map_err(unexpected("deleting an erased account's links"))?;
    oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::UserId.eq(id))
        .exec(conn)
        .await
        .map_err(unexpected("deleting an erased account's sign-in states"))?;
    Ok(())
}
