//! Unit tests of password reset against mocked ports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Clock, Email, FixedClock, PersonName, Role, UserId};
use nexus_outbox::DomainEvent;

use crate::testing::{TestTx, UnitLog, units_of_work_from};
use crate::{
    AccountLink, AccountLinkIssued, EmailVerified, IdentityConfig, IdentityError, IdentityService,
    LinkPurpose, MockCodeStore, MockLinkStore, MockOtpStore, MockPasswordHasher,
    MockSessionRevoker, MockSessionStore, MockTokenIssuer, MockUserRepository, MockUserStore,
    PasswordHash, PasswordReset, User,
};

const TOKEN: &str = "plain-link-token";
const NEW_PASSWORD: &str = "a brand new passphrase";

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

fn user() -> User {
    let created = now() - Duration::days(3);
    User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").expect("valid"),
        password_hash: PasswordHash::new("old-hash".to_owned()),
        role: Role::Customer,
        first_name: PersonName::parse("Ada").expect("valid"),
        last_name: PersonName::parse("Lovelace").expect("valid"),
        is_active: true,
        email_verified: false,
        version: 4,
        created_at: created,
        updated_at: created,
    }
}

fn link(user: UserId, expires_at: DateTime<Utc>, used: bool) -> AccountLink {
    AccountLink {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        purpose: LinkPurpose::PasswordReset,
        token_hash: format!("sha256({TOKEN})"),
        new_email: None,
        created_at: now() - Duration::minutes(5),
        expires_at,
        used_at: used.then(now),
    }
}

fn tokens() -> MockTokenIssuer {
    let mut tokens = MockTokenIssuer::new();
    tokens
        .expect_new_refresh_token()
        .returning(|| TOKEN.to_owned());
    tokens
        .expect_hash_refresh_token()
        .returning(|t| format!("sha256({t})"));
    tokens
}

fn hasher() -> MockPasswordHasher {
    let mut hasher = MockPasswordHasher::new();
    hasher
        .expect_hash()
        .returning(|p| Ok(PasswordHash::new(format!("bcrypt({})", p.expose()))));
    hasher
}

fn service(
    users: MockUserRepository,
    uow: crate::MockIdentityUnitOfWork,
    hasher: MockPasswordHasher,
) -> IdentityService {
    IdentityService::new(
        Arc::new(users),
        Arc::new(MockSessionStore::new()),
        Arc::new(hasher),
        Arc::new(tokens()),
        Arc::new(MockOtpStore::new()),
        Arc::new(uow),
        Arc::new(FixedClock::default()),
        config(),
    )
}

/// Units of work whose link store finds `stored` and lets its first use win; each unit
/// accepts a user update and a revocation of every session.
fn reset_units(log: &UnitLog, stored: Option<AccountLink>) -> crate::MockIdentityUnitOfWork {
    let claimed = Arc::new(AtomicBool::new(false));
    units_of_work_from(log, move |log| {
        let mut links = MockLinkStore::new();
        let found = stored.clone();
        links
            .expect_find_by_token_hash()
            .returning(move |_| Ok(found.clone()));
        let claimed = claimed.clone();
        links
            .expect_consume()
            .returning(move |_, _| Ok(!claimed.swap(true, Ordering::SeqCst)));
        let mut users = MockUserStore::new();
        users.expect_update().returning(|_, _| Ok(()));
        let mut sessions = MockSessionRevoker::new();
        sessions
            .expect_revoke_user()
            .withf(|_, keep, _| keep.is_none())
            .returning(|_, _, _| Ok(()));
        TestTx::new(users, MockCodeStore::new(), log)
            .with_links(links)
            .with_sessions(sessions)
    })
}

