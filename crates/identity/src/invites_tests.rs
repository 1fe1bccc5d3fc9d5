//! Unit tests of staff invitations against mocked ports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Actor, Clock, Email, FixedClock, PersonName, Role, UserId};
use nexus_outbox::DomainEvent;

use crate::testing::{TestTx, UnitLog, units_of_work_from};
use crate::{
    AccountLink, AccountLinkIssued, EmailVerified, IdentityConfig, IdentityError, IdentityService,
    LinkPurpose, MockCodeStore, MockLinkStore, MockOtpStore, MockPasswordHasher, MockSessionStore,
    MockTokenIssuer, MockUserRepository, MockUserStore, PasswordHash, StaffInvite, User,
    permissions,
};

const TOKEN: &str = "plain-invite-token";
const PASSWORD: &str = "a chosen passphrase";

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

fn admin() -> Actor {
    Actor::new(UserId::new(), Role::Admin, &[permissions::USERS_MANAGE])
}

fn invite(role: Role) -> StaffInvite {
    StaffInvite {
        email: Email::parse("grace@example.com").expect("valid"),
        first_name: PersonName::parse("Grace").expect("valid"),
        last_name: PersonName::parse("Hopper").expect("valid"),
        role,
    }
}

/// An invited account: no password, address not proven yet.
fn invited() -> User {
    let created = now() - Duration::days(1);
    User {
        id: UserId::new(),
        email: Email::parse("grace@example.com").expect("valid"),
        password_hash: PasswordHash::none(),
        role: Role::Cso,
        first_name: PersonName::parse("Grace").expect("valid"),
        last_name: PersonName::parse("Hopper").expect("valid"),
        is_active: true,
        email_verified: false,
        version: 1,
        created_at: created,
        updated_at: created,
    }
}

fn link(user: UserId, expires_at: DateTime<Utc>) -> AccountLink {
    AccountLink {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        purpose: LinkPurpose::Invite,
        token_hash: format!("sha256({TOKEN})"),
        new_email: None,
        created_at: now() - Duration::hours(1),
        expires_at,
        used_at: None,
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

fn finding(user: Option<User>) -> MockUserRepository {
    let mut users = MockUserRepository::new();
    users.expect_find().returning(move |_| Ok(user.clone()));
    users
}

/// Units of work whose link store finds `stored` and lets its first use win, and whose
/// user store accepts an update.
fn accept_units(log: &UnitLog, stored: Option<AccountLink>) -> crate::MockIdentityUnitOfWork {
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
        users
            .expect_update()
            .withf(|u, expected| {
                *expected == 1
                    && u.version == 2
                    && u.email_verified
                    && u.password_hash.is_set()
                    && u.password_hash.expose() == format!("bcrypt({PASSWORD})")
            })
            .returning(|_, _| Ok(()));
        TestTx::new(users, MockCodeStore::new(), log).with_links(links)
    })
}

#[tokio::test]
async fn an_invitation_creates_a_passwordless_account_and_mails_a_link_in_one_unit() {
    let log = UnitLog::default();
    let uow = units_of_work_from(&log, |log| {
        let mut users = MockUserStore::new();
        users
            .expect_insert()
            .withf(|u| {
                !u.password_hash.is_set()
                    && !u.email_verified
                    && u.is_active
                    && u.role == Role::Manager
            })
            .times(1)
            .returning(|_| Ok(()));
        let mut links = MockLinkStore::new();
        links
            .expect_replace()
            .withf(|l| {
                l.purpose == LinkPurpose::Invite
                    && l.token_hash == format!("sha256({TOKEN})")
                    && l.expires_at == now() + Duration::days(7)
            })
            .times(1)
            .returning(|_| Ok(()));
        TestTx::new(users, MockCodeStore::new(), log).with_links(links)
    });

    let user = service(MockUserRepository::new(), uow, MockPasswordHasher::new())
        .invite_staff(&admin(), invite(Role::Manager))
        .await
        .expect("invited");

    assert!(user.awaits_invitation());
    let events = log.events();
    assert_eq!(events.len(), 1);
    let issued: AccountLinkIssued = events[0].decode().expect("a link event");
    assert_eq!(issued.purpose, "INVITE");
    assert_eq!(issued.token, TOKEN);
    assert_eq!(issued.expires_in_minutes, 7 * 24 * 60);
    assert_eq!(issued.email.as_str(), "grace@example.com");
    let audit = log.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "users.invited");
    assert!(!audit[0].summary.to_string().contains(TOKEN));
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn only_administrators_invite_and_only_to_staff_roles() {
    let mut uow = crate::MockIdentityUnitOfWork::new();
    uow.expect_begin().never();
    let svc = service(MockUserRepository::new(), uow, MockPasswordHasher::new());

    let manager = Actor::new(UserId::new(), Role::Manager, &[]);
    let refused = svc.invite_staff(&manager, invite(Role::Cso)).await;
    assert!(
        matches!(refused, Err(IdentityError::Forbidden)),
        "{refused:?}"
    );

    let buyer = svc.invite_staff(&admin(), invite(Role::Customer)).await;
    assert!(matches!(buyer, Err(IdentityError::InviteRole)), "{buyer:?}");
}

