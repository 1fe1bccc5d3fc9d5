//! One's own sessions: the list (device, network, times, the current one), ending one,
//! ending all the others, and what ending does to refresh and access tokens at once.

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, expect_empty, expect_json, spawn_app,
    spawn_app_with,
};
use serde_json::{Value, json};
use uuid::Uuid;

const SESSIONS: &str = "/api/v1/users/me/sessions";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

async fn sessions(app: &TestApp, who: &Signed) -> Vec<Value> {
    let body = expect_json(app.get(SESSIONS, who).await, 200).await;
    body["data"].as_array().expect("a list").clone()
}

/// The session id an access token carries (its `sid` claim), read from the list.
async fn current_id(app: &TestApp, who: &Signed) -> String {
    let listed = sessions(app, who).await;
    let current: Vec<_> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{listed:?}");
    current[0]["id"].as_str().expect("an id").to_owned()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": refresh_token }),
        NO_TOKEN,
    )
    .await
}

/// A customer signed in twice: on Firefox/Linux, then on Safari/iPhone.
async fn two_devices(app: &TestApp) -> (Signed, Signed) {
    let first = app.sign_in_as(Role::Customer).await;
    let laptop = app
        .login_with(&first.email, &first.password, &[("User-Agent", FIREFOX)])
        .await;
    let phone = app
        .login_with(
            &first.email,
            &first.password,
            &[("User-Agent", SAFARI_IPHONE)],
        )
        .await;
    // The harness's own sign-in is a third session; end it so the list is just the two.
    let third = sessions(app, &first).await;
    assert_eq!(third.len(), 3, "{third:?}");
    let own = current_id(app, &first).await;
    expect_empty(app.delete(&format!("{SESSIONS}/{own}"), &first).await, 204).await;
    (laptop, phone)
}

#[tokio::test]
async fn the_list_shows_each_sign_in_with_its_device_and_network() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;

    let listed = sessions(&app, &laptop).await;

    assert_eq!(listed.len(), 2, "{listed:?}");
    // Newest use first: the phone signed in last.
    assert_eq!(listed[0]["device"], "Safari on iOS", "{listed:?}");
    assert_eq!(listed[0]["current"], false);
    assert_eq!(listed[1]["device"], "Firefox on Linux", "{listed:?}");
    assert_eq!(listed[1]["current"], true);
    for s in &listed {
        assert_eq!(s["ipPrefix"], "127.0.0.0/24", "{s}");
        for key in ["createdAt", "lastUsedAt", "expiresAt"] {
            assert!(s[key].is_string(), "{key} in {s}");
        }
        // Nothing secret is listed.
        let text = s.to_string();
        assert!(!text.contains(&laptop.refresh_token) && !text.contains(&phone.refresh_token));
        assert!(!text.contains("127.0.0.1"), "{text}");
    }
    // The phone sees the same two, itself as the current one.
    let from_phone = sessions(&app, &phone).await;
    assert_eq!(from_phone[0]["current"], true, "{from_phone:?}");
    assert_eq!(from_phone[0]["id"], listed[0]["id"]);
}

#[tokio::test]
async fn a_refresh_updates_last_use_and_keeps_the_session() {
    let app = spawn_app().await;
    let (laptop, _phone) = two_devices(&app).await;
    let before = sessions(&app, &laptop).await;
    let laptop_id = before[1]["id"].clone();

    let body = expect_json(refresh(&app, &laptop.refresh_token).await, 200).await;
    let token = body["access_token"].as_str().expect("a token");

    let after = expect_json(app.get(SESSIONS, token).await, 200).await;
    let after = after["data"].as_array().expect("a list");
    assert_eq!(after.len(), 2, "{after:?}");
    // The laptop was used last now: first, same id, same sign-in time, later last use.
    assert_eq!(after[0]["id"], laptop_id, "{after:?}");
    assert_eq!(after[0]["current"], true);
    assert_eq!(after[0]["createdAt"], before[1]["createdAt"]);
    assert!(
        after[0]["lastUsedAt"].as_str() > before[1]["lastUsedAt"].as_str(),
        "{after:?} / {before:?}"
    );
}

