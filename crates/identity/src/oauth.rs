//! Sign-in with Google and GitHub: the authorization-code flow with PKCE, its one-time
//! `state` bound to the browser, and the rules that link a provider's account to ours.
//!
//! The rules, in order, once the provider has vouched for a `(provider, subject)`:
//! 1. a known identity signs its account in (keyed on the subject, never on the e-mail);
//! 2. a link started by a signed-in user attaches the identity to that user (409 when it
//!    already belongs to someone else);
//! 3. a new identity whose e-mail the provider says is verified links to the account with
//!    that e-mail (and marks the address verified), or creates a CUSTOMER account without
//!    a password;
//! 4. a new identity without a verified e-mail is refused: it never links and never
//!    creates. The user signs in another way and links from their profile.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Actor, Clock, Email, PersonName, Role, UserId};
use nexus_outbox::EventEnvelope;
use uuid::Uuid;

use crate::{
    ClientInfo, EmailVerified, IdentityError, IdentityLinked, IdentityService, PasswordHash,
    SignIn, TokenIssuer, User, UserRegistered, UserRepository,
};

/// A sign-in provider this service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityProvider {
    /// Google (OpenID Connect).
    Google,
    /// GitHub (OAuth app).
    GitHub,
}

impl IdentityProvider {
    /// Every provider.
    pub const ALL: [Self; 2] = [Self::Google, Self::GitHub];

    /// The stable wire and storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::GitHub => "github",
        }
    }

    /// The name people know it by (`Google`, `GitHub`).
    #[must_use]
    pub const fn display_name(&self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::GitHub => "GitHub",
        }
    }
}

impl fmt::Display for IdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("provider must be google or github")]
pub struct UnknownProvider;

impl FromStr for IdentityProvider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownProvider)
    }
}

/// What an authorization was started for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInIntent {
    /// Sign in (or sign up) with the provider.
    SignIn,
    /// Link the provider's account to the signed-in user.
    Link,
}

impl SignInIntent {
    /// The stable storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::SignIn => "SIGN_IN",
            Self::Link => "LINK",
        }
    }

    /// Parses a stored name; `None` for any other text.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SIGN_IN" => Some(Self::SignIn),
            "LINK" => Some(Self::Link),
            _ => None,
        }
    }
}

/// One authorization in flight, as stored: the state and the browser binding are kept as
/// hashes only.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// Id.
    pub id: Uuid,
    /// Hash of the `state` sent to the provider.
    pub state_hash: String,
    /// Hash of the value of the browser's binding cookie.
    pub binding_hash: String,
    /// The provider the authorization went to.
    pub provider: IdentityProvider,
    /// The PKCE code verifier (its S256 challenge went to the provider).
    pub pkce_verifier: String,
    /// The nonce the ID token must carry (Google).
    pub nonce: String,
    /// Sign in or link.
    pub intent: SignInIntent,
    /// The signed-in user a link was started by.
    pub user_id: Option<UserId>,
    /// Started at.
    pub created_at: DateTime<Utc>,
    /// Unusable from this instant on.
    pub expires_at: DateTime<Utc>,
    /// Set when the callback used it.
    pub consumed_at: Option<DateTime<Utc>>,
}

impl OAuthState {
    /// How long a started authorization may take to come back.
    pub const TTL_MINUTES: i64 = 10;
}

impl fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthState")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("intent", &self.intent)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("consumed_at", &self.consumed_at)
            .finish_non_exhaustive()
    }
}

/// An account at a provider linked to one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// Id.
    pub id: Uuid,
    /// Our account.
    pub user_id: UserId,
    /// The provider.
    pub provider: IdentityProvider,
    /// The provider's stable id of the account (Google's `sub`, GitHub's numeric id).
    pub subject: String,
    /// The e-mail the provider last reported (informational only: never a key).
    pub email: Option<Email>,
    /// Linked at.
    pub created_at: DateTime<Utc>,
    /// Last sign-in through it.
    pub last_used_at: DateTime<Utc>,
}

/// What the provider says about the person who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    /// The provider's stable id of the account.
    pub subject: String,
    /// The e-mail the provider gave, if any.
    pub email: Option<Email>,
    /// Whether the provider vouches that the person controls `email`.
    pub email_verified: bool,
    /// Given name, if the provider shares one.
    pub first_name: Option<String>,
    /// Family name, if the provider shares one.
    pub last_name: Option<String>,
}

impl ProviderProfile {
    /// The e-mail, only when the provider vouches for it.
    #[must_use]
    pub fn verified_email(&self) -> Option<&Email> {
        self.email.as_ref().filter(|_| self.email_verified)
    }
}

