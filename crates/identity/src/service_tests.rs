//! Unit tests of `IdentityService` against mocked ports.

use crate::testing::{TestTx, UnitLog};
use crate::{
    CodeIssued, MockCodeStore, MockIdentityUnitOfWork, MockOtpStore, MockUserStore, OneTimeCode,
    OtpOutcome, OtpPurpose, RegistrationRepeated, UserRegistered,
};
use std::sync::{Arc, Mutex};

use crate::{SessionFamilyId, SessionId};
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Clock, Email, FixedClock, Page, PageRequest, PersonName, Role, UserId};

use crate::{
    AccessClaims, AccessGrant, AuthSession, BootstrapOutcome, ClientInfo, IdentityConfig,
    IdentityError, IdentityService, IssuedAccessToken, MockPasswordHasher, MockSessionStore,
    MockTokenIssuer, MockUserRepository, NewStaffUser, PasswordHash, PasswordRule, RefreshSession,
    RegisterUser, UpdateUser, User, UserFilter,
};

const NEW_REFRESH_TOKEN: &str = "next-refresh-token";
const PRESENTED_REFRESH_TOKEN: &str = "presented-refresh-token";
const ACCESS_TOKEN: &str = "signed-access-token";
const STRONG_PASSWORD: &str = "correct horse battery";

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

pub(super) fn config() -> IdentityConfig {
    IdentityConfig {
        refresh_ttl: Duration::days(30),
        grants,
        reset_link_ttl: Duration::minutes(30),
        email_change_ttl: Duration::minutes(60),
        invite_link_ttl: Duration::days(7),
    }
}

/// The grants of this crate's permissions (see `permissions::actor`).
fn grants(role: Role) -> &'static [nexus_kernel::Permission] {
    crate::permissions::actor(UserId::new(), role).permissions()
}

fn token_hash(token: &str) -> String {
    format!("sha256({token})")
}

fn email() -> Email {
    Email::parse("ada@example.com").expect("valid e-mail")
}

fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).expect("valid name")
}

fn user(role: Role) -> User {
    let created = now() - Duration::days(10);
    User {
        id: UserId::new(),
        email: email(),
        password_hash: PasswordHash::new("$2b$04$stored-hash".to_owned()),
        role,
        first_name: name("Ada"),
        last_name: name("Lovelace"),
        is_active: true,
        email_verified: true,
        version: 3,
        created_at: created,
        updated_at: created,
    }
}

fn inactive_user(role: Role) -> User {
    User {
        is_active: false,
        ..user(role)
    }
}

fn live_session(user_id: UserId) -> RefreshSession {
    RefreshSession {
        id: SessionId::new(),
        family_id: SessionFamilyId::new(),
        user_id,
        token_hash: token_hash(PRESENTED_REFRESH_TOKEN),
        created_at: now() - Duration::days(1),
        expires_at: now() + Duration::days(29),
        used_at: None,
        revoked_at: None,
        client: ClientInfo::default(),
        signed_in_at: now() - Duration::days(1),
    }
}

fn access_claims(grant: AccessGrant) -> AccessClaims {
    AccessClaims {
        grant,
        expires_at: now() + Duration::minutes(15),
    }
}

fn register_input(password: &str) -> RegisterUser {
    RegisterUser {
        email: email(),
        password: password.to_owned(),
        first_name: name("Ada"),
        last_name: name("Lovelace"),
    }
}

fn staff_input(role: Role) -> NewStaffUser {
    NewStaffUser {
        email: Email::parse("grace@example.com").expect("valid e-mail"),
        password: STRONG_PASSWORD.to_owned(),
        first_name: name("Grace"),
        last_name: name("Hopper"),
        role,
    }
}

/// The mocked ports; each test sets the expectations it relies on. `store` and `codes`
/// are the repositories of the first unit of work the service opens (later ones get
/// mocks that accept no call), and `log` what the units recorded and committed.
struct Ports {
    users: MockUserRepository,
    sessions: MockSessionStore,
    hasher: MockPasswordHasher,
    tokens: MockTokenIssuer,
    otps: MockOtpStore,
    store: MockUserStore,
    codes: MockCodeStore,
    log: UnitLog,
}