#[tokio::test]
async fn ending_a_session_refuses_its_refresh_and_access_tokens_at_once() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;
    let phone_id = current_id(&app, &phone).await;

    expect_empty(
        app.delete(&format!("{SESSIONS}/{phone_id}"), &laptop).await,
        204,
    )
    .await;

    assert_error(
        refresh(&app, &phone.refresh_token).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.get("/api/v1/auth/me", &phone).await,
        401,
        "unauthorized",
    )
    .await;
    // The laptop goes on, and sees only itself.
    let left = sessions(&app, &laptop).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["current"], true);
    expect_json(refresh(&app, &laptop.refresh_token).await, 200).await;
    // Ending it again: it is not a live session of mine any more.
    assert_error(
        app.delete(&format!("{SESSIONS}/{phone_id}"), &laptop).await,
        404,
        "session_not_found",
    )
    .await;
}

#[tokio::test]
async fn another_users_session_is_not_found_and_stays_alive() {
    let app = spawn_app().await;
    let mine = app.sign_in_as(Role::Customer).await;
    let theirs = app.sign_in_as(Role::Manager).await;
    let their_id = current_id(&app, &theirs).await;

    for id in [their_id.clone(), Uuid::now_v7().to_string()] {
        assert_error(
            app.delete(&format!("{SESSIONS}/{id}"), &mine).await,
            404,
            "session_not_found",
        )
        .await;
    }
    // Not even listed to me, and still working for them.
    assert!(
        sessions(&app, &mine)
            .await
            .iter()
            .all(|s| s["id"] != json!(their_id))
    );
    expect_json(app.get("/api/v1/auth/me", &theirs).await, 200).await;
    expect_json(refresh(&app, &theirs.refresh_token).await, 200).await;
}

#[tokio::test]
async fn ending_the_others_keeps_only_the_current_session() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;
    let extra = app.login(&laptop.email, &laptop.password).await;

    expect_empty(app.delete(SESSIONS, &phone).await, 204).await;

    let left = sessions(&app, &phone).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["current"], true);
    assert_eq!(left[0]["device"], "Safari on iOS");
    for gone in [&laptop, &extra] {
        assert_error(
            refresh(&app, &gone.refresh_token).await,
            401,
            "unauthorized",
        )
        .await;
        assert_error(app.get("/api/v1/auth/me", gone).await, 401, "unauthorized").await;
    }
    expect_json(app.get("/api/v1/auth/me", &phone).await, 200).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_network_is_the_forwarded_clients() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let user = app.sign_in_as(Role::Customer).await;
    let v4 = app
        .login_with(
            &user.email,
            &user.password,
            &[
                ("X-Forwarded-For", "203.0.113.77"),
                ("User-Agent", "curl/8.4.0"),
            ],
        )
        .await;
    let v6 = app
        .login_with(
            &user.email,
            &user.password,
            &[("X-Forwarded-For", "2001:db8:abcd:12::7")],
        )
        .await;

    let listed = sessions(&app, &v4).await;
    let v4_row = listed
        .iter()
        .find(|s| s["current"] == true)
        .expect("the current session");
    assert_eq!(v4_row["ipPrefix"], "203.0.113.0/24", "{listed:?}");
    assert_eq!(v4_row["device"], "curl", "{listed:?}");
    let v6_id = current_id(&app, &v6).await;
    let v6_row = listed
        .iter()
        .find(|s| s["id"] == json!(v6_id))
        .expect("the IPv6 session");
    assert_eq!(v6_row["ipPrefix"], "2001:db8:abcd::/48", "{listed:?}");
    assert_eq!(v6_row["device"], "Unknown device", "{listed:?}");
}
