//! Unit tests of two-factor sign-in against mocked ports.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use mockall::predicate::eq;
use nexus_kernel::{Clock, Email, FixedClock, PersonName, Role, UserId};

use super::*;
use crate::{
    IdentityConfig, IssuedAccessToken, MockIdentityUnitOfWork, MockOtpStore, MockPasswordHasher,
    MockSessionStore, MockTokenIssuer, MockUserRepository, PasswordHash, SessionFamilyId,
};

const CHALLENGE: &str = "challenge-token";

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn grants(role: Role) -> &'static [nexus_kernel::Permission] {
    crate::permissions::actor(UserId::new(), role).permissions()
}

/// The fake authenticator's code of `step`: its last six digits.
fn code(step: i64) -> String {
    format!("{:06}", step % 1_000_000)
}

fn user(role: Role) -> User {
    User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").expect("valid"),
        password_hash: PasswordHash::new("$2b$04$stored".to_owned()),
        role,
        first_name: PersonName::parse("Ada").expect("valid"),
        last_name: PersonName::parse("Lovelace").expect("valid"),
        is_active: true,
        email_verified: true,
        version: 1,
        created_at: now(),
        updated_at: now(),
    }
}

fn enabled(user: UserId, last_step: Option<i64>) -> TotpEnrolment {
    TotpEnrolment {
        user_id: user,
        sealed_secret: "sealed".to_owned(),
        enabled_at: Some(now() - Duration::days(1)),
        last_step,
        created_at: now() - Duration::days(1),
    }
}

fn challenge(user: UserId) -> MfaChallenge {
    MfaChallenge {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        token_hash: format!("sha256({CHALLENGE})"),
        client: ClientInfo::default(),
        created_at: now(),
        expires_at: now() + Duration::minutes(5),
        attempts: 0,
        consumed_at: None,
    }
}

struct Ports {
    users: MockUserRepository,
    sessions: MockSessionStore,
    hasher: MockPasswordHasher,
    tokens: MockTokenIssuer,
    store: MockTotpStore,
    require_staff: bool,
}

impl Ports {
    fn new() -> Self {
        let mut tokens = MockTokenIssuer::new();
        tokens
            .expect_hash_refresh_token()
            .returning(|t| format!("sha256({t})"));
        tokens
            .expect_hash_otp_code()
            .returning(|c| format!("hmac({c})"));
        tokens
            .expect_new_refresh_token()
            .returning(|| uuid::Uuid::new_v4().simple().to_string());
        tokens.expect_issue_access().returning(|_, _| {
            Ok(IssuedAccessToken {
                token: "access".to_owned(),
                expires_in: 900,
            })
        });
        Self {
            users: MockUserRepository::new(),
            sessions: MockSessionStore::new(),
            hasher: MockPasswordHasher::new(),
            tokens,
            store: MockTotpStore::new(),
            require_staff: false,
        }
    }

    fn service(self) -> IdentityService {
        let mut authenticator = MockAuthenticator::new();
        authenticator
            .expect_open()
            .returning(|_| Ok(b"secret".to_vec()));
        authenticator
            .expect_code_at()
            .returning(|_, step| code(i64::try_from(step).expect("small")));
        authenticator
            .expect_new_secret()
            .returning(|| b"12345678901234567890".to_vec());
        authenticator
            .expect_seal()
            .returning(|s| format!("sealed({})", s.len()));
        IdentityService::new(
            Arc::new(self.users),
            Arc::new(self.sessions),
            Arc::new(self.hasher),
            Arc::new(self.tokens),
            Arc::new(MockOtpStore::new()),
            Arc::new(MockIdentityUnitOfWork::new()),
            Arc::new(FixedClock::default()),
            IdentityConfig {
                refresh_ttl: Duration::days(30),
                grants,
                reset_link_ttl: Duration::minutes(30),
                email_change_ttl: Duration::minutes(60),
                invite_link_ttl: Duration::days(7),
            },
        )
        .with_two_factor(TwoFactor {
            store: Arc::new(self.store),
            authenticator: Arc::new(authenticator),
            issuer: "Nexus Hub".to_owned(),
            require_staff: self.require_staff,
        })
    }

    /// A live challenge of `owner`, whose enrolment is on with `last_step`.
    fn challenged(&mut self, owner: &User, last_step: Option<i64>) -> uuid::Uuid {
        let stored = challenge(owner.id);
        let id = stored.id;
        self.store
            .expect_find_challenge()
            .returning(move |_| Ok(Some(stored.clone())));
        let found = owner.clone();
        self.users
            .expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        let user_id = owner.id;
        self.store
            .expect_find()
            .returning(move |_| Ok(Some(enabled(user_id, last_step))));
        id
    }
}

