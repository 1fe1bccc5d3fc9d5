//! Two-factor sign-in with time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of drift either way) and single-use recovery codes.
//!
//! Enrolment is two steps: [`IdentityService::start_totp`] makes a secret (shown once, as
//! base32 and an `otpauth://` URI) and [`IdentityService::confirm_totp`] turns it on with
//! a first code, answering ten recovery codes (stored hashed, shown once). While it is on,
//! every sign-in (password, e-mailed code, Google or GitHub) answers a challenge instead of
//! tokens, and [`IdentityService::complete_totp_sign_in`] exchanges the challenge and a code
//! for them. A code is accepted once: the step it belongs to is claimed atomically, so a
//! code seen by someone else is worthless after its owner used it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Role, UserId};

use crate::{AuthSession, ClientInfo, IdentityError, IdentityService, LoginResult, Password, User};

/// Time step in seconds.
pub const TOTP_STEP_SECONDS: i64 = 30;
/// Steps of clock drift accepted either way.
pub const TOTP_WINDOW: i64 = 1;
/// How many recovery codes an enrolment gets.
pub const RECOVERY_CODES: usize = 10;

/// Computes codes and keeps secrets secret: the cryptography behind two-factor sign-in.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Authenticator: Send + Sync {
    /// A new random secret of 160 bits.
    fn new_secret(&self) -> Vec<u8>;

    /// The 6-digit RFC 6238 code of `secret` for time step `step` (HMAC-SHA-1).
    fn code_at(&self, secret: &[u8], step: u64) -> String;

    /// The stored form of `secret`, encrypted with a server key.
    fn seal(&self, secret: &[u8]) -> String;

    /// The secret a sealed form holds.
    ///
    /// # Errors
    /// `Unexpected` when it was not sealed with this server's key.
    fn open(&self, sealed: &str) -> Result<Vec<u8>, IdentityError>;
}

/// One user's authenticator enrolment, as stored (the secret sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// Owner.
    pub user_id: UserId,
    /// The secret, sealed by [`Authenticator::seal`].
    pub sealed_secret: String,
    /// When it was turned on; `None` while waiting for the first code.
    pub enabled_at: Option<DateTime<Utc>>,
    /// The last time step whose code was accepted (a code is accepted once).
    pub last_step: Option<i64>,
    /// When enrolment started.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("user_id", &self.user_id)
            .field("enabled_at", &self.enabled_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// A sign-in waiting for its second factor, as stored (only the token's hash).
#[derive(Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// Id.
    pub id: uuid::Uuid,
    /// Who is signing in.
    pub user_id: UserId,
    /// One-way hash of the challenge token.
    pub token_hash: String,
    /// Where the sign-in comes from (recorded on the session it leads to).
    pub client: ClientInfo,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Unusable from this instant on.
    pub expires_at: DateTime<Utc>,
    /// Wrong codes so far; at [`MfaChallenge::MAX_ATTEMPTS`] it is void.
    pub attempts: u32,
    /// Set when it was exchanged for tokens.
    pub consumed_at: Option<DateTime<Utc>>,
}

impl MfaChallenge {
    /// Lifetime in minutes.
    pub const TTL_MINUTES: i64 = 5;
    /// Wrong codes allowed per challenge.
    pub const MAX_ATTEMPTS: u32 = 5;

    /// Whether it can still be answered at `now`.
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.consumed_at.is_none() && self.expires_at > now && self.attempts < Self::MAX_ATTEMPTS
    }
}

