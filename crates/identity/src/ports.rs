use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::{Email, Page, PageRequest, SessionFamilyId, SessionId, UserId};

use crate::{
    AccessClaims, AccessGrant, IdentityError, IssuedAccessToken, Password, PasswordHash,
    RefreshSession, User, UserFilter,
};

/// Stores and loads user accounts. Implementations must be safe to share across requests.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Inserts a new account.
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

    /// Whether a family has been revoked.
    async fn is_family_revoked(&self, family: SessionFamilyId) -> Result<bool, IdentityError>;
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
}