impl Ports {
    fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            sessions: MockSessionStore::new(),
            hasher: MockPasswordHasher::new(),
            tokens: MockTokenIssuer::new(),
            otps: MockOtpStore::new(),
            store: MockUserStore::new(),
            codes: MockCodeStore::new(),
            log: UnitLog::default(),
        }
    }

    /// Refresh tokens, their hashes and access tokens, as a real issuer would make them.
    fn with_working_tokens(mut self) -> Self {
        self.tokens
            .expect_new_refresh_token()
            .returning(|| NEW_REFRESH_TOKEN.to_owned());
        self.tokens
            .expect_hash_refresh_token()
            .returning(token_hash);
        self.tokens.expect_issue_access().returning(|_, _| {
            Ok(IssuedAccessToken {
                token: ACCESS_TOKEN.to_owned(),
                expires_in: 900,
            })
        });
        self
    }

    fn with_hashing(mut self) -> Self {
        self.hasher
            .expect_hash()
            .returning(|p| Ok(PasswordHash::new(format!("bcrypt({})", p.expose()))));
        self
    }

    fn service(self) -> IdentityService {
        let first = Mutex::new(Some((self.store, self.codes)));
        let log = self.log;
        let mut uow = MockIdentityUnitOfWork::new();
        uow.expect_begin().returning(move || {
            let (store, codes) = first
                .lock()
                .expect("not poisoned")
                .take()
                .unwrap_or_else(|| (MockUserStore::new(), MockCodeStore::new()));
            Ok(Box::new(TestTx::new(store, codes, &log)))
        });
        IdentityService::new(
            Arc::new(self.users),
            Arc::new(self.sessions),
            Arc::new(self.hasher),
            Arc::new(self.tokens),
            Arc::new(self.otps),
            Arc::new(uow),
            Arc::new(FixedClock::default()),
            config(),
        )
    }
}

// ---- register -------------------------------------------------------------------------

#[tokio::test]
async fn registering_creates_an_active_customer_welcomed_by_mail_without_a_session() {
    let mut ports = Ports::new().with_hashing();
    ports.users.expect_find_by_email().returning(|_| Ok(None));
    let inserted = Arc::new(Mutex::new(None));
    let seen = inserted.clone();
    ports
        .store
        .expect_insert()
        .withf(|u| {
            u.role == Role::Customer
                && u.is_active
                && u.version == 1
                && u.password_hash.expose() == format!("bcrypt({STRONG_PASSWORD})")
        })
        .times(1)
        .returning(move |u| {
            *seen.lock().expect("not poisoned") = Some(u.id);
            Ok(())
        });
    ports.users.expect_insert().never();
    ports.sessions.expect_insert().never();
    let log = ports.log.clone();
    let service = ports.service();

    let result = service.register(register_input(STRONG_PASSWORD)).await;

    assert!(result.is_ok());
    let user_id = inserted.lock().expect("not poisoned").expect("inserted");
    let [event] = log.events().try_into().expect("one event");
    assert_eq!(
        event.decode::<UserRegistered>(),
        Ok(UserRegistered { user_id })
    );
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_weak_password_is_refused_before_anything_is_stored() {
    let mut ports = Ports::new();
    ports.hasher.expect_hash().never();
    ports.store.expect_insert().never();
    ports.sessions.expect_insert().never();
    let log = ports.log.clone();
    let service = ports.service();

    let result = service.register(register_input("short")).await;

    assert!(matches!(
        result,
        Err(IdentityError::WeakPassword(PasswordRule::TooShort))
    ));
    assert_eq!(log.commits(), 0);
}

#[tokio::test]
async fn registering_a_taken_address_answers_the_same_and_mails_its_owner() {
    let owner = user(Role::Customer);
    let owner_id = owner.id;
    let mut ports = Ports::new();
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(owner.clone())));
    ports.store.expect_insert().never();
    ports.sessions.expect_insert().never();
    // The password is hashed all the same, so the answer takes as long as a registration.
    ports
        .hasher
        .expect_hash()
        .times(1)
        .returning(|p| Ok(PasswordHash::new(format!("bcrypt({})", p.expose()))));
    let log = ports.log.clone();
    let service = ports.service();

    let result = service.register(register_input(STRONG_PASSWORD)).await;

    assert!(result.is_ok());
    let [event] = log.events().try_into().expect("one event");
    assert_eq!(
        event.decode::<RegistrationRepeated>(),
        Ok(RegistrationRepeated { user_id: owner_id })
    );
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn losing_a_registration_race_mails_the_owner_instead_of_failing() {
    let owner = user(Role::Customer);
    let owner_id = owner.id;
    let mut ports = Ports::new().with_hashing();
    let mut lookups = 0;
    ports.users.expect_find_by_email().returning(move |_| {
        lookups += 1;
        Ok((lookups > 1).then(|| owner.clone()))
    });
    ports
        .store
        .expect_insert()
        .times(1)
        .returning(|_| Err(IdentityError::EmailTaken));
    let log = ports.log.clone();
    let service = ports.service();

    let result = service.register(register_input(STRONG_PASSWORD)).await;

    assert!(result.is_ok());
    // The failed insert's unit is dropped; a second unit records the owner's mail.
    assert_eq!(log.commits(), 1);
    let [event] = log.events().try_into().expect("one event");
    assert_eq!(
        event.decode::<RegistrationRepeated>(),
        Ok(RegistrationRepeated { user_id: owner_id })
    );
}

// ---- login ----------------------------------------------------------------------------

#[tokio::test]
async fn signing_in_with_an_unknown_email_still_checks_a_password_and_gives_invalid_credentials() {
    let mut ports = Ports::new();
    ports
        .users
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.is_none())
        .times(1)
        .returning(|_, _| Ok(false));
    ports.sessions.expect_insert().never();
    let service = ports.service();

    let result = service
        .login(
            "nobody@example.com",
            STRONG_PASSWORD,
            &ClientInfo::default(),
        )
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCredentials)));
}

