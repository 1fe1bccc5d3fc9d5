//! Sign-in with providers on `oauth_states` and `user_identities`: the state store, the
//! identity store, and the unit of work that creates an account and links its identity
//! together.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_identity::{
    IdentityError, IdentityProvider, LinkedIdentity, LinkedIdentityStore, OAuthError, OAuthState,
    OAuthStateStore, OAuthTx, OAuthUnitOfWork, SignInIntent, User,
};
use nexus_kernel::{Email, Unexpected, UserId};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{
    EventTransaction, Transactions, invalid_row, is_unique_violation, unexpected,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::entities::{oauth_state, user_identity};
use crate::users::{insert_user, update_user};

/// Stores sign-in authorizations in flight. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaOAuthStateStore {
    db: DatabaseConnection,
}

impl SeaOAuthStateStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn state_from_row(row: oauth_state::Model) -> Result<OAuthState, Unexpected> {
    let id = row.id;
    Ok(OAuthState {
        id,
        state_hash: row.state_hash,
        binding_hash: row.binding_hash,
        provider: IdentityProvider::from_str(&row.provider).map_err(invalid_row(
            "oauth_states",
            id,
            "provider",
        ))?,
        pkce_verifier: row.pkce_verifier,
        nonce: row.nonce,
        intent: SignInIntent::parse(&row.intent).ok_or_else(|| {
            Unexpected::msg(format!("oauth_states row {id} has an invalid intent"))
        })?,
        user_id: row.user_id.map(UserId::from_uuid),
        created_at: row.created_at,
        expires_at: row.expires_at,
        consumed_at: row.consumed_at,
    })
}

#[async_trait]
impl OAuthStateStore for SeaOAuthStateStore {
    async fn insert(&self, state: &OAuthState) -> Result<(), IdentityError> {
        let row = oauth_state::Model {
            id: state.id,
            state_hash: state.state_hash.clone(),
            binding_hash: state.binding_hash.clone(),
            provider: state.provider.as_str().to_owned(),
            pkce_verifier: state.pkce_verifier.clone(),
            nonce: state.nonce.clone(),
            intent: state.intent.as_str().to_owned(),
            user_id: state.user_id.map(|u| u.as_uuid()),
            created_at: state.created_at,
            expires_at: state.expires_at,
            consumed_at: state.consumed_at,
        };
        // States nobody came back for are swept as new ones arrive, so the table holds
        // about ten minutes of sign-ins.
        oauth_state::Entity::delete_many()
            .filter(oauth_state::Column::ExpiresAt.lt(state.created_at))
            .exec(&self.db)
            .await
            .map_err(unexpected("sweeping expired sign-in states"))?;
        oauth_state::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(unexpected("storing a sign-in state"))?;
        Ok(())
    }

    async fn find(&self, state_hash: &str) -> Result<Option<OAuthState>, IdentityError> {
        oauth_state::Entity::find()
            .filter(oauth_state::Column::StateHash.eq(state_hash))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a sign-in state"))?
            .map(state_from_row)
            .transpose()
            .map_err(IdentityError::from)
    }

