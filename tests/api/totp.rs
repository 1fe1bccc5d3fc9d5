//! Two-factor sign-in: enrolment, the sign-in challenge, codes that work once, recovery
//! codes, the limits of a challenge (five tries, five minutes, single use), turning it off,
//! and `REQUIRE_STAFF_TOTP`.

use chrono::{Duration, Utc};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, expect_empty, expect_json, spawn_app_with,
    totp_code_at, totp_step_now,
};
use reqwest::{Method, Response};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

const TOTP: &str = "/api/v1/users/me/totp";
const CONFIRM: &str = "/api/v1/users/me/totp/confirm";
const LOGIN: &str = "/api/v1/auth/login";
const LOGIN_TOTP: &str = "/api/v1/auth/login/totp";

/// An app with room for the sign-ins of a test about something else than the limits.
async fn roomy() -> TestApp {
    spawn_app_with(&[("AUTH_RATE_LIMIT", "100")]).await
}

/// An account with two-factor sign-in on: its base32 secret, the step its confirming code
/// used, and its recovery codes.
struct Enrolled {
    user: Signed,
    secret: String,
    step: i64,
    recovery: Vec<String>,
}

async fn start(app: &TestApp, user: &Signed) -> Value {
    let res = app
        .post_json(TOTP, &json!({ "currentPassword": user.password }), user)
        .await;
    expect_json(res, 200).await
}

async fn enrol(app: &TestApp, user: Signed) -> Enrolled {
    let setup = start(app, &user).await;
    let secret = setup["secret"].as_str().expect("a secret").to_owned();
    let step = totp_step_now();
    let res = app
        .post_json(
            CONFIRM,
            &json!({ "code": totp_code_at(&secret, step) }),
            &user,
        )
        .await;
    let body = expect_json(res, 200).await;
    let recovery = body["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    Enrolled {
        user,
        secret,
        step,
        recovery,
    }
}

/// Signs in with the password and answers the challenge.
async fn challenge(app: &TestApp, user: &Signed) -> String {
    let res = app
        .post_json(
            LOGIN,
            &json!({ "email": user.email, "password": user.password }),
            NO_TOKEN,
        )
        .await;
    let body = expect_json(res, 200).await;
    assert_eq!(body["mfaRequired"], true, "{body}");
    assert!(body.get("access_token").is_none(), "no tokens: {body}");
    assert_eq!(body["expiresIn"], 300, "{body}");
    body["challenge"].as_str().expect("a challenge").to_owned()
}

async fn answer(app: &TestApp, challenge: &str, field: &str, value: &str) -> Response {
    app.post_json(
        LOGIN_TOTP,
        &json!({ "challenge": challenge, field: value }),
        NO_TOKEN,
    )
    .await
}

