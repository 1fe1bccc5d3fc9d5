//! `/api/v1/users`: the signed-in user's own profile and password, and user management by
//! administrators.

use nexus_tests::{
    NO_TOKEN, Role, TestApp, assert_error, assert_no_password_fields, detail_fields, expect_empty,
    expect_json, spawn_app, unique_email,
};
use reqwest::Response;
use serde_json::{Value, json};

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    app.post_json(
        "/api/v1/users/me/password",
        &json!({ "currentPassword": current, "newPassword": new }),
        token,
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

fn new_user(role: &str) -> Value {
    json!({
        "email": unique_email(&role.to_lowercase()),
        "password": "a good long password",
        "firstName": "New",
        "lastName": "Hire",
        "role": role,
    })
}

fn user_path(id: &str) -> String {
    format!("/api/v1/users/{id}")
}

#[tokio::test]
async fn update_me_changes_only_the_given_names() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let res = app
        .patch_json(
            "/api/v1/users/me",
            &json!({ "firstName": "Grace" }),
            &user,
            None,
        )
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["firstName"], "Grace");
    assert_eq!(body["lastName"], "CUSTOMER");
    assert_no_password_fields(&body);
    let me = expect_json(app.get("/api/v1/auth/me", &user).await, 200).await;
    assert_eq!(me["firstName"], "Grace");
    assert_eq!(me["lastName"], "CUSTOMER");
}

#[tokio::test]
async fn update_me_without_a_token_is_unauthorized() {
    let app = spawn_app().await;

    let res = app
        .patch_json(
            "/api/v1/users/me",
            &json!({ "firstName": "Nobody" }),
            NO_TOKEN,
            None,
        )
        .await;

    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn changing_the_password_swaps_which_password_logs_in() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Cso).await;

    let res = change_password(&app, &user.token, &user.password, "a brand new secret").await;

    expect_empty(res, 204).await;
    expect_json(login(&app, &user.email, "a brand new secret").await, 200).await;
    assert_error(
        login(&app, &user.email, &user.password).await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn changing_the_password_revokes_other_sessions_but_keeps_the_current_one() {
    let app = spawn_app().await;
    let current = app.sign_in_as(Role::Customer).await;
    let other = app.login(&current.email, &current.password).await;

    let res = change_password(
        &app,
        &current.token,
        &current.password,
        "a brand new secret",
    )
    .await;

    expect_empty(res, 204).await;
    expect_json(app.get("/api/v1/auth/me", &current).await, 200).await;
    assert_error(
        app.get("/api/v1/auth/me", &other).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": other.refresh_token }),
            NO_TOKEN,
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn changing_the_password_with_a_wrong_current_password_is_a_validation_error() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let res = change_password(&app, &user.token, "not my password", "a brand new secret").await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["currentPassword"]);
    expect_json(login(&app, &user.email, &user.password).await, 200).await;
}

#[tokio::test]
async fn changing_the_password_to_a_too_short_one_is_a_validation_error() {
    let app = spawn_app().await;
    let user = app.sign_in_as(Role::Customer).await;

    let res = change_password(&app, &user.token, &user.password, "short").await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["newPassword"]);
    expect_json(login(&app, &user.email, &user.password).await, 200).await;
}

#[tokio::test]
async fn changing_the_password_without_a_token_is_unauthorized() {
    let app = spawn_app().await;

    let res = app
        .post_json(
            "/api/v1/users/me/password",
            &json!({ "currentPassword": "whatever1", "newPassword": "whatever2" }),
            NO_TOKEN,
        )
        .await;

    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn admin_lists_users_page_by_page() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for role in ["CSO", "CSO", "MANAGER"] {
        expect_json(
            app.post_json("/api/v1/users", &new_user(role), &admin)
                .await,
            201,
        )
        .await;
    }

    let first = expect_json(app.get("/api/v1/users?page=1&limit=3", &admin).await, 200).await;
    let second = expect_json(app.get("/api/v1/users?page=2&limit=3", &admin).await, 200).await;

    // The bootstrapped administrator plus the three created here.
    assert_eq!(first["meta"]["total"], 4);
    assert_eq!(first["meta"]["page"], 1);
    assert_eq!(first["meta"]["limit"], 3);
    assert_eq!(first["meta"]["totalPages"], 2);
    assert_eq!(first["data"].as_array().expect("data").len(), 3);
    assert_eq!(second["meta"]["page"], 2);
    assert_eq!(second["data"].as_array().expect("data").len(), 1);
    assert_no_password_fields(&first);
    let mut ids: Vec<&Value> = first["data"]
        .as_array()
        .expect("data")
        .iter()
        .chain(second["data"].as_array().expect("data"))
        .map(|u| &u["id"])
        .collect();
    ids.sort_by_key(|id| id.to_string());
    ids.dedup();
    assert_eq!(ids.len(), 4, "pages overlap");
}