#[tokio::test]
async fn signing_in_with_a_malformed_email_still_checks_a_password_and_gives_invalid_credentials() {
    let mut ports = Ports::new();
    ports.users.expect_find_by_email().never();
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.is_none())
        .times(1)
        .returning(|_, _| Ok(false));
    let service = ports.service();

    let result = service
        .login("not an e-mail", STRONG_PASSWORD, &ClientInfo::default())
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCredentials)));
}

#[tokio::test]
async fn signing_in_with_a_wrong_password_gives_invalid_credentials() {
    let stored = user(Role::Cso);
    let expected_hash = stored.password_hash.clone();
    let mut ports = Ports::new();
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(stored.clone())));
    ports
        .hasher
        .expect_verify()
        .withf(move |plain, hash| plain == "wrong password" && *hash == Some(&expected_hash))
        .times(1)
        .returning(|_, _| Ok(false));
    ports.sessions.expect_insert().never();
    let service = ports.service();

    let result = service
        .login("ada@example.com", "wrong password", &ClientInfo::default())
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCredentials)));
}

#[tokio::test]
async fn an_inactive_user_with_the_right_password_is_told_the_account_is_disabled() {
    let stored = inactive_user(Role::Cso);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(stored.clone())));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports.sessions.expect_insert().never();
    let service = ports.service();

    let result = service
        .login("ada@example.com", STRONG_PASSWORD, &ClientInfo::default())
        .await;

    assert!(matches!(result, Err(IdentityError::AccountDisabled)));
}

#[tokio::test]
async fn signing_in_with_the_right_password_starts_a_new_session_family() {
    let stored = user(Role::Manager);
    let user_id = stored.id;
    let mut ports = Ports::new().with_working_tokens();
    ports
        .users
        .expect_find_by_email()
        .withf(|e| *e == email())
        .returning(move |_| Ok(Some(stored.clone())));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports
        .sessions
        .expect_insert()
        .withf(move |s| s.user_id == user_id)
        .times(1)
        .returning(|_| Ok(()));
    let service = ports.service();

    let result = service
        .login(
            "  ADA@example.com ",
            STRONG_PASSWORD,
            &ClientInfo::default(),
        )
        .await
        .expect("signs in")
        .into_tokens()
        .expect("tokens without two-factor sign-in");

    assert_eq!(result.user.id, user_id);
    assert_eq!(result.refresh_token, NEW_REFRESH_TOKEN);
}

// ---- refresh --------------------------------------------------------------------------

