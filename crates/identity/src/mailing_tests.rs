//! Unit tests of the identity mail subscribers against mocked ports.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use nexus_kernel::{Email, PersonName, Role, Unexpected, UserId};
use nexus_notifications::{MailError, MockEmailRenderer, MockMailer, RenderedEmail};
use nexus_outbox::{
    Delivery, DeliveryError, DeliveryId, DeliveryState, DomainEvent, EventEnvelope, Subscriber,
    Subscription,
};

use super::{AccountExistsMailSubscriber, OtpMailSubscriber, WelcomeMailSubscriber};
use crate::{
    CodeIssued, IdentityError, MockUserRepository, PasswordHash, RegistrationRepeated, User,
    UserRegistered,
};

const DOMAIN: &str = "nexus.test";

fn account() -> User {
    let at = Utc::now();
    User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").expect("valid e-mail"),
        password_hash: PasswordHash::new("$2b$04$stored-hash".to_owned()),
        role: Role::Customer,
        first_name: PersonName::parse("Ada").expect("valid name"),
        last_name: PersonName::parse("Lovelace").expect("valid name"),
        is_active: true,
        email_verified: false,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

fn delivery_of<E: DomainEvent>(id: DeliveryId, event: &E, subscriber: &str) -> Delivery {
    let now = Utc::now();
    Delivery {
        id,
        event: EventEnvelope::new(event, now).expect("encodes"),
        subscriber: subscriber.to_owned(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: 10,
        run_at: now,
        locked_by: Some("worker".to_owned()),
        locked_until: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    }
}

fn renderer() -> Arc<MockEmailRenderer> {
    let mut renderer = MockEmailRenderer::new();
    renderer.expect_render().returning(|_| {
        Ok(RenderedEmail {
            subject: "Hello".to_owned(),
            text_body: "Hello".to_owned(),
            html_body: "<p>Hello</p>".to_owned(),
        })
    });
    Arc::new(renderer)
}

fn users_holding(user: &User) -> Arc<MockUserRepository> {
    let mut users = MockUserRepository::new();
    let known = user.clone();
    users
        .expect_find()
        .returning(move |id| Ok((id == known.id).then(|| known.clone())));
    Arc::new(users)
}

/// A mailer that accepts everything and keeps the Message-IDs and recipients it sent.
fn recording_mailer(sent: &Arc<Mutex<Vec<(String, Email)>>>) -> MockMailer {
    let mut mailer = MockMailer::new();
    let sent = sent.clone();
    mailer.expect_send().returning(move |m| {
        sent.lock()
            .expect("not poisoned")
            .push((m.message_id.clone(), m.to.clone()));
        Ok(())
    });
    mailer
}

#[tokio::test]
async fn a_welcome_delivered_twice_is_the_same_message_keyed_by_the_delivery_id() {
    let user = account();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let subscriber = WelcomeMailSubscriber::new(
        users_holding(&user),
        renderer(),
        Arc::new(recording_mailer(&sent)),
        DOMAIN.to_owned(),
    );
    let id = DeliveryId::new();
    let delivery = delivery_of(id, &UserRegistered { user_id: user.id }, "send_welcome");

    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));
    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));

    let expected = (format!("{id}@{DOMAIN}"), user.email.clone());
    assert_eq!(
        *sent.lock().expect("not poisoned"),
        [expected.clone(), expected],
        "one Message-ID: receivers keep one message"
    );
}

#[tokio::test]
async fn an_account_exists_note_goes_to_the_owner_with_the_delivery_id() {
    let owner = account();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let subscriber = AccountExistsMailSubscriber::new(
        users_holding(&owner),
        renderer(),
        Arc::new(recording_mailer(&sent)),
        DOMAIN.to_owned(),
    );
    let id = DeliveryId::new();
    let delivery = delivery_of(
        id,
        &RegistrationRepeated { user_id: owner.id },
        "send_account_exists",
    );

    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));

    assert_eq!(
        *sent.lock().expect("not poisoned"),
        [(format!("{id}@{DOMAIN}"), owner.email.clone())]
    );
}

#[tokio::test]
async fn a_mail_server_that_is_down_or_a_database_failure_is_retryable() {
    let user = account();
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .returning(|_| Err(MailError::Transient("connection refused".to_owned())));
    let down = WelcomeMailSubscriber::new(
        users_holding(&user),
        renderer(),
        Arc::new(mailer),
        DOMAIN.to_owned(),
    );
    let mut users = MockUserRepository::new();
    users
        .expect_find()
        .returning(|_| Err(IdentityError::Unexpected(Unexpected::msg("database gone"))));
    let mut idle = MockMailer::new();
    idle.expect_send().never();
    let no_database = WelcomeMailSubscriber::new(
        Arc::new(users),
        renderer(),
        Arc::new(idle),
        DOMAIN.to_owned(),
    );
    let delivery = delivery_of(
        DeliveryId::new(),
        &UserRegistered { user_id: user.id },
        "send_welcome",
    );

    let mail_down = down.deliver(&delivery).await;
    let database_down = no_database.deliver(&delivery).await;

    assert!(
        matches!(mail_down, Err(DeliveryError::Retryable(_))),
        "{mail_down:?}"
    );
    assert!(
        matches!(database_down, Err(DeliveryError::Retryable(_))),
        "{database_down:?}"
    );
}