#[tokio::test]
async fn listing_users_caps_the_page_size_at_100() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let body = expect_json(app.get("/api/v1/users?limit=1000", &admin).await, 200).await;

    assert_eq!(body["meta"]["limit"], 100);
}

#[tokio::test]
async fn listing_users_filters_by_role_and_by_active_flag() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut csos = Vec::new();
    for role in ["CSO", "CSO", "MANAGER"] {
        let user = expect_json(
            app.post_json("/api/v1/users", &new_user(role), &admin)
                .await,
            201,
        )
        .await;
        if role == "CSO" {
            csos.push(user["id"].clone());
        }
    }
    expect_json(
        app.patch_json(
            &user_path(csos[0].as_str().expect("id")),
            &json!({ "isActive": false }),
            &admin,
            None,
        )
        .await,
        200,
    )
    .await;

    let by_role = expect_json(app.get("/api/v1/users?role=CSO", &admin).await, 200).await;
    let inactive = expect_json(app.get("/api/v1/users?isActive=false", &admin).await, 200).await;
    let active_csos = expect_json(
        app.get("/api/v1/users?role=CSO&isActive=true", &admin)
            .await,
        200,
    )
    .await;

    assert_eq!(by_role["meta"]["total"], 2);
    assert!(
        by_role["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|u| u["role"] == "CSO")
    );
    assert_eq!(inactive["meta"]["total"], 1);
    assert_eq!(inactive["data"][0]["id"], csos[0]);
    assert_eq!(active_csos["meta"]["total"], 1);
    assert_eq!(active_csos["data"][0]["id"], csos[1]);
}

#[tokio::test]
async fn only_admins_may_manage_users() {
    let app = spawn_app().await;
    let target = app.sign_in_as(Role::Cso).await;
    let path = user_path(&target.user_id);
    for role in [Role::Manager, Role::Cso, Role::Customer] {
        let user = app.sign_in_as(role).await;

        let list = app.get("/api/v1/users", &user).await;
        let create = app
            .post_json("/api/v1/users", &new_user("CSO"), &user)
            .await;
        let read = app.get(&path, &user).await;
        let update = app
            .patch_json(&path, &json!({ "isActive": false }), &user, None)
            .await;

        assert_error(list, 403, "forbidden").await;
        assert_error(create, 403, "forbidden").await;
        assert_error(read, 403, "forbidden").await;
        assert_error(update, 403, "forbidden").await;
    }
    // Nothing was changed by the refused attempts.
    expect_json(app.get("/api/v1/auth/me", &target).await, 200).await;
}

#[tokio::test]
async fn user_management_without_a_token_is_unauthorized() {
    let app = spawn_app().await;
    let target = app.sign_in_as(Role::Cso).await;
    let path = user_path(&target.user_id);

    assert_error(
        app.get("/api/v1/users", NO_TOKEN).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.post_json("/api/v1/users", &new_user("CSO"), NO_TOKEN)
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(app.get(&path, NO_TOKEN).await, 401, "unauthorized").await;
    assert_error(
        app.patch_json(&path, &json!({ "isActive": false }), NO_TOKEN, None)
            .await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn admin_creates_users_of_any_role_who_can_then_log_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for role in ["ADMIN", "MANAGER", "CSO", "EDITOR", "CUSTOMER"] {
        let body = new_user(role);

        let created = expect_json(app.post_json("/api/v1/users", &body, &admin).await, 201).await;

        assert_eq!(created["role"], role);
        assert_eq!(created["email"], body["email"]);
        assert_eq!(created["isActive"], true);
        assert_no_password_fields(&created);
        let email = body["email"].as_str().expect("email");
        let session = expect_json(login(&app, email, "a good long password").await, 200).await;
        assert_eq!(session["user"]["role"], role);
    }
}

#[tokio::test]
async fn admin_cannot_create_a_user_with_a_taken_email() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut body = new_user("CSO");
    body["email"] = json!(app.admin_email.to_uppercase());

    let res = app.post_json("/api/v1/users", &body, &admin).await;

    assert_error(res, 409, "email_taken").await;
}

#[tokio::test]
async fn creating_a_user_with_an_unknown_role_is_a_validation_error() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let res = app
        .post_json("/api/v1/users", &new_user("ROOT"), &admin)
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["role"]);
}

