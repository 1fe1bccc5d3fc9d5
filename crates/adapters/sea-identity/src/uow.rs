//! Identity's unit of work: one write transaction ([`EventTransaction`]) with the account
//! and one-time-code stores bound to it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_identity::{
    AccountLink, CodeStore, CredentialEraser, IdentityError, IdentityTx, IdentityUnitOfWork,
    LinkStore, OneTimeCode, SessionFamilyId, SessionRevoker, User, UserStore,
};
use nexus_kernel::UserId;
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{EventTransaction, Transactions, unexpected};

use crate::erasure::erase_user_credentials;
use crate::links::{consume_link, find_link, replace_link};
use crate::otps::replace_code;
use crate::sessions::revoke_user_sessions;
use crate::users::{insert_user, update_user};

/// Opens identity units of work on the database of `transactions`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaIdentityUnitOfWork {
    transactions: Transactions,
}

impl SeaIdentityUnitOfWork {
    /// Units of work over `transactions` (a migrated database and the subscriber routes).
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl IdentityUnitOfWork for SeaIdentityUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn IdentityTx>, IdentityError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting an identity unit of work"))?;
        Ok(Box::new(SeaIdentityTx { tx }))
    }
}

/// One open identity unit of work; dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct SeaIdentityTx {
    tx: EventTransaction,
}

#[async_trait]
impl IdentityTx for SeaIdentityTx {
    fn users(&self) -> &dyn UserStore {
        self
    }

    fn codes(&self) -> &dyn CodeStore {
        self
    }

    fn links(&self) -> &dyn LinkStore {
        self
    }

    fn sessions(&self) -> &dyn SessionRevoker {
        self
    }

    fn erasure(&self) -> &dyn CredentialEraser {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.tx.audit(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), IdentityError> {
        Ok(self.tx.commit().await?)
    }
}

#[async_trait]
impl UserStore for SeaIdentityTx {
    async fn insert(&self, user: &User) -> Result<(), IdentityError> {
        insert_user(self.tx.conn(), user).await
    }

    async fn update(&self, user: &User, expected_version: i64) -> Result<(), IdentityError> {
        update_user(self.tx.conn(), user, expected_version).await
    }
}

#[async_trait]
impl LinkStore for SeaIdentityTx {
    async fn replace(&self, link: &AccountLink) -> Result<(), IdentityError> {
        replace_link(self.tx.conn(), link).await
    }

    async fn find_by_token_hash(&self, hash: &str) -> Result<Option<AccountLink>, IdentityError> {
        find_link(self.tx.conn(), hash).await
    }

    async fn consume(&self, id: uuid::Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError> {
        consume_link(self.tx.conn(), id, now).await
    }
}

#[async_trait]
impl SessionRevoker for SeaIdentityTx {
    async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<SessionFamilyId>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        revoke_user_sessions(self.tx.conn(), user, keep, now).await
    }
}

#[async_trait]
impl CodeStore for SeaIdentityTx {
    async fn replace(&self, code: &OneTimeCode) -> Result<(), IdentityError> {
        replace_code(self.tx.conn(), code).await
    }
}

#[async_trait]
impl CredentialEraser for SeaIdentityTx {
    async fn erase_credentials(&self, user: UserId) -> Result<(), IdentityError> {
        erase_user_credentials(self.tx.conn(), user).await
    }
}
