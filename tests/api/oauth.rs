//! Sign-in with Google (a real OpenID Connect server run locally) and GitHub (a local fake
//! of its OAuth and e-mails API): account creation and linking rules, the one-time state
//! bound to the browser, PKCE, the nonce, key rotation, and linked identities.

use nexus_tests::{
    GitHubAccount, GitHubFake, NO_TOKEN, OidcProvider, Role, Signed, TestApp, assert_error,
    authorize, customer_body, eventually, expect_json, google_claims, spawn_app, spawn_app_with,
    spawn_app_with_smtp, totp_code_at, unique_email,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// The app with Google and GitHub sign-in enabled, and both providers. `None` when the local
/// OpenID Connect server cannot run here (the test skips; under `CI=true` it fails instead).
async fn spawn() -> Option<(TestApp, OidcProvider, GitHubFake)> {
    let google = OidcProvider::start()?;
    let github = GitHubFake::start().await;
    let mut settings = google.settings();
    settings.extend(github.settings());
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&pairs).await;
    Some((app, google, github))
}

/// As [`spawn`], with a real SMTP sink.
async fn spawn_with_mail() -> Option<(TestApp, OidcProvider, GitHubFake)> {
    let google = OidcProvider::start()?;
    let github = GitHubFake::start().await;
    let mut settings = google.settings();
    settings.extend(github.settings());
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with_smtp(&pairs).await?;
    Some((app, google, github))
}

fn sub() -> String {
    format!("google-{}", Uuid::new_v4().simple())
}

fn github_id() -> u64 {
    u64::try_from(Uuid::new_v4().as_u128() % 1_000_000_000).expect("fits")
}

async fn identities(app: &TestApp, token: &str) -> Value {
    expect_json(app.get("/api/v1/users/me/identities", token).await, 200).await
}

fn token_of(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

#[tokio::test]
async fn google_sign_in_with_a_new_verified_email_creates_a_customer_without_a_password() {
    let Some((app, _google, _github)) = spawn().await else {
        return;
    };
    let email = unique_email("grace");

    let res = app
        .oauth_sign_in("google", &google_claims(&sub(), &email, true))
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["user"]["role"], "CUSTOMER");
    assert_eq!(body["user"]["emailVerified"], true);
    assert_eq!(body["user"]["firstName"], "Grace");
    let token = token_of(&body);
    let me = expect_json(app.get("/api/v1/auth/me", &token).await, 200).await;
    assert_eq!(me["id"], body["user"]["id"]);
    let linked = identities(&app, &token).await;
    assert_eq!(linked["hasPassword"], false);
    assert_eq!(linked["data"][0]["provider"], "google");
    assert_eq!(linked["data"][0]["email"], email.as_str());
    // No password was set: a password sign-in fails like a wrong password.
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": email, "password": "" }),
            NO_TOKEN,
        )
        .await;
    assert_error(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn a_verified_google_email_links_the_existing_account_and_verifies_it() {
    let Some((app, _google, _github)) = spawn().await else {
        return;
    };
    let customer = app.register_customer("Ada", "Lovelace").await;

    let res = app
        .oauth_sign_in("google", &google_claims(&sub(), &customer.email, true))
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["user"]["id"], customer.user_id.as_str());
    assert_eq!(body["user"]["emailVerified"], true);
    let linked = identities(&app, &customer.token).await;
    assert_eq!(linked["hasPassword"], true);
    assert_eq!(linked["data"].as_array().map(Vec::len), Some(1));
    // The password still works.
    app.login(&customer.email, &customer.password).await;
}

#[tokio::test]
async fn an_unverified_email_never_links_nor_creates() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    let customer = app.register_customer("Ada", "Lovelace").await;

    let res = app
        .oauth_sign_in("google", &google_claims(&sub(), &customer.email, false))
        .await;
    let body = assert_error(res, 403, "email_not_verified").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("link the provider from your profile")),
        "the message says what to do: {body}"
    );
    let fresh = unique_email("nobody");
    let res = app
        .oauth_sign_in("google", &google_claims(&sub(), &fresh, false))
        .await;
    assert_error(res, 403, "email_not_verified").await;
    github.sign_in_as(GitHubAccount::new(github_id(), &customer.email, false));
    let res = app.oauth_sign_in("github", "").await;
    assert_error(res, 403, "email_not_verified").await;

    let linked = identities(&app, &customer.token).await;
    assert_eq!(linked["data"], serde_json::json!([]));
    let admin = app.admin_token().await;
    let users = expect_json(app.get("/api/v1/users?limit=100", &admin).await, 200).await;
    assert!(
        users["data"]
            .as_array()
            .is_some_and(|all| all.iter().all(|u| u["email"] != fresh.as_str())),
        "no account was created for the unverified address"
    );
}

