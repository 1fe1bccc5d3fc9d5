use std::fmt;

use crate::{SessionFamilyId, SessionId};
use chrono::{DateTime, Utc};
use nexus_kernel::{Actor, Email, PersonName, Role, UserId};

use crate::{ClientInfo, PasswordRule};

/// A user account: staff (ADMIN, MANAGER, CSO, EDITOR) or a storefront CUSTOMER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// Sign-in address, unique case-insensitively.
    pub email: Email,
    /// bcrypt hash of the password ([`PasswordHash::none`] for an account that signs in
    /// through Google or GitHub only); never leaves the server.
    pub password_hash: PasswordHash,
    /// Role, which decides permissions.
    pub role: Role,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// Inactive users cannot sign in and lose their sessions.
    pub is_active: bool,
    /// Whether the e-mail address has been proven.
    pub email_verified: bool,
    /// Optimistic-concurrency version, bumped on every change.
    pub version: i64,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

/// A password hash as stored. Its `Debug` never prints the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a stored hash.
    #[must_use]
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    /// The encoded hash, for the hasher and the repository only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored form of "no password": an account created through a sign-in provider.
    /// No password matches it (the service never hands it to the hasher).
    #[must_use]
    pub fn none() -> Self {
        Self(String::new())
    }

    /// Whether the account has a password at all (see [`PasswordHash::none`]).
    #[must_use]
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A new password that satisfies the policy. Its `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Minimum length in characters.
    pub const MIN_CHARS: usize = 8;
    /// Maximum length in bytes: bcrypt ignores everything past 72 bytes.
    pub const MAX_BYTES: usize = 72;

    /// Checks a new password for the account `email`.
    ///
    /// # Errors
    /// The first `PasswordRule` broken.
    pub fn parse(raw: &str, email: &Email) -> Result<Self, PasswordRule> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(PasswordRule::TooShort);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(PasswordRule::TooLong);
        }
        let lowered = raw.trim().to_lowercase();
        let local = email.as_str().split('@').next().unwrap_or_default();
        if lowered == email.as_str() || lowered == local {
            return Err(PasswordRule::SameAsEmail);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The plain text, for the hasher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A self-service sign-up: always becomes a CUSTOMER.
#[derive(Clone, Debug)]
pub struct RegisterUser {
    /// Sign-in address.
    pub email: Email,
    /// Chosen password, not yet checked against the policy.
    pub password: String,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
}

/// An account created by an administrator, with any role.
#[derive(Clone, Debug)]
pub struct NewStaffUser {
    /// Sign-in address.
    pub email: Email,
    /// Initial password, not yet checked against the policy.
    pub password: String,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// Role to grant.
    pub role: Role,
}

/// A staff account an administrator invites: no password yet; the invitee chooses one
/// from the e-mailed link.
#[derive(Clone, Debug)]
pub struct StaffInvite {
    /// Sign-in address; the invitation goes there.
    pub email: Email,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// Role to grant: a staff role (buyers register themselves).
    pub role: Role,
}

/// A change to one's own profile.
#[derive(Clone, Debug, Default)]
pub struct UpdateProfile {
    /// New given name.
    pub first_name: Option<PersonName>,
    /// New family name.
    pub last_name: Option<PersonName>,
}

/// An administrator's change to an account.
#[derive(Clone, Debug, Default)]
pub struct UpdateUser {
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate; deactivation revokes every session.
    pub is_active: Option<bool>,
    /// New given name.
    pub first_name: Option<PersonName>,
    /// New family name.
    pub last_name: Option<PersonName>,
    /// The version the caller read; a stale one is a conflict. `None` skips the check.
    pub expected_version: Option<i64>,
}

/// Which users to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (`true`) or inactive (`false`) accounts.
    pub is_active: Option<bool>,
}

/// The caller behind an access token, as one lookup finds it: the account of a live
/// session ([`crate::SessionStore::find_live_caller`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveCaller {
    /// The account, as stored now (deactivated or not: the service decides).
    pub user: User,
    /// Whether the account has an authenticator enabled for two-factor sign-in.
    pub two_factor_enabled: bool,
}

/// One refresh token as stored: only its hash is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshSession {
    /// This token's id.
    pub id: SessionId,
    /// The sign-in this token descends from.
    pub family_id: SessionFamilyId,
    /// Owner.
    pub user_id: UserId,
    /// SHA-256 of the token (hex); the token itself is never stored.
    pub token_hash: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Unusable after this instant.
    pub expires_at: DateTime<Utc>,
    /// Set when the token was exchanged; a second use is theft.
    pub used_at: Option<DateTime<Utc>>,
    /// Set when its family was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Where the sign-in came from; every token of a family carries the same.
    pub client: ClientInfo,
    /// When the family's sign-in happened (the first token's `created_at`).
    pub signed_in_at: DateTime<Utc>,
}

/// What an access token says about its bearer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessGrant {
    /// Subject.
    pub user_id: UserId,
    /// Role at issue time (informational: the current role is loaded per request).
    pub role: Role,
    /// Session family the token belongs to, so revocation ends it at once.
    pub family_id: SessionFamilyId,
}

/// The verified content of an access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    /// Who the token was issued to.
    pub grant: AccessGrant,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// A freshly signed access token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The result of a successful sign-in or refresh.
#[derive(Clone)]
pub struct LoginResult {
    /// Short-lived bearer token.
    pub access_token: IssuedAccessToken,
    /// Single-use refresh token (plain text, shown to the client once).
    pub refresh_token: String,
    /// The signed-in user.
    pub user: User,
}

impl fmt::Debug for LoginResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResult")
            .field("access_token", &self.access_token)
            .field("refresh_token", &"[redacted]")
            .field("user", &self.user.id)
            .finish()
    }
}

/// An authenticated request: who is calling and through which session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSession {
    /// The caller with their current role.
    pub actor: Actor,
    /// The session family of the access token.
    pub family_id: SessionFamilyId,
    /// Staff who must enrol an authenticator first (`REQUIRE_STAFF_TOTP`) and have not:
    /// the app lets such a session reach only the enrolment routes and one's own profile.
    pub totp_required: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("ada.lovelace@example.com").expect("valid")
    }

    #[test]
    fn password_policy_edges() {
        let cases: [(&str, Result<(), PasswordRule>); 7] = [
            ("1234567", Err(PasswordRule::TooShort)),
            ("12345678", Ok(())),
            ("ééééééé", Err(PasswordRule::TooShort)),
            (&"a".repeat(72), Ok(())),
            (&"a".repeat(73), Err(PasswordRule::TooLong)),
            ("Ada.Lovelace@Example.com", Err(PasswordRule::SameAsEmail)),
            ("ada.lovelace", Err(PasswordRule::SameAsEmail)),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                Password::parse(raw, &email()).map(|_| ()),
                expected,
                "{raw}"
            );
        }
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let p = Password::parse("correct horse battery", &email()).expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
        let h = PasswordHash::new("$2b$12$secret".into());
        assert!(!format!("{h:?}").contains("secret"));
    }
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpPurpose {
    /// Prove the account's e-mail address.
    VerifyEmail,
    /// Sign in without a password.
    Login,
}

impl OtpPurpose {
    /// Every purpose.
    pub const ALL: [Self; 2] = [Self::VerifyEmail, Self::Login];

    /// The stable wire and storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::Login => "LOGIN",
        }
    }
}

/// A text that names no code purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("purpose must be VERIFY_EMAIL or LOGIN")]
pub struct UnknownOtpPurpose;

impl std::str::FromStr for OtpPurpose {
    type Err = UnknownOtpPurpose;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownOtpPurpose)
    }
}

/// A one-time code as stored: only its keyed hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode {
    /// Id.
    pub id: uuid::Uuid,
    /// Owner.
    pub user_id: UserId,
    /// Purpose.
    pub purpose: OtpPurpose,
    /// Keyed hash of the code.
    pub code_hash: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Unusable after this instant.
    pub expires_at: DateTime<Utc>,
    /// Wrong guesses so far; at `MAX_ATTEMPTS` the code is void.
    pub attempts: u32,
    /// Set when used or replaced.
    pub consumed_at: Option<DateTime<Utc>>,
}

impl OneTimeCode {
    /// Wrong guesses allowed before the code is void. As many as every client together may
    /// make on one address in a rate window (the app's default `OTP_ADDRESS_RATE_LIMIT`), not
    /// as few as one client may (`OTP_RATE_LIMIT`): one client guessing at someone else's
    /// address must not be able to void the owner's code. 20 guesses at a 6-digit code
    /// still succeed by chance once in 50 000.
    pub const MAX_ATTEMPTS: u32 = 20;
    /// Lifetime in minutes.
    pub const TTL_MINUTES: u32 = 10;
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneTimeCode")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What a verified code did.
#[derive(Debug, Clone)]
pub enum OtpOutcome {
    /// The e-mail address is now verified.
    Verified(User),
    /// The user is signed in.
    LoggedIn(LoginResult),
    /// Two-factor sign-in is on: the challenge to answer with a code.
    MfaRequired(crate::ChallengeIssued),
}

/// What an e-mailed account link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkPurpose {
    /// Set a new password without the old one.
    PasswordReset,
    /// Confirm a new sign-in address (the link goes to the new address).
    EmailChange,
    /// Accept a staff invitation: choose the first password of an invited account.
    Invite,
}

impl LinkPurpose {
    /// Every purpose.
    pub const ALL: [Self; 3] = [Self::PasswordReset, Self::EmailChange, Self::Invite];

    /// The stable storage and event name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::PasswordReset => "PASSWORD_RESET",
            Self::EmailChange => "EMAIL_CHANGE",
            Self::Invite => "INVITE",
        }
    }
}

/// A text that names no link purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown account link purpose")]
pub struct UnknownLinkPurpose;

impl std::str::FromStr for LinkPurpose {
    type Err = UnknownLinkPurpose;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownLinkPurpose)
    }
}

/// A single-use link e-mailed to an account holder, as stored: only the hash of its token
/// (256 random bits) is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLink {
    /// Id.
    pub id: uuid::Uuid,
    /// Owner.
    pub user_id: UserId,
    /// Purpose.
    pub purpose: LinkPurpose,
    /// One-way hash of the token.
    pub token_hash: String,
    /// The address an e-mail change moves to (`EmailChange` only).
    pub new_email: Option<Email>,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Unusable from this instant on.
    pub expires_at: DateTime<Utc>,
    /// Set when used, or voided by a newer link of the same purpose.
    pub used_at: Option<DateTime<Utc>>,
}

impl AccountLink {
    /// Whether the link can still be used at `now`.
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }
}

impl fmt::Debug for AccountLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountLink")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// One live session (a sign-in and the refresh tokens that descend from it), as its owner
/// sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session's id: its family id (the `sid` of its access tokens).
    pub id: SessionFamilyId,
    /// Where it was signed in from.
    pub client: ClientInfo,
    /// When it was signed in.
    pub signed_in_at: DateTime<Utc>,
    /// When its refresh token was last exchanged (the sign-in itself if never).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless used again.
    pub expires_at: DateTime<Utc>,
    /// Whether it is the session of the request that listed it.
    pub current: bool,
}