#[tokio::test]
async fn enrolment_shows_the_secret_once_and_needs_a_right_code_and_the_password() {
    let app = roomy().await;
    let user = app.sign_in_as(Role::Customer).await;

    let wrong = app
        .post_json(
            TOTP,
            &json!({ "currentPassword": "not the password" }),
            &user,
        )
        .await;
    assert_error(wrong, 400, "validation_failed").await;
    assert_error(
        app.post_json(CONFIRM, &json!({ "code": "123456" }), &user)
            .await,
        409,
        "totp_not_started",
    )
    .await;

    let setup = start(&app, &user).await;
    let secret = setup["secret"].as_str().expect("a secret");
    assert_eq!(secret.len(), 32, "160 bits in base32: {setup}");
    let uri = setup["otpauthUri"].as_str().expect("a URI");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    for part in ["algorithm=SHA1", "digits=6", "period=30", "issuer="] {
        assert!(uri.contains(part), "{part} in {uri}");
    }

    let step = totp_step_now();
    assert_error(
        app.post_json(
            CONFIRM,
            &json!({ "code": totp_code_at(secret, step + 3) }),
            &user,
        )
        .await,
        400,
        "invalid_code",
    )
    .await;
    let body = expect_json(
        app.post_json(
            CONFIRM,
            &json!({ "code": totp_code_at(secret, step) }),
            &user,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["enabled"], true);
    let codes = body["recoveryCodes"].as_array().expect("codes");
    assert_eq!(codes.len(), 10, "{body}");

    // On: a new start is refused, and the secret is never shown again.
    assert_error(
        app.post_json(TOTP, &json!({ "currentPassword": user.password }), &user)
            .await,
        409,
        "totp_already_enabled",
    )
    .await;
    let me = expect_json(app.get("/api/v1/auth/me", &user).await, 200).await;
    assert!(!me.to_string().contains(secret), "{me}");
    // Nothing secret is stored in the clear.
    let db = app.db().await;
    let rows = db
        .query_all(
            &Query::select()
                .column(Alias::new("sealed_secret"))
                .from(Alias::new("user_totp"))
                .to_owned(),
        )
        .await
        .expect("read enrolments");
    assert_eq!(rows.len(), 1);
    let sealed: String = rows[0].try_get("", "sealed_secret").expect("a text");
    assert!(!sealed.contains(secret), "sealed");
    let _ = db.close().await;
}

#[tokio::test]
async fn a_sign_in_answers_a_challenge_and_each_code_works_once() {
    let app = roomy().await;
    let on = enrol(&app, app.sign_in_as(Role::Customer).await).await;

    let first = challenge(&app, &on.user).await;
    // The code that confirmed the enrolment was used: refused, and counted.
    assert_error(
        answer(&app, &first, "code", &totp_code_at(&on.secret, on.step)).await,
        400,
        "invalid_code",
    )
    .await;
    let next = totp_code_at(&on.secret, on.step + 1);
    let body = expect_json(answer(&app, &first, "code", &next).await, 200).await;
    let token = body["access_token"].as_str().expect("tokens");
    expect_json(app.get("/api/v1/auth/me", token).await, 200).await;

    // The challenge is spent, and the code used: neither works a second time.
    assert_error(
        answer(&app, &first, "code", &next).await,
        400,
        "invalid_challenge",
    )
    .await;
    let second = challenge(&app, &on.user).await;
    assert_error(
        answer(&app, &second, "code", &next).await,
        400,
        "invalid_code",
    )
    .await;
    // Neither or both of code and recoveryCode is a validation error.
    let both = app
        .post_json(
            LOGIN_TOTP,
            &json!({ "challenge": second, "code": next, "recoveryCode": on.recovery[0] }),
            NO_TOKEN,
        )
        .await;
    assert_error(both, 400, "validation_failed").await;
    let neither = app
        .post_json(LOGIN_TOTP, &json!({ "challenge": second }), NO_TOKEN)
        .await;
    assert_error(neither, 400, "validation_failed").await;
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = roomy().await;
    let on = enrol(&app, app.sign_in_as(Role::Customer).await).await;
    let code = on.recovery[3].clone();

    let first = challenge(&app, &on.user).await;
    // Case and dashes do not matter.
    let typed = code.to_uppercase().replace('-', " ");
    expect_json(answer(&app, &first, "recoveryCode", &typed).await, 200).await;

    let second = challenge(&app, &on.user).await;
    assert_error(
        answer(&app, &second, "recoveryCode", &code).await,
        400,
        "invalid_code",
    )
    .await;
    // Another one still works.
    expect_json(
        answer(&app, &second, "recoveryCode", &on.recovery[4]).await,
        200,
    )
    .await;
}

#[tokio::test]
async fn five_wrong_codes_void_the_challenge() {
    let app = roomy().await;
    let on = enrol(&app, app.sign_in_as(Role::Customer).await).await;
    let challenge = challenge(&app, &on.user).await;
    let wrong = totp_code_at(&on.secret, on.step + 5);

    for _ in 0..5 {
        assert_error(
            answer(&app, &challenge, "code", &wrong).await,
            400,
            "invalid_code",
        )
        .await;
    }

    let right = totp_code_at(&on.secret, on.step + 1);
    assert_error(
        answer(&app, &challenge, "code", &right).await,
        400,
        "invalid_challenge",
    )
    .await;
}

#[tokio::test]
async fn an_expired_or_unknown_challenge_is_refused() {
    let app = roomy().await;
    let on = enrol(&app, app.sign_in_as(Role::Customer).await).await;
    let challenge = challenge(&app, &on.user).await;
    let db = app.db().await;
    let expire = Query::update()
        .table(Alias::new("mfa_challenges"))
        .value(Alias::new("expires_at"), Utc::now() - Duration::seconds(1))
        .and_where(
            Expr::col(Alias::new("user_id"))
                .eq(Uuid::parse_str(&on.user.user_id).expect("a user id")),
        )
        .to_owned();
    let done = db.execute(&expire).await.expect("expire the challenge");
    assert_eq!(done.rows_affected(), 1);
    let _ = db.close().await;

    let right = totp_code_at(&on.secret, on.step + 1);
    assert_error(
        answer(&app, &challenge, "code", &right).await,
        400,
        "invalid_challenge",
    )
    .await;
    assert_error(
        answer(&app, &"ab".repeat(32), "code", &right).await,
        400,
        "invalid_challenge",
    )
    .await;
}

#[tokio::test]
async fn turning_it_off_needs_proof_and_sign_in_gives_tokens_again() {
    let app = roomy().await;
    let on = enrol(&app, app.sign_in_as(Role::Customer).await).await;
    let delete = |body: Value| {
        app.request(Method::DELETE, TOTP, &on.user)
            .json(&body)
            .send()
    };

    let wrong = delete(json!({ "code": totp_code_at(&on.secret, on.step + 4) }))
        .await
        .expect("sent");
    assert_error(wrong, 400, "invalid_code").await;
    let reused = delete(json!({ "code": totp_code_at(&on.secret, on.step) }))
        .await
        .expect("sent");
    assert_error(reused, 400, "invalid_code").await;
    let bad_password = delete(json!({ "currentPassword": "not it" }))
        .await
        .expect("sent");
    assert_error(bad_password, 400, "validation_failed").await;
    let none = delete(json!({})).await.expect("sent");
    assert_error(none, 400, "validation_failed").await;

    let off = delete(json!({ "code": totp_code_at(&on.secret, on.step + 1) }))
        .await
        .expect("sent");
    expect_empty(off, 204).await;
    let again = delete(json!({ "currentPassword": on.user.password }))
        .await
        .expect("sent");
    assert_error(again, 409, "totp_not_enabled").await;

    let signed = app.login(&on.user.email, &on.user.password).await;
    expect_json(app.get("/api/v1/auth/me", &signed).await, 200).await;
}

#[tokio::test]
async fn required_staff_totp_gates_staff_until_they_enrol() {
    let app = spawn_app_with(&[("REQUIRE_STAFF_TOTP", "true"), ("AUTH_RATE_LIMIT", "100")]).await;
    let admin = app.admin().await;

    // Staff without an authenticator reach only the enrolment, their profile and sign-out.
    assert_error(app.get("/api/v1/users", &admin).await, 403, "totp_required").await;
    assert_error(
        app.get("/api/v1/users/me/sessions", &admin).await,
        403,
        "totp_required",
    )
    .await;
    expect_json(app.get("/api/v1/auth/me", &admin).await, 200).await;

    // Once on, the same session reaches everything its role allows.
    let admin = enrol(&app, admin).await.user;
    expect_json(app.get("/api/v1/users", &admin).await, 200).await;

    // A new manager (no authenticator yet) is gated; a customer never is.
    let email = nexus_tests::unique_email("manager");
    let password = format!("Pw-{}", Uuid::new_v4().simple());
    let res = app
        .post_json(
            "/api/v1/users",
            &json!({ "email": email, "password": password, "firstName": "Mia",
                     "lastName": "Manager", "role": "MANAGER" }),
            &admin,
        )
        .await;
    expect_json(res, 201).await;
    let manager = app.login(&email, &password).await;
    assert_error(
        app.get("/api/v1/customers", &manager).await,
        403,
        "totp_required",
    )
    .await;
    let customer = app.sign_in_as(Role::Customer).await;
    expect_json(app.get("/api/v1/users/me/sessions", &customer).await, 200).await;
}