/// What the provider's authorize URL must carry.
#[derive(Clone)]
pub struct AuthorizeRequest {
    /// The one-time state.
    pub state: String,
    /// The PKCE verifier (the provider gets its S256 challenge).
    pub pkce_verifier: String,
    /// The nonce (OpenID Connect providers).
    pub nonce: String,
}

impl fmt::Debug for AuthorizeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizeRequest([redacted])")
    }
}

/// The start of an authorization: where to send the browser and the value its binding
/// cookie must hold when it comes back.
#[derive(Clone)]
pub struct AuthorizationStart {
    /// The provider's authorize URL, with state, PKCE challenge and nonce.
    pub authorization_url: String,
    /// The browser binding (cookie value).
    pub binding: String,
}

impl fmt::Debug for AuthorizationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationStart")
            .field("authorization_url", &self.authorization_url)
            .finish_non_exhaustive()
    }
}

/// What went wrong signing in through a provider.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider is not configured.
    #[error("sign-in with {0} is not enabled")]
    ProviderDisabled(IdentityProvider),
    /// The state is unknown, used, expired, for another provider, or not bound to this
    /// browser; deliberately indistinguishable.
    #[error("the sign-in request is invalid or expired; start again")]
    InvalidState,
    /// The provider refused the authorization code (expired, reused, or the PKCE verifier
    /// does not match).
    #[error("the provider refused the authorization")]
    ProviderRejected,
    /// The ID token failed verification (signature, issuer, audience, expiry or nonce).
    #[error("the provider's ID token is invalid")]
    InvalidIdToken,
    /// The provider could not be reached or answered something unusable.
    #[error("the sign-in provider is unavailable")]
    ProviderUnavailable,
    /// A new identity without an e-mail the provider vouches for.
    #[error(
        "the provider did not confirm your e-mail address: verify it with the provider, or sign in with your password or an e-mail code and link the provider from your profile"
    )]
    EmailNotVerified,
    /// The identity belongs to another account.
    #[error("this provider account is linked to another user")]
    IdentityTaken,
    /// The account already has an identity at this provider.
    #[error("another {0} account is already linked to this user")]
    ProviderAlreadyLinked(IdentityProvider),
    /// The account has no identity at this provider.
    #[error("no {0} account is linked")]
    NotLinked(IdentityProvider),
    /// Unlinking would leave the account with no way to sign in.
    #[error("this is your last way to sign in: set a password or link another provider first")]
    LastSignInMethod,
    /// An identity error (disabled account, conflict, unexpected failure…).
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl From<nexus_kernel::Unexpected> for OAuthError {
    fn from(e: nexus_kernel::Unexpected) -> Self {
        Self::Identity(IdentityError::Unexpected(e))
    }
}

/// A sign-in provider: builds its authorize URL and turns an authorization code into a
/// verified profile.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OAuthProvider: Send + Sync {
    /// Which provider this is.
    fn provider(&self) -> IdentityProvider;

    /// The URL to send the browser to.
    ///
    /// # Errors
    /// `ProviderUnavailable` when the provider's configuration cannot be loaded.
    async fn authorize_url(&self, request: &AuthorizeRequest) -> Result<String, OAuthError>;

    /// Exchanges `code` (with the PKCE verifier) and returns who signed in. OpenID Connect
    /// providers verify the ID token, including that it carries `nonce`.
    ///
    /// # Errors
    /// `ProviderRejected`, `InvalidIdToken`, `ProviderUnavailable`.
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ProviderProfile, OAuthError>;
}

/// Stores authorizations in flight.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OAuthStateStore: Send + Sync {
    /// Stores a new state.
    async fn insert(&self, state: &OAuthState) -> Result<(), IdentityError>;

    /// The state with this hash, used or not; `Ok(None)` when unknown.
    async fn find(&self, state_hash: &str) -> Result<Option<OAuthState>, IdentityError>;

    /// Atomically marks the state used if it is not; `false` when it already was.
    async fn consume(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, IdentityError>;
}

/// Reads and changes linked identities.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LinkedIdentityStore: Send + Sync {
    /// The identity `(provider, subject)`; `Ok(None)` when unknown.
    async fn find(
        &self,
        provider: IdentityProvider,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, IdentityError>;

    /// Every identity of a user, oldest first.
    async fn list_for_user(&self, user: UserId) -> Result<Vec<LinkedIdentity>, IdentityError>;

    /// Records a sign-in through an identity and the e-mail the provider reported.
    async fn touch(
        &self,
        id: Uuid,
        email: Option<Email>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError>;

    /// Removes a user's identity at `provider`; `false` when there was none.
    async fn delete(&self, user: UserId, provider: IdentityProvider)
    -> Result<bool, IdentityError>;
}

/// Opens units of work that create accounts and link identities together.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OAuthUnitOfWork: Send + Sync {
    /// Starts a unit of work.
    async fn begin(&self) -> Result<Box<dyn OAuthTx>, IdentityError>;
}

