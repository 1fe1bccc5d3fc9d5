//! Account recovery: password reset by an e-mailed single-use link (read from a real SMTP
//! server), the same answer for every address, expiry, reuse, voiding, races, and the end
//! of every session.

use chrono::{Duration, Utc};
use nexus_tests::{
    Bearer, NO_TOKEN, Role, Signed, TestApp, assert_error, detail_fields, expect_json,
    spawn_app_with_smtp, unique_email,
};
use reqwest::Response;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

const FORGOT: &str = "/api/v1/auth/password/forgot";
const RESET: &str = "/api/v1/auth/password/reset";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// Enough requests for tests about something else than the limits.
const ROOMY: [(&str, &str); 4] = [
    ("OTP_RATE_LIMIT", "50"),
    ("OTP_ADDRESS_RATE_LIMIT", "50"),
    ("LOGIN_MAX_FAILURES", "50"),
    ("LOGIN_ACCOUNT_MAX_FAILURES", "50"),
];

async fn forgot(app: &TestApp, email: &str) -> Response {
    app.post_json(FORGOT, &json!({ "email": email }), NO_TOKEN)
        .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Response {
    app.post_json(
        RESET,
        &json!({ "token": token, "password": password }),
        NO_TOKEN,
    )
    .await
}

/// The 64 hex digits after `#token=` in `text`.
fn link_token(text: &str) -> Option<String> {
    let start = text.find("#token=")? + "#token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (token.len() == 64).then_some(token)
}

/// A new customer account whose welcome e-mail has already arrived, so that the next
/// message at the sink is the link.
async fn customer(app: &TestApp) -> Signed {
    let before = app.smtp().messages().len();
    let user = app.sign_in_as(Role::Customer).await;
    app.smtp().wait_for_messages(before + 1).await;
    user
}

/// Asks for a reset link for `email` and returns its token, read from the e-mail.
async fn token_by_mail(app: &TestApp, email: &str) -> String {
    let before = app.smtp().messages().len();
    expect_json(forgot(app, email).await, 202).await;
    let messages = app.smtp().wait_for_messages(before + 1).await;
    let mail = &messages[before];
    assert_eq!(mail.rcpt_tos, [email], "{mail:#?}");
    assert!(!mail.subject.contains("#token="), "{}", mail.subject);
    link_token(&mail.text).unwrap_or_else(|| panic!("no link token in: {}", mail.text))
}

async fn me(app: &TestApp, token: &str) -> Response {
    app.get("/api/v1/auth/me", token).await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Response {
    app.post_json(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": refresh_token }),
        NO_TOKEN,
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Response {
    app.post_json(
        "/api/v1/auth/login",
        &json!({ "email": email, "password": password }),
        NO_TOKEN,
    )
    .await
}

#[tokio::test]
async fn a_reset_link_from_the_mail_sets_the_password_and_ends_every_session() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let other = app.login(&user.email, &user.password).await;
    let token = token_by_mail(&app, &user.email).await;

    let res = reset(&app, &token, NEW_PASSWORD).await;

    assert_eq!(
        res.status(),
        204,
        "{}",
        res.text().await.unwrap_or_default()
    );
    for session in [&user, &other] {
        assert_error(me(&app, &session.token).await, 401, "unauthorized").await;
        assert_eq!(refresh(&app, &session.refresh_token).await.status(), 401);
    }
    assert_error(
        login(&app, &user.email, &user.password).await,
        401,
        "invalid_credentials",
    )
    .await;
    let fresh = app.login(&user.email, NEW_PASSWORD).await;
    let body = expect_json(me(&app, &fresh.token).await, 200).await;
    assert_eq!(body["emailVerified"], true, "the link proved the address");
}

#[tokio::test]
async fn unknown_disabled_and_known_addresses_get_the_same_answer_and_only_the_known_a_mail() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let known = customer(&app).await;
    let disabled = app.sign_in_as(Role::Cso).await;
    let admin = app.admin_token().await;
    expect_json(
        app.patch_json(
            &format!("/api/v1/users/{}", disabled.user_id),
            &json!({ "isActive": false }),
            &admin,
            None,
        )
        .await,
        200,
    )
    .await;
    let before = app.smtp().messages().len();

    let unknown = expect_json(forgot(&app, &unique_email("nobody")).await, 202).await;
    let off = expect_json(forgot(&app, &disabled.email).await, 202).await;
    let malformed = expect_json(forgot(&app, "not an address").await, 202).await;
    let found = expect_json(forgot(&app, &known.email).await, 202).await;

    assert_eq!(unknown, found);
    assert_eq!(off, found);
    assert_eq!(malformed, found);
    let messages = app.smtp().wait_for_messages(before + 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let messages_after = app.smtp().messages();
    assert_eq!(messages_after.len(), before + 1, "{messages:#?}");
    assert_eq!(messages_after[before].rcpt_tos, [known.email.as_str()]);
}

#[tokio::test]
async fn a_used_link_is_refused_the_second_time() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let token = token_by_mail(&app, &user.email).await;
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), 204);

    let again = reset(&app, &token, "yet another passphrase").await;

    assert_error(again, 400, "invalid_token").await;
    app.login(&user.email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn an_expired_link_is_refused_like_an_unknown_one() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let token = token_by_mail(&app, &user.email).await;
    let db = app.db().await;
    let expire = Query::update()
        .table(Alias::new("account_links"))
        .value(Alias::new("expires_at"), Utc::now() - Duration::seconds(1))
        .and_where(
            Expr::col(Alias::new("user_id")).eq(Uuid::parse_str(&user.user_id).expect("a user id")),
        )
        .to_owned();
    let done = db.execute(&expire).await.expect("expire the link");
    assert_eq!(done.rows_affected(), 1);
    let _ = db.close().await;

    let expired = assert_error(
        reset(&app, &token, NEW_PASSWORD).await,
        400,
        "invalid_token",
    )
    .await;
    let unknown = assert_error(
        reset(&app, &"ab".repeat(32), NEW_PASSWORD).await,
        400,
        "invalid_token",
    )
    .await;

    assert_eq!(expired["message"], unknown["message"]);
    app.login(&user.email, &user.password).await;
}

#[tokio::test]
async fn a_new_request_voids_the_earlier_link() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let first = token_by_mail(&app, &user.email).await;
    let second = token_by_mail(&app, &user.email).await;
    assert_ne!(first, second);

    assert_error(
        reset(&app, &first, NEW_PASSWORD).await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(reset(&app, &second, NEW_PASSWORD).await.status(), 204);
}

#[tokio::test]
async fn a_weak_password_is_refused_and_leaves_the_link_usable() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let token = token_by_mail(&app, &user.email).await;

    let weak = assert_error(reset(&app, &token, "short").await, 400, "validation_failed").await;

    assert_eq!(detail_fields(&weak), ["password"]);
    let local = user
        .email
        .split('@')
        .next()
        .expect("a local part")
        .to_owned();
    let same = reset(&app, &token, &local).await;
    assert_eq!(same.status(), 400);
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), 204);
}

