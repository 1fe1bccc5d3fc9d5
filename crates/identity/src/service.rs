use std::sync::Arc;

use crate::{SessionFamilyId, SessionId};
use chrono::Duration;
use nexus_kernel::{
    Actor, AuditRecord, Clock, Email, Grants, Page, PageRequest, Permission, Role, UserId,
    summarize_values,
};
use serde_json::{Value, json};

use nexus_outbox::EventEnvelope;

use crate::permissions;
use crate::{
    AccessGrant, AuthSession, ClientInfo, CodeIssued, EmailVerified, IdentityError,
    IdentityUnitOfWork, LoginResult, NewStaffUser, OneTimeCode, OtpOutcome, OtpPurpose, OtpStore,
    Password, PasswordHasher, RefreshSession, RegisterUser, RegistrationRepeated, SessionStore,
    SignIn, TokenIssuer, UpdateProfile, UpdateUser, User, UserFilter, UserRegistered,
    UserRepository,
};

/// Settings the identity rules depend on.
#[derive(Debug, Clone, Copy)]
pub struct IdentityConfig {
    /// How long a refresh token (and so a session without activity) lives.
    pub refresh_ttl: Duration,
    /// What each role is granted: a signed-in user acts with their role's permissions.
    pub grants: Grants,
    /// How long a password-reset link works.
    pub reset_link_ttl: Duration,
    /// How long an e-mail change confirmation link works.
    pub email_change_ttl: Duration,
    /// How long a staff invitation link works.
    pub invite_link_ttl: Duration,
}

/// What the first-start check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// Users already exist; nothing was done.
    UsersExist,
    /// An administrator was created with the given e-mail.
    AdminCreated(Email),
}

/// Sign-up, sign-in, sessions and user administration. New accounts and one-time codes
/// are written through a unit of work, with the events whose subscribers e-mail them.
pub struct IdentityService {
    pub(crate) users: Arc<dyn UserRepository>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) tokens: Arc<dyn TokenIssuer>,
    pub(crate) otps: Arc<dyn OtpStore>,
    pub(crate) uow: Arc<dyn IdentityUnitOfWork>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: IdentityConfig,
    pub(crate) two_factor: Option<crate::TwoFactor>,
}

