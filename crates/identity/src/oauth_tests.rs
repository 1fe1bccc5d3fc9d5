//! Unit tests of `OAuthService`: the state checks and the linking rules, against mocks.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Actor, Clock, Email, FixedClock, PersonName, Role, UserId};
use nexus_outbox::EventEnvelope;
use uuid::Uuid;

use super::*;
use crate::{
    IdentityConfig, IssuedAccessToken, MockIdentityUnitOfWork, MockOtpStore, MockPasswordHasher,
    MockSessionStore, MockTokenIssuer, MockUserRepository,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid e-mail")
}

fn user(password: bool) -> User {
    User {
        id: UserId::new(),
        email: email("ada@example.com"),
        password_hash: if password {
            PasswordHash::new("$2b$04$stored".to_owned())
        } else {
            PasswordHash::none()
        },
        role: Role::Customer,
        first_name: PersonName::parse("Ada").expect("valid"),
        last_name: PersonName::parse("Lovelace").expect("valid"),
        is_active: true,
        email_verified: false,
        version: 2,
        created_at: now(),
        updated_at: now(),
    }
}

fn profile(subject: &str, verified: bool) -> ProviderProfile {
    ProviderProfile {
        subject: subject.to_owned(),
        email: Some(email("ada@example.com")),
        email_verified: verified,
        first_name: Some("Ada".to_owned()),
        last_name: None,
    }
}

fn stored_state(intent: SignInIntent, user_id: Option<UserId>) -> OAuthState {
    OAuthState {
        id: Uuid::now_v7(),
        state_hash: "h(state)".to_owned(),
        binding_hash: "h(binding)".to_owned(),
        provider: IdentityProvider::Google,
        pkce_verifier: "verifier".to_owned(),
        nonce: "nonce".to_owned(),
        intent,
        user_id,
        created_at: now(),
        expires_at: now() + Duration::minutes(10),
        consumed_at: None,
    }
}

/// What the fake units of work did.
#[derive(Default, Clone)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: String) {
        self.0.lock().expect("not poisoned").push(entry);
    }
    fn entries(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }
}

struct FakeTx(Log);

#[async_trait]
impl OAuthTx for FakeTx {
    async fn insert_user(&self, user: &User) -> Result<(), IdentityError> {
        self.0.push(format!(
            "user {} {} password={}",
            user.email.as_str(),
            user.role.as_str(),
            user.password_hash.is_set()
        ));
        Ok(())
    }
    async fn insert_identity(&self, identity: &LinkedIdentity) -> Result<(), OAuthError> {
        self.0.push(format!(
            "identity {} {}",
            identity.provider, identity.subject
        ));
        Ok(())
    }
    async fn update_user(&self, user: &User, expected: i64) -> Result<(), IdentityError> {
        self.0.push(format!(
            "update {} verified={} version={} expected={expected}",
            user.email.as_str(),
            user.email_verified,
            user.version
        ));
        Ok(())
    }
    fn record(&mut self, event: EventEnvelope) {
        self.0.push(format!("event {}", event.name));
    }
    async fn commit(self: Box<Self>) -> Result<(), IdentityError> {
        self.0.push("commit".to_owned());
        Ok(())
    }
}

fn tokens() -> Arc<MockTokenIssuer> {
    let mut tokens = MockTokenIssuer::new();
    tokens
        .expect_hash_refresh_token()
        .returning(|t| format!("h({t})"));
    tokens
        .expect_new_refresh_token()
        .returning(|| "random".to_owned());
    tokens.expect_issue_access().returning(|_, _| {
        Ok(IssuedAccessToken {
            token: "access".to_owned(),
            expires_in: 900,
        })
    });
    Arc::new(tokens)
}

fn identity_service(tokens: Arc<MockTokenIssuer>) -> Arc<IdentityService> {
    let mut sessions = MockSessionStore::new();
    sessions.expect_insert().returning(|_| Ok(()));
    Arc::new(IdentityService::new(
        Arc::new(MockUserRepository::new()),
        Arc::new(sessions),
        Arc::new(MockPasswordHasher::new()),
        tokens,
        Arc::new(MockOtpStore::new()),
        Arc::new(MockIdentityUnitOfWork::new()),
        Arc::new(FixedClock::default()),
        IdentityConfig {
            refresh_ttl: Duration::days(30),
            reset_link_ttl: Duration::minutes(30),
            email_change_ttl: Duration::minutes(60),
            invite_link_ttl: Duration::days(7),
            grants: |role| crate::permissions::actor(UserId::new(), role).permissions(),
        },
    ))
}