fn session_of(user: &User) -> AuthSession {
    AuthSession {
        actor: nexus_kernel::Actor::granted(user.id, user.role, grants),
        family_id: SessionFamilyId::new(),
        totp_required: false,
    }
}

#[test]
fn base32_matches_rfc_4648() {
    assert_eq!(base32(b""), "");
    assert_eq!(base32(b"f"), "MY");
    assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    assert_eq!(
        base32(b"12345678901234567890"),
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    );
}

#[test]
fn the_uri_names_issuer_account_and_parameters() {
    let uri = otpauth_uri("Nexus Hub", "ada+1@example.com", "ABC");
    assert_eq!(
        uri,
        "otpauth://totp/Nexus%20Hub:ada%2B1%40example.com?secret=ABC&issuer=Nexus%20Hub\
         &algorithm=SHA1&digits=6&period=30"
    );
}

#[tokio::test]
async fn a_code_of_the_previous_next_or_current_step_signs_in_and_claims_its_step() {
    for drift in [-1, 0, 1] {
        let owner = user(Role::Customer);
        let mut ports = Ports::new();
        let id = ports.challenged(&owner, None);
        let step = step_of(now()) + drift;
        ports
            .store
            .expect_claim_step()
            .with(eq(owner.id), eq(step))
            .times(1)
            .returning(|_, _| Ok(true));
        ports
            .store
            .expect_consume_challenge()
            .with(eq(id), eq(now()))
            .times(1)
            .returning(|_, _| Ok(true));
        ports
            .sessions
            .expect_insert()
            .times(1)
            .returning(|_| Ok(()));

        let result = ports
            .service()
            .complete_totp_sign_in(CHALLENGE, SecondFactor::Code(&code(step)))
            .await
            .expect("signs in");

        assert_eq!(result.user.id, owner.id, "drift {drift}");
    }
}

#[tokio::test]
async fn a_code_outside_the_window_is_wrong_and_counted() {
    let owner = user(Role::Customer);
    let mut ports = Ports::new();
    let id = ports.challenged(&owner, None);
    ports.store.expect_claim_step().never();
    ports
        .store
        .expect_record_challenge_failure()
        .with(eq(id))
        .times(1)
        .returning(|_| Ok(1));
    ports.store.expect_consume_challenge().never();
    ports.sessions.expect_insert().never();

    let late = code(step_of(now()) + 2);
    let err = ports
        .service()
        .complete_totp_sign_in(CHALLENGE, SecondFactor::Code(&late))
        .await
        .expect_err("outside the window");

    assert!(matches!(err, IdentityError::InvalidCode), "{err:?}");
}

#[tokio::test]
async fn a_code_of_a_step_already_used_is_refused_without_a_claim() {
    let owner = user(Role::Customer);
    let current = step_of(now());
    let mut ports = Ports::new();
    ports.challenged(&owner, Some(current));
    ports.store.expect_claim_step().never();
    ports
        .store
        .expect_record_challenge_failure()
        .times(1)
        .returning(|_| Ok(1));
    ports.sessions.expect_insert().never();

    let err = ports
        .service()
        .complete_totp_sign_in(CHALLENGE, SecondFactor::Code(&code(current)))
        .await
        .expect_err("a replay");

    assert!(matches!(err, IdentityError::InvalidCode), "{err:?}");
}

#[tokio::test]
async fn losing_the_claim_of_a_step_to_a_concurrent_use_is_a_wrong_code() {
    let owner = user(Role::Customer);
    let mut ports = Ports::new();
    ports.challenged(&owner, None);
    ports
        .store
        .expect_claim_step()
        .times(1)
        .returning(|_, _| Ok(false));
    ports
        .store
        .expect_record_challenge_failure()
        .returning(|_| Ok(1));
    ports.sessions.expect_insert().never();

    let err = ports
        .service()
        .complete_totp_sign_in(CHALLENGE, SecondFactor::Code(&code(step_of(now()))))
        .await
        .expect_err("lost the race");

    assert!(matches!(err, IdentityError::InvalidCode), "{err:?}");
}

#[tokio::test]
async fn a_recovery_code_is_spent_by_its_normalised_hash() {
    let owner = user(Role::Customer);
    let mut ports = Ports::new();
    ports.challenged(&owner, None);
    ports
        .store
        .expect_use_recovery_code()
        .with(eq(owner.id), eq("hmac(abcde12345)".to_owned()), eq(now()))
        .times(1)
        .returning(|_, _, _| Ok(true));
    ports
        .store
        .expect_consume_challenge()
        .returning(|_, _| Ok(true));
    ports
        .sessions
        .expect_insert()
        .times(1)
        .returning(|_| Ok(()));

    ports
        .service()
        .complete_totp_sign_in(CHALLENGE, SecondFactor::RecoveryCode(" ABCDE-12345 "))
        .await
        .expect("signs in");
}