#[tokio::test]
async fn admin_reads_a_user_by_id() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cso = app.sign_in_as(Role::Cso).await;

    let body = expect_json(app.get(&user_path(&cso.user_id), &admin).await, 200).await;

    assert_eq!(body["id"], cso.user_id.as_str());
    assert_eq!(body["email"], cso.email.as_str());
    assert_eq!(body["role"], "CSO");
    assert_no_password_fields(&body);
}

#[tokio::test]
async fn reading_an_unknown_or_malformed_user_id_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let unknown = app
        .get(&user_path(&uuid::Uuid::new_v4().to_string()), &admin)
        .await;
    let malformed = app.get(&user_path("not-a-uuid"), &admin).await;

    assert_error(unknown, 404, "not_found").await;
    assert_error(malformed, 404, "not_found").await;
}

#[tokio::test]
async fn admin_changes_a_users_role_and_names() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cso = app.sign_in_as(Role::Cso).await;

    let res = app
        .patch_json(
            &user_path(&cso.user_id),
            &json!({ "role": "MANAGER", "lastName": "Promoted" }),
            &admin,
            None,
        )
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["role"], "MANAGER");
    assert_eq!(body["lastName"], "Promoted");
    assert_eq!(body["firstName"], "Test");
    let fresh = app.login(&cso.email, &cso.password).await;
    let me = expect_json(app.get("/api/v1/auth/me", &fresh).await, 200).await;
    assert_eq!(me["role"], "MANAGER");
}

#[tokio::test]
async fn changing_a_user_to_an_unknown_role_is_a_validation_error() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cso = app.sign_in_as(Role::Cso).await;

    let res = app
        .patch_json(
            &user_path(&cso.user_id),
            &json!({ "role": "SUPERUSER" }),
            &admin,
            None,
        )
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["role"]);
}

#[tokio::test]
async fn updating_an_unknown_user_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let res = app
        .patch_json(
            &user_path(&uuid::Uuid::new_v4().to_string()),
            &json!({ "firstName": "Ghost" }),
            &admin,
            None,
        )
        .await;

    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn deactivating_a_user_revokes_their_sessions_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cso = app.sign_in_as(Role::Cso).await;
    expect_json(app.get("/api/v1/auth/me", &cso).await, 200).await;

    let res = app
        .patch_json(
            &user_path(&cso.user_id),
            &json!({ "isActive": false }),
            &admin,
            None,
        )
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["isActive"], false);
    assert_error(app.get("/api/v1/auth/me", &cso).await, 401, "unauthorized").await;
    assert_error(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": cso.refresh_token }),
            NO_TOKEN,
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        login(&app, &cso.email, &cso.password).await,
        403,
        "account_disabled",
    )
    .await;
}

#[tokio::test]
async fn reactivating_a_user_lets_them_log_in_again() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let path = user_path(&cso.user_id);
    expect_json(
        app.patch_json(&path, &json!({ "isActive": false }), &admin, None)
            .await,
        200,
    )
    .await;

    let res = app
        .patch_json(&path, &json!({ "isActive": true }), &admin, None)
        .await;

    assert_eq!(expect_json(res, 200).await["isActive"], true);
    expect_json(login(&app, &cso.email, &cso.password).await, 200).await;
}

#[tokio::test]
async fn an_admin_cannot_deactivate_or_demote_themselves() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let path = user_path(&admin.user_id);

    let deactivate = app
        .patch_json(&path, &json!({ "isActive": false }), &admin, None)
        .await;
    let demote = app
        .patch_json(&path, &json!({ "role": "MANAGER" }), &admin, None)
        .await;

    assert_error(deactivate, 409, "self_lockout").await;
    assert_error(demote, 409, "self_lockout").await;
    let me = expect_json(app.get("/api/v1/auth/me", &admin).await, 200).await;
    assert_eq!(me["role"], "ADMIN");
    assert_eq!(me["isActive"], true);
}

#[tokio::test]
async fn an_admin_may_still_rename_themselves_through_user_management() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    let res = app
        .patch_json(
            &user_path(&admin.user_id),
            &json!({ "firstName": "Root", "role": "ADMIN", "isActive": true }),
            &admin,
            None,
        )
        .await;

    let body = expect_json(res, 200).await;
    assert_eq!(body["firstName"], "Root");
    assert_eq!(body["role"], "ADMIN");
}

#[tokio::test]
async fn an_admin_may_deactivate_another_admin() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let other = app.sign_in_as(Role::Admin).await;

    let res = app
        .patch_json(
            &user_path(&other.user_id),
            &json!({ "isActive": false }),
            &admin,
            None,
        )
        .await;

    assert_eq!(expect_json(res, 200).await["isActive"], false);
    assert_error(app.get("/api/v1/users", &other).await, 401, "unauthorized").await;
}