#[tokio::test]
async fn accepting_sets_the_password_and_proves_the_address() {
    let account = invited();
    let log = UnitLog::default();
    let uow = accept_units(&log, Some(link(account.id, now() + Duration::hours(1))));

    service(finding(Some(account.clone())), uow, hasher())
        .accept_invite(TOKEN, PASSWORD)
        .await
        .expect("accepted");

    assert_eq!(log.event_names(), [EmailVerified::NAME]);
    let audit = log.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "users.invite_accepted");
    assert!(!audit[0].summary.to_string().contains("bcrypt"));
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn an_expired_unknown_or_foreign_purpose_link_is_refused_alike() {
    let account = invited();
    let reset = AccountLink {
        purpose: LinkPurpose::PasswordReset,
        ..link(account.id, now() + Duration::hours(1))
    };
    for stored in [Some(link(account.id, now())), Some(reset), None] {
        let log = UnitLog::default();
        let uow = accept_units(&log, stored);

        let result = service(finding(Some(account.clone())), uow, hasher())
            .accept_invite(TOKEN, PASSWORD)
            .await;

        assert!(
            matches!(result, Err(IdentityError::InvalidLink)),
            "{result:?}"
        );
        assert_eq!(log.commits(), 0);
    }
}

#[tokio::test]
async fn an_account_that_no_longer_waits_refuses_the_link() {
    let with_password = User {
        password_hash: PasswordHash::new("bcrypt(set meanwhile)".to_owned()),
        ..invited()
    };
    let deactivated = User {
        is_active: false,
        ..invited()
    };
    for account in [with_password, deactivated] {
        let log = UnitLog::default();
        let uow = accept_units(&log, Some(link(account.id, now() + Duration::hours(1))));

        let result = service(finding(Some(account)), uow, hasher())
            .accept_invite(TOKEN, PASSWORD)
            .await;

        assert!(
            matches!(result, Err(IdentityError::InvalidLink)),
            "{result:?}"
        );
        assert_eq!(log.commits(), 0);
    }
}

#[tokio::test]
async fn a_second_use_of_the_same_link_loses() {
    let account = invited();
    let log = UnitLog::default();
    let uow = accept_units(&log, Some(link(account.id, now() + Duration::hours(1))));
    let svc = service(finding(Some(account)), uow, hasher());

    svc.accept_invite(TOKEN, PASSWORD).await.expect("first use");
    let second = svc.accept_invite(TOKEN, PASSWORD).await;

    assert!(
        matches!(second, Err(IdentityError::InvalidLink)),
        "{second:?}"
    );
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_weak_password_is_refused_before_anything_is_written() {
    let account = invited();
    let log = UnitLog::default();
    let uow = accept_units(&log, Some(link(account.id, now() + Duration::hours(1))));

    let result = service(finding(Some(account)), uow, hasher())
        .accept_invite(TOKEN, "short")
        .await;

    assert!(
        matches!(result, Err(IdentityError::WeakPassword(_))),
        "{result:?}"
    );
    assert_eq!(log.commits(), 0);
}

#[tokio::test]
async fn resending_replaces_the_link_only_while_the_account_waits() {
    let account = invited();
    let log = UnitLog::default();
    let uow = units_of_work_from(&log, |log| {
        let mut links = MockLinkStore::new();
        links
            .expect_replace()
            .withf(|l| l.purpose == LinkPurpose::Invite)
            .times(1)
            .returning(|_| Ok(()));
        TestTx::new(MockUserStore::new(), MockCodeStore::new(), log).with_links(links)
    });
    service(
        finding(Some(account.clone())),
        uow,
        MockPasswordHasher::new(),
    )
    .resend_invite(&admin(), account.id)
    .await
    .expect("sent again");
    assert_eq!(log.event_names(), [AccountLinkIssued::NAME]);
    assert_eq!(log.audit()[0].action, "users.invite_resent");

    let accepted = User {
        email_verified: true,
        password_hash: PasswordHash::new("bcrypt(chosen)".to_owned()),
        ..account
    };
    let mut uow = crate::MockIdentityUnitOfWork::new();
    uow.expect_begin().never();
    let result = service(
        finding(Some(accepted.clone())),
        uow,
        MockPasswordHasher::new(),
    )
    .resend_invite(&admin(), accepted.id)
    .await;
    assert!(
        matches!(result, Err(IdentityError::NotInvited)),
        "{result:?}"
    );
}