impl fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Stores enrolments, recovery codes (hashed) and sign-in challenges (hashed).
/// Implementations return only `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TotpStore: Send + Sync {
    /// The enrolment of `user`, pending or enabled; `Ok(None)` when there is none.
    async fn find(&self, user: UserId) -> Result<Option<TotpEnrolment>, IdentityError>;

    /// Whether `user` has two-factor sign-in turned on.
    async fn is_enabled(&self, user: UserId) -> Result<bool, IdentityError>;

    /// Stores a pending enrolment, replacing a pending one; `false` (storing nothing) when
    /// an enabled one exists.
    async fn start(&self, enrolment: &TotpEnrolment) -> Result<bool, IdentityError>;

    /// Turns the pending enrolment of `user` on, with `step` as its last accepted step and
    /// `recovery_hashes` as its recovery codes, in one transaction; `false` (changing
    /// nothing) when there is no pending enrolment any more.
    async fn enable(
        &self,
        user: UserId,
        recovery_hashes: &[String],
        step: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError>;

    /// Removes the enrolment of `user` and its recovery codes; `false` when there was none.
    async fn disable(&self, user: UserId) -> Result<bool, IdentityError>;

    /// Atomically records `step` as the last accepted one if it is later than the stored
    /// one (or none is stored) and the enrolment is enabled; `false` otherwise (a replay).
    async fn claim_step(&self, user: UserId, step: i64) -> Result<bool, IdentityError>;

    /// Atomically spends the unused recovery code of `user` with hash `hash`; `false` when
    /// there is none.
    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError>;

    /// Stores a new challenge.
    async fn insert_challenge(&self, challenge: &MfaChallenge) -> Result<(), IdentityError>;

    /// The challenge whose token hashes to `hash`; `Ok(None)` when unknown.
    async fn find_challenge(&self, hash: &str) -> Result<Option<MfaChallenge>, IdentityError>;

    /// Atomically counts one wrong code; returns the new number of attempts.
    async fn record_challenge_failure(&self, id: uuid::Uuid) -> Result<u32, IdentityError>;

    /// Atomically spends the challenge if it is unspent, unexpired and has attempts left;
    /// `false` otherwise (of two concurrent uses exactly one gets `true`).
    async fn consume_challenge(
        &self,
        id: uuid::Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, IdentityError>;
}

/// What two-factor sign-in needs: its store, its cryptography and its policy.
#[derive(Clone)]
pub struct TwoFactor {
    /// Enrolments, recovery codes and challenges.
    pub store: Arc<dyn TotpStore>,
    /// Codes and sealed secrets.
    pub authenticator: Arc<dyn Authenticator>,
    /// The issuer name authenticator apps show (`otpauth://` `issuer`).
    pub issuer: String,
    /// Whether staff (CSO, MANAGER, EDITOR, ADMIN) must enrol: until they do, their
    /// sessions reach only the enrolment routes ([`AuthSession::totp_required`]).
    pub require_staff: bool,
}

impl fmt::Debug for TwoFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwoFactor")
            .field("issuer", &self.issuer)
            .field("require_staff", &self.require_staff)
            .finish_non_exhaustive()
    }
}

/// The start of an enrolment: shown once, never again.
#[derive(Clone)]
pub struct TotpSetup {
    /// The secret in base32 (RFC 4648, no padding), for typing into an app.
    pub secret: String,
    /// The `otpauth://totp/...` URI, for a QR code.
    pub otpauth_uri: String,
}

impl fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSetup([redacted])")
    }
}

/// A sign-in that needs its second factor: the challenge to answer with a code.
#[derive(Clone)]
pub struct ChallengeIssued {
    /// The opaque, single-use challenge token.
    pub challenge: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl fmt::Debug for ChallengeIssued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChallengeIssued")
            .field("challenge", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What a sign-in with a first factor answers.
#[derive(Clone, Debug)]
pub enum SignIn {
    /// Signed in.
    Tokens(LoginResult),
    /// Two-factor sign-in is on: answer the challenge with a code.
    Challenge(ChallengeIssued),
}

impl SignIn {
    /// The tokens, if the sign-in is complete.
    #[must_use]
    pub fn into_tokens(self) -> Option<LoginResult> {
        match self {
            Self::Tokens(result) => Some(result),
            Self::Challenge(_) => None,
        }
    }
}

/// The second factor given to a challenge or to turn two-factor sign-in off.
#[derive(Clone, Copy)]
pub enum SecondFactor<'a> {
    /// A 6-digit code from the authenticator app.
    Code(&'a str),
    /// One of the recovery codes (single use).
    RecoveryCode(&'a str),
}

impl fmt::Debug for SecondFactor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(_) => f.write_str("Code([redacted])"),
            Self::RecoveryCode(_) => f.write_str("RecoveryCode([redacted])"),
        }
    }
}

/// Whether `role` is staff (everyone but customers).
#[must_use]
pub fn is_staff(role: Role) -> bool {
    role != Role::Customer
}

/// RFC 4648 base32 without padding.
#[must_use]
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `otpauth://` URI of a secret for `account` at `issuer`.
#[must_use]
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period={TOTP_STEP_SECONDS}",
        percent(issuer),
        percent(account),
        percent(issuer),
    )
}

/// The time step of `at`.
#[must_use]
pub fn step_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(TOTP_STEP_SECONDS)
}

