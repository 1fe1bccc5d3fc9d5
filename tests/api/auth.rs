//! `/api/v1/auth`: registration, login, refresh-token rotation, logout and `/me`.

use nexus_tests::{
    NO_TOKEN, Role, TestApp, access_claims, assert_error, assert_keys, assert_no_password_fields,
    detail_fields, eventually, expect_empty, expect_json, forge_access_token, header, spawn_app,
    spawn_app_with, unique_email,
};
use reqwest::Response;
use serde_json::{Value, json};

async fn register(app: &TestApp, email: &str, password: &str) -> Response {
    app.post_json(
        "/api/v1/auth/register",
        &json!({ "email": email, "password": password, "firstName": "Ada", "lastName": "Lovelace" }),
        NO_TOKEN,
    )
    .await
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

/// Checks the shape of a login body and returns its user.
fn assert_login_body(body: &Value) -> &Value {
    assert!(
        body["access_token"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_ne!(body["access_token"], body["refresh_token"]);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
    assert_no_password_fields(body);
    let user = &body["user"];
    for key in [
        "id",
        "email",
        "role",
        "firstName",
        "lastName",
        "isActive",
        "emailVerified",
        "createdAt",
        "updatedAt",
        "version",
    ] {
        assert!(
            user.get(key).is_some_and(|v| !v.is_null()),
            "user lacks {key}: {user}"
        );
    }
    assert!(
        user["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
        "{user}"
    );
    user
}

#[tokio::test]
async fn register_creates_an_active_customer_who_then_signs_in() {
    let app = spawn_app().await;
    let email = unique_email("ada");

    let body = expect_json(register(&app, &email, "correct horse battery").await, 202).await;

    assert_keys(&body, &["message"]);
    let res = login(&app, &email, "correct horse battery").await;
    let signed_in = expect_json(res, 200).await;
    let user = assert_login_body(&signed_in);
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["role"], "CUSTOMER");
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["lastName"], "Lovelace");
    assert_eq!(user["isActive"], true);
    assert_eq!(user["emailVerified"], false);
}

#[tokio::test]
async fn register_ignores_a_role_in_the_body_so_nobody_can_make_themselves_admin() {
    let app = spawn_app().await;
    let email = unique_email("mallory");

    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": email, "password": "correct horse battery",
                "firstName": "Mal", "lastName": "Lory", "role": "ADMIN",
            }),
            NO_TOKEN,
        )
        .await;

    expect_json(res, 202).await;
    let signed = app.login(&email, "correct horse battery").await;
    let me = expect_json(app.get("/api/v1/auth/me", &signed.token).await, 200).await;
    assert_eq!(me["role"], "CUSTOMER");
    assert_error(
        app.get("/api/v1/users", &signed.token).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn register_rejects_a_password_shorter_than_eight_characters() {
    let app = spawn_app().await;

    let res = register(&app, &unique_email("short"), "Sh0rt!x").await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["password"]);
}

#[tokio::test]
async fn register_accepts_a_password_of_exactly_eight_characters() {
    let app = spawn_app().await;

    let res = register(&app, &unique_email("eight"), "12345678").await;

    expect_json(res, 202).await;
}

#[tokio::test]
async fn register_accepts_a_password_of_exactly_72_bytes() {
    let app = spawn_app().await;
    let password = "p".repeat(72);

    let email = unique_email("long");
    let res = register(&app, &email, &password).await;

    expect_json(res, 202).await;
    app.login(&email, &password).await;
}

#[tokio::test]
async fn register_rejects_a_password_longer_than_72_bytes_even_when_shorter_in_characters() {
    let app = spawn_app().await;

    let ascii = register(&app, &unique_email("ascii"), &"p".repeat(73)).await;
    // 37 characters but 74 bytes: bcrypt would silently ignore the tail.
    let multibyte = register(&app, &unique_email("utf8"), &"é".repeat(37)).await;

    let body = assert_error(ascii, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["password"]);
    let body = assert_error(multibyte, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["password"]);
}

#[tokio::test]
async fn register_rejects_a_password_equal_to_the_email_or_its_local_part() {
    let app = spawn_app().await;
    let email = unique_email("jane.doe");
    let local_part = email.split('@').next().expect("an e-mail has a local part");

    let whole = register(&app, &email, &email).await;
    let local = register(&app, &email, local_part).await;

    let body = assert_error(whole, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["password"]);
    let body = assert_error(local, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["password"]);
}

