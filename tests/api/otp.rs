//! `/api/v1/auth/otp`: one-time codes by e-mail (read from a real SMTP server) to verify an
//! address or to sign in; wrong, voided and unknown codes; and the rate limits.

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, detail_fields, expect_json, header, spawn_app,
    spawn_app_with, spawn_app_with_smtp, totp_code_at, unique_email,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const REQUEST: &str = "/api/v1/auth/otp/request";
const VERIFY: &str = "/api/v1/auth/otp/verify";

/// Enough code requests and checks for tests about something else than the limit.
const ROOMY: [(&str, &str); 4] = [
    ("OTP_RATE_LIMIT", "50"),
    ("OTP_ADDRESS_RATE_LIMIT", "50"),
    ("LOGIN_MAX_FAILURES", "50"),
    ("LOGIN_ACCOUNT_MAX_FAILURES", "50"),
];

/// Wrong guesses that void a code (`OneTimeCode::MAX_ATTEMPTS`).
const GUESSES: usize = 20;

async fn request(app: &TestApp, email: &str, purpose: &str) -> Response {
    app.post_json(
        REQUEST,
        &json!({ "email": email, "purpose": purpose }),
        NO_TOKEN,
    )
    .await
}

async fn verify(app: &TestApp, email: &str, code: &str, purpose: &str) -> Response {
    app.post_json(
        VERIFY,
        &json!({ "email": email, "code": code, "purpose": purpose }),
        NO_TOKEN,
    )
    .await
}

/// The first run of exactly six digits in `text`.
fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}

/// A code that is surely not `code`.
fn other_than(code: &str) -> String {
    let n: u32 = code.parse().expect("a numeric code");
    format!("{:06}", (n + 1) % 1_000_000)
}

/// A new customer account whose welcome e-mail has already arrived, so that the next message
/// at the sink is the code.
async fn customer(app: &TestApp) -> Signed {
    let before = app.smtp().messages().len();
    let user = app.sign_in_as(Role::Customer).await;
    app.smtp().wait_for_messages(before + 1).await;
    user
}

/// Asks for a code for `email` and returns it, read from the e-mail that brings it.
async fn code_by_mail(app: &TestApp, email: &str, purpose: &str) -> String {
    let before = app.smtp().messages().len();
    let res = request(app, email, purpose).await;
    expect_json(res, 202).await;
    let messages = app.smtp().wait_for_messages(before + 1).await;
    let mail = &messages[before];
    assert_eq!(mail.rcpt_tos, [email], "{mail:#?}");
    six_digits(&mail.text).unwrap_or_else(|| panic!("no 6-digit code in: {}", mail.text))
}

async fn me(app: &TestApp, token: &str) -> Value {
    expect_json(app.get("/api/v1/auth/me", token).await, 200).await
}

#[tokio::test]
async fn a_code_from_the_mail_verifies_the_email_address() {
    let Some(app) = spawn_app_with_smtp(&[]).await else {
        return;
    };
    let user = customer(&app).await;
    assert_eq!(me(&app, &user.token).await["emailVerified"], false);

    let code = code_by_mail(&app, &user.email, "VERIFY_EMAIL").await;
    let res = verify(&app, &user.email, &code, "VERIFY_EMAIL").await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["verified"], true, "{body}");
    assert_eq!(body["user"]["id"], user.user_id.as_str());
    assert_eq!(body["user"]["email"], user.email.as_str());
    assert_eq!(body["user"]["emailVerified"], true);
    assert!(body.get("access_token").is_none(), "{body}");
    assert_eq!(me(&app, &user.token).await["emailVerified"], true);
    // A code works once.
    let again = verify(&app, &user.email, &code, "VERIFY_EMAIL").await;
    assert_error(again, 400, "invalid_code").await;
}

#[tokio::test]
async fn a_code_from_the_mail_signs_in() {
    let Some(app) = spawn_app_with_smtp(&[]).await else {
        return;
    };
    let user = customer(&app).await;

    let code = code_by_mail(&app, &user.email, "LOGIN").await;
    let res = verify(&app, &user.email, &code, "LOGIN").await;

    let body = expect_json(res, 200).await;
    let token = body["access_token"].as_str().expect("an access token");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["id"], user.user_id.as_str());
    assert_ne!(token, user.token);
    assert_eq!(me(&app, token).await["id"], user.user_id.as_str());
}

#[tokio::test]
async fn a_code_for_one_purpose_does_not_serve_the_other() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let code = code_by_mail(&app, &user.email, "VERIFY_EMAIL").await;

    let res = verify(&app, &user.email, &code, "LOGIN").await;

    assert_error(res, 400, "invalid_code").await;
    assert_eq!(me(&app, &user.token).await["emailVerified"], false);
}