#[tokio::test]
async fn refreshing_rotates_the_token_within_the_same_family() {
    let owner = user(Role::Cso);
    let current = live_session(owner.id);
    let (current_id, family, owner_id) = (current.id, current.family_id, owner.id);
    let mut ports = Ports::new().with_working_tokens();
    let found = current.clone();
    ports
        .sessions
        .expect_find_by_token_hash()
        .withf(|h| h == token_hash(PRESENTED_REFRESH_TOKEN))
        .returning(move |_| Ok(Some(found.clone())));
    ports
        .users
        .expect_find()
        .withf(move |id| *id == owner_id)
        .returning(move |_| Ok(Some(owner.clone())));
    ports
        .sessions
        .expect_rotate()
        .withf(move |cur, next, at| {
            *cur == current_id
                && next.id != current_id
                && next.family_id == family
                && next.user_id == owner_id
                && next.token_hash == token_hash(NEW_REFRESH_TOKEN)
                && next.expires_at == now() + config().refresh_ttl
                && next.used_at.is_none()
                && *at == now()
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    ports.sessions.expect_revoke_family().never();
    let service = ports.service();

    let result = service
        .refresh(PRESENTED_REFRESH_TOKEN)
        .await
        .expect("refreshes");

    assert_eq!(result.refresh_token, NEW_REFRESH_TOKEN);
    assert_eq!(result.user.id, owner_id);
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_its_whole_family() {
    let owner = user(Role::Cso);
    let used = RefreshSession {
        used_at: Some(now() - Duration::hours(1)),
        ..live_session(owner.id)
    };
    let family = used.family_id;
    let mut ports = Ports::new().with_working_tokens();
    ports
        .sessions
        .expect_find_by_token_hash()
        .returning(move |_| Ok(Some(used.clone())));
    ports
        .sessions
        .expect_revoke_family()
        .withf(move |f, at| *f == family && *at == now())
        .times(1)
        .returning(|_, _| Ok(()));
    ports.sessions.expect_rotate().never();
    let service = ports.service();

    let result = service.refresh(PRESENTED_REFRESH_TOKEN).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

/// Presents a refresh token whose stored session is `session` and expects no rotation.
async fn refresh_with_stored(session: Option<RefreshSession>) -> Result<(), IdentityError> {
    let mut ports = Ports::new().with_working_tokens();
    ports
        .sessions
        .expect_find_by_token_hash()
        .returning(move |_| Ok(session.clone()));
    ports.sessions.expect_rotate().never();
    ports.sessions.expect_revoke_family().never();
    ports.users.expect_find().never();
    ports
        .service()
        .refresh(PRESENTED_REFRESH_TOKEN)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn refreshing_with_a_revoked_token_is_an_invalid_token() {
    let revoked = RefreshSession {
        revoked_at: Some(now() - Duration::minutes(5)),
        ..live_session(UserId::new())
    };

    let result = refresh_with_stored(Some(revoked)).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn refreshing_with_an_expired_token_is_an_invalid_token() {
    let expired = RefreshSession {
        expires_at: now(),
        ..live_session(UserId::new())
    };

    let result = refresh_with_stored(Some(expired)).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn refreshing_with_an_unknown_token_is_an_invalid_token() {
    let result = refresh_with_stored(None).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn refreshing_for_a_deactivated_user_is_an_invalid_token() {
    let owner = inactive_user(Role::Cso);
    let current = live_session(owner.id);
    let mut ports = Ports::new().with_working_tokens();
    ports
        .sessions
        .expect_find_by_token_hash()
        .returning(move |_| Ok(Some(current.clone())));
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(owner.clone())));
    ports.sessions.expect_rotate().never();
    let service = ports.service();

    let result = service.refresh(PRESENTED_REFRESH_TOKEN).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn losing_the_rotation_race_revokes_the_family_and_is_an_invalid_token() {
    let owner = user(Role::Cso);
    let current = live_session(owner.id);
    let family = current.family_id;
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_new_refresh_token()
        .returning(|| NEW_REFRESH_TOKEN.to_owned());
    ports
        .tokens
        .expect_hash_refresh_token()
        .returning(token_hash);
    ports.tokens.expect_issue_access().never();
    ports
        .sessions
        .expect_find_by_token_hash()
        .returning(move |_| Ok(Some(current.clone())));
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(owner.clone())));
    ports
        .sessions
        .expect_rotate()
        .times(1)
        .returning(|_, _, _| Ok(false));
    ports
        .sessions
        .expect_revoke_family()
        .withf(move |f, _| *f == family)
        .times(1)
        .returning(|_, _| Ok(()));
    let service = ports.service();

    let result = service.refresh(PRESENTED_REFRESH_TOKEN).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

// ---- authenticate and logout ----------------------------------------------------------

fn ports_verifying(grant: AccessGrant) -> Ports {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify_access()
        .withf(|t| t == ACCESS_TOKEN)
        .returning(move |_| Ok(access_claims(grant)));
    ports
}

/// `user` behind a live session, without an authenticator.
fn caller(user: User) -> crate::LiveCaller {
    crate::LiveCaller {
        user,
        two_factor_enabled: false,
    }
}

#[tokio::test]
async fn authenticating_a_deactivated_user_is_an_invalid_token() {
    let stored = inactive_user(Role::Manager);
    let grant = AccessGrant {
        user_id: stored.id,
        role: stored.role,
        family_id: SessionFamilyId::new(),
    };
    let mut ports = ports_verifying(grant);
    ports.users.expect_find().never();
    ports
        .sessions
        .expect_find_live_caller()
        .returning(move |_, _, _| Ok(Some(caller(stored.clone()))));
    let service = ports.service();

    let result = service.authenticate(ACCESS_TOKEN).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn authenticating_through_a_revoked_session_is_an_invalid_token() {
    let stored = user(Role::Manager);
    let grant = AccessGrant {
        user_id: stored.id,
        role: stored.role,
        family_id: SessionFamilyId::new(),
    };
    let mut ports = ports_verifying(grant);
    ports.users.expect_find().never();
    ports
        .sessions
        .expect_find_live_caller()
        .withf(move |f, u, _| *f == grant.family_id && *u == grant.user_id)
        .times(1)
        .returning(|_, _, _| Ok(None));
    let service = ports.service();

    let result = service.authenticate(ACCESS_TOKEN).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn authenticating_a_token_expired_by_the_service_clock_is_an_invalid_token() {
    let grant = AccessGrant {
        user_id: UserId::new(),
        role: Role::Admin,
        family_id: SessionFamilyId::new(),
    };
    let mut ports = Ports::new();
    ports.tokens.expect_verify_access().returning(move |_| {
        Ok(AccessClaims {
            grant,
            expires_at: now(),
        })
    });
    ports.sessions.expect_find_live_caller().never();
    let service = ports.service();

    let result = service.authenticate(ACCESS_TOKEN).await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn a_rejected_access_token_is_an_invalid_token() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify_access()
        .returning(|_| Err(IdentityError::InvalidToken));
    ports.sessions.expect_find_live_caller().never();
    let service = ports.service();

    let result = service.authenticate("forged").await;

    assert!(matches!(result, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn the_actor_role_and_its_grants_come_from_the_stored_user_not_the_token() {
    let stored = user(Role::Cso);
    let grant = AccessGrant {
        user_id: stored.id,
        role: Role::Admin,
        family_id: SessionFamilyId::new(),
    };
    let mut ports = ports_verifying(grant);
    ports
        .sessions
        .expect_find_live_caller()
        .times(1)
        .returning(move |_, _, _| Ok(Some(caller(stored.clone()))));
    let service = ports.service();

    let session = service
        .authenticate(ACCESS_TOKEN)
        .await
        .expect("authenticates");

    assert_eq!(session.actor.role(), Role::Cso);
    assert_eq!(session.actor.permissions(), grants(Role::Cso));
    assert!(!session.actor.can(crate::permissions::USERS_MANAGE));
    assert_eq!(session.actor.user_id(), grant.user_id);
    assert_eq!(session.family_id, grant.family_id);
}

#[tokio::test]
async fn logging_out_revokes_the_callers_session_family() {
    let session = AuthSession {
        actor: crate::permissions::actor(UserId::new(), Role::Cso),
        family_id: SessionFamilyId::new(),
        totp_required: false,
    };
    let mut ports = Ports::new();
    ports
        .sessions
        .expect_revoke_family()
        .withf(move |f, at| *f == session.family_id && *at == now())
        .times(1)
        .returning(|_, _| Ok(()));
    let service = ports.service();

    let result = service.logout(&session).await;

    assert!(result.is_ok());
}

// ---- change_password ------------------------------------------------------------------

fn session_of(user: &User) -> AuthSession {
    AuthSession {
        actor: crate::permissions::actor(user.id, user.role),
        family_id: SessionFamilyId::new(),
        totp_required: false,
    }
}

#[tokio::test]
async fn changing_the_password_with_a_wrong_current_one_is_refused() {
    let stored = user(Role::Cso);
    let session = session_of(&stored);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    ports.hasher.expect_verify().returning(|_, _| Ok(false));
    ports.hasher.expect_hash().never();
    ports.users.expect_update().never();
    ports.sessions.expect_revoke_user().never();
    let service = ports.service();

    let result = service
        .change_password(&session, "not my password", STRONG_PASSWORD)
        .await;

    assert!(matches!(result, Err(IdentityError::WrongPassword)));
}

#[tokio::test]
async fn changing_to_a_weak_password_is_refused_without_saving() {
    let stored = user(Role::Cso);
    let session = session_of(&stored);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports.hasher.expect_hash().never();
    ports.users.expect_update().never();
    let service = ports.service();

    let result = service
        .change_password(&session, STRONG_PASSWORD, "ada@example.com")
        .await;

    assert!(matches!(
        result,
        Err(IdentityError::WeakPassword(PasswordRule::SameAsEmail))
    ));
}

#[tokio::test]
async fn changing_the_password_saves_the_new_hash_and_revokes_every_other_session() {
    let stored = user(Role::Cso);
    let (user_id, version) = (stored.id, stored.version);
    let session = session_of(&stored);
    let new_password = "a brand new passphrase";
    let mut ports = Ports::new().with_hashing();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports
        .users
        .expect_update()
        .withf(move |u, expected| {
            *expected == version
                && u.version == version + 1
                && u.updated_at == now()
                && u.password_hash.expose() == format!("bcrypt({new_password})")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    ports
        .sessions
        .expect_revoke_user()
        .withf(move |u, keep, _| *u == user_id && *keep == Some(session.family_id))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = ports.service();

    let result = service
        .change_password(&session, STRONG_PASSWORD, new_password)
        .await;

    assert!(result.is_ok());
}

// ---- user administration --------------------------------------------------------------

const NON_ADMIN_ROLES: [Role; 3] = [Role::Manager, Role::Cso, Role::Customer];

fn ports_without_user_access() -> Ports {
    let mut ports = Ports::new();
    ports.users.expect_list().never();
    ports.users.expect_find().never();
    ports.users.expect_insert().never();
    ports.users.expect_update().never();
    ports.hasher.expect_hash().never();
    ports
}

#[tokio::test]
async fn only_administrators_may_list_users() {
    for role in NON_ADMIN_ROLES {
        let service = ports_without_user_access().service();
        let actor = crate::permissions::actor(UserId::new(), role);

        let result = service
            .list_users(&actor, &UserFilter::default(), PageRequest::default())
            .await;

        assert!(matches!(result, Err(IdentityError::Forbidden)), "{role}");
    }
}

#[tokio::test]
async fn only_administrators_may_read_a_user() {
    for role in NON_ADMIN_ROLES {
        let service = ports_without_user_access().service();
        let actor = crate::permissions::actor(UserId::new(), role);

        let result = service.get_user(&actor, UserId::new()).await;

        assert!(matches!(result, Err(IdentityError::Forbidden)), "{role}");
    }
}

#[tokio::test]
async fn only_administrators_may_create_users() {
    for role in NON_ADMIN_ROLES {
        let service = ports_without_user_access().service();
        let actor = crate::permissions::actor(UserId::new(), role);

        let result = service.create_user(&actor, staff_input(Role::Cso)).await;

        assert!(matches!(result, Err(IdentityError::Forbidden)), "{role}");
    }
}

#[tokio::test]
async fn only_administrators_may_update_users() {
    for role in NON_ADMIN_ROLES {
        let service = ports_without_user_access().service();
        let actor = crate::permissions::actor(UserId::new(), role);
        let change = UpdateUser {
            role: Some(Role::Admin),
            ..UpdateUser::default()
        };

        let result = service.update_user(&actor, actor.user_id(), change).await;

        assert!(matches!(result, Err(IdentityError::Forbidden)), "{role}");
    }
}

#[tokio::test]
async fn an_administrator_lists_users_with_the_given_filter() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let filter = UserFilter {
        role: Some(Role::Cso),
        is_active: Some(true),
    };
    let expected_filter = filter.clone();
    let listed = user(Role::Cso);
    let listed_id = listed.id;
    let mut ports = Ports::new();
    ports
        .users
        .expect_list()
        .withf(move |f, _| *f == expected_filter)
        .times(1)
        .returning(move |_, page| {
            Ok(Page {
                items: vec![listed.clone()],
                total: 1,
                request: page,
            })
        });
    let service = ports.service();

    let page = service
        .list_users(&admin, &filter, PageRequest::default())
        .await
        .expect("lists");

    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        [listed_id]
    );
}

#[tokio::test]
async fn an_administrator_creates_a_user_with_the_requested_role() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let mut ports = Ports::new().with_hashing();
    ports
        .store
        .expect_insert()
        .withf(|u| u.role == Role::Manager)
        .times(1)
        .returning(|_| Ok(()));
    ports.sessions.expect_insert().never();
    let log = ports.log.clone();
    let service = ports.service();

    let created = service
        .create_user(&admin, staff_input(Role::Manager))
        .await
        .expect("creates");

    assert_eq!(created.role, Role::Manager);
    assert_eq!(created.email, staff_input(Role::Manager).email);
    assert_eq!(log.commits(), 1);
    assert!(
        log.events().is_empty(),
        "staff accounts get no welcome mail"
    );
}

#[tokio::test]
async fn deactivating_a_user_revokes_all_their_sessions() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let target = user(Role::Cso);
    let (target_id, version) = (target.id, target.version);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(target.clone())));
    ports
        .store
        .expect_update()
        .withf(move |u, expected| !u.is_active && *expected == version && u.version == version + 1)
        .times(1)
        .returning(|_, _| Ok(()));
    ports
        .sessions
        .expect_revoke_user()
        .withf(move |u, keep, _| *u == target_id && keep.is_none())
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = ports.service();
    let change = UpdateUser {
        is_active: Some(false),
        expected_version: Some(version),
        ..UpdateUser::default()
    };

    let updated = service
        .update_user(&admin, target_id, change)
        .await
        .expect("updates");

    assert!(!updated.is_active);
    assert_eq!(updated.version, version + 1);
}

#[tokio::test]
async fn changing_a_users_role_keeps_their_sessions() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let target = user(Role::Cso);
    let target_id = target.id;
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(target.clone())));
    ports
        .store
        .expect_update()
        .withf(|u, _| u.role == Role::Manager)
        .times(1)
        .returning(|_, _| Ok(()));
    ports.sessions.expect_revoke_user().never();
    let log = ports.log.clone();
    let service = ports.service();
    let change = UpdateUser {
        role: Some(Role::Manager),
        ..UpdateUser::default()
    };

    let updated = service
        .update_user(&admin, target_id, change)
        .await
        .expect("updates");

    assert_eq!(updated.role, Role::Manager);
    let audit = log.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "users.role_changed");
    assert_eq!(audit[0].target_id, target_id.to_string());
    assert_eq!(audit[0].actor.map(|a| a.user_id), Some(admin.user_id()));
    assert_eq!(
        audit[0].summary["values"]["role"],
        serde_json::json!({"from": "CSO", "to": "MANAGER"})
    );
    assert_eq!(log.commits(), 1);
}

async fn admin_updates_self(change: UpdateUser) -> Result<User, IdentityError> {
    let me = user(Role::Admin);
    let actor = crate::permissions::actor(me.id, me.role);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(me.clone())));
    ports.users.expect_update().never();
    ports.sessions.expect_revoke_user().never();
    ports
        .service()
        .update_user(&actor, actor.user_id(), change)
        .await
}

#[tokio::test]
async fn an_administrator_cannot_deactivate_themselves() {
    let change = UpdateUser {
        is_active: Some(false),
        ..UpdateUser::default()
    };

    let result = admin_updates_self(change).await;

    assert!(matches!(
        result,
        Err(IdentityError::SelfLockout(Role::Admin))
    ));
}

#[tokio::test]
async fn an_administrator_cannot_demote_themselves() {
    let change = UpdateUser {
        role: Some(Role::Manager),
        ..UpdateUser::default()
    };

    let result = admin_updates_self(change).await;

    assert!(matches!(
        result,
        Err(IdentityError::SelfLockout(Role::Admin))
    ));
}

#[tokio::test]
async fn updating_a_user_from_a_stale_version_is_a_conflict() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let target = user(Role::Cso);
    let (target_id, version) = (target.id, target.version);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(target.clone())));
    ports.users.expect_update().never();
    ports.sessions.expect_revoke_user().never();
    let service = ports.service();
    let change = UpdateUser {
        is_active: Some(false),
        expected_version: Some(version - 1),
        ..UpdateUser::default()
    };

    let result = service.update_user(&admin, target_id, change).await;

    assert!(matches!(result, Err(IdentityError::Conflict)));
}