#[tokio::test]
async fn register_rejects_a_malformed_email_with_an_email_detail() {
    let app = spawn_app().await;

    let res = register(&app, "not-an-email", "correct horse battery").await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["email"]);
}

#[tokio::test]
async fn registering_a_taken_address_answers_like_a_new_one_and_changes_nothing() {
    let app = spawn_app().await;
    let email = unique_email("twin");
    let fresh = register(&app, &email, "correct horse battery").await;
    let fresh_status = fresh.status().as_u16();
    let fresh_body: Value = fresh.json().await.expect("JSON");

    let again = register(&app, &email.to_uppercase(), "another good password").await;

    assert_eq!(again.status().as_u16(), fresh_status, "same status");
    let again_body: Value = again.json().await.expect("JSON");
    assert_eq!(again_body, fresh_body, "same body");
    // The owner's password still works and the newcomer's does not.
    app.login(&email, "correct horse battery").await;
    let res = login(&app, &email, "another good password").await;
    assert_error(res, 401, "invalid_credentials").await;
    // The owner hears of the attempt by e-mail instead.
    eventually("the account-exists e-mail", async || {
        app.outbox_messages()
            .into_iter()
            .find(|m| m.contains(&email) && m.contains("tried to register your address"))
    })
    .await;
}

#[tokio::test]
async fn login_returns_tokens_and_the_user_without_any_password_field() {
    let app = spawn_app().await;

    let body = expect_json(
        login(&app, &app.admin_email, &app.admin_password).await,
        200,
    )
    .await;

    let user = assert_login_body(&body);
    assert_eq!(user["email"], app.admin_email.as_str());
    assert_eq!(user["role"], "ADMIN");
    assert_eq!(user["isActive"], true);
}

#[tokio::test]
async fn login_answers_an_unknown_email_and_a_wrong_password_identically() {
    let app = spawn_app().await;

    let unknown = login(&app, &unique_email("nobody"), &app.admin_password).await;
    let wrong = login(&app, &app.admin_email, "wrong password!").await;

    let unknown = assert_error(unknown, 401, "invalid_credentials").await;
    let wrong = assert_error(wrong, 401, "invalid_credentials").await;
    assert_eq!(unknown["message"], wrong["message"]);
}