/// One open unit of work over accounts and identities. Dropped without `commit`, nothing
/// of it happened.
#[async_trait]
pub trait OAuthTx: Send {
    /// Inserts a new account.
    ///
    /// # Errors
    /// `EmailTaken` when another account has the address.
    async fn insert_user(&self, user: &User) -> Result<(), IdentityError>;

    /// Links an identity.
    ///
    /// # Errors
    /// `IdentityTaken` when `(provider, subject)` is linked already,
    /// `ProviderAlreadyLinked` when the user has an identity at this provider.
    async fn insert_identity(&self, identity: &LinkedIdentity) -> Result<(), OAuthError>;

    /// Saves a change to an account if it is still at `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the account changed meanwhile.
    async fn update_user(&self, user: &User, expected_version: i64) -> Result<(), IdentityError>;

    /// Records `event`, written to the outbox with the changes.
    fn record(&mut self, event: EventEnvelope);

    /// Writes everything together, or nothing.
    async fn commit(self: Box<Self>) -> Result<(), IdentityError>;
}

/// The identities linked to an account and whether it has a password.
#[derive(Debug, Clone)]
pub struct SignInMethods {
    /// Linked identities, oldest first.
    pub identities: Vec<LinkedIdentity>,
    /// Whether a password is set.
    pub has_password: bool,
}

/// The ports [`OAuthService`] works with.
pub struct OAuthPorts {
    /// The enabled providers.
    pub providers: Vec<Arc<dyn OAuthProvider>>,
    /// Authorizations in flight.
    pub states: Arc<dyn OAuthStateStore>,
    /// Linked identities.
    pub identities: Arc<dyn LinkedIdentityStore>,
    /// Creating accounts and linking identities.
    pub uow: Arc<dyn OAuthUnitOfWork>,
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Random values and hashes.
    pub tokens: Arc<dyn TokenIssuer>,
    /// Sessions for signed-in accounts.
    pub identity: Arc<IdentityService>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// Sign-in through Google and GitHub, and the identities linked to accounts.
pub struct OAuthService {
    ports: OAuthPorts,
}

impl OAuthService {
    /// Builds the service.
    #[must_use]
    pub fn new(ports: OAuthPorts) -> Self {
        Self { ports }
    }

    /// Whether `provider` is configured.
    #[must_use]
    pub fn is_enabled(&self, provider: IdentityProvider) -> bool {
        self.provider(provider).is_ok()
    }

    fn provider(&self, provider: IdentityProvider) -> Result<&dyn OAuthProvider, OAuthError> {
        self.ports
            .providers
            .iter()
            .find(|p| p.provider() == provider)
            .map(AsRef::as_ref)
            .ok_or(OAuthError::ProviderDisabled(provider))
    }

    fn hash(&self, value: &str) -> String {
        self.ports.tokens.hash_refresh_token(value)
    }

    /// Starts an authorization: stores a one-time state (hashed) with a fresh PKCE verifier,
    /// nonce and browser binding, and answers the provider's URL and the binding.
    ///
    /// # Errors
    /// `ProviderDisabled`; `Identity(InvalidToken)` for a link without a signed-in user;
    /// `ProviderUnavailable`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(provider = %provider, intent = intent.as_str()))]
    pub async fn start(
        &self,
        provider: IdentityProvider,
        intent: SignInIntent,
        actor: Option<&Actor>,
    ) -> Result<AuthorizationStart, OAuthError> {
        let adapter = self.provider(provider)?;
        let user_id = match intent {
            SignInIntent::SignIn => None,
            SignInIntent::Link => Some(actor.ok_or(IdentityError::InvalidToken)?.user_id()),
        };
        let tokens = &self.ports.tokens;
        let state = tokens.new_refresh_token();
        let binding = tokens.new_refresh_token();
        let pkce_verifier = tokens.new_refresh_token();
        let nonce = tokens.new_refresh_token();
        let request = AuthorizeRequest {
            state,
            pkce_verifier,
            nonce,
        };
        let authorization_url = adapter.authorize_url(&request).await?;
        let AuthorizeRequest {
            state,
            pkce_verifier,
            nonce,
        } = request;
        let now = self.ports.clock.now();
        self.ports
            .states
            .insert(&OAuthState {
                id: Uuid::now_v7(),
                state_hash: self.hash(&state),
                binding_hash: self.hash(&binding),
                provider,
                pkce_verifier,
                nonce,
                intent,
                user_id,
                created_at: now,
                expires_at: now + Duration::minutes(OAuthState::TTL_MINUTES),
                consumed_at: None,
            })
            .await?;
        Ok(AuthorizationStart {
            authorization_url,
            binding,
        })
    }