struct Setup {
    provider: MockOAuthProvider,
    states: MockOAuthStateStore,
    identities: MockLinkedIdentityStore,
    users: MockUserRepository,
    log: Log,
}

impl Setup {
    /// A live state for `intent`, spent once, and a provider answering `profile`.
    fn new(state: OAuthState, answer: Result<ProviderProfile, OAuthError>) -> Self {
        let mut provider = MockOAuthProvider::new();
        provider
            .expect_provider()
            .return_const(IdentityProvider::Google);
        let answer = Mutex::new(Some(answer));
        provider.expect_exchange().returning(move |_, _, _| {
            answer
                .lock()
                .expect("not poisoned")
                .take()
                .expect("one exchange")
        });
        let mut states = MockOAuthStateStore::new();
        states
            .expect_find()
            .returning(move |_| Ok(Some(state.clone())));
        states.expect_consume().returning(|_, _| Ok(true));
        Self {
            provider,
            states,
            identities: MockLinkedIdentityStore::new(),
            users: MockUserRepository::new(),
            log: Log::default(),
        }
    }

    fn service(self) -> (OAuthService, Log) {
        let log = self.log.clone();
        let mut uow = MockOAuthUnitOfWork::new();
        let tx_log = self.log.clone();
        uow.expect_begin()
            .returning(move || Ok(Box::new(FakeTx(tx_log.clone()))));
        let tokens = tokens();
        let service = OAuthService::new(OAuthPorts {
            providers: vec![Arc::new(self.provider)],
            states: Arc::new(self.states),
            identities: Arc::new(self.identities),
            uow: Arc::new(uow),
            users: Arc::new(self.users),
            tokens: tokens.clone(),
            identity: identity_service(tokens),
            clock: Arc::new(FixedClock::default()),
        });
        (service, log)
    }
}

async fn call(
    service: &OAuthService,
    binding: Option<&str>,
) -> Result<crate::LoginResult, OAuthError> {
    service
        .callback(
            IdentityProvider::Google,
            "code",
            "state",
            binding,
            &ClientInfo::default(),
        )
        .await
        .map(|s| {
            s.into_tokens()
                .expect("no second factor without two-factor sign-in")
        })
}

#[tokio::test]
async fn a_state_bound_to_another_browser_is_refused_before_any_exchange() {
    let mut setup = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", true)),
    );
    setup.provider.checkpoint();
    setup
        .provider
        .expect_provider()
        .return_const(IdentityProvider::Google);
    setup.provider.expect_exchange().never();
    let (service, _) = setup.service();

    assert!(matches!(
        call(&service, Some("other")).await,
        Err(OAuthError::InvalidState)
    ));
    assert!(matches!(
        call(&service, None).await,
        Err(OAuthError::InvalidState)
    ));
}

#[tokio::test]
async fn a_used_state_is_refused() {
    let mut used = stored_state(SignInIntent::SignIn, None);
    used.consumed_at = Some(now());
    let (service, _) = Setup::new(used, Ok(profile("sub-1", true))).service();

    assert!(matches!(
        call(&service, Some("binding")).await,
        Err(OAuthError::InvalidState)
    ));
}

#[tokio::test]
async fn an_unverified_email_neither_links_nor_creates() {
    let mut setup = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", false)),
    );
    setup.identities.expect_find().returning(|_, _| Ok(None));
    setup.users.expect_find_by_email().never();
    let (service, log) = setup.service();

    let result = call(&service, Some("binding")).await;

    assert!(matches!(result, Err(OAuthError::EmailNotVerified)));
    assert!(log.entries().is_empty());
}

#[tokio::test]
async fn a_known_subject_signs_its_account_in_whatever_the_email() {
    let account = user(true);
    let known = LinkedIdentity {
        id: Uuid::now_v7(),
        user_id: account.id,
        provider: IdentityProvider::Google,
        subject: "sub-1".to_owned(),
        email: Some(email("old@example.com")),
        created_at: now(),
        last_used_at: now(),
    };
    let mut setup = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", false)),
    );
    setup
        .identities
        .expect_find()
        .returning(move |_, _| Ok(Some(known.clone())));
    setup.identities.expect_touch().returning(|_, _, _| Ok(()));
    let found = account.clone();
    setup
        .users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let (service, log) = setup.service();

    let result = call(&service, Some("binding")).await.expect("signed in");

    assert_eq!(result.user.id, account.id);
    assert!(log.entries().is_empty());
}