/// A recovery code as typed: case, spaces and dashes do not matter.
fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl IdentityService {
    /// Turns two-factor sign-in on for this service (off when never called).
    #[must_use]
    pub fn with_two_factor(mut self, two_factor: TwoFactor) -> Self {
        self.two_factor = Some(two_factor);
        self
    }

    fn two_factor(&self) -> Result<&TwoFactor, IdentityError> {
        self.two_factor
            .as_ref()
            .ok_or(IdentityError::TotpUnavailable)
    }

    /// Whether `user`, who has an authenticator enabled or not (`enabled`), must still enrol
    /// before their session reaches anything else.
    pub(crate) fn enrolment_required(&self, user: &User, enabled: bool) -> bool {
        match &self.two_factor {
            Some(tf) => tf.require_staff && is_staff(user.role) && !enabled,
            None => false,
        }
    }

    /// Finishes a first factor: tokens, or a challenge when two-factor sign-in is on.
    pub(crate) async fn begin_sign_in(
        &self,
        user: User,
        client: &ClientInfo,
    ) -> Result<SignIn, IdentityError> {
        let Some(tf) = &self.two_factor else {
            return Ok(SignIn::Tokens(self.start_session(user, client).await?));
        };
        if !tf.store.is_enabled(user.id).await? {
            return Ok(SignIn::Tokens(self.start_session(user, client).await?));
        }
        let now = self.clock.now();
        let plain = self.tokens.new_refresh_token();
        let ttl = Duration::minutes(MfaChallenge::TTL_MINUTES);
        tf.store
            .insert_challenge(&MfaChallenge {
                id: uuid::Uuid::now_v7(),
                user_id: user.id,
                token_hash: self.tokens.hash_refresh_token(&plain),
                client: client.clone(),
                created_at: now,
                expires_at: now + ttl,
                attempts: 0,
                consumed_at: None,
            })
            .await?;
        tracing::info!(user_id = %user.id, "first factor passed; second factor asked");
        Ok(SignIn::Challenge(ChallengeIssued {
            challenge: plain,
            expires_in: ttl.num_seconds(),
        }))
    }

    /// Starts (or restarts) enrolling the caller's authenticator app: a new secret, shown
    /// once. Accounts with a password must give it.
    ///
    /// # Errors
    /// `TotpAlreadyEnabled`; `WrongPassword`; `TotpUnavailable`; `NotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn start_totp(
        &self,
        session: &AuthSession,
        password: Option<&str>,
    ) -> Result<TotpSetup, IdentityError> {
        let tf = self.two_factor()?;
        let user = self.me(&session.actor).await?;
        if tf.store.is_enabled(user.id).await? {
            return Err(IdentityError::TotpAlreadyEnabled);
        }
        if user.password_hash.is_set() {
            self.check_password(&user, password.unwrap_or_default())
                .await?;
        }
        let secret = tf.authenticator.new_secret();
        let encoded = base32(&secret);
        let stored = tf
            .store
            .start(&TotpEnrolment {
                user_id: user.id,
                sealed_secret: tf.authenticator.seal(&secret),
                enabled_at: None,
                last_step: None,
                created_at: self.clock.now(),
            })
            .await?;
        if !stored {
            return Err(IdentityError::TotpAlreadyEnabled);
        }
        tracing::info!("authenticator enrolment started");
        Ok(TotpSetup {
            otpauth_uri: otpauth_uri(&tf.issuer, user.email.as_str(), &encoded),
            secret: encoded,
        })
    }

    /// Turns two-factor sign-in on with a first code from the app, and answers the ten
    /// recovery codes (shown once; only their hashes are kept).
    ///
    /// # Errors
    /// `TotpNotStarted` (no enrolment waiting), `TotpAlreadyEnabled`, `InvalidCode`,
    /// `Conflict` (a concurrent confirmation won), `TotpUnavailable`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn confirm_totp(
        &self,
        session: &AuthSession,
        code: &str,
    ) -> Result<Vec<String>, IdentityError> {
        let tf = self.two_factor()?;
        let user_id = session.actor.user_id();
        let Some(enrolment) = tf.store.find(user_id).await? else {
            return Err(IdentityError::TotpNotStarted);
        };
        if enrolment.enabled_at.is_some() {
            return Err(IdentityError::TotpAlreadyEnabled);
        }
        let secret = tf.authenticator.open(&enrolment.sealed_secret)?;
        let Some(step) = self.matching_step(tf, &secret, code, None) else {
            return Err(IdentityError::InvalidCode);
        };
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let raw = self.tokens.new_refresh_token();
                let raw: String = raw.chars().filter(char::is_ascii_alphanumeric).collect();
                format!("{}-{}", &raw[..5], &raw[5..10])
            })
            .collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| self.tokens.hash_otp_code(&normalise_recovery(c)))
            .collect();
        if !tf
            .store
            .enable(user_id, &hashes, step, self.clock.now())
            .await?
        {
            return Err(IdentityError::Conflict);
        }
        tracing::info!("two-factor sign-in turned on");
        Ok(codes)
    }

    /// Turns two-factor sign-in off, proven by a current code, a recovery code or the
    /// account's password.
    ///
    /// # Errors
    /// `TotpNotEnabled`; `InvalidCode` (wrong or reused code); `WrongPassword`;
    /// `TotpUnavailable`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn disable_totp(
        &self,
        session: &AuthSession,
        factor: Option<SecondFactor<'_>>,
        password: Option<&str>,
    ) -> Result<(), IdentityError> {
        let tf = self.two_factor()?;
        let user = self.me(&session.actor).await?;
        let Some(enrolment) = tf.store.find(user.id).await? else {
            return Err(IdentityError::TotpNotEnabled);
        };
        if enrolment.enabled_at.is_none() {
            return Err(IdentityError::TotpNotEnabled);
        }
        match (factor, password) {
            (Some(factor), _) => {
                if !self.check_factor(tf, &enrolment, factor).await? {
                    return Err(IdentityError::InvalidCode);
                }
            }
            (None, password) => {
                self.check_password(&user, password.unwrap_or_default())
                    .await?;
            }
        }
        if !tf.store.disable(user.id).await? {
            return Err(IdentityError::TotpNotEnabled);
        }
        tracing::info!("two-factor sign-in turned off");
        Ok(())
    }

    /// Answers a sign-in challenge with a code or a recovery code, and signs in.
    /// [`MfaChallenge::MAX_ATTEMPTS`] wrong codes void the challenge.
    ///
    /// # Errors
    /// `InvalidChallenge` for an unknown, expired, used or voided challenge, or one whose
    /// account was deactivated or turned two-factor off meanwhile (all alike);
    /// `InvalidCode` for a wrong or reused code; `TotpUnavailable`, `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn complete_totp_sign_in(
        &self,
        challenge: &str,
        factor: SecondFactor<'_>,
    ) -> Result<LoginResult, IdentityError> {
        let tf = self.two_factor()?;
        let now = self.clock.now();
        let challenge = challenge.trim();
        if challenge.is_empty() {
            return Err(IdentityError::InvalidChallenge);
        }
        let hash = self.tokens.hash_refresh_token(challenge);
        let Some(stored) = tf
            .store
            .find_challenge(&hash)
            .await?
            .filter(|c| c.is_usable(now))
        else {
            return Err(IdentityError::InvalidChallenge);
        };
        let Some(user) = self
            .users
            .find(stored.user_id)
            .await?
            .filter(|u| u.is_active)
        else {
            return Err(IdentityError::InvalidChallenge);
        };
        let Some(enrolment) = tf
            .store
            .find(user.id)
            .await?
            .filter(|e| e.enabled_at.is_some())
        else {
            return Err(IdentityError::InvalidChallenge);
        };
        if !self.check_factor(tf, &enrolment, factor).await? {
            let attempts = tf.store.record_challenge_failure(stored.id).await?;
            tracing::info!(user_id = %user.id, attempts, "wrong second factor");
            return Err(IdentityError::InvalidCode);
        }
        if !tf.store.consume_challenge(stored.id, now).await? {
            return Err(IdentityError::InvalidChallenge);
        }
        tracing::info!(user_id = %user.id, "second factor passed");
        self.start_session(user, &stored.client).await
    }

    /// Checks a code (claiming its step, so it works once) or spends a recovery code.
    async fn check_factor(
        &self,
        tf: &TwoFactor,
        enrolment: &TotpEnrolment,
        factor: SecondFactor<'_>,
    ) -> Result<bool, IdentityError> {
        match factor {
            SecondFactor::Code(code) => {
                let secret = tf.authenticator.open(&enrolment.sealed_secret)?;
                let Some(step) = self.matching_step(tf, &secret, code, enrolment.last_step) else {
                    return Ok(false);
                };
                tf.store.claim_step(enrolment.user_id, step).await
            }
            SecondFactor::RecoveryCode(code) => {
                let normalised = normalise_recovery(code);
                if normalised.is_empty() {
                    return Ok(false);
                }
                let hash = self.tokens.hash_otp_code(&normalised);
                tf.store
                    .use_recovery_code(enrolment.user_id, &hash, self.clock.now())
                    .await
            }
        }
    }

    /// The step within the window whose code is `code`, later than `after` (a code of a
    /// step already used is refused without a write).
    fn matching_step(
        &self,
        tf: &TwoFactor,
        secret: &[u8],
        code: &str,
        after: Option<i64>,
    ) -> Option<i64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = step_of(self.clock.now());
        let mut found = None;
        // Every step of the window is computed, matching or not, so timing tells nothing.
        for step in (current - TOTP_WINDOW)..=(current + TOTP_WINDOW) {
            let Ok(unsigned) = u64::try_from(step) else {
                continue;
            };
            let expected = tf.authenticator.code_at(secret, unsigned);
            if constant_time_eq(expected.as_bytes(), code.as_bytes())
                && after.is_none_or(|last| step > last)
            {
                found = Some(step);
            }
        }
        found
    }

    async fn check_password(&self, user: &User, password: &str) -> Result<(), IdentityError> {
        if password.len() > Password::MAX_BYTES
            || !user.password_hash.is_set()
            || !self
                .hasher
                .verify(password, Some(&user.password_hash))
                .await?
        {
            return Err(IdentityError::WrongPassword);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "totp_tests.rs"]
mod tests;