    /// Completes an authorization: checks and spends the state (it must exist, be unused,
    /// unexpired, for this provider and bound to this browser), exchanges the code, and
    /// applies the linking rules (see the module docs). Answers a new session.
    ///
    /// # Errors
    /// `ProviderDisabled`, `InvalidState`, `ProviderRejected`, `InvalidIdToken`,
    /// `ProviderUnavailable`, `EmailNotVerified`, `IdentityTaken`, `ProviderAlreadyLinked`,
    /// `Identity(AccountDisabled | EmailTaken | Unexpected)`.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn callback(
        &self,
        provider: IdentityProvider,
        code: &str,
        state: &str,
        binding: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SignIn, OAuthError> {
        let adapter = self.provider(provider)?;
        let now = self.ports.clock.now();
        let stored = self
            .ports
            .states
            .find(&self.hash(state))
            .await?
            .ok_or(OAuthError::InvalidState)?;
        let bound = binding.is_some_and(|b| {
            constant_time_eq(self.hash(b).as_bytes(), stored.binding_hash.as_bytes())
        });
        if stored.provider != provider
            || stored.consumed_at.is_some()
            || stored.expires_at <= now
            || !bound
        {
            return Err(OAuthError::InvalidState);
        }
        // Spent before the code is exchanged: of two uses of one state, one gets here.
        if !self.ports.states.consume(stored.id, now).await? {
            return Err(OAuthError::InvalidState);
        }
        let profile = adapter
            .exchange(code, &stored.pkce_verifier, &stored.nonce)
            .await?;
        let user = self.resolve(provider, &stored, &profile).await?;
        Ok(self.ports.identity.sign_in_proven(user, client).await?)
    }

    /// Applies the linking rules and answers the account to sign in.
    async fn resolve(
        &self,
        provider: IdentityProvider,
        stored: &OAuthState,
        profile: &ProviderProfile,
    ) -> Result<User, OAuthError> {
        let now = self.ports.clock.now();
        let linker = stored
            .user_id
            .filter(|_| stored.intent == SignInIntent::Link);
        if let Some(known) = self
            .ports
            .identities
            .find(provider, &profile.subject)
            .await?
        {
            if linker.is_some_and(|u| u != known.user_id) {
                return Err(OAuthError::IdentityTaken);
            }
            let user = self.load(known.user_id).await?;
            self.ports
                .identities
                .touch(known.id, profile.email.clone(), now)
                .await?;
            return Ok(user);
        }
        if let Some(user_id) = linker {
            // The user proved the account by being signed in: any provider account may be
            // linked to it, verified e-mail or not.
            let user = self.load(user_id).await?;
            self.link(&user, None, provider, profile).await?;
            tracing::info!(user_id = %user.id, "provider account linked by its user");
            return Ok(user);
        }
        let email = profile
            .verified_email()
            .ok_or(OAuthError::EmailNotVerified)?;
        if let Some(mut user) = self.ports.users.find_by_email(email).await? {
            if !user.is_active {
                return Err(IdentityError::AccountDisabled.into());
            }
            // The provider vouches for the address, which proves it as a code would: the
            // account is marked verified with the link, in one unit of work.
            let verified = if user.email_verified {
                None
            } else {
                let expected = user.version;
                user.email_verified = true;
                user.version = expected + 1;
                user.updated_at = now;
                Some(expected)
            };
            self.link(&user, verified, provider, profile).await?;
            tracing::info!(user_id = %user.id, "provider account linked through its verified e-mail");
            return Ok(user);
        }
        let user = User {
            id: UserId::new(),
            email: email.clone(),
            password_hash: PasswordHash::none(),
            role: Role::Customer,
            first_name: name_or(
                profile.first_name.as_deref(),
                email.as_str().split('@').next(),
            )?,
            last_name: name_or(profile.last_name.as_deref(), Some(provider_label(provider)))?,
            is_active: true,
            email_verified: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.ports.uow.begin().await?;
        tx.insert_user(&user).await?;
        tx.insert_identity(&self.identity_of(&user, provider, profile))
            .await?;
        tx.record(EventEnvelope::new(
            &UserRegistered { user_id: user.id },
            now,
        )?);
        // Born verified: the CRM links the account to its customer, as for a code.
        tx.record(EventEnvelope::new(
            &EmailVerified {
                user_id: user.id,
                email: user.email.clone(),
            },
            now,
        )?);
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "customer registered through a provider");
        Ok(user)
    }