#[tokio::test]
async fn updating_a_missing_user_is_not_found() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let missing = UserId::new();
    let mut ports = Ports::new();
    ports.users.expect_find().returning(|_| Ok(None));
    ports.users.expect_update().never();
    let service = ports.service();

    let result = service
        .update_user(&admin, missing, UpdateUser::default())
        .await;

    assert!(matches!(result, Err(IdentityError::NotFound(id)) if id == missing));
}

// ---- bootstrap ------------------------------------------------------------------------

#[tokio::test]
async fn bootstrapping_does_nothing_when_users_exist() {
    let mut ports = Ports::new();
    ports.users.expect_count().times(1).returning(|| Ok(1));
    ports.users.expect_insert().never();
    ports.hasher.expect_hash().never();
    let service = ports.service();

    let outcome = service
        .bootstrap_admin(email(), STRONG_PASSWORD)
        .await
        .expect("bootstraps");

    assert_eq!(outcome, BootstrapOutcome::UsersExist);
}

#[tokio::test]
async fn bootstrapping_an_empty_system_creates_an_administrator() {
    let mut ports = Ports::new().with_hashing();
    ports.users.expect_count().returning(|| Ok(0));
    ports
        .store
        .expect_insert()
        .withf(|u| u.role == Role::Admin && u.is_active && u.email == email())
        .times(1)
        .returning(|_| Ok(()));
    let service = ports.service();

    let outcome = service
        .bootstrap_admin(email(), STRONG_PASSWORD)
        .await
        .expect("bootstraps");

    assert_eq!(outcome, BootstrapOutcome::AdminCreated(email()));
}

