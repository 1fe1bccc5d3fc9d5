//! Staff invitations: an ADMIN invites by e-mail (read from a real SMTP server), the invitee
//! chooses a password from the link and signs in with the role given; links are single-use,
//! expire, are voided by a new invitation, and are recorded in the audit log.

use chrono::{Duration, Utc};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, detail_fields, eventually, expect_json,
    spawn_app_with_smtp, unique_email,
};
use reqwest::Response;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

const INVITES: &str = "/api/v1/users/invites";
const ACCEPT: &str = "/api/v1/auth/invites/accept";
const PASSWORD: &str = "an invited passphrase";

/// Enough requests for tests about something else than the limits.
const ROOMY: [(&str, &str); 4] = [
    ("OTP_RATE_LIMIT", "50"),
    ("OTP_ADDRESS_RATE_LIMIT", "50"),
    ("LOGIN_MAX_FAILURES", "50"),
    ("LOGIN_ACCOUNT_MAX_FAILURES", "50"),
];

/// The 64 hex digits after `#token=` in `text`.
fn link_token(text: &str) -> Option<String> {
    let start = text.find("#token=")? + "#token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (token.len() == 64).then_some(token)
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Response {
    app.post_json(
        ACCEPT,
        &json!({ "token": token, "password": password }),
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

/// Invites `email` as `role` and returns the new account and the link's token, read from
/// the invitation e-mail.
async fn invite(app: &TestApp, admin: &Signed, email: &str, role: &str) -> (Value, String) {
    let before = app.smtp().messages().len();
    let user = expect_json(
        app.post_json(
            INVITES,
            &json!({ "email": email, "firstName": "Grace", "lastName": "Hopper", "role": role }),
            &admin.token,
        )
        .await,
        201,
    )
    .await;
    let token = last_link_to(app, before, email).await;
    (user, token)
}

/// The link token of the first message to `email` after the first `before` messages.
async fn last_link_to(app: &TestApp, before: usize, email: &str) -> String {
    // Other mail (a welcome) may arrive meanwhile: wait for the one to this address.
    let mail = eventually(&format!("a message to {email}"), async || {
        app.smtp()
            .messages()
            .into_iter()
            .skip(before)
            .find(|m| m.rcpt_tos == [email])
    })
    .await;
    assert!(mail.subject.contains("invited"), "{}", mail.subject);
    assert!(!mail.subject.contains("#token="), "{}", mail.subject);
    assert!(
        mail.text.contains("/account/accept-invite#token="),
        "{}",
        mail.text
    );
    link_token(&mail.text).unwrap_or_else(|| panic!("no link token in: {}", mail.text))
}

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("an id")
}

/// The audit entries of `action` on the user `target`.
async fn audited(app: &TestApp, admin: &Signed, action: &str, target: &str) -> Vec<Value> {
    let body = expect_json(
        app.get(
            &format!("/api/v1/admin/audit?action={action}&targetId={target}"),
            admin,
        )
        .await,
        200,
    )
    .await;
    body["data"].as_array().expect("a data list").clone()
}

#[tokio::test]
async fn an_invitee_chooses_a_password_from_the_mail_and_signs_in_with_the_role_given() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let admin = app.admin().await;
    let email = unique_email("invitee");

    let (user, token) = invite(&app, &admin, &email, "MANAGER").await;

    assert_eq!(user["role"], "MANAGER");
    assert_eq!(user["invitationPending"], true);
    assert_eq!(user["emailVerified"], false);
    assert!(user.get("passwordHash").is_none() && user.get("password").is_none());
    // No password yet: nothing signs in with one.
    assert_error(
        login(&app, &email, PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;

    let res = accept(&app, &token, PASSWORD).await;
    assert_eq!(
        res.status(),
        204,
        "{}",
        res.text().await.unwrap_or_default()
    );

    let signed = expect_json(login(&app, &email, PASSWORD).await, 200).await;
    assert_eq!(signed["user"]["role"], "MANAGER");
    assert_eq!(
        signed["user"]["emailVerified"], true,
        "the link proved the address"
    );
    assert_eq!(signed["user"]["invitationPending"], false);
    let token_of_manager = signed["access_token"].as_str().expect("a token");
    let queue = app.get("/api/v1/me/dashboard", token_of_manager).await;
    assert_eq!(queue.status(), 200, "the manager works with the role given");

    let invited = audited(&app, &admin, "users.invited", id(&user)).await;
    assert_eq!(invited.len(), 1, "{invited:?}");
    assert_eq!(invited[0]["actorId"], admin.user_id.as_str(), "{invited:?}");
    let accepted = audited(&app, &admin, "users.invite_accepted", id(&user)).await;
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert!(!accepted[0].to_string().contains(&token));
    assert!(!accepted[0].to_string().contains(PASSWORD));
}

#[tokio::test]
async fn a_link_works_once_and_the_account_then_no_longer_waits() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let admin = app.admin().await;
    let email = unique_email("invitee");
    let (user, token) = invite(&app, &admin, &email, "CSO").await;
    assert_eq!(accept(&app, &token, PASSWORD).await.status(), 204);

    assert_error(
        accept(&app, &token, "someone else's passphrase").await,
        400,
        "invalid_token",
    )
    .await;
    app.login(&email, PASSWORD).await;
    assert_error(
        app.post(&format!("/api/v1/users/{}/invite", id(&user)), &admin.token)
            .await,
        409,
        "not_invited",
    )
    .await;
}

#[tokio::test]
async fn two_racing_uses_of_one_link_set_one_password() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let admin = app.admin().await;
    let email = unique_email("invitee");
    let (_, token) = invite(&app, &admin, &email, "EDITOR").await;

    let (a, b) = tokio::join!(
        accept(&app, &token, "the first passphrase"),
        accept(&app, &token, "the second passphrase"),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [204, 400] || statuses == [204, 409],
        "one wins, one is refused: {statuses:?}"
    );
    let first = login(&app, &email, "the first passphrase").await.status();
    let second = login(&app, &email, "the second passphrase").await.status();
    assert!(
        (first == 200) != (second == 200),
        "exactly one password was set: {first} {second}"
    );
}

#[tokio::test]
async fn a_new_invitation_voids_the_earlier_link() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let admin = app.admin().await;
    let email = unique_email("invitee");
    let (user, first) = invite(&app, &admin, &email, "CSO").await;
    let before = app.smtp().messages().len();

    let again = expect_json(
        app.post(&format!("/api/v1/users/{}/invite", id(&user)), &admin.token)
            .await,
        202,
    )
    .await;
    assert_eq!(again["invitationPending"], true);
    let second = last_link_to(&app, before, &email).await;
    assert_ne!(first, second);

    assert_error(accept(&app, &first, PASSWORD).await, 400, "invalid_token").await;
    assert_eq!(accept(&app, &second, PASSWORD).await.status(), 204);
    assert_eq!(
        audited(&app, &admin, "users.invite_resent", id(&user))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn an_expired_link_or_a_deactivated_invitee_is_refused_like_an_unknown_link() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let admin = app.admin().await;
    let (expired_user, expired) = invite(&app, &admin, &unique_email("late"), "CSO").await;
    let (off_user, off) = invite(&app, &admin, &unique_email("off"), "CSO").await;
    let db = app.db().await;
    let expire = Query::update()
        .table(Alias::new("account_links"))
        .value(Alias::new("expires_at"), Utc::now() - Duration::seconds(1))
        .and_where(
            Expr::col(Alias::new("user_id"))
                .eq(Uuid::parse_str(id(&expired_user)).expect("a user id")),
        )
        .to_owned();
    let done = db.execute(&expire).await.expect("expire the link");
    assert_eq!(done.rows_affected(), 1);
    let _ = db.close().await;
    expect_json(
        app.patch_json(
            &format!("/api/v1/users/{}", id(&off_user)),
            &json!({ "isActive": false }),
            &admin.token,
            None,
        )
        .await,
        200,
    )
    .await;

    let unknown = assert_error(
        accept(&app, &"ab".repeat(32), PASSWORD).await,
        400,
        "invalid_token",
    )
    .await;
    let late = assert_error(accept(&app, &expired, PASSWORD).await, 400, "invalid_token").await;
    let deactivated = assert_error(accept(&app, &off, PASSWORD).await, 400, "invalid_token").await;

    assert_eq!(late["message"], unknown["message"]);
    assert_eq!(deactivated["message"], unknown["message"]);
    assert_error(
        app.post(
            &format!("/api/v1/users/{}/invite", id(&off_user)),
            &admin.token,
        )
        .await,
        409,
        "not_invited",
    )
    .await;
}

#[tokio::test]
async fn invitations_are_for_staff_roles_new_addresses_and_strong_passwords() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let admin = app.admin().await;
    let taken = app.sign_in_as(Role::Customer).await;
    let before = app.smtp().messages().len();

    let buyer = assert_error(
        app.post_json(
            INVITES,
            &json!({ "email": unique_email("buyer"), "firstName": "B", "lastName": "Uyer", "role": "CUSTOMER" }),
            &admin.token,
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(detail_fields(&buyer), ["role"]);
    assert_error(
        app.post_json(
            INVITES,
            &json!({ "email": taken.email, "firstName": "T", "lastName": "Aken", "role": "CSO" }),
            &admin.token,
        )
        .await,
        409,
        "email_taken",
    )
    .await;
    let malformed = assert_error(
        app.post_json(
            INVITES,
            &json!({ "email": "not an address", "firstName": "", "lastName": "X", "role": "ROOT" }),
            &admin.token,
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let mut fields = detail_fields(&malformed);
    fields.sort();
    assert_eq!(fields, ["email", "firstName", "role"]);

    let email = unique_email("invitee");
    let (_, token) = invite(&app, &admin, &email, "CSO").await;
    let weak = assert_error(
        accept(&app, &token, "short").await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(detail_fields(&weak), ["password"]);
    // The refused attempt spent nothing: the link still works.
    assert_eq!(accept(&app, &token, PASSWORD).await.status(), 204);
    // Only the one invitation was mailed.
    let messages = app.smtp().messages();
    assert_eq!(
        messages[before..]
            .iter()
            .filter(|m| m.subject.contains("invited"))
            .count(),
        1
    );
}