#[tokio::test]
async fn google_identities_are_keyed_on_sub_never_on_the_email() {
    let Some((app, _google, _github)) = spawn().await else {
        return;
    };
    let subject = sub();
    let first = unique_email("first");
    let body = expect_json(
        app.oauth_sign_in("google", &google_claims(&subject, &first, true))
            .await,
        200,
    )
    .await;
    let account = body["user"]["id"].clone();

    // The same subject with a changed e-mail is the same account.
    let changed = unique_email("changed");
    let again = expect_json(
        app.oauth_sign_in("google", &google_claims(&subject, &changed, true))
            .await,
        200,
    )
    .await;
    assert_eq!(again["user"]["id"], account);
    assert_eq!(again["user"]["email"], first.as_str());

    // Another subject with the first e-mail is not the same identity: the account already
    // has a Google identity, so it is refused rather than signed in.
    let res = app
        .oauth_sign_in("google", &google_claims(&sub(), &first, true))
        .await;
    assert_error(res, 409, "provider_already_linked").await;
}

#[tokio::test]
async fn a_nonce_the_client_did_not_send_is_refused() {
    let Some((app, _google, _github)) = spawn().await else {
        return;
    };
    let claims = format!(
        "{}&claim_nonce=someone-elses-nonce",
        google_claims(&sub(), &unique_email("nonce"), true)
    );

    let res = app.oauth_sign_in("google", &claims).await;

    assert_error(res, 400, "invalid_id_token").await;
}

#[tokio::test]
async fn rotated_signing_keys_are_fetched_again() {
    let Some((app, google, _github)) = spawn().await else {
        return;
    };
    let subject = sub();
    let email = unique_email("rotate");
    let claims = google_claims(&subject, &email, true);
    expect_json(app.oauth_sign_in("google", &claims).await, 200).await;

    google.add_key().await;

    // The keys take turns signing: of the next two tokens one is signed by the new key,
    // which the app has not cached yet.
    for _ in 0..2 {
        expect_json(app.oauth_sign_in("google", &claims).await, 200).await;
    }
}

#[tokio::test]
async fn a_tampered_reused_or_unbound_state_is_refused() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    github.sign_in_as(GitHubAccount::new(github_id(), &unique_email("octo"), true));
    let start = app.oauth_start("github", "", NO_TOKEN).await;
    let redirect = authorize(&app.client, &start.location, "").await;

    let mut tampered = redirect.clone();
    tampered.state.push('x');
    let res = app
        .oauth_callback("github", &tampered, Some(&start.cookie))
        .await;
    assert_error(res, 400, "invalid_state").await;
    // Without the binding cookie, or with another browser's, the state is refused...
    let res = app.oauth_callback("github", &redirect, None).await;
    assert_error(res, 400, "invalid_state").await;
    let other = app.oauth_start("github", "", NO_TOKEN).await;
    let res = app
        .oauth_callback("github", &redirect, Some(&other.cookie))
        .await;
    assert_error(res, 400, "invalid_state").await;
    // ...and, unspent, still works in the browser that started it, once.
    let res = app
        .oauth_callback("github", &redirect, Some(&start.cookie))
        .await;
    expect_json(res, 200).await;
    let res = app
        .oauth_callback("github", &redirect, Some(&start.cookie))
        .await;
    assert_error(res, 400, "invalid_state").await;
    // A state of one provider is not one of the other.
    let google_start = app.oauth_start("google", "", NO_TOKEN).await;
    let res = app
        .oauth_callback("github", &redirect, Some(&google_start.cookie))
        .await;
    assert_error(res, 400, "invalid_state").await;
}

#[tokio::test]
async fn a_code_exchanged_with_another_pkce_verifier_is_refused_by_the_provider() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    for provider in ["github", "google"] {
        github.sign_in_as(GitHubAccount::new(github_id(), &unique_email("pkce"), true));
        let first = app.oauth_start(provider, "", NO_TOKEN).await;
        let second = app.oauth_start(provider, "", NO_TOKEN).await;
        let claims = google_claims(&sub(), &unique_email("pkce"), true);
        let extra = if provider == "google" {
            claims.as_str()
        } else {
            ""
        };
        let code_for_first = authorize(&app.client, &first.location, extra).await;
        let state_of_second = authorize(&app.client, &second.location, extra).await;

        // The second state (and its verifier) with the first code: the provider checks the
        // verifier against the first code's challenge and refuses.
        let mixed = nexus_tests::ProviderRedirect {
            code: code_for_first.code,
            state: state_of_second.state,
        };
        let res = app
            .oauth_callback(provider, &mixed, Some(&second.cookie))
            .await;
        assert_error(res, 400, "oauth_rejected").await;
    }
}