#[tokio::test]
async fn asking_a_code_for_an_unknown_address_answers_the_same_and_sends_nothing() {
    let Some(app) = spawn_app_with_smtp(&[]).await else {
        return;
    };
    let admin = app.admin().await;
    let user = customer(&app).await;
    let stranger = unique_email("stranger");

    let unknown = expect_json(request(&app, &stranger, "LOGIN").await, 202).await;
    let no_jobs = app.jobs("?kind=send_otp", &admin).await;
    let known = expect_json(request(&app, &user.email, "LOGIN").await, 202).await;

    assert_eq!(unknown, known);
    assert!(
        unknown["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{unknown}"
    );
    assert_eq!(no_jobs["meta"]["total"], 0, "{no_jobs}");
    // The known address's code arrives; nothing ever goes to the unknown one.
    let messages = app.smtp().wait_for_messages(2).await;
    assert_eq!(messages[1].rcpt_tos, [user.email.as_str()]);
    assert_eq!(app.jobs("?kind=send_otp", &admin).await["meta"]["total"], 1);
    assert!(
        app.smtp()
            .messages()
            .iter()
            .all(|m| !m.rcpt_tos.contains(&stranger)),
        "a code was mailed to the unknown address"
    );
}

#[tokio::test]
async fn twenty_wrong_codes_void_the_code() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let code = code_by_mail(&app, &user.email, "VERIFY_EMAIL").await;
    let wrong = other_than(&code);

    for _ in 0..GUESSES {
        let res = verify(&app, &user.email, &wrong, "VERIFY_EMAIL").await;
        assert_error(res, 400, "invalid_code").await;
    }
    let right = verify(&app, &user.email, &code, "VERIFY_EMAIL").await;

    assert_error(right, 400, "invalid_code").await;
    assert_eq!(me(&app, &user.token).await["emailVerified"], false);
}

#[tokio::test]
async fn nineteen_wrong_codes_still_leave_the_right_one_usable() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let code = code_by_mail(&app, &user.email, "VERIFY_EMAIL").await;
    let wrong = other_than(&code);

    for _ in 0..GUESSES - 1 {
        let res = verify(&app, &user.email, &wrong, "VERIFY_EMAIL").await;
        assert_error(res, 400, "invalid_code").await;
    }
    let right = verify(&app, &user.email, &code, "VERIFY_EMAIL").await;

    assert_eq!(expect_json(right, 200).await["verified"], true);
}

#[tokio::test]
async fn a_new_code_voids_the_previous_one() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let first = code_by_mail(&app, &user.email, "LOGIN").await;
    let second = code_by_mail(&app, &user.email, "LOGIN").await;

    // Two random codes are equal once in a million; then the old one cannot be told apart.
    if first != second {
        let old = verify(&app, &user.email, &first, "LOGIN").await;
        assert_error(old, 400, "invalid_code").await;
    }
    let new = verify(&app, &user.email, &second, "LOGIN").await;

    assert_eq!(
        expect_json(new, 200).await["user"]["id"],
        user.user_id.as_str()
    );
}

#[tokio::test]
async fn a_code_that_was_never_sent_is_invalid() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let unasked = verify(&app, &user.email, "123456", "VERIFY_EMAIL").await;
    let unknown = verify(&app, &unique_email("ghost"), "123456", "LOGIN").await;

    assert_error(unasked, 400, "invalid_code").await;
    assert_error(unknown, 400, "invalid_code").await;
}

#[tokio::test]
async fn an_unknown_purpose_is_a_validation_error() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let asked = request(&app, &user.email, "RESET_PASSWORD").await;
    let checked = verify(&app, &user.email, "123456", "RESET_PASSWORD").await;

    for res in [asked, checked] {
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(detail_fields(&body), ["purpose"]);
    }
}

#[tokio::test]
async fn asking_for_codes_is_rate_limited_per_client() {
    let app = spawn_app_with(&[("OTP_RATE_LIMIT", "2")]).await;
    expect_json(request(&app, &unique_email("one"), "LOGIN").await, 202).await;
    expect_json(request(&app, &unique_email("two"), "LOGIN").await, 202).await;

    let res = request(&app, &unique_email("three"), "LOGIN").await;

    let retry_after = header(&res, "retry-after").expect("a Retry-After header");
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not whole seconds: {retry_after:?}"));
    assert!(seconds > 0, "Retry-After: {seconds}");
    assert_error(res, 429, "rate_limited").await;
    // Checking codes has its own budget.
    let check = verify(&app, &unique_email("one"), "123456", "LOGIN").await;
    assert_error(check, 400, "invalid_code").await;
}