#[tokio::test]
async fn login_of_a_deactivated_user_is_account_disabled_only_with_the_right_password() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/users/{}", cso.user_id);
    expect_json(
        app.patch_json(&path, &json!({ "isActive": false }), &admin, None)
            .await,
        200,
    )
    .await;

    let right = login(&app, &cso.email, &cso.password).await;
    let wrong = login(&app, &cso.email, "not the password").await;

    assert_error(right, 403, "account_disabled").await;
    // A wrong password must not reveal that the account exists but is disabled.
    assert_error(wrong, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn refresh_rotates_the_tokens_and_retires_the_old_refresh_token() {
    let app = spawn_app().await;
    let session = app.admin().await;

    let body = expect_json(refresh(&app, &session.refresh_token).await, 200).await;

    assert_login_body(&body);
    assert_eq!(body["user"]["id"], session.user_id.as_str());
    let new_refresh = body["refresh_token"].as_str().expect("refresh token");
    assert_ne!(new_refresh, session.refresh_token);
    let new_access = body["access_token"].as_str().expect("access token");
    expect_json(app.get("/api/v1/auth/me", new_access).await, 200).await;
    expect_json(refresh(&app, new_refresh).await, 200).await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let session = app.admin().await;
    let rotated = expect_json(refresh(&app, &session.refresh_token).await, 200).await;
    let newest_refresh = rotated["refresh_token"].as_str().expect("refresh token");
    let newest_access = rotated["access_token"].as_str().expect("access token");

    let replay = refresh(&app, &session.refresh_token).await;

    assert_error(replay, 401, "unauthorized").await;
    assert_error(refresh(&app, newest_refresh).await, 401, "unauthorized").await;
    assert_error(
        app.get("/api/v1/auth/me", newest_access).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.get("/api/v1/auth/me", &session).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn revoking_one_refresh_family_leaves_other_sessions_of_the_user_working() {
    let app = spawn_app().await;
    let stolen = app.admin().await;
    let other = app.admin().await;
    expect_json(refresh(&app, &stolen.refresh_token).await, 200).await;

    assert_error(
        refresh(&app, &stolen.refresh_token).await,
        401,
        "unauthorized",
    )
    .await;

    expect_json(app.get("/api/v1/auth/me", &other).await, 200).await;
    expect_json(refresh(&app, &other.refresh_token).await, 200).await;
}

#[tokio::test]
async fn refresh_rejects_a_garbage_token_and_an_access_token() {
    let app = spawn_app().await;
    let session = app.admin().await;

    let garbage = refresh(&app, "definitely-not-a-refresh-token").await;
    let access = refresh(&app, &session.token).await;

    assert_error(garbage, 401, "unauthorized").await;
    assert_error(access, 401, "unauthorized").await;
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_its_refresh_token() {
    let app = spawn_app().await;
    let session = app.sign_in_as(Role::Customer).await;

    let res = app
        .post_json("/api/v1/auth/logout", &json!({}), &session)
        .await;

    expect_empty(res, 204).await;
    assert_error(
        app.get("/api/v1/auth/me", &session).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        refresh(&app, &session.refresh_token).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn logout_ends_only_the_session_it_was_called_with() {
    let app = spawn_app().await;
    let leaving = app.admin().await;
    let staying = app.admin().await;

    expect_empty(
        app.post_json("/api/v1/auth/logout", &json!({}), &leaving)
            .await,
        204,
    )
    .await;

    expect_json(app.get("/api/v1/auth/me", &staying).await, 200).await;
}

#[tokio::test]
async fn logout_without_a_token_is_unauthorized() {
    let app = spawn_app().await;

    let res = app
        .post_json("/api/v1/auth/logout", &json!({}), NO_TOKEN)
        .await;

    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn me_returns_the_signed_in_user() {
    let app = spawn_app().await;
    let customer = app.sign_in_as(Role::Customer).await;

    let me = expect_json(app.get("/api/v1/auth/me", &customer).await, 200).await;

    assert_eq!(me["id"], customer.user_id.as_str());
    assert_eq!(me["email"], customer.email.as_str());
    assert_eq!(me["role"], "CUSTOMER");
    assert_no_password_fields(&me);
}

#[tokio::test]
async fn me_rejects_missing_malformed_tampered_and_non_bearer_credentials() {
    let app = spawn_app().await;
    let session = app.admin().await;
    // Change a character inside the signature (not the last one, whose low bits are padding).
    let signature_start = session.token.rfind('.').expect("a JWT has three parts") + 1;
    let at = signature_start + 5;
    let original = &session.token[at..=at];
    let replacement = if original == "A" { "B" } else { "A" };
    let tampered = format!(
        "{}{replacement}{}",
        &session.token[..at],
        &session.token[at + 1..]
    );

    let missing = app.get("/api/v1/auth/me", NO_TOKEN).await;
    let malformed = app.get("/api/v1/auth/me", "not.a.jwt").await;
    let forged = app.get("/api/v1/auth/me", &tampered).await;
    let basic = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("Authorization", format!("Basic {}", session.token))
        .send()
        .await
        .expect("the request reaches the app");

    assert_error(missing, 401, "unauthorized").await;
    assert_error(malformed, 401, "unauthorized").await;
    assert_error(forged, 401, "unauthorized").await;
    assert_error(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_refresh_token_is_not_accepted_as_an_access_token() {
    let app = spawn_app().await;
    let session = app.admin().await;

    let res = app
        .get("/api/v1/auth/me", session.refresh_token.as_str())
        .await;

    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn expired_access_and_refresh_tokens_are_unauthorized() {
    let app = spawn_app_with(&[
        ("ACCESS_TOKEN_TTL_SECS", "1"),
        ("REFRESH_TOKEN_TTL_SECS", "1"),
    ])
    .await;
    let body = expect_json(
        login(&app, &app.admin_email, &app.admin_password).await,
        200,
    )
    .await;
    assert_eq!(body["expires_in"], 1);
    let access = body["access_token"].as_str().expect("access token");
    let refresh_token = body["refresh_token"].as_str().expect("refresh token");

    // Token lifetimes are whole seconds; after two the one-second tokens are surely past.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert_error(
        app.get("/api/v1/auth/me", access).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(refresh(&app, refresh_token).await, 401, "unauthorized").await;
}

// ---- trust: forged tokens, kept keys, token caching, refresh field names ---------------

#[tokio::test]
async fn a_token_signed_with_the_old_published_secret_is_unauthorized() {
    let app = spawn_app().await;
    let victim = app.sign_in_as(Role::Customer).await;
    let published = nexus::settings::DEV_JWT_SECRET.as_bytes();

    let forged = forge_access_token(
        published,
        &victim.user_id,
        "CUSTOMER",
        &uuid::Uuid::now_v7().to_string(),
    );
    let res = app.get("/api/v1/auth/me", forged.as_str()).await;

    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_token_with_the_real_key_but_a_made_up_session_is_unauthorized() {
    let app = spawn_app().await;
    let victim = app.sign_in_as(Role::Customer).await;
    let key = app.generated_jwt_secret();
    let own_sid = access_claims(&victim.token, &key)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();

    let made_up = forge_access_token(
        &key,
        &victim.user_id,
        "CUSTOMER",
        &uuid::Uuid::now_v7().to_string(),
    );
    let faithful = forge_access_token(&key, &victim.user_id, "CUSTOMER", &own_sid);

    assert_error(
        app.get("/api/v1/auth/me", made_up.as_str()).await,
        401,
        "unauthorized",
    )
    .await;
    // The same key with the user's own live session is accepted: the session decided.
    expect_json(app.get("/api/v1/auth/me", faithful.as_str()).await, 200).await;
}

#[tokio::test]
async fn a_token_naming_another_users_session_is_unauthorized() {
    let app = spawn_app().await;
    let victim = app.sign_in_as(Role::Manager).await;
    let attacker = app.sign_in_as(Role::Customer).await;
    let key = app.generated_jwt_secret();
    let attackers_sid = access_claims(&attacker.token, &key)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();

    let borrowed = forge_access_token(&key, &victim.user_id, "MANAGER", &attackers_sid);
    let res = app.get("/api/v1/auth/me", borrowed.as_str()).await;

    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_generated_signing_key_is_kept_private_in_the_data_directory_across_restarts() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;
    let data_dir = app.data_dir().display().to_string();

    let restarted = app.spawn_another(&[("DATA_DIR", &data_dir)]).await;
    let elsewhere = app.spawn_another(&[]).await;

    let res = restarted.get("/api/v1/auth/me", &user.token).await;
    expect_json(res, 200).await;
    // Another data directory means another random key: no key is built in.
    let res = elsewhere.get("/api/v1/auth/me", &user.token).await;
    assert_error(res, 401, "unauthorized").await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["jwt-secret", "link-signing-key"] {
            let mode = std::fs::metadata(app.data_dir().join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
    assert_ne!(
        std::fs::read(app.data_dir().join("jwt-secret")).expect("read"),
        std::fs::read(app.data_dir().join("link-signing-key")).expect("read"),
        "links have their own key"
    );
}

#[tokio::test]
async fn token_responses_are_never_cached() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let logged_in = login(&app, &user.email, &user.password).await;
    let refreshed = refresh(&app, &user.refresh_token).await;

    for res in [logged_in, refreshed] {
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
        assert_eq!(header(&res, "pragma").as_deref(), Some("no-cache"));
        assert_login_body(&expect_json(res, 200).await);
    }
}

#[tokio::test]
async fn refresh_takes_the_token_as_refresh_token_in_camel_or_snake_case() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let camel = refresh(&app, &user.refresh_token).await;
    let next = expect_json(camel, 200).await["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let snake = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": next }),
            NO_TOKEN,
        )
        .await;

    assert_login_body(&expect_json(snake, 200).await);
}

#[tokio::test]
async fn a_password_longer_than_72_bytes_does_not_match_its_first_72_bytes() {
    let app = spawn_app().await;
    let password = "p".repeat(72);
    let email = unique_email("long");
    expect_json(register(&app, &email, &password).await, 202).await;

    let res = login(&app, &email, &format!("{password}x")).await;

    assert_error(res, 401, "invalid_credentials").await;
    app.login(&email, &password).await;
}

// ---- login throttling -------------------------------------------------------------------

const LOCKOUT: [(&str, &str); 4] = [
    ("TRUSTED_PROXIES", "127.0.0.1"),
    ("LOGIN_MAX_FAILURES", "3"),
    ("LOGIN_LOCK_SECS", "120"),
    ("LOGIN_LOCK_MAX_SECS", "900"),
];

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Response {
    app.post_json_from(
        ip,
        "/api/v1/auth/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

#[tokio::test]
async fn wrong_passwords_lock_out_that_client_but_the_owner_still_signs_in_elsewhere() {
    let app = spawn_app_with(&LOCKOUT).await;
    let victim = app.sign_in_as(Role::Customer).await;
    let attacker = "203.0.113.66";
    for _ in 0..3 {
        let res = login_from(&app, attacker, &victim.email, "guess-guess-guess").await;
        assert_error(res, 401, "invalid_credentials").await;
    }

    let locked = login_from(&app, attacker, &victim.email, &victim.password).await;
    let owner = login_from(&app, "198.51.100.7", &victim.email, &victim.password).await;

    assert_eq!(header(&locked, "retry-after").as_deref(), Some("120"));
    assert_error(locked, 429, "rate_limited").await;
    assert_login_body(&expect_json(owner, 200).await);
}

#[tokio::test]
async fn many_clients_together_hit_a_looser_per_account_ceiling() {
    let app = spawn_app_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_MAX_FAILURES", "2"),
        ("LOGIN_ACCOUNT_MAX_FAILURES", "4"),
        ("LOGIN_LOCK_SECS", "60"),
    ])
    .await;
    let victim = app.sign_in_as(Role::Customer).await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            let res = login_from(&app, ip, &victim.email, "guess-guess-guess").await;
            assert_error(res, 401, "invalid_credentials").await;
        }
    }

    let fresh_client = login_from(&app, "198.51.100.9", &victim.email, &victim.password).await;

    assert!(
        header(&fresh_client, "retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0))
    );
    assert_error(fresh_client, 429, "rate_limited").await;
}

#[tokio::test]
async fn auth_requests_are_rate_limited_per_client_with_retry_after() {
    let app = spawn_app_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("AUTH_RATE_LIMIT", "2"),
        ("AUTH_RATE_WINDOW_SECS", "300"),
    ])
    .await;
    let flood = "203.0.113.77";
    for i in 0..2 {
        let res = login_from(
            &app,
            flood,
            &unique_email(&format!("nobody{i}")),
            "whatever-123",
        )
        .await;
        assert_error(res, 401, "invalid_credentials").await;
    }

    let refused = login_from(&app, flood, &unique_email("nobody"), "whatever-123").await;
    let other = login_from(&app, "198.51.100.1", &app.admin_email, &app.admin_password).await;

    let retry_after: u64 = header(&refused, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    assert_error(refused, 429, "rate_limited").await;
    expect_json(other, 200).await;
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    // No TRUSTED_PROXIES: the test client (loopback) is the client, whatever it forwards.
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "2"), ("LOGIN_LOCK_SECS", "60")]).await;
    let victim = app.sign_in_as(Role::Customer).await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let res = login_from(&app, ip, &victim.email, "guess-guess-guess").await;
        assert_error(res, 401, "invalid_credentials").await;
    }

    let res = login_from(&app, "203.0.113.3", &victim.email, &victim.password).await;

    assert_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_written_left_of_the_forwarded_list_is_ignored() {
    let app = spawn_app_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_MAX_FAILURES", "2"),
        ("LOGIN_LOCK_SECS", "60"),
    ])
    .await;
    let victim = app.sign_in_as(Role::Customer).await;
    // The client invents a new left-most address each time; the proxy (the test client, on
    // loopback) appends the one it really saw, 203.0.113.9.
    for i in 1..=2 {
        let res = login_from(
            &app,
            &format!("198.51.100.{i}, 203.0.113.9"),
            &victim.email,
            "guess-guess-guess",
        )
        .await;
        assert_error(res, 401, "invalid_credentials").await;
    }

    let res = login_from(
        &app,
        "198.51.100.3, 203.0.113.9",
        &victim.email,
        &victim.password,
    )
    .await;

    assert_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn wrong_current_passwords_lock_out_password_changes() {
    let app = spawn_app_with(&LOCKOUT).await;
    let user = app.sign_in_as(Role::Customer).await;
    let change = async |current: &str| {
        app.post_json(
            "/api/v1/users/me/password",
            &json!({ "currentPassword": current, "newPassword": "a brand new password" }),
            &user.token,
        )
        .await
    };
    for _ in 0..3 {
        assert_error(change("not-my-password").await, 400, "validation_failed").await;
    }

    let res = change(&user.password).await;

    assert!(header(&res, "retry-after").is_some());
    assert_error(res, 429, "rate_limited").await;
}