// ---- one-time codes -------------------------------------------------------------------

fn otp_ports() -> Ports {
    let mut ports = Ports::new().with_working_tokens();
    ports
        .tokens
        .expect_new_otp_code()
        .returning(|| "123456".to_owned());
    ports
        .tokens
        .expect_hash_otp_code()
        .returning(|c| format!("hmac({c})"));
    ports
}

fn live_code(user_id: UserId, purpose: OtpPurpose) -> OneTimeCode {
    OneTimeCode {
        id: uuid::Uuid::now_v7(),
        user_id,
        purpose,
        code_hash: "hmac(123456)".to_owned(),
        created_at: now(),
        expires_at: now() + Duration::minutes(10),
        attempts: 0,
        consumed_at: None,
    }
}

#[tokio::test]
async fn requesting_a_code_stores_its_hash_and_records_the_plain_code_for_the_mail_together() {
    let mut ports = otp_ports();
    let user = user(Role::Customer);
    let user_id = user.id;
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports
        .codes
        .expect_replace()
        .withf(move |code| {
            code.user_id == user_id
                && code.code_hash == "hmac(123456)"
                && code.expires_at == now() + Duration::minutes(10)
        })
        .times(1)
        .returning(|_| Ok(()));
    let log = ports.log.clone();
    let service = ports.service();

    service
        .request_otp("ada@example.com", OtpPurpose::Login)
        .await
        .expect("answers");

    assert_eq!(log.commits(), 1);
    let [event] = log.events().try_into().expect("one event");
    assert!(event.sensitive, "the plain code is cleared once delivered");
    let issued: CodeIssued = event.decode().expect("a code");
    assert_eq!(issued.user_id, user_id);
    assert_eq!(issued.email, email());
    assert_eq!(issued.code, "123456");
    assert_eq!(issued.purpose, "LOGIN");
    assert_eq!(issued.expires_in_minutes, OneTimeCode::TTL_MINUTES);
}