#[tokio::test]
async fn asking_for_codes_is_rate_limited_per_address_across_clients() {
    let app = spawn_app_with(&[
        ("OTP_RATE_LIMIT", "2"),
        ("OTP_ADDRESS_RATE_LIMIT", "2"),
        ("TRUST_PROXY", "true"),
    ])
    .await;
    let email = unique_email("targeted");
    let from = |ip: &str| {
        app.request(Method::POST, REQUEST, NO_TOKEN)
            .header("X-Forwarded-For", ip)
            .json(&json!({ "email": email, "purpose": "LOGIN" }))
            .send()
    };
    expect_json(from("203.0.113.1").await.expect("sent"), 202).await;
    expect_json(from("203.0.113.2").await.expect("sent"), 202).await;

    let res = from("203.0.113.3").await.expect("sent");

    assert!(header(&res, "retry-after").is_some());
    assert_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn checking_codes_is_rate_limited() {
    let app = spawn_app_with(&[("OTP_RATE_LIMIT", "2")]).await;
    let user = app.sign_in_as(Role::Customer).await;
    for _ in 0..2 {
        let res = verify(&app, &user.email, "000000", "VERIFY_EMAIL").await;
        assert_error(res, 400, "invalid_code").await;
    }

    let res = verify(&app, &user.email, "000000", "VERIFY_EMAIL").await;

    let retry_after = header(&res, "retry-after").expect("a Retry-After header");
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s > 0),
        "Retry-After: {retry_after:?}"
    );
    assert_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn one_client_guessing_at_an_address_cannot_lock_its_owner_out_of_signing_in() {
    let Some(app) = spawn_app_with_smtp(&[("TRUSTED_PROXIES", "127.0.0.1")]).await else {
        return;
    };
    let user = customer(&app).await;
    let code = code_by_mail(&app, &user.email, "LOGIN").await;
    let wrong = other_than(&code);
    let guess = json!({ "email": user.email, "code": wrong, "purpose": "LOGIN" });
    for _ in 0..5 {
        let res = app.post_json_from("203.0.113.5", VERIFY, &guess).await;
        assert_error(res, 400, "invalid_code").await;
    }
    let attacker_stopped = app.post_json_from("203.0.113.5", VERIFY, &guess).await;

    let owner = app
        .post_json_from(
            "198.51.100.5",
            VERIFY,
            &json!({ "email": user.email, "code": code, "purpose": "LOGIN" }),
        )
        .await;

    assert_error(attacker_stopped, 429, "rate_limited").await;
    assert_eq!(header(&owner, "cache-control").as_deref(), Some("no-store"));
    let body = expect_json(owner, 200).await;
    assert!(
        body["access_token"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_codes_lock_that_client_out_of_the_address_while_the_owner_still_signs_in() {
    let mut vars = ROOMY[..2].to_vec();
    vars.push(("TRUSTED_PROXIES", "127.0.0.1"));
    let Some(app) = spawn_app_with_smtp(&vars).await else {
        return;
    };
    let user = customer(&app).await;
    let code = code_by_mail(&app, &user.email, "LOGIN").await;
    let guess = json!({ "email": user.email, "code": other_than(&code), "purpose": "LOGIN" });
    // The request limit is roomy here: what stops the guesser is the lockout.
    for _ in 0..5 {
        let res = app.post_json_from("203.0.113.9", VERIFY, &guess).await;
        assert_error(res, 400, "invalid_code").await;
    }
    let right_code_too_late = app
        .post_json_from(
            "203.0.113.9",
            VERIFY,
            &json!({ "email": user.email, "code": code, "purpose": "LOGIN" }),
        )
        .await;
    let owner = app
        .post_json_from(
            "198.51.100.9",
            VERIFY,
            &json!({ "email": user.email, "code": code, "purpose": "LOGIN" }),
        )
        .await;

    assert_eq!(
        header(&right_code_too_late, "retry-after").as_deref(),
        Some("60"),
        "locked for LOGIN_LOCK_SECS, nothing checked"
    );
    assert_error(right_code_too_late, 429, "rate_limited").await;
    expect_json(owner, 200).await;
}

#[tokio::test]
async fn a_code_sign_in_of_an_account_with_two_factor_on_answers_a_challenge_first() {
    let Some(app) = spawn_app_with_smtp(&ROOMY).await else {
        return;
    };
    let user = customer(&app).await;
    let (secret, step) = app.enable_totp(&user).await;

    let code = code_by_mail(&app, &user.email, "LOGIN").await;
    let body = expect_json(verify(&app, &user.email, &code, "LOGIN").await, 200).await;

    // The e-mailed code is one factor: no tokens until the authenticator's code.
    assert_eq!(body["mfaRequired"], true, "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
    let challenge = body["challenge"].as_str().expect("a challenge");
    let signed = expect_json(
        app.post_json(
            "/api/v1/auth/login/totp",
            &json!({ "challenge": challenge, "code": totp_code_at(&secret, step + 1) }),
            NO_TOKEN,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(signed["user"]["id"], user.user_id.as_str());
    let token = signed["access_token"].as_str().expect("tokens");
    assert_eq!(me(&app, token).await["id"], user.user_id.as_str());
}