#[tokio::test]
async fn github_sign_in_uses_the_primary_verified_email_and_keys_on_the_account_id() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    let id = github_id();
    let email = unique_email("octo");
    let mut account = GitHubAccount::new(id, &email, true);
    account
        .emails
        .insert(0, (unique_email("secondary"), false, true));
    github.sign_in_as(account);

    let body = expect_json(app.oauth_sign_in("github", "").await, 200).await;
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["user"]["firstName"], "Octo");
    assert_eq!(body["user"]["emailVerified"], true);

    // The same GitHub account later reporting another address is the same user.
    github.sign_in_as(GitHubAccount::new(id, &unique_email("moved"), true));
    let again = expect_json(app.oauth_sign_in("github", "").await, 200).await;
    assert_eq!(again["user"]["id"], body["user"]["id"]);
}

#[tokio::test]
async fn a_signed_in_user_links_a_provider_account_from_their_profile() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    let customer = app.register_customer("Ada", "Lovelace").await;
    // Even with an address GitHub does not vouch for: the user proved the account.
    github.sign_in_as(GitHubAccount::new(
        github_id(),
        &unique_email("other"),
        false,
    ));

    let start = app
        .oauth_start("github", "?intent=link", customer.token.as_str())
        .await;
    let redirect = authorize(&app.client, &start.location, "").await;
    let res = app
        .oauth_callback("github", &redirect, Some(&start.cookie))
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["user"]["id"], customer.user_id.as_str());
    let linked = identities(&app, &customer.token).await;
    assert_eq!(linked["data"][0]["provider"], "github");

    // A link without a signed-in user is 401.
    let res = app
        .get("/api/v1/auth/oauth/github/start?intent=link", NO_TOKEN)
        .await;
    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn linking_a_provider_account_of_someone_else_is_a_conflict() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    let id = github_id();
    github.sign_in_as(GitHubAccount::new(id, &unique_email("owner"), true));
    expect_json(app.oauth_sign_in("github", "").await, 200).await;
    let customer = app.register_customer("Ada", "Lovelace").await;

    github.sign_in_as(GitHubAccount::new(id, &unique_email("owner"), true));
    let start = app
        .oauth_start("github", "?intent=link", customer.token.as_str())
        .await;
    let redirect = authorize(&app.client, &start.location, "").await;
    let res = app
        .oauth_callback("github", &redirect, Some(&start.cookie))
        .await;

    assert_error(res, 409, "identity_taken").await;
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_unlinked() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    let email = unique_email("solo");
    github.sign_in_as(GitHubAccount::new(github_id(), &email, true));
    let body = expect_json(app.oauth_sign_in("github", "").await, 200).await;
    let token = token_of(&body);

    let res = app
        .delete("/api/v1/users/me/identities/github", &token)
        .await;
    assert_error(res, 409, "last_sign_in_method").await;

    // With Google linked too, GitHub can go; then Google is the last one.
    let start = app
        .oauth_start("google", "?intent=link", token.as_str())
        .await;
    let redirect = authorize(
        &app.client,
        &start.location,
        &google_claims(&sub(), &email, true),
    )
    .await;
    expect_json(
        app.oauth_callback("google", &redirect, Some(&start.cookie))
            .await,
        200,
    )
    .await;
    let res = app
        .delete("/api/v1/users/me/identities/github", &token)
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .delete("/api/v1/users/me/identities/github", &token)
        .await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .delete("/api/v1/users/me/identities/google", &token)
        .await;
    assert_error(res, 409, "last_sign_in_method").await;
    let linked = identities(&app, &token).await;
    assert_eq!(linked["data"][0]["provider"], "google");
}

#[tokio::test]
async fn the_start_can_answer_json_and_sets_an_http_only_lax_cookie() {
    let Some((app, _google, _github)) = spawn().await else {
        return;
    };

    let res = app
        .get("/api/v1/auth/oauth/github/start?mode=json", NO_TOKEN)
        .await;

    let cookie = nexus_tests::header(&res, "set-cookie").expect("a binding cookie");
    assert!(cookie.starts_with("nexus_oauth_github="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "the callbacks are http here: {cookie}"
    );
    let body = expect_json(res, 200).await;
    let url = reqwest::Url::parse(body["authorizationUrl"].as_str().expect("a URL"))
        .expect("an absolute URL");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        "http://app.test/api/v1/auth/oauth/github/callback"
    );
    assert_eq!(q["scope"], "read:user user:email");
    assert!(q["state"].len() >= 32);
    let google = app
        .get("/api/v1/auth/oauth/google/start?mode=json", NO_TOKEN)
        .await;
    let body = expect_json(google, 200).await;
    let url = reqwest::Url::parse(body["authorizationUrl"].as_str().expect("a URL"))
        .expect("an absolute URL");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid email profile");
    assert!(q.contains_key("nonce"));
}

