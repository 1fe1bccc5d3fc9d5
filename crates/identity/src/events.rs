//! Identity's domain events, written to the outbox by the unit of work that makes the
//! change they describe.

use nexus_kernel::{Email, UserId};
use nexus_outbox::DomainEvent;
use serde::{Deserialize, Serialize};

/// A new customer account was registered: it gets a welcome e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRegistered {
    /// The new account.
    pub user_id: UserId,
}

impl DomainEvent for UserRegistered {
    const NAME: &'static str = "identity.user_registered";
    const VERSION: u32 = 1;
}

/// An account proved that it owns its e-mail address: whatever is keyed on that address
/// (the CRM customer with it) may now be tied to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailVerified {
    /// The account.
    pub user_id: UserId,
    /// The address it verified.
    pub email: Email,
}

impl DomainEvent for EmailVerified {
    const NAME: &'static str = "identity.email_verified";
    const VERSION: u32 = 1;
}

/// A Google or GitHub account was linked to an account: its owner is told at the account's
/// address, so a link they did not make does not go unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLinked {
    /// The account.
    pub user_id: UserId,
    /// `google` or `github`.
    pub provider: String,
    /// The provider account's address, when it gave one.
    pub provider_email: Option<String>,
}

impl DomainEvent for IdentityLinked {
    const NAME: &'static str = "identity.identity_linked";
    const VERSION: u32 = 1;
}

/// Someone tried to register an address that already has an account: its owner is told
/// by e-mail (the caller is answered as for a new registration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRepeated {
    /// The account that owns the address.
    pub user_id: UserId,
}

impl DomainEvent for RegistrationRepeated {
    const NAME: &'static str = "identity.registration_repeated";
    const VERSION: u32 = 1;
}

/// A one-time code was issued. Only its hash is stored with the account; the plain code
/// travels in this event to the mail subscriber, so the payload is sensitive and cleared
/// once its deliveries end.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeIssued {
    /// The account.
    pub user_id: UserId,
    /// Where the code goes.
    pub email: Email,
    /// The plain code.
    pub code: String,
    /// What the code is for (`LOGIN`, `VERIFY_EMAIL`).
    pub purpose: String,
    /// How long the code lives, for the e-mail's wording.
    pub expires_in_minutes: u32,
}

impl std::fmt::Debug for CodeIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeIssued")
            .field("user_id", &self.user_id)
            .field("code", &"[redacted]")
            .field("purpose", &self.purpose)
            .field("expires_in_minutes", &self.expires_in_minutes)
            .finish_non_exhaustive()
    }
}

impl DomainEvent for CodeIssued {
    const NAME: &'static str = "identity.code_issued";
    const VERSION: u32 = 1;
    const SENSITIVE: bool = true;
}

/// A single-use account link was issued. Only its hash is stored; the plain token travels
/// in this event to the mail subscriber, so the payload is sensitive and cleared once its
/// deliveries end.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLinkIssued {
    /// The account.
    pub user_id: UserId,
    /// Where the link goes.
    pub email: Email,
    /// The recipient's given name, for the greeting.
    pub first_name: String,
    /// The plain token.
    pub token: String,
    /// What the link is for (`PASSWORD_RESET`).
    pub purpose: String,
    /// How long the link lives, for the e-mail's wording.
    pub expires_in_minutes: u32,
}

impl std::fmt::Debug for AccountLinkIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLinkIssued")
            .field("user_id", &self.user_id)
            .field("token", &"[redacted]")
            .field("purpose", &self.purpose)
            .field("expires_in_minutes", &self.expires_in_minutes)
            .finish_non_exhaustive()
    }
}

impl DomainEvent for AccountLinkIssued {
    const NAME: &'static str = "identity.account_link_issued";
    const VERSION: u32 = 1;
    const SENSITIVE: bool = true;
}

/// The owner asked to move their sign-in address: the old address is told (the new one
/// gets the confirmation link through [`AccountLinkIssued`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangeRequested {
    /// The account.
    pub user_id: UserId,
    /// The address the account has now, which gets the notice.
    pub old_email: Email,
    /// The address asked for.
    pub new_email: Email,
}

impl DomainEvent for EmailChangeRequested {
    const NAME: &'static str = "identity.email_change_requested";
    const VERSION: u32 = 1;
}

/// The sign-in address was changed through a confirmation link: every other session of the
/// account was revoked with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChanged {
    /// The account.
    pub user_id: UserId,
}

impl DomainEvent for EmailChanged {
    const NAME: &'static str = "identity.email_changed";
    const VERSION: u32 = 1;
}

/// A password was set through a reset link: every session of the account was revoked with
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    /// The account.
    pub user_id: UserId,
}

impl DomainEvent for PasswordReset {
    const NAME: &'static str = "identity.password_reset";
    const VERSION: u32 = 1;
}
