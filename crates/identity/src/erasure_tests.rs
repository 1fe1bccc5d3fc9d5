//! Unit tests of account erasure against mocked ports.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Actor, Clock, Email, FixedClock, PersonName, Role, UserId};

use crate::testing::{TestTx, UnitLog, units_of_work_from};
use crate::{
    AccountErased, AuthSession, ErasureProof, IdentityConfig, IdentityError, IdentityService,
    MockCodeStore, MockCredentialEraser, MockIdentityUnitOfWork, MockOtpStore, MockPasswordHasher,
    MockSessionRevoker, MockSessionStore, MockTokenIssuer, MockUserRepository, MockUserStore,
    OneTimeCode, OtpPurpose, PasswordHash, SessionFamilyId, User,
};

const PASSWORD: &str = "correct horse battery";

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn config() -> IdentityConfig {
    IdentityConfig {
        refresh_ttl: Duration::days(30),
        grants: |_| &[],
        reset_link_ttl: Duration::minutes(30),
        email_change_ttl: Duration::minutes(60),
        invite_link_ttl: Duration::days(7),
    }
}

fn user(role: Role, password: bool) -> User {
    let created = now() - Duration::days(3);
    User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").expect("valid"),
        password_hash: if password {
            PasswordHash::new(format!("bcrypt({PASSWORD})"))
        } else {
            PasswordHash::none()
        },
        role,
        first_name: PersonName::parse("Ada").expect("valid"),
        last_name: PersonName::parse("Lovelace").expect("valid"),
        is_active: true,
        email_verified: true,
        version: 4,
        created_at: created,
        updated_at: created,
    }
}

fn session(user: &User) -> AuthSession {
    AuthSession {
        actor: Actor::granted(user.id, user.role, |_| &[]),
        family_id: SessionFamilyId::new(),
        totp_required: false,
    }
}

fn hasher() -> MockPasswordHasher {
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|plain, hash| {
        Ok(hash.is_some_and(|h| h.expose() == format!("bcrypt({plain})")))
    });
    hasher
}

fn tokens() -> MockTokenIssuer {
    let mut tokens = MockTokenIssuer::new();
    tokens
        .expect_hash_otp_code()
        .returning(|c| format!("hmac({c})"));
    tokens
}

fn service(account: &User, uow: MockIdentityUnitOfWork, otps: MockOtpStore) -> IdentityService {
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    IdentityService::new(
        Arc::new(users),
        Arc::new(MockSessionStore::new()),
        Arc::new(hasher()),
        Arc::new(tokens()),
        Arc::new(otps),
        Arc::new(uow),
        Arc::new(FixedClock::default()),
        config(),
    )
}

/// Units of work that accept the anonymised account, a revocation of every session and the
/// removal of every credential, each once.
fn erasing_units(log: &UnitLog, account: &User) -> MockIdentityUnitOfWork {
    let id = account.id;
    let old_email = account.email.clone();
    units_of_work_from(log, move |log| {
        let mut users = MockUserStore::new();
        let old_email = old_email.clone();
        users
            .expect_update()
            .withf(move |u, expected| {
                *expected == 4
                    && u.version == 5
                    && u.id == id
                    && u.email != old_email
                    && u.email.as_str().ends_with("@erased.invalid")
                    && u.email
                        .as_str()
                        .contains(&id.as_uuid().simple().to_string())
                    && u.first_name.as_str() == "Erased"
                    && u.last_name.as_str() == "Customer"
                    && !u.password_hash.is_set()
                    && !u.is_active
                    && !u.email_verified
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let mut sessions = MockSessionRevoker::new();
        sessions
            .expect_revoke_user()
            .withf(move |u, keep, _| *u == id && keep.is_none())
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut erasure = MockCredentialEraser::new();
        erasure
            .expect_erase_credentials()
            .withf(move |u| *u == id)
            .times(1)
            .returning(|_| Ok(()));
        TestTx::new(users, MockCodeStore::new(), log)
            .with_sessions(sessions)
            .with_erasure(erasure)
    })
}

fn untouched() -> MockIdentityUnitOfWork {
    let mut uow = MockIdentityUnitOfWork::new();
    uow.expect_begin().never();
    uow
}

#[tokio::test]
async fn the_right_password_anonymises_the_account_and_records_the_event() {
    let account = user(Role::Customer, true);
    let log = UnitLog::default();
    let uow = erasing_units(&log, &account);

    service(&account, uow, MockOtpStore::new())
        .erase_account(&session(&account), ErasureProof::Password(PASSWORD.into()))
        .await
        .expect("erased");

    let events = log.events();
    assert_eq!(events.len(), 1);
    let erased: AccountErased = events[0].decode().expect("the erasure event");
    assert_eq!(erased.user_id, account.id);
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_wrong_or_missing_password_erases_nothing() {
    let account = user(Role::Customer, true);
    for proof in [
        ErasureProof::Password("not the password".into()),
        ErasureProof::Password("x".repeat(100)),
        ErasureProof::Code("123456".into()),
    ] {
        let err = service(&account, untouched(), MockOtpStore::new())
            .erase_account(&session(&account), proof)
            .await
            .expect_err("refused");
        assert!(matches!(err, IdentityError::WrongPassword), "{err:?}");
    }
}

#[tokio::test]
async fn staff_accounts_are_never_erased_by_their_owner() {
    for role in [Role::Admin, Role::Manager, Role::Cso, Role::Editor] {
        let account = user(role, true);
        let err = service(&account, untouched(), MockOtpStore::new())
            .erase_account(&session(&account), ErasureProof::Password(PASSWORD.into()))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, IdentityError::StaffErasure(r) if r == role),
            "{err:?}"
        );
    }
}

fn live_code(user: UserId) -> OneTimeCode {
    OneTimeCode {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        purpose: OtpPurpose::Login,
        code_hash: "hmac(654321)".to_owned(),
        created_at: now() - Duration::minutes(1),
        expires_at: now() + Duration::minutes(9),
        attempts: 0,
        consumed_at: None,
    }
}

#[tokio::test]
async fn a_password_less_account_is_erased_with_a_fresh_login_code_spent_once() {
    let account = user(Role::Customer, false);
    let code = live_code(account.id);
    let code_id = code.id;
    let mut otps = MockOtpStore::new();
    otps.expect_find_active()
        .withf(|_, purpose, _| *purpose == OtpPurpose::Login)
        .returning(move |_, _, _| Ok(Some(code.clone())));
    otps.expect_consume()
        .withf(move |id, _| *id == code_id)
        .times(1)
        .returning(|_, _| Ok(true));
    let log = UnitLog::default();
    let uow = erasing_units(&log, &account);

    service(&account, uow, otps)
        .erase_account(&session(&account), ErasureProof::Code(" 654321 ".into()))
        .await
        .expect("erased");

    assert_eq!(log.event_names(), vec!["identity.account_erased"]);
}

#[tokio::test]
async fn a_password_less_account_with_a_wrong_code_counts_the_guess_and_erases_nothing() {
    let account = user(Role::Customer, false);
    let code = live_code(account.id);
    let mut otps = MockOtpStore::new();
    otps.expect_find_active()
        .returning(move |_, _, _| Ok(Some(code.clone())));
    otps.expect_record_failure().times(1).returning(|_| Ok(1));
    otps.expect_consume().never();

    let err = service(&account, untouched(), otps)
        .erase_account(&session(&account), ErasureProof::Code("000000".into()))
        .await
        .expect_err("refused");

    assert!(matches!(err, IdentityError::InvalidCode), "{err:?}");
}