    /// Links the provider account to `user` in one unit of work with the notice to the
    /// account's owner; with `verified` (the version `user` was read at), the account is
    /// saved as verified too and `identity.email_verified` recorded.
    async fn link(
        &self,
        user: &User,
        verified: Option<i64>,
        provider: IdentityProvider,
        profile: &ProviderProfile,
    ) -> Result<(), OAuthError> {
        let now = self.ports.clock.now();
        let mut tx = self.ports.uow.begin().await?;
        tx.insert_identity(&self.identity_of(user, provider, profile))
            .await?;
        if let Some(expected) = verified {
            tx.update_user(user, expected).await?;
            tx.record(EventEnvelope::new(
                &EmailVerified {
                    user_id: user.id,
                    email: user.email.clone(),
                },
                now,
            )?);
        }
        tx.record(EventEnvelope::new(
            &IdentityLinked {
                user_id: user.id,
                provider: provider.as_str().to_owned(),
                provider_email: profile.email.as_ref().map(|e| e.as_str().to_owned()),
            },
            now,
        )?);
        tx.commit().await?;
        Ok(())
    }

    fn identity_of(
        &self,
        user: &User,
        provider: IdentityProvider,
        profile: &ProviderProfile,
    ) -> LinkedIdentity {
        let now = self.ports.clock.now();
        LinkedIdentity {
            id: Uuid::now_v7(),
            user_id: user.id,
            provider,
            subject: profile.subject.clone(),
            email: profile.email.clone(),
            created_at: now,
            last_used_at: now,
        }
    }

    async fn load(&self, id: UserId) -> Result<User, OAuthError> {
        Ok(self
            .ports
            .users
            .find(id)
            .await?
            .ok_or(IdentityError::NotFound(id))?)
    }

    /// The caller's linked identities and whether they have a password.
    ///
    /// # Errors
    /// `Identity(NotFound | Unexpected)`.
    pub async fn methods(&self, actor: &Actor) -> Result<SignInMethods, OAuthError> {
        let user = self.load(actor.user_id()).await?;
        Ok(SignInMethods {
            identities: self.ports.identities.list_for_user(user.id).await?,
            has_password: user.password_hash.is_set(),
        })
    }

    /// Unlinks the caller's identity at `provider`, unless it is their last way to sign in
    /// (no password and no other identity).
    ///
    /// # Errors
    /// `NotLinked`, `LastSignInMethod`, `Identity(Conflict)` when a concurrent change to the
    /// account won, `Identity(Unexpected)`.
    #[tracing::instrument(skip_all, fields(user_id = %actor.user_id(), provider = %provider))]
    pub async fn unlink(
        &self,
        actor: &Actor,
        provider: IdentityProvider,
    ) -> Result<(), OAuthError> {
        let mut user = self.load(actor.user_id()).await?;
        let linked = self.ports.identities.list_for_user(user.id).await?;
        if !linked.iter().any(|i| i.provider == provider) {
            return Err(OAuthError::NotLinked(provider));
        }
        if !user.password_hash.is_set() && linked.len() <= 1 {
            return Err(OAuthError::LastSignInMethod);
        }
        // Claims the account's version first: of two concurrent unlinks of a password-less
        // account's two identities, one conflicts instead of both succeeding.
        let expected = user.version;
        user.version = expected + 1;
        user.updated_at = self.ports.clock.now();
        self.ports.users.update(&user, expected).await?;
        if !self.ports.identities.delete(user.id, provider).await? {
            return Err(OAuthError::NotLinked(provider));
        }
        tracing::info!("provider account unlinked");
        Ok(())
    }
}

fn provider_label(provider: IdentityProvider) -> &'static str {
    match provider {
        IdentityProvider::Google => "Google user",
        IdentityProvider::GitHub => "GitHub user",
    }
}

/// The provider's name if it is a valid one, else the fallback, else a placeholder.
fn name_or(given: Option<&str>, fallback: Option<&str>) -> Result<PersonName, OAuthError> {
    let given = given.map(|n| n.chars().take(PersonName::MAX_CHARS).collect::<String>());
    [given.as_deref(), fallback, Some("Customer")]
        .into_iter()
        .flatten()
        .find_map(|n| PersonName::parse(n).ok())
        .ok_or_else(|| nexus_kernel::Unexpected::msg("no usable name for a new account").into())
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