#[tokio::test]
async fn requesting_a_code_for_an_unknown_address_answers_the_same_and_stores_nothing() {
    let mut ports = otp_ports();
    ports.users.expect_find_by_email().returning(|_| Ok(None));
    ports.codes.expect_replace().never();
    let service = ports.service();

    assert!(
        service
            .request_otp("nobody@example.com", OtpPurpose::Login)
            .await
            .is_ok()
    );
    assert!(
        service
            .request_otp("not an address", OtpPurpose::Login)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_wrong_code_counts_an_attempt_and_is_refused() {
    let mut ports = otp_ports();
    let user = user(Role::Customer);
    let code = live_code(user.id, OtpPurpose::Login);
    let code_id = code.id;
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports
        .otps
        .expect_find_active()
        .returning(move |_, _, _| Ok(Some(code.clone())));
    ports
        .otps
        .expect_record_failure()
        .withf(move |id| *id == code_id)
        .times(1)
        .returning(|_| Ok(1));
    ports.otps.expect_consume().never();
    let service = ports.service();

    let result = service
        .verify_otp(
            "ada@example.com",
            "654321",
            OtpPurpose::Login,
            &ClientInfo::default(),
        )
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCode)));
}

#[tokio::test]
async fn no_live_code_is_the_same_refusal_as_a_wrong_one() {
    let mut ports = otp_ports();
    let user = user(Role::Customer);
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports
        .otps
        .expect_find_active()
        .returning(|_, _, _| Ok(None));
    let service = ports.service();

    let result = service
        .verify_otp(
            "ada@example.com",
            "123456",
            OtpPurpose::Login,
            &ClientInfo::default(),
        )
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCode)));
}