#[tokio::test]
async fn a_provider_without_configuration_is_disabled() {
    let app = spawn_app().await;

    let res = app.get("/api/v1/auth/oauth/google/start", NO_TOKEN).await;
    assert_error(res, 404, "provider_disabled").await;
    let res = app
        .get(
            "/api/v1/auth/oauth/github/callback?code=a&state=b",
            NO_TOKEN,
        )
        .await;
    assert_error(res, 404, "provider_disabled").await;
    let res = app.get("/api/v1/auth/oauth/myspace/start", NO_TOKEN).await;
    assert_error(res, 404, "not_found").await;
    let signed: Signed = app.register_customer("Ada", "Lovelace").await;
    let linked = identities(&app, &signed.token).await;
    assert_eq!(linked["hasPassword"], true);
}

#[tokio::test]
async fn the_owner_is_told_by_mail_when_a_provider_account_is_linked() {
    let Some((app, _google, github)) = spawn_with_mail().await else {
        return;
    };
    let before = app.smtp().messages().len();
    let customer = app.register_customer("Ada", "Lovelace").await;
    // The welcome mail first, so the next one to this address is the notice.
    app.smtp().wait_for_messages(before + 1).await;
    let provider_email = unique_email("ada.gh");
    github.sign_in_as(GitHubAccount::new(github_id(), &provider_email, true));

    let start = app
        .oauth_start("github", "?intent=link", customer.token.as_str())
        .await;
    let redirect = authorize(&app.client, &start.location, "").await;
    expect_json(
        app.oauth_callback("github", &redirect, Some(&start.cookie))
            .await,
        200,
    )
    .await;

    let notice = eventually("the link notice at the sink", async || {
        app.smtp()
            .messages()
            .into_iter()
            .find(|m| m.rcpt_tos == [customer.email.as_str()] && m.subject.contains("GitHub"))
    })
    .await;
    assert!(notice.subject.contains("was linked"), "{}", notice.subject);
    assert!(notice.text.contains(&provider_email), "{}", notice.text);
    assert!(
        notice.text.contains("If this was not you"),
        "{}",
        notice.text
    );
}

#[tokio::test]
async fn an_account_born_through_google_is_linked_to_the_crm_customer_with_its_address() {
    let Some((app, _google, _github)) = spawn().await else {
        return;
    };
    let cso = app.sign_in_as(Role::Cso).await;
    let email = unique_email("born");
    let mut body = customer_body("Born");
    body["email"] = json!(email);
    let crm = app.create_customer(&cso, &body).await;
    assert_eq!(crm["accountId"], Value::Null);

    let signed = expect_json(
        app.oauth_sign_in("google", &google_claims(&sub(), &email, true))
            .await,
        200,
    )
    .await;

    let account = signed["user"]["id"].clone();
    let path = format!("/api/v1/customers/{}", crm["id"].as_str().expect("an id"));
    eventually("the new account linked to its customer", async || {
        let now = expect_json(app.get(&path, &cso).await, 200).await;
        (now["accountId"] == account).then_some(now)
    })
    .await;
}

#[tokio::test]
async fn a_provider_sign_in_of_an_account_with_two_factor_on_answers_a_challenge_first() {
    let Some((app, _google, github)) = spawn().await else {
        return;
    };
    let customer = app.register_customer("Ada", "Lovelace").await;
    let id = github_id();
    github.sign_in_as(GitHubAccount::new(id, &unique_email("ada.gh"), true));
    let start = app
        .oauth_start("github", "?intent=link", customer.token.as_str())
        .await;
    let redirect = authorize(&app.client, &start.location, "").await;
    expect_json(
        app.oauth_callback("github", &redirect, Some(&start.cookie))
            .await,
        200,
    )
    .await;
    let (secret, step) = app.enable_totp(&customer).await;

    github.sign_in_as(GitHubAccount::new(id, &unique_email("ada.gh"), true));
    let body = expect_json(app.oauth_sign_in("github", "").await, 200).await;

    // The provider is one factor: no tokens until the authenticator's code.
    assert_eq!(body["mfaRequired"], true, "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
    let challenge = body["challenge"].as_str().expect("a challenge");
    let wrong = app
        .post_json(
            "/api/v1/auth/login/totp",
            &json!({ "challenge": challenge, "code": totp_code_at(&secret, step) }),
            NO_TOKEN,
        )
        .await;
    assert_error(wrong, 400, "invalid_code").await;
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
    assert_eq!(signed["user"]["id"], customer.user_id.as_str());
}