#[tokio::test]
async fn of_two_resets_with_one_link_at_once_exactly_one_succeeds() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let token = token_by_mail(&app, &user.email).await;

    let (a, b) = tokio::join!(
        reset(&app, &token, "first new passphrase"),
        reset(&app, &token, "second new passphrase"),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 400]);
    let first = login(&app, &user.email, "first new passphrase")
        .await
        .status();
    let second = login(&app, &user.email, "second new passphrase")
        .await
        .status();
    assert_eq!(
        [first.as_u16(), second.as_u16()]
            .iter()
            .filter(|s| **s == 200)
            .count(),
        1,
        "exactly one of the new passwords works"
    );
}

#[tokio::test]
async fn reset_requests_count_against_the_code_request_limits() {
    let Some(app) =
        spawn_app_with_smtp(&[("OTP_RATE_LIMIT", "2"), ("OTP_ADDRESS_RATE_LIMIT", "2")]).await
    else {
        return;
    };
    let email = unique_email("flooded");
    for _ in 0..2 {
        expect_json(forgot(&app, &email).await, 202).await;
    }

    let res = forgot(&app, &email).await;

    let body: Value = assert_error(res, 429, "rate_limited").await;
    assert!(body["message"].is_string());
}

// ---- e-mail change ----------------------------------------------------------------------

const CHANGE: &str = "/api/v1/users/me/email";
const CONFIRM: &str = "/api/v1/users/me/email/confirm";

async fn change(app: &TestApp, user: &Signed, new_email: &str, password: &str) -> Response {
    app.post_json(
        CHANGE,
        &json!({ "newEmail": new_email, "currentPassword": password }),
        &user.token,
    )
    .await
}