#[tokio::test]
async fn a_spent_expired_or_exhausted_challenge_is_invalid_before_any_code_is_checked() {
    let spent = |c: &mut MfaChallenge| c.consumed_at = Some(now());
    let expired = |c: &mut MfaChallenge| c.expires_at = now();
    let exhausted = |c: &mut MfaChallenge| c.attempts = MfaChallenge::MAX_ATTEMPTS;
    let cases: [fn(&mut MfaChallenge); 3] = [spent, expired, exhausted];
    for change in cases {
        let mut stored = challenge(UserId::new());
        change(&mut stored);
        let mut ports = Ports::new();
        ports
            .store
            .expect_find_challenge()
            .returning(move |_| Ok(Some(stored.clone())));
        ports.users.expect_find().never();
        ports.store.expect_claim_step().never();
        ports.store.expect_record_challenge_failure().never();

        let err = ports
            .service()
            .complete_totp_sign_in(CHALLENGE, SecondFactor::Code(&code(step_of(now()))))
            .await
            .expect_err("unusable");

        assert!(matches!(err, IdentityError::InvalidChallenge), "{err:?}");
    }
}

#[tokio::test]
async fn a_password_sign_in_with_two_factor_on_answers_a_challenge_and_no_session() {
    let owner = user(Role::Manager);
    let mut ports = Ports::new();
    let found = owner.clone();
    ports
        .users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(found.clone())));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports
        .store
        .expect_is_enabled()
        .with(eq(owner.id))
        .returning(|_| Ok(true));
    ports
        .store
        .expect_insert_challenge()
        .withf(move |c| c.user_id == owner.id && c.expires_at == now() + Duration::minutes(5))
        .times(1)
        .returning(|_| Ok(()));
    ports.sessions.expect_insert().never();

    let outcome = ports
        .service()
        .login("ada@example.com", "the password", &ClientInfo::default())
        .await
        .expect("first factor passes");

    let SignIn::Challenge(issued) = outcome else {
        panic!("tokens without a second factor");
    };
    assert_eq!(issued.expires_in, 300);
    assert!(!issued.challenge.is_empty());
}

#[tokio::test]
async fn confirming_turns_it_on_with_ten_distinct_hashed_recovery_codes() {
    let owner = user(Role::Customer);
    let mut ports = Ports::new();
    let user_id = owner.id;
    ports.store.expect_find().returning(move |_| {
        Ok(Some(TotpEnrolment {
            enabled_at: None,
            ..enabled(user_id, None)
        }))
    });
    let step = step_of(now());
    ports
        .store
        .expect_enable()
        .withf(move |u, hashes, s, _| {
            *u == user_id
                && hashes.len() == RECOVERY_CODES
                && hashes.iter().all(|h| h.starts_with("hmac("))
                && *s == step
        })
        .times(1)
        .returning(|_, _, _, _| Ok(true));

    let codes = ports
        .service()
        .confirm_totp(&session_of(&owner), &code(step))
        .await
        .expect("turned on");

    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), RECOVERY_CODES);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
    );
}

#[tokio::test]
async fn confirming_with_a_wrong_code_turns_nothing_on() {
    let owner = user(Role::Customer);
    let mut ports = Ports::new();
    let user_id = owner.id;
    ports.store.expect_find().returning(move |_| {
        Ok(Some(TotpEnrolment {
            enabled_at: None,
            ..enabled(user_id, None)
        }))
    });
    ports.store.expect_enable().never();

    let err = ports
        .service()
        .confirm_totp(&session_of(&owner), "000000x")
        .await
        .expect_err("wrong");

    assert!(matches!(err, IdentityError::InvalidCode), "{err:?}");
}

#[tokio::test]
async fn starting_needs_the_password_of_a_password_account() {
    let owner = user(Role::Customer);
    let mut ports = Ports::new();
    let found = owner.clone();
    ports
        .users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    ports.store.expect_is_enabled().returning(|_| Ok(false));
    ports.hasher.expect_verify().returning(|_, _| Ok(false));
    ports.store.expect_start().never();

    let err = ports
        .service()
        .start_totp(&session_of(&owner), Some("wrong"))
        .await
        .expect_err("wrong password");

    assert!(matches!(err, IdentityError::WrongPassword), "{err:?}");
}

#[tokio::test]
async fn staff_without_an_authenticator_must_enrol_when_it_is_required() {
    for (role, enabled, required) in [
        (Role::Admin, false, true),
        (Role::Editor, false, true),
        (Role::Cso, true, false),
        (Role::Customer, false, false),
    ] {
        let mut ports = Ports::new();
        ports.require_staff = true;
        ports.store.expect_is_enabled().never();
        let service = ports.service();

        assert_eq!(
            service.enrolment_required(&user(role), enabled),
            required,
            "{role:?}"
        );
    }
}