#[tokio::test]
async fn a_reset_request_stores_only_the_hash_and_mails_the_plain_token() {
    let account = user();
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find_by_email()
        .returning(move |_| Ok(Some(found.clone())));
    let log = UnitLog::default();
    let uow = units_of_work_from(&log, |log| {
        let mut links = MockLinkStore::new();
        links
            .expect_replace()
            .withf(|l| {
                l.token_hash == format!("sha256({TOKEN})")
                    && l.purpose == LinkPurpose::PasswordReset
                    && l.expires_at == now() + Duration::minutes(30)
            })
            .times(1)
            .returning(|_| Ok(()));
        TestTx::new(MockUserStore::new(), MockCodeStore::new(), log).with_links(links)
    });

    service(users, uow, MockPasswordHasher::new())
        .request_password_reset("Ada@Example.com")
        .await
        .expect("accepted");

    let events = log.events();
    assert_eq!(events.len(), 1);
    let issued: AccountLinkIssued = events[0].decode().expect("a link event");
    assert_eq!(issued.token, TOKEN);
    assert_eq!(issued.expires_in_minutes, 30);
    assert_eq!(issued.email, account.email);
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_reset_request_for_an_unknown_or_disabled_address_does_nothing_and_succeeds() {
    for stored in [
        None,
        Some(User {
            is_active: false,
            ..user()
        }),
    ] {
        let mut users = MockUserRepository::new();
        users
            .expect_find_by_email()
            .returning(move |_| Ok(stored.clone()));
        let mut uow = crate::MockIdentityUnitOfWork::new();
        uow.expect_begin().never();

        let result = service(users, uow, MockPasswordHasher::new())
            .request_password_reset("nobody@example.com")
            .await;

        assert!(result.is_ok());
    }
}

#[tokio::test]
async fn a_reset_sets_the_password_verifies_the_address_and_revokes_every_session() {
    let account = user();
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let log = UnitLog::default();
    let uow = reset_units(
        &log,
        Some(link(account.id, now() + Duration::minutes(1), false)),
    );

    service(users, uow, hasher())
        .reset_password(TOKEN, NEW_PASSWORD)
        .await
        .expect("reset");

    // The address was unverified: the link proved it, so the CRM may link the account.
    assert_eq!(
        log.event_names(),
        [PasswordReset::NAME, EmailVerified::NAME]
    );
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn an_expired_used_or_unknown_link_is_refused_alike() {
    let account = user();
    for stored in [
        Some(link(account.id, now(), false)),
        Some(link(account.id, now() + Duration::minutes(5), true)),
        None,
    ] {
        let mut users = MockUserRepository::new();
        let found = account.clone();
        users
            .expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        let log = UnitLog::default();
        let uow = reset_units(&log, stored);

        let result = service(users, uow, hasher())
            .reset_password(TOKEN, NEW_PASSWORD)
            .await;

        assert!(
            matches!(result, Err(IdentityError::InvalidLink)),
            "{result:?}"
        );
        assert_eq!(log.commits(), 0);
    }
}

#[tokio::test]
async fn of_two_resets_with_one_link_only_the_first_to_claim_it_succeeds() {
    let account = user();
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let log = UnitLog::default();
    let uow = reset_units(
        &log,
        Some(link(account.id, now() + Duration::minutes(1), false)),
    );
    let service = service(users, uow, hasher());

    let first = service.reset_password(TOKEN, NEW_PASSWORD).await;
    let second = service.reset_password(TOKEN, NEW_PASSWORD).await;

    assert!(first.is_ok());
    assert!(matches!(second, Err(IdentityError::InvalidLink)));
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_weak_password_leaves_the_link_unused() {
    let account = user();
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let log = UnitLog::default();
    let uow = reset_units(
        &log,
        Some(link(account.id, now() + Duration::minutes(1), false)),
    );

    let result = service(users, uow, MockPasswordHasher::new())
        .reset_password(TOKEN, "short")
        .await;

    assert!(matches!(result, Err(IdentityError::WeakPassword(_))));
    assert_eq!(log.commits(), 0);
}

fn session_of(user: &User) -> crate::AuthSession {
    crate::AuthSession {
        actor: nexus_kernel::Actor::granted(user.id, user.role, |_| &[]),
        family_id: crate::SessionFamilyId::new(),
        totp_required: false,
    }
}

#[tokio::test]
async fn an_email_change_with_a_wrong_password_issues_nothing() {
    let account = user();
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|_, _| Ok(false));
    let mut uow = crate::MockIdentityUnitOfWork::new();
    uow.expect_begin().never();
    let new_email = Email::parse("ada.new@example.com").expect("valid");

    let result = service(users, uow, hasher)
        .request_email_change(&session_of(&account), new_email, "wrong")
        .await;

    assert!(matches!(result, Err(IdentityError::WrongPassword)));
}

#[tokio::test]
async fn an_email_change_link_sends_the_token_to_the_new_address_and_a_notice_to_the_old() {
    let account = user();
    let mut users = MockUserRepository::new();
    let found = account.clone();
    users
        .expect_find()
        .returning(move |_| Ok(Some(found.clone())));
    users.expect_find_by_email().returning(|_| Ok(None));
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|_, _| Ok(true));
    let log = UnitLog::default();
    let uow = units_of_work_from(&log, |log| {
        let mut links = MockLinkStore::new();
        links
            .expect_replace()
            .withf(|l| {
                l.purpose == LinkPurpose::EmailChange
                    && l.new_email.as_ref().map(Email::as_str) == Some("ada.new@example.com")
            })
            .times(1)
            .returning(|_| Ok(()));
        TestTx::new(MockUserStore::new(), MockCodeStore::new(), log).with_links(links)
    });
    let new_email = Email::parse("ada.new@example.com").expect("valid");

    service(users, uow, hasher)
        .request_email_change(&session_of(&account), new_email.clone(), "right")
        .await
        .expect("accepted");

    let events = log.events();
    let issued: AccountLinkIssued = events[0].decode().expect("a link event");
    assert_eq!(issued.email, new_email);
    let notice: crate::EmailChangeRequested = events[1].decode().expect("a notice event");
    assert_eq!(notice.old_email, account.email);
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn another_accounts_email_change_link_is_refused() {
    let owner = user();
    let caller = user();
    let mut stored = link(owner.id, now() + Duration::minutes(5), false);
    stored.purpose = LinkPurpose::EmailChange;
    stored.new_email = Some(Email::parse("ada.new@example.com").expect("valid"));
    let log = UnitLog::default();
    let uow = reset_units(&log, Some(stored));

    let result = service(MockUserRepository::new(), uow, MockPasswordHasher::new())
        .confirm_email_change(&session_of(&caller), TOKEN)
        .await;

    assert!(matches!(result, Err(IdentityError::InvalidLink)));
    assert_eq!(log.commits(), 0);
}
