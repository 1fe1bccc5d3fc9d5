use crate::{SessionFamilyId, SessionId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::{Email, Page, PageRequest, UserId};
use nexus_outbox::EventEnvelope;

use crate::{
    AccessClaims, AccessGrant, AccountLink, IdentityError, IssuedAccessToken, LiveCaller,
    OneTimeCode, OtpPurpose, Password, PasswordHash, RefreshSession, SessionSummary, User,
    UserFilter,
};

/// Stores and loads user accounts. Implementations must be safe to share across requests.
/// The service creates accounts through [`IdentityTx::users`], so that the events that
/// follow a registration commit with it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Inserts a new account on its own, with no event: for seeding (tests, imports).
    ///
    /// # Errors
    /// `EmailTaken` if another account has this e-mail (case-insensitively).
    async fn insert(&self, user: &User) -> Result<(), IdentityError>;

    /// Loads an account by id; `Ok(None)` when there is none.
    async fn find(&self, id: UserId) -> Result<Option<User>, IdentityError>;

    /// Loads an account by (normalised) e-mail; `Ok(None)` when there is none.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, IdentityError>;

    /// Saves every mutable field of `user` (whose `version` is already the new one) if the
    /// stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `EmailTaken`.
    async fn update(&self, user: &User, expected_version: i64) -> Result<(), IdentityError>;

    /// One page of accounts, newest first.
    async fn list(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Page<User>, IdentityError>;

    /// How many accounts exist at all.
    async fn count(&self) -> Result<u64, IdentityError>;
}

/// Stores refresh tokens (hashed) grouped in session families.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores the first token of a new family.
    async fn insert(&self, session: &RefreshSession) -> Result<(), IdentityError>;

    /// Finds a token by its hash, used or not; `Ok(None)` when unknown.
    async fn find_by_token_hash(&self, hash: &str)
    -> Result<Option<RefreshSession>, IdentityError>;

    /// Atomically marks `current` used and stores `next` in the same family, but only if
    /// `current` was neither used nor revoked. Returns `false` (storing nothing) otherwise,
    /// which the caller treats as reuse.
    async fn rotate(
        &self,
        current: SessionId,
        next: &RefreshSession,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError>;

    /// Revokes every token of a family (idempotent).
    async fn revoke_family(
        &self,
        family: SessionFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError>;

    /// Revokes every family of a user, except `keep` if given.
    async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<SessionFamilyId>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError>;

    /// Revokes `family` if it is a live session of `user` at `now`; `false` (changing
    /// nothing) when it is unknown, another user's, already revoked or expired.
    async fn revoke_family_of(
        &self,
        family: SessionFamilyId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError>;

    /// The live sessions of `user` at `now`, most recently used first (`current` false).
    async fn list_live(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>, IdentityError>;

    /// The account `user` with whether it has two-factor sign-in enabled, if `family` is a
    /// live session of `user`: it exists, belongs to `user` and holds a token that is
    /// neither used nor revoked and unexpired at `now`; `None` otherwise. An unknown family
    /// is not live: access tokens are honoured only for sessions the store knows. One
    /// statement over indexed lookups, as it runs on every authenticated request.
    async fn find_live_caller(
        &self,
        family: SessionFamilyId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveCaller>, IdentityError>;
}

/// Hashes and checks passwords. CPU-heavy work must not block the async executor.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a policy-checked password.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, IdentityError>;

    /// Checks `plain` against `hash`. With `None` it does the same amount of work against
    /// a dummy hash and answers `false`, so an unknown account costs as much as a wrong
    /// password.
    async fn verify<'a>(
        &self,
        plain: &str,
        hash: Option<&'a PasswordHash>,
    ) -> Result<bool, IdentityError>;
}

/// Signs and verifies access tokens, and makes and hashes refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TokenIssuer: Send + Sync {
    /// Signs an access token for `grant`, issued at `now`.
    fn issue_access(
        &self,
        grant: &AccessGrant,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccessToken, IdentityError>;

    /// Verifies signature, expiry, issuer and audience.
    ///
    /// # Errors
    /// `InvalidToken` for any token that does not pass.
    fn verify_access(&self, token: &str) -> Result<AccessClaims, IdentityError>;

    /// A new random refresh token (at least 256 bits of entropy).
    fn new_refresh_token(&self) -> String;

    /// The stored form of a refresh token (a one-way hash).
    fn hash_refresh_token(&self, token: &str) -> String;

    /// A new uniformly random 6-digit one-time code.
    fn new_otp_code(&self) -> String;

    /// The stored form of a one-time code: a hash keyed with a server secret, so a leaked
    /// table cannot be brute-forced offline.
    fn hash_otp_code(&self, code: &str) -> String;
}

/// Checks and spends one-time codes (stored hashed). New codes are stored through
/// [`IdentityTx::codes`], with the event that e-mails them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OtpStore: Send + Sync {
    /// The newest unused, unexpired code of a user for a purpose with attempts left;
    /// `Ok(None)` when there is none.
    async fn find_active(
        &self,
        user: UserId,
        purpose: OtpPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeCode>, IdentityError>;

    /// Atomically counts one wrong guess; returns the new number of attempts.
    async fn record_failure(&self, id: uuid::Uuid) -> Result<u32, IdentityError>;

    /// Atomically marks the code used if it is unused and has attempts left; `false` otherwise.
    async fn consume(&self, id: uuid::Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError>;
}

/// Creates and changes accounts inside one unit of work ([`IdentityTx`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a new account.
    ///
    /// # Errors
    /// `EmailTaken` if another account has this e-mail (case-insensitively); the caller
    /// then drops its unit of work.
    async fn insert(&self, user: &User) -> Result<(), IdentityError>;

    /// Saves every mutable field of `user` (whose `version` is already the new one) if the
    /// stored version is still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `EmailTaken`.
    async fn update(&self, user: &User, expected_version: i64) -> Result<(), IdentityError>;
}

/// Issues, finds and spends single-use account links inside one unit of work
/// ([`IdentityTx`]). Implementations return only `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Voids every unused link of the same user and purpose and stores `link`.
    async fn replace(&self, link: &AccountLink) -> Result<(), IdentityError>;

    /// The link whose token hashes to `hash`, used or not; `Ok(None)` when unknown.
    async fn find_by_token_hash(&self, hash: &str) -> Result<Option<AccountLink>, IdentityError>;

    /// Atomically marks the link used if it is unused and unexpired at `now`; `false`
    /// otherwise (of two concurrent uses exactly one gets `true`).
    async fn consume(&self, id: uuid::Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError>;
}

/// Revokes sessions inside one unit of work ([`IdentityTx`]), so that a change of
/// credentials and the end of the old sessions commit together.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRevoker: Send + Sync {
    /// Revokes every family of a user, except `keep` if given.
    /// Implementations return only `Unexpected` for failures.
    async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<SessionFamilyId>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError>;
}

/// Issues one-time codes inside one unit of work ([`IdentityTx`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Voids every unused code of the same user and purpose and stores `code`.
    /// Implementations return only `Unexpected` for failures.
    async fn replace(&self, code: &OneTimeCode) -> Result<(), IdentityError>;
}

/// Opens units of work over identity's records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdentityUnitOfWork: Send + Sync {
    /// Starts a unit of work.
    ///
    /// # Errors
    /// `Unexpected` when it cannot be started (the database is unreachable, say).
    async fn begin(&self) -> Result<Box<dyn IdentityTx>, IdentityError>;
}

/// One open unit of work: the repositories bound to its transaction and the events it
/// records. Dropped without `commit`, nothing of it happened.
#[async_trait]
pub trait IdentityTx: Send {
    /// Accounts, bound to this unit of work.
    fn users(&self) -> &dyn UserStore;

    /// One-time codes, bound to this unit of work.
    fn codes(&self) -> &dyn CodeStore;

    /// Account links, bound to this unit of work.
    fn links(&self) -> &dyn LinkStore;

    /// Session revocation, bound to this unit of work.
    fn sessions(&self) -> &dyn SessionRevoker;

    /// Credential removal (account erasure), bound to this unit of work.
    fn erasure(&self) -> &dyn crate::CredentialEraser;

    /// Records `event`, written to the outbox with the changes when the unit commits.
    fn record(&mut self, event: EventEnvelope);

    /// Records `record`, written to the audit log with the changes when the unit commits.
    fn audit(&mut self, record: nexus_kernel::AuditRecord);

    /// Writes every change and recorded event together, or nothing.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails.
    async fn commit(self: Box<Self>) -> Result<(), IdentityError>;
}