    async fn consume(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError> {
        // The guard is the claim: of two uses of one state exactly one gets `true`.
        let result = oauth_state::Entity::update_many()
            .col_expr(oauth_state::Column::ConsumedAt, Expr::value(now))
            .filter(oauth_state::Column::Id.eq(id))
            .filter(oauth_state::Column::ConsumedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(unexpected("using a sign-in state"))?;
        Ok(result.rows_affected > 0)
    }
}

/// Reads and changes linked identities. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaLinkedIdentityStore {
    db: DatabaseConnection,
}

impl SeaLinkedIdentityStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn identity_from_row(row: user_identity::Model) -> Result<LinkedIdentity, Unexpected> {
    let id = row.id;
    Ok(LinkedIdentity {
        id,
        user_id: UserId::from_uuid(row.user_id),
        provider: IdentityProvider::from_str(&row.provider).map_err(invalid_row(
            "user_identities",
            id,
            "provider",
        ))?,
        subject: row.subject,
        email: row
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(invalid_row("user_identities", id, "email"))?,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    })
}

#[async_trait]
impl LinkedIdentityStore for SeaLinkedIdentityStore {
    async fn find(
        &self,
        provider: IdentityProvider,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, IdentityError> {
        user_identity::Entity::find()
            .filter(user_identity::Column::Provider.eq(provider.as_str()))
            .filter(user_identity::Column::Subject.eq(subject))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a linked identity"))?
            .map(identity_from_row)
            .transpose()
            .map_err(IdentityError::from)
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<LinkedIdentity>, IdentityError> {
        user_identity::Entity::find()
            .filter(user_identity::Column::UserId.eq(user.as_uuid()))
            .order_by_asc(user_identity::Column::CreatedAt)
            .order_by_asc(user_identity::Column::Id)
            .all(&self.db)
            .await
            .map_err(unexpected("listing linked identities"))?
            .into_iter()
            .map(|row| identity_from_row(row).map_err(IdentityError::from))
            .collect()
    }

    async fn touch(
        &self,
        id: Uuid,
        email: Option<Email>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        user_identity::Entity::update_many()
            .col_expr(user_identity::Column::LastUsedAt, Expr::value(now))
            .col_expr(
                user_identity::Column::Email,
                Expr::value(email.map(|e| e.as_str().to_owned())),
            )
            .filter(user_identity::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(unexpected("recording a sign-in through an identity"))?;
        Ok(())
    }

    async fn delete(
        &self,
        user: UserId,
        provider: IdentityProvider,
    ) -> Result<bool, IdentityError> {
        let result = user_identity::Entity::delete_many()
            .filter(user_identity::Column::UserId.eq(user.as_uuid()))
            .filter(user_identity::Column::Provider.eq(provider.as_str()))
            .exec(&self.db)
            .await
            .map_err(unexpected("unlinking an identity"))?;
        Ok(result.rows_affected > 0)
    }
}

/// On `conn`: links `identity`, telling the two unique rules apart.
async fn insert_identity<C: ConnectionTrait>(
    conn: &C,
    identity: &LinkedIdentity,
) -> Result<(), OAuthError> {
    let row = user_identity::Model {
        id: identity.id,
        user_id: identity.user_id.as_uuid(),
        provider: identity.provider.as_str().to_owned(),
        subject: identity.subject.clone(),
        email: identity.email.as_ref().map(|e| e.as_str().to_owned()),
        created_at: identity.created_at,
        last_used_at: identity.last_used_at,
    };
    user_identity::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(|err| {
            if is_unique_violation(
                &err,
                "ux_user_identities_provider_subject",
                "user_identities.subject",
            ) {
                OAuthError::IdentityTaken
            } else if is_unique_violation(
                &err,
                "ux_user_identities_user_id_provider",
                "user_identities.user_id",
            ) {
                OAuthError::ProviderAlreadyLinked(identity.provider)
            } else {
                Unexpected::new("linking an identity", err).into()
            }
        })?;
    Ok(())
}

/// Opens units of work that create accounts and link identities. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaOAuthUnitOfWork {
    transactions: Transactions,
}

impl SeaOAuthUnitOfWork {
    /// Units of work over `transactions`.
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl OAuthUnitOfWork for SeaOAuthUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn OAuthTx>, IdentityError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting a sign-in unit of work"))?;
        Ok(Box::new(SeaOAuthTx { tx }))
    }
}

/// One open sign-in unit of work; dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct SeaOAuthTx {
    tx: EventTransaction,
}

#[async_trait]
impl OAuthTx for SeaOAuthTx {
    async fn insert_user(&self, user: &User) -> Result<(), IdentityError> {
        insert_user(self.tx.conn(), user).await
    }

    async fn insert_identity(&self, identity: &LinkedIdentity) -> Result<(), OAuthError> {
        insert_identity(self.tx.conn(), identity).await
    }

    async fn update_user(&self, user: &User, expected_version: i64) -> Result<(), IdentityError> {
        update_user(self.tx.conn(), user, expected_version).await
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    async fn commit(self: Box<Self>) -> Result<(), IdentityError> {
        Ok(self.tx.commit().await?)
    }
}
