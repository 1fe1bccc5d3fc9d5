//! "My data": erasing one's own account. The account row is kept (orders and invoices
//! point at it, as the law requires them to be kept) but anonymised; every credential,
//! session, code and link of it goes, in one unit of work with the `identity.account_erased`
//! event whose subscribers anonymise what other contexts hold about the person.

use async_trait::async_trait;
use nexus_kernel::{Email, PersonName, Role, Unexpected, UserId};
use nexus_outbox::{DomainEvent, EventEnvelope};
use serde::{Deserialize, Serialize};

use crate::{AuthSession, IdentityError, IdentityService, OtpPurpose, Password, PasswordHash};

/// An account was erased by its owner: the account row is anonymised and its credentials
/// are gone. Subscribers in the other contexts anonymise what they hold about the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountErased {
    /// The erased account.
    pub user_id: UserId,
}

impl DomainEvent for AccountErased {
    const NAME: &'static str = "identity.account_erased";
    const VERSION: u32 = 1;
}

/// How the owner proves, at the moment of erasure, that it really is them.
#[derive(Clone, PartialEq, Eq)]
pub enum ErasureProof {
    /// The current password (accounts that have one must give it).
    Password(String),
    /// A fresh `LOGIN` one-time code e-mailed to the account's address (accounts that sign
    /// in through Google or GitHub only, which have no password).
    Code(String),
}

impl std::fmt::Debug for ErasureProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password([redacted])"),
            Self::Code(_) => f.write_str("Code([redacted])"),
        }
    }
}

/// Removes an account's credentials inside one unit of work ([`crate::IdentityTx`]):
/// its sign-in identities (Google, GitHub), refresh tokens, one-time codes and account
/// links. Implementations return only `Unexpected` for failures and are idempotent.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CredentialEraser: Send + Sync {
    /// Deletes every credential of `user`.
    async fn erase_credentials(&self, user: UserId) -> Result<(), IdentityError>;
}

/// The address an erased account gets: unique (it carries the account id), and in the
/// reserved `.invalid` domain, so nothing is ever delivered to it.
///
/// # Errors
/// `Unexpected` only (the address is always valid).
pub fn erased_email(id: UserId) -> Result<Email, Unexpected> {
    Email::parse(&format!("erased+{}@erased.invalid", id.as_uuid().simple()))
        .map_err(Unexpected::with("an erased account's address"))
}

/// The names an erased account gets: "Erased" "Customer".
///
/// # Errors
/// `Unexpected` only.
pub fn erased_names() -> Result<(PersonName, PersonName), Unexpected> {
    Ok((
        PersonName::parse("Erased").map_err(Unexpected::with("an erased name"))?,
        PersonName::parse("Customer").map_err(Unexpected::with("an erased name"))?,
    ))
}

impl IdentityService {
    /// Erases the caller's own account. Only CUSTOMER accounts may be erased by their owner:
    /// a staff account (the last administrator among them) is deactivated by an
    /// administrator instead (`StaffErasure`). The owner proves it is them with the current
    /// password, or, for an account without one, a fresh `LOGIN` one-time code.
    ///
    /// In one unit of work the account is anonymised (address `erased+<id>@erased.invalid`,
    /// names "Erased" "Customer", no password, inactive, unverified), every sign-in
    /// identity, refresh token, one-time code and account link of it is deleted, and
    /// `identity.account_erased` is recorded. The row itself stays, so that the orders and
    /// invoices the law requires to keep still point at it.
    ///
    /// # Errors
    /// `StaffErasure`; `WrongPassword` (password accounts, or a code given instead);
    /// `InvalidCode` (password-less accounts: wrong, expired or missing code); `Conflict`
    /// when the account changed meanwhile; `NotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn erase_account(
        &self,
        session: &AuthSession,
        proof: ErasureProof,
    ) -> Result<(), IdentityError> {
        let mut user = self.me(&session.actor).await?;
        if user.role != Role::Customer {
            return Err(IdentityError::StaffErasure(user.role));
        }
        let now = self.clock.now();
        let spent_code = if user.password_hash.is_set() {
            let ErasureProof::Password(given) = &proof else {
                return Err(IdentityError::WrongPassword);
            };
            // Longer than bcrypt reads, so never a password that was set: wrong, unverified.
            if given.len() > Password::MAX_BYTES
                || !self.hasher.verify(given, Some(&user.password_hash)).await?
            {
                return Err(IdentityError::WrongPassword);
            }
            None
        } else {
            let ErasureProof::Code(given) = &proof else {
                return Err(IdentityError::InvalidCode);
            };
            let Some(stored) = self
                .otps
                .find_active(user.id, OtpPurpose::Login, now)
                .await?
            else {
                return Err(IdentityError::InvalidCode);
            };
            let hash = self.tokens.hash_otp_code(given.trim());
            if !crate::service::constant_time_eq(hash.as_bytes(), stored.code_hash.as_bytes()) {
                self.otps.record_failure(stored.id).await?;
                return Err(IdentityError::InvalidCode);
            }
            Some(stored.id)
        };
        if let Some(code) = spent_code
            && !self.otps.consume(code, now).await?
        {
            return Err(IdentityError::InvalidCode);
        }
        let expected = user.version;
        let (first, last) = erased_names()?;
        user.email = erased_email(user.id)?;
        user.first_name = first;
        user.last_name = last;
        user.password_hash = PasswordHash::none();
        user.is_active = false;
        user.email_verified = false;
        user.version = expected + 1;
        user.updated_at = now;
        let mut tx = self.uow.begin().await?;
        tx.users().update(&user, expected).await?;
        tx.sessions().revoke_user(user.id, None, now).await?;
        tx.erasure().erase_credentials(user.id).await?;
        tx.record(EventEnvelope::new(
            &AccountErased { user_id: user.id },
            now,
        )?);
        tx.commit().await?;
        tracing::info!("account erased by its owner");
        Ok(())
    }
}

#[cfg(test)]
#[path = "erasure_tests.rs"]
mod tests;