#[tokio::test]
async fn a_code_that_lost_the_race_to_be_consumed_is_refused() {
    let mut ports = otp_ports();
    let user = user(Role::Customer);
    let code = live_code(user.id, OtpPurpose::Login);
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports
        .otps
        .expect_find_active()
        .returning(move |_, _, _| Ok(Some(code.clone())));
    ports.otps.expect_consume().returning(|_, _| Ok(false));
    ports.sessions.expect_insert().never();
    let service = ports.service();

    let result = service
        .verify_otp(
            "ada@example.com",
            "123456",
            OtpPurpose::Login,
            &ClientInfo::default(),
        )
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCode)));
}

#[tokio::test]
async fn a_right_login_code_verifies_the_address_and_signs_in() {
    let mut ports = otp_ports();
    let mut user = user(Role::Customer);
    user.email_verified = false;
    let code = live_code(user.id, OtpPurpose::Login);
    let version = user.version;
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports
        .otps
        .expect_find_active()
        .returning(move |_, _, _| Ok(Some(code.clone())));
    ports.otps.expect_consume().returning(|_, _| Ok(true));
    ports
        .store
        .expect_update()
        .withf(move |u, expected| {
            u.email_verified && *expected == version && u.version == version + 1
        })
        .times(1)
        .returning(|_, _| Ok(()));
    ports
        .sessions
        .expect_insert()
        .times(1)
        .returning(|_| Ok(()));
    let log = ports.log.clone();
    let service = ports.service();

    let outcome = service
        .verify_otp(
            "ada@example.com",
            " 123456 ",
            OtpPurpose::Login,
            &ClientInfo::default(),
        )
        .await
        .expect("verifies");

    assert!(
        matches!(outcome, OtpOutcome::LoggedIn(ref r) if r.user.email_verified && r.refresh_token == NEW_REFRESH_TOKEN)
    );
    assert_eq!(log.event_names(), ["identity.email_verified"]);
}

#[tokio::test]
async fn a_right_verification_code_marks_the_address_verified_without_a_session() {
    let mut ports = otp_ports();
    let mut user = user(Role::Customer);
    user.email_verified = false;
    let code = live_code(user.id, OtpPurpose::VerifyEmail);
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports
        .otps
        .expect_find_active()
        .returning(move |_, _, _| Ok(Some(code.clone())));
    ports.otps.expect_consume().returning(|_, _| Ok(true));
    ports.users.expect_update().never();
    ports
        .store
        .expect_update()
        .times(1)
        .returning(|_, _| Ok(()));
    ports.sessions.expect_insert().never();
    let log = ports.log.clone();
    let service = ports.service();

    let outcome = service
        .verify_otp(
            "ada@example.com",
            "123456",
            OtpPurpose::VerifyEmail,
            &ClientInfo::default(),
        )
        .await
        .expect("verifies");

    assert!(matches!(outcome, OtpOutcome::Verified(ref u) if u.email_verified));
    assert_eq!(log.event_names(), ["identity.email_verified"]);
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn an_inactive_account_cannot_use_a_code() {
    let mut ports = otp_ports();
    let mut user = user(Role::Customer);
    user.is_active = false;
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(user.clone())));
    ports.otps.expect_find_active().never();
    let service = ports.service();

    let result = service
        .verify_otp(
            "ada@example.com",
            "123456",
            OtpPurpose::Login,
            &ClientInfo::default(),
        )
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCode)));
}

// ---- passwords longer than bcrypt reads -------------------------------------------------

#[tokio::test]
async fn a_password_longer_than_72_bytes_never_signs_in_even_if_its_start_matches() {
    let stored = user(Role::Customer);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(stored.clone())));
    // A truncating bcrypt says yes to anything that shares the first 72 bytes; the service
    // must not ask it about the real hash at all (only the dummy, for equal timing).
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.is_none())
        .times(1)
        .returning(|_, _| Ok(true));
    ports.sessions.expect_insert().never();
    let service = ports.service();

    let result = service
        .login(
            "ada@example.com",
            &format!("{}x", "p".repeat(72)),
            &ClientInfo::default(),
        )
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidCredentials)));
}

#[tokio::test]
async fn a_current_password_longer_than_72_bytes_is_wrong_without_verifying() {
    let stored = user(Role::Cso);
    let session = session_of(&stored);
    let mut ports = Ports::new();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    ports.hasher.expect_verify().never();
    ports.users.expect_update().never();
    let service = ports.service();

    let result = service
        .change_password(&session, &"p".repeat(73), STRONG_PASSWORD)
        .await;

    assert!(matches!(result, Err(IdentityError::WrongPassword)));
}