async fn confirm(app: &TestApp, token: &str, access: impl Bearer) -> Response {
    app.post_json(CONFIRM, &json!({ "token": token }), access)
        .await
}

/// Asks to move `user` to `new_email` and returns the link token from the mail at the new
/// address, checking the notice at the old one.
async fn change_token_by_mail(app: &TestApp, user: &Signed, new_email: &str) -> String {
    let before = app.smtp().messages().len();
    expect_json(change(app, user, new_email, &user.password).await, 202).await;
    let messages = app.smtp().wait_for_messages(before + 2).await;
    let new = messages[before..]
        .iter()
        .find(|m| m.rcpt_tos == [new_email])
        .unwrap_or_else(|| panic!("no mail at the new address: {messages:#?}"));
    let old = messages[before..]
        .iter()
        .find(|m| m.rcpt_tos == [user.email.as_str()])
        .unwrap_or_else(|| panic!("no notice at the old address: {messages:#?}"));
    assert!(old.text.contains(new_email), "{}", old.text);
    assert!(
        link_token(&old.text).is_none(),
        "the notice carries no link"
    );
    link_token(&new.text).unwrap_or_else(|| panic!("no link token in: {}", new.text))
}

#[tokio::test]
async fn an_email_change_confirmed_from_the_new_address_moves_the_account_and_ends_other_sessions()
{
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let other = app.login(&user.email, &user.password).await;
    let new_email = unique_email("moved");
    let token = change_token_by_mail(&app, &user, &new_email).await;

    let body = expect_json(confirm(&app, &token, &user.token).await, 200).await;

    assert_eq!(body["email"], new_email.as_str());
    assert_eq!(body["emailVerified"], true);
    assert_eq!(
        expect_json(me(&app, &user.token).await, 200).await["email"],
        new_email.as_str()
    );
    assert_error(me(&app, &other.token).await, 401, "unauthorized").await;
    assert_eq!(refresh(&app, &other.refresh_token).await.status(), 401);
    assert_error(
        login(&app, &user.email, &user.password).await,
        401,
        "invalid_credentials",
    )
    .await;
    app.login(&new_email, &user.password).await;
    assert_error(
        confirm(&app, &token, &user.token).await,
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_email_change_needs_the_current_password() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let before = app.smtp().messages().len();

    let res = change(&app, &user, &unique_email("moved"), "not the password").await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["currentPassword"]);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.smtp().messages().len(), before, "nothing is mailed");
}

#[tokio::test]
async fn a_confirmation_link_works_only_for_its_own_account() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let stranger = customer(&app).await;
    let new_email = unique_email("moved");
    let token = change_token_by_mail(&app, &user, &new_email).await;

    assert_error(
        confirm(&app, &token, &stranger.token).await,
        400,
        "invalid_token",
    )
    .await;
    assert_error(confirm(&app, &token, NO_TOKEN).await, 401, "unauthorized").await;

    assert_eq!(confirm(&app, &token, &user.token).await.status(), 200);
}

#[tokio::test]
async fn an_address_taken_before_the_confirmation_is_refused_with_409() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let new_email = unique_email("moved");
    let token = change_token_by_mail(&app, &user, &new_email).await;
    expect_json(
        app.register_at(&new_email, "someone else's password").await,
        202,
    )
    .await;

    assert_error(confirm(&app, &token, &user.token).await, 409, "email_taken").await;

    assert_eq!(
        expect_json(me(&app, &user.token).await, 200).await["email"],
        user.email.as_str()
    );
}

#[tokio::test]
async fn a_change_to_an_address_with_an_account_answers_alike_and_sends_no_link() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let owner = customer(&app).await;
    let before = app.smtp().messages().len();

    let taken = expect_json(change(&app, &user, &owner.email, &user.password).await, 202).await;
    let free = expect_json(
        change(&app, &user, &unique_email("free"), &user.password).await,
        202,
    )
    .await;

    assert_eq!(taken, free);
    app.smtp().wait_for_messages(before + 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let messages = app.smtp().messages();
    assert!(
        messages[before..]
            .iter()
            .all(|m| m.rcpt_tos != [owner.email.as_str()]),
        "{messages:#?}"
    );
    assert_eq!(messages.len(), before + 2);
}