impl IdentityService {
    /// Builds the service from its ports.
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per port; the compiler then insists on every one"
    )]
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionStore>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenIssuer>,
        otps: Arc<dyn OtpStore>,
        uow: Arc<dyn IdentityUnitOfWork>,
        clock: Arc<dyn Clock>,
        config: IdentityConfig,
    ) -> Self {
        Self {
            users,
            sessions,
            hasher,
            tokens,
            otps,
            uow,
            clock,
            config,
            two_factor: None,
        }
    }

    /// Creates a CUSTOMER account (the role is never taken from the caller) and welcomes it
    /// by e-mail. For an address that already has an account it creates nothing and e-mails
    /// the owner instead, after hashing the password all the same: the caller gets the same
    /// answer, in about the same time, either way, so registration reveals no account.
    /// Signing in is a separate step.
    ///
    /// # Errors
    /// `WeakPassword` (the policy does not depend on whether the address is taken),
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: RegisterUser) -> Result<(), IdentityError> {
        let password = Password::parse(&input.password, &input.email)?;
        let existing = self.users.find_by_email(&input.email).await?;
        let existing = match existing {
            Some(user) => Some(user),
            None => match self
                .create(
                    input.email.clone(),
                    &password,
                    input.first_name,
                    input.last_name,
                    Role::Customer,
                    Origin::SignUp,
                )
                .await
            {
                Ok(user) => {
                    tracing::info!(user_id = %user.id, "customer registered");
                    return Ok(());
                }
                // Lost a race with another registration of the same address: that one won.
                Err(IdentityError::EmailTaken) => self.users.find_by_email(&input.email).await?,
                Err(e) => return Err(e),
            },
        };
        if let Some(owner) = existing {
            // The same work as a real registration, so timing tells nothing either.
            let _ = self.hasher.hash(&password).await?;
            let mut tx = self.uow.begin().await?;
            tx.record(EventEnvelope::new(
                &RegistrationRepeated { user_id: owner.id },
                self.clock.now(),
            )?);
            tx.commit().await?;
            tracing::info!(user_id = %owner.id, "registration of a taken address; owner told by e-mail");
        }
        Ok(())
    }

    /// Signs in with e-mail and password.
    ///
    /// # Errors
    /// `InvalidCredentials` for an unknown e-mail or a wrong password (same work either way),
    /// `AccountDisabled` for a deactivated account with the right password.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignIn, IdentityError> {
        let user = match Email::parse(email) {
            Ok(email) => self.users.find_by_email(&email).await?,
            Err(_) => None,
        };
        // bcrypt only reads 72 bytes, and no password that long can have been set: a longer
        // one is wrong without looking (after the same work, so it tells nothing).
        let too_long = password.len() > Password::MAX_BYTES;
        // An account without a password is checked like an unknown one: same work, no match.
        let no_password = user.as_ref().is_some_and(|u| !u.password_hash.is_set());
        let stored = user
            .as_ref()
            .filter(|_| !too_long && !no_password)
            .map(|u| &u.password_hash);
        let ok = self.hasher.verify(password, stored).await? && !too_long && !no_password;
        let Some(user) = user.filter(|_| ok) else {
            return Err(IdentityError::InvalidCredentials);
        };
        if !user.is_active {
            return Err(IdentityError::AccountDisabled);
        }
        tracing::info!(user_id = %user.id, "password accepted");
        self.begin_sign_in(user, client).await
    }

    /// Exchanges a refresh token for a new pair. Each token works once: presenting one
    /// that was already used revokes its whole family (the token was stolen or replayed).
    ///
    /// # Errors
    /// `InvalidToken` for unknown, expired, revoked or reused tokens and inactive users.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<LoginResult, IdentityError> {
        let now = self.clock.now();
        let hash = self.tokens.hash_refresh_token(refresh_token);
        let Some(current) = self.sessions.find_by_token_hash(&hash).await? else {
            return Err(IdentityError::InvalidToken);
        };
        if current.revoked_at.is_some() {
            return Err(IdentityError::InvalidToken);
        }
        if current.used_at.is_some() {
            tracing::warn!(user_id = %current.user_id, family = %current.family_id, "refresh token reused; revoking its family");
            self.sessions.revoke_family(current.family_id, now).await?;
            return Err(IdentityError::InvalidToken);
        }
        if current.expires_at <= now {
            return Err(IdentityError::InvalidToken);
        }
        let user = match self.users.find(current.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(IdentityError::InvalidToken),
        };
        let plain = self.tokens.new_refresh_token();
        let next = RefreshSession {
            id: SessionId::new(),
            family_id: current.family_id,
            user_id: user.id,
            token_hash: self.tokens.hash_refresh_token(&plain),
            created_at: now,
            expires_at: now + self.config.refresh_ttl,
            used_at: None,
            revoked_at: None,
            client: current.client.clone(),
            signed_in_at: current.signed_in_at,
        };
        if !self.sessions.rotate(current.id, &next, now).await? {
            // Lost a race with another use of the same token: that is reuse too.
            tracing::warn!(user_id = %user.id, family = %current.family_id, "concurrent refresh token reuse; revoking its family");
            self.sessions.revoke_family(current.family_id, now).await?;
            return Err(IdentityError::InvalidToken);
        }
        let access_token = self.tokens.issue_access(
            &AccessGrant {
                user_id: user.id,
                role: user.role,
                family_id: next.family_id,
            },
            now,
        )?;
        Ok(LoginResult {
            access_token,
            refresh_token: plain,
            user,
        })
    }

    /// Ends the caller's session: its refresh tokens and access tokens stop working.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn logout(&self, session: &AuthSession) -> Result<(), IdentityError> {
        self.sessions
            .revoke_family(session.family_id, self.clock.now())
            .await
    }

    /// Turns a bearer access token into the caller. The user is loaded so that a
    /// deactivation, role change or revoked session takes effect immediately, and the
    /// session family must be a live one of that user: one lookup
    /// ([`SessionStore::find_live_caller`]), which also says whether the user has an
    /// authenticator, so the request's own query is the second round trip.
    ///
    /// # Errors
    /// `InvalidToken`.
    pub async fn authenticate(&self, access_token: &str) -> Result<AuthSession, IdentityError> {
        let claims = self.tokens.verify_access(access_token)?;
        if claims.expires_at <= self.clock.now() {
            return Err(IdentityError::InvalidToken);
        }
        let grant = claims.grant;
        // Fail closed: the token's session family must exist, belong to its subject and be
        // live, so a token made with a leaked key and a made-up session id gets nowhere.
        let caller = match self
            .sessions
            .find_live_caller(grant.family_id, grant.user_id, self.clock.now())
            .await?
        {
            Some(caller) if caller.user.is_active => caller,
            _ => return Err(IdentityError::InvalidToken),
        };
        let user = &caller.user;
        Ok(AuthSession {
            actor: Actor::granted(user.id, user.role, self.config.grants),
            family_id: grant.family_id,
            totp_required: self.enrolment_required(user, caller.two_factor_enabled),
        })
    }

    /// The caller's own account.
    ///
    /// # Errors
    /// `NotFound` if it vanished, `Unexpected`.
    pub async fn me(&self, actor: &Actor) -> Result<User, IdentityError> {
        self.load(actor.user_id()).await
    }

    /// Changes the caller's own names.
    ///
    /// # Errors
    /// `Conflict` on a concurrent change, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %actor.user_id()))]
    pub async fn update_profile(
        &self,
        actor: &Actor,
        change: UpdateProfile,
    ) -> Result<User, IdentityError> {
        let mut user = self.load(actor.user_id()).await?;
        let expected = user.version;
        if let Some(first) = change.first_name {
            user.first_name = first;
        }
        if let Some(last) = change.last_name {
            user.last_name = last;
        }
        self.save(&mut user, expected).await?;
        Ok(user)
    }

    /// Changes the caller's password after checking the current one, and signs out every
    /// other session.
    ///
    /// # Errors
    /// `WrongPassword`, `WeakPassword`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn change_password(
        &self,
        session: &AuthSession,
        current: &str,
        new: &str,
    ) -> Result<(), IdentityError> {
        let mut user = self.load(session.actor.user_id()).await?;
        // Longer than bcrypt reads, so never a password that was set: wrong, unverified.
        if current.len() > Password::MAX_BYTES
            || !user.password_hash.is_set()
            || !self
                .hasher
                .verify(current, Some(&user.password_hash))
                .await?
        {
            return Err(IdentityError::WrongPassword);
        }
        let password = Password::parse(new, &user.email)?;
        let expected = user.version;
        user.password_hash = self.hasher.hash(&password).await?;
        self.save(&mut user, expected).await?;
        self.sessions
            .revoke_user(user.id, Some(session.family_id), self.clock.now())
            .await?;
        tracing::info!("password changed; other sessions revoked");
        Ok(())
    }

    /// One page of accounts (administrators only).
    ///
    /// # Errors
    /// `Forbidden`, `Unexpected`.
    pub async fn list_users(
        &self,
        actor: &Actor,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Page<User>, IdentityError> {
        require(actor, permissions::USERS_MANAGE)?;
        self.users.list(filter, page).await
    }

    /// One account (administrators only).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn get_user(&self, actor: &Actor, id: UserId) -> Result<User, IdentityError> {
        require(actor, permissions::USERS_MANAGE)?;
        self.load(id).await
    }

    /// Creates an account with any role (administrators only).
    ///
    /// # Errors
    /// `Forbidden`, `WeakPassword`, `EmailTaken`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn create_user(
        &self,
        actor: &Actor,
        input: NewStaffUser,
    ) -> Result<User, IdentityError> {
        require(actor, permissions::USERS_MANAGE)?;
        let password = Password::parse(&input.password, &input.email)?;
        let user = self
            .create(
                input.email,
                &password,
                input.first_name,
                input.last_name,
                input.role,
                Origin::Administrator(actor),
            )
            .await?;
        tracing::info!(user_id = %user.id, role = %user.role, "user created by administrator");
        Ok(user)
    }

    /// Changes an account's role, status or names (administrators only). Deactivating
    /// revokes every session of the account.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `SelfLockout`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), user_id = %id))]
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        change: UpdateUser,
    ) -> Result<User, IdentityError> {
        require(actor, permissions::USERS_MANAGE)?;
        let mut user = self.load(id).await?;
        let expected = user.version;
        if change.expected_version.is_some_and(|v| v != expected) {
            return Err(IdentityError::Conflict);
        }
        if id == actor.user_id()
            && (change.is_active == Some(false) || change.role.is_some_and(|r| r != user.role))
        {
            return Err(IdentityError::SelfLockout(user.role));
        }
        let deactivating = user.is_active && change.is_active == Some(false);
        let before = user.clone();
        if let Some(role) = change.role {
            user.role = role;
        }
        if let Some(active) = change.is_active {
            user.is_active = active;
        }
        if let Some(first) = change.first_name {
            user.first_name = first;
        }
        if let Some(last) = change.last_name {
            user.last_name = last;
        }
        let now = self.clock.now();
        user.version = expected + 1;
        user.updated_at = now;
        let action = if user.role != before.role {
            "users.role_changed"
        } else if user.is_active != before.is_active {
            if user.is_active {
                "users.activated"
            } else {
                "users.deactivated"
            }
        } else {
            "users.updated"
        };
        let mut tx = self.uow.begin().await?;
        tx.users().update(&user, expected).await?;
        tx.audit(AuditRecord::new(
            Some(actor),
            action,
            "user",
            user.id,
            summarize_values(Some(&audit_view(&before)), &audit_view(&user)),
            now,
        ));
        tx.commit().await?;
        if deactivating {
            self.sessions
                .revoke_user(user.id, None, self.clock.now())
                .await?;
            tracing::info!("user deactivated; sessions revoked");
        }
        Ok(user)
    }

    /// Creates an administrator without an acting user: the `create-admin` command and the
    /// first start.
    ///
    /// # Errors
    /// `WeakPassword`, `EmailTaken`, `Unexpected`.
    pub async fn create_admin(
        &self,
        email: Email,
        password: &str,
        first_name: nexus_kernel::PersonName,
        last_name: nexus_kernel::PersonName,
    ) -> Result<User, IdentityError> {
        let password = Password::parse(password, &email)?;
        self.create(
            email,
            &password,
            first_name,
            last_name,
            Role::Admin,
            Origin::Setup,
        )
        .await
    }

    /// On first start (no account at all) creates an administrator; otherwise does nothing.
    ///
    /// # Errors
    /// `WeakPassword`, `EmailTaken`, `Unexpected`.
    pub async fn bootstrap_admin(
        &self,
        email: Email,
        password: &str,
    ) -> Result<BootstrapOutcome, IdentityError> {
        if self.users.count().await? > 0 {
            return Ok(BootstrapOutcome::UsersExist);
        }
        let first = nexus_kernel::PersonName::parse("Nexus")
            .map_err(|e| nexus_kernel::Unexpected::new("bootstrap name", e))?;
        let last = nexus_kernel::PersonName::parse("Administrator")
            .map_err(|e| nexus_kernel::Unexpected::new("bootstrap name", e))?;
        let user = self.create_admin(email, password, first, last).await?;
        Ok(BootstrapOutcome::AdminCreated(user.email))
    }

    async fn create(
        &self,
        email: Email,
        password: &Password,
        first_name: nexus_kernel::PersonName,
        last_name: nexus_kernel::PersonName,
        role: Role,
        origin: Origin<'_>,
    ) -> Result<User, IdentityError> {
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            email,
            password_hash: self.hasher.hash(password).await?,
            role,
            first_name,
            last_name,
            is_active: true,
            email_verified: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.uow.begin().await?;
        tx.users().insert(&user).await?;
        if let Origin::Administrator(actor) = origin {
            tx.audit(AuditRecord::new(
                Some(actor),
                "users.created",
                "user",
                user.id,
                summarize_values(None, &audit_view(&user)),
                now,
            ));
        }
        if matches!(origin, Origin::SignUp) {
            tx.record(EventEnvelope::new(
                &UserRegistered { user_id: user.id },
                now,
            )?);
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Sends a one-time code to an account's address. Answers the same whether or not the
    /// address belongs to an account, so it reveals nothing; a new code voids older ones.
    ///
    /// # Errors
    /// `Unexpected` only.
    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    pub async fn request_otp(&self, email: &str, purpose: OtpPurpose) -> Result<(), IdentityError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let Some(user) = self.users.find_by_email(&email).await? else {
            return Ok(());
        };
        if !user.is_active || (purpose == OtpPurpose::VerifyEmail && user.email_verified) {
            return Ok(());
        }
        let now = self.clock.now();
        let plain = self.tokens.new_otp_code();
        let code = OneTimeCode {
            id: uuid::Uuid::now_v7(),
            user_id: user.id,
            purpose,
            code_hash: self.tokens.hash_otp_code(&plain),
            created_at: now,
            expires_at: now + Duration::minutes(i64::from(OneTimeCode::TTL_MINUTES)),
            attempts: 0,
            consumed_at: None,
        };
        let issued = CodeIssued {
            user_id: user.id,
            email: user.email.clone(),
            code: plain,
            purpose: purpose.as_str().to_owned(),
            expires_in_minutes: OneTimeCode::TTL_MINUTES,
        };
        let mut tx = self.uow.begin().await?;
        tx.codes().replace(&code).await?;
        tx.record(EventEnvelope::new(&issued, now)?);
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "one-time code issued");
        Ok(())
    }

    /// Checks a one-time code. VERIFY_EMAIL marks the address verified; LOGIN signs in (and
    /// also proves the address). `OneTimeCode::MAX_ATTEMPTS` wrong guesses void the code.
    ///
    /// # Errors
    /// `InvalidCode` for an unknown address, no live code, a wrong, expired or used-up code,
    /// or an inactive account (all alike); `Unexpected`.
    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    pub async fn verify_otp(
        &self,
        email: &str,
        code: &str,
        purpose: OtpPurpose,
        client: &ClientInfo,
    ) -> Result<OtpOutcome, IdentityError> {
        let now = self.clock.now();
        let user = match Email::parse(email) {
            Ok(email) => self.users.find_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(mut user) = user.filter(|u| u.is_active) else {
            return Err(IdentityError::InvalidCode);
        };
        let Some(stored) = self.otps.find_active(user.id, purpose, now).await? else {
            return Err(IdentityError::InvalidCode);
        };
        let given = self.tokens.hash_otp_code(code.trim());
        if !constant_time_eq(given.as_bytes(), stored.code_hash.as_bytes()) {
            let attempts = self.otps.record_failure(stored.id).await?;
            tracing::info!(user_id = %user.id, attempts, "wrong one-time code");
            return Err(IdentityError::InvalidCode);
        }
        if !self.otps.consume(stored.id, now).await? {
            return Err(IdentityError::InvalidCode);
        }
        if !user.email_verified {
            // The address and the event that ties what is keyed on it (the CRM customer) to
            // the account commit together.
            let expected = user.version;
            user.email_verified = true;
            user.version = expected + 1;
            user.updated_at = now;
            let verified = EmailVerified {
                user_id: user.id,
                email: user.email.clone(),
            };
            let mut tx = self.uow.begin().await?;
            tx.users().update(&user, expected).await?;
            tx.record(EventEnvelope::new(&verified, now)?);
            tx.commit().await?;
        }
        match purpose {
            OtpPurpose::VerifyEmail => Ok(OtpOutcome::Verified(user)),
            OtpPurpose::Login => match self.begin_sign_in(user, client).await? {
                SignIn::Tokens(result) => Ok(OtpOutcome::LoggedIn(result)),
                SignIn::Challenge(challenge) => Ok(OtpOutcome::MfaRequired(challenge)),
            },
        }
    }

    /// Starts a session for an account that proved itself by other means (a sign-in
    /// provider), as a password login would.
    ///
    /// # Errors
    /// `AccountDisabled` for a deactivated account, `Unexpected`.
    pub async fn sign_in_proven(
        &self,
        user: User,
        client: &ClientInfo,
    ) -> Result<SignIn, IdentityError> {
        if !user.is_active {
            return Err(IdentityError::AccountDisabled);
        }
        tracing::info!(user_id = %user.id, "proven through a provider");
        self.begin_sign_in(user, client).await
    }

    pub(crate) async fn start_session(
        &self,
        user: User,
        client: &ClientInfo,
    ) -> Result<LoginResult, IdentityError> {
        let now = self.clock.now();
        let plain = self.tokens.new_refresh_token();
        let session = RefreshSession {
            id: SessionId::new(),
            family_id: SessionFamilyId::new(),
            user_id: user.id,
            token_hash: self.tokens.hash_refresh_token(&plain),
            created_at: now,
            expires_at: now + self.config.refresh_ttl,
            used_at: None,
            revoked_at: None,
            client: client.clone(),
            signed_in_at: now,
        };
        self.sessions.insert(&session).await?;
        let access_token = self.tokens.issue_access(
            &AccessGrant {
                user_id: user.id,
                role: user.role,
                family_id: session.family_id,
            },
            now,
        )?;
        Ok(LoginResult {
            access_token,
            refresh_token: plain,
            user,
        })
    }

    async fn load(&self, id: UserId) -> Result<User, IdentityError> {
        self.users
            .find(id)
            .await?
            .ok_or(IdentityError::NotFound(id))
    }

    async fn save(&self, user: &mut User, expected: i64) -> Result<(), IdentityError> {
        user.version = expected + 1;
        user.updated_at = self.clock.now();
        self.users.update(user, expected).await
    }
}

/// Who creates an account: it decides the welcome mail and the audit record.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// The person themselves, signing up: welcomed by mail.
    SignUp,
    /// An administrator: recorded in the audit log.
    Administrator(&'a Actor),
    /// The `create-admin` command or the first start.
    Setup,
}

/// What the audit log shows of an account: never its password hash.
pub(crate) fn audit_view(user: &User) -> Value {
    json!({
        "email": user.email.as_str(),
        "role": user.role.as_str(),
        "firstName": user.first_name.as_str(),
        "lastName": user.last_name.as_str(),
        "isActive": user.is_active,
    })
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn require(actor: &Actor, permission: Permission) -> Result<(), IdentityError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(IdentityError::Forbidden)
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