#[tokio::test]
async fn a_verified_email_links_the_existing_account_and_verifies_it() {
    let account = user(true);
    let mut setup = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", true)),
    );
    setup.identities.expect_find().returning(|_, _| Ok(None));
    let found = account.clone();
    setup
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(found.clone())));
    setup.users.expect_update().never();
    let (service, log) = setup.service();

    let result = call(&service, Some("binding")).await.expect("signed in");

    assert_eq!(result.user.id, account.id);
    assert!(result.user.email_verified);
    // The link, the verified address and the owner's notice: one unit of work.
    assert_eq!(
        log.entries(),
        [
            "identity google sub-1",
            "update ada@example.com verified=true version=3 expected=2",
            "event identity.email_verified",
            "event identity.identity_linked",
            "commit"
        ]
    );
}

#[tokio::test]
async fn a_verified_email_without_an_account_creates_a_customer_without_a_password() {
    let mut setup = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", true)),
    );
    setup.identities.expect_find().returning(|_, _| Ok(None));
    setup.users.expect_find_by_email().returning(|_| Ok(None));
    let (service, log) = setup.service();

    let result = call(&service, Some("binding")).await.expect("signed in");

    assert_eq!(result.user.role, Role::Customer);
    assert_eq!(
        log.entries(),
        [
            "user ada@example.com CUSTOMER password=false",
            "identity google sub-1",
            "event identity.user_registered",
            "event identity.email_verified",
            "commit"
        ]
    );
}

#[tokio::test]
async fn linking_an_identity_of_someone_else_is_a_conflict() {
    let me = UserId::new();
    let known = LinkedIdentity {
        id: Uuid::now_v7(),
        user_id: UserId::new(),
        provider: IdentityProvider::Google,
        subject: "sub-1".to_owned(),
        email: None,
        created_at: now(),
        last_used_at: now(),
    };
    let mut setup = Setup::new(
        stored_state(SignInIntent::Link, Some(me)),
        Ok(profile("sub-1", true)),
    );
    setup
        .identities
        .expect_find()
        .returning(move |_, _| Ok(Some(known.clone())));
    let (service, _) = setup.service();

    assert!(matches!(
        call(&service, Some("binding")).await,
        Err(OAuthError::IdentityTaken)
    ));
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_unlinked() {
    let account = user(false);
    let actor = Actor::granted(account.id, Role::Customer, |role| {
        crate::permissions::actor(UserId::new(), role).permissions()
    });
    let mut setup = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", true)),
    );
    let id = account.id;
    setup
        .users
        .expect_find()
        .returning(move |_| Ok(Some(account.clone())));
    setup.identities.expect_list_for_user().returning(move |_| {
        Ok(vec![LinkedIdentity {
            id: Uuid::now_v7(),
            user_id: id,
            provider: IdentityProvider::Google,
            subject: "sub-1".to_owned(),
            email: None,
            created_at: now(),
            last_used_at: now(),
        }])
    });
    setup.identities.expect_delete().never();
    let (service, _) = setup.service();

    let result = service.unlink(&actor, IdentityProvider::Google).await;

    assert!(matches!(result, Err(OAuthError::LastSignInMethod)));
}

#[tokio::test]
async fn a_disabled_provider_answers_provider_disabled() {
    let (service, _) = Setup::new(
        stored_state(SignInIntent::SignIn, None),
        Ok(profile("sub-1", true)),
    )
    .service();

    let result = service
        .start(IdentityProvider::GitHub, SignInIntent::SignIn, None)
        .await;

    assert!(matches!(
        result,
        Err(OAuthError::ProviderDisabled(IdentityProvider::GitHub))
    ));
}

#[tokio::test]
async fn linking_from_the_profile_tells_the_owner_and_leaves_the_address_as_it_was() {
    let account = user(true);
    let mut setup = Setup::new(
        stored_state(SignInIntent::Link, Some(account.id)),
        Ok(profile("sub-9", false)),
    );
    setup.identities.expect_find().returning(|_, _| Ok(None));
    let found = account.clone();
    setup
        .users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let (service, log) = setup.service();

    let result = call(&service, Some("binding")).await.expect("linked");

    assert_eq!(result.user.id, account.id);
    assert!(
        !result.user.email_verified,
        "an unverified provider e-mail proves nothing"
    );
    assert_eq!(
        log.entries(),
        [
            "identity google sub-9",
            "event identity.identity_linked",
            "commit"
        ]
    );
}