#[tokio::test]
async fn a_welcome_for_a_vanished_account_is_permanent() {
    let mut mailer = MockMailer::new();
    mailer.expect_send().never();
    let subscriber = WelcomeMailSubscriber::new(
        users_holding(&account()),
        renderer(),
        Arc::new(mailer),
        DOMAIN.to_owned(),
    );
    let delivery = delivery_of(
        DeliveryId::new(),
        &UserRegistered {
            user_id: UserId::new(),
        },
        "send_welcome",
    );

    let result = subscriber.deliver(&delivery).await;

    assert!(
        matches!(result, Err(DeliveryError::Permanent(_))),
        "{result:?}"
    );
}

fn issued() -> CodeIssued {
    CodeIssued {
        user_id: UserId::new(),
        email: Email::parse("ada@example.com").expect("valid e-mail"),
        code: "123456".to_owned(),
        purpose: "LOGIN".to_owned(),
        expires_in_minutes: 10,
    }
}

#[tokio::test]
async fn a_code_is_mailed_to_its_address_with_the_delivery_id_every_time() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut renderer = MockEmailRenderer::new();
    renderer
        .expect_render()
        .withf(|t| {
            matches!(t, nexus_notifications::EmailTemplate::OneTimeCode { code, purpose, expires_in_minutes: 10 }
                if code == "123456" && purpose == "LOGIN")
        })
        .returning(|_| {
            Ok(RenderedEmail {
                subject: "Your code".to_owned(),
                text_body: "123456".to_owned(),
                html_body: "<p>123456</p>".to_owned(),
            })
        });
    let subscriber = OtpMailSubscriber::new(
        Arc::new(renderer),
        Arc::new(recording_mailer(&sent)),
        DOMAIN.to_owned(),
    );
    let id = DeliveryId::new();
    let delivery = delivery_of(id, &issued(), "send_otp");

    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));
    assert_eq!(subscriber.deliver(&delivery).await, Ok(()));

    let expected = (format!("{id}@{DOMAIN}"), issued().email);
    assert_eq!(
        *sent.lock().expect("not poisoned"),
        [expected.clone(), expected]
    );
}

#[tokio::test]
async fn a_code_whose_payload_was_cleared_is_permanent_and_a_refused_address_too() {
    let mut idle = MockMailer::new();
    idle.expect_send().never();
    let cleared_subscriber = OtpMailSubscriber::new(renderer(), Arc::new(idle), DOMAIN.to_owned());
    let mut cleared = delivery_of(DeliveryId::new(), &issued(), "send_otp");
    cleared.event.payload = serde_json::Value::Null;
    let mut refusing = MockMailer::new();
    refusing
        .expect_send()
        .returning(|_| Err(MailError::Permanent("550 no such user".to_owned())));
    let refused_subscriber =
        OtpMailSubscriber::new(renderer(), Arc::new(refusing), DOMAIN.to_owned());

    let after_clearing = cleared_subscriber.deliver(&cleared).await;
    let refused = refused_subscriber
        .deliver(&delivery_of(DeliveryId::new(), &issued(), "send_otp"))
        .await;

    assert!(
        matches!(after_clearing, Err(DeliveryError::Permanent(_))),
        "{after_clearing:?}"
    );
    assert!(
        matches!(refused, Err(DeliveryError::Permanent(_))),
        "{refused:?}"
    );
}

#[test]
fn the_subscribers_keep_the_old_job_kinds_as_names() {
    let users = Arc::new(MockUserRepository::new());
    let mailer = Arc::new(MockMailer::new());
    let welcome =
        WelcomeMailSubscriber::new(users.clone(), renderer(), mailer.clone(), DOMAIN.to_owned());
    let exists =
        AccountExistsMailSubscriber::new(users, renderer(), mailer.clone(), DOMAIN.to_owned());
    let otp = OtpMailSubscriber::new(renderer(), mailer, DOMAIN.to_owned());

    assert_eq!(welcome.name(), "send_welcome");
    assert_eq!(
        welcome.subscriptions(),
        [Subscription::to::<UserRegistered>()]
    );
    assert_eq!(exists.name(), "send_account_exists");
    assert_eq!(
        exists.subscriptions(),
        [Subscription::to::<RegistrationRepeated>()]
    );
    assert_eq!(otp.name(), "send_otp");
    assert_eq!(otp.subscriptions(), [Subscription::to::<CodeIssued>()]);
}

#[tokio::test]
async fn a_code_whose_mail_server_is_down_is_retryable_and_so_is_an_account_exists_note() {
    let mut down = MockMailer::new();
    down.expect_send()
        .returning(|_| Err(MailError::Transient("connection refused".to_owned())));
    let down = Arc::new(down);
    let owner = account();
    let otp = OtpMailSubscriber::new(renderer(), down.clone(), DOMAIN.to_owned());
    let exists = AccountExistsMailSubscriber::new(
        users_holding(&owner),
        renderer(),
        down,
        DOMAIN.to_owned(),
    );

    let code = otp
        .deliver(&delivery_of(DeliveryId::new(), &issued(), "send_otp"))
        .await;
    let note = exists
        .deliver(&delivery_of(
            DeliveryId::new(),
            &RegistrationRepeated { user_id: owner.id },
            "send_account_exists",
        ))
        .await;

    assert!(matches!(code, Err(DeliveryError::Retryable(_))), "{code:?}");
    assert!(matches!(note, Err(DeliveryError::Retryable(_))), "{note:?}");
}
