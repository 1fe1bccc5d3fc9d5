//! `/api/v1/users`: one's own profile and password, and user administration.

use actix_web::{HttpResponse, web};
use nexus_identity::{NewStaffUser, UpdateProfile, UpdateUser, UserFilter};
use nexus_kernel::{Email, PageRequest, PersonName, Role, UserId};
use uuid::Uuid;

use super::dto::{
    ChangePasswordRequest, CreateUserRequest, ListUsersQuery, UpdateMeRequest, UpdateUserRequest,
};
use crate::http::auth::dto::UserResponse;
use crate::http::error::{ApiError, ErrorBody, FieldErrors, password_code};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::limits::{Action, Client, Secret};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the user routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/users/me").route(web::patch().to(update_me)))
        .service(web::resource("/users/me/password").route(web::post().to(change_password)))
        .service(
            web::resource("/users")
                .route(web::get().to(list_users))
                .route(web::post().to(create_user)),
        )
        .service(
            web::resource("/users/{id}")
                .route(web::get().to(get_user))
                .route(web::patch().to(update_user)),
        );
}

/// Changes the caller's names.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses((status = 200, body = UserResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn update_me(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::default();
    let first_name = errors.check_opt(
        "firstName",
        "invalid",
        body.first_name.as_deref().map(PersonName::parse),
    );
    let last_name = errors.check_opt(
        "lastName",
        "invalid",
        body.last_name.as_deref().map(PersonName::parse),
    );
    let (Some(first_name), Some(last_name)) = (first_name, last_name) else {
        return Err(errors.into_error());
    };
    let user = state
        .identity
        .update_profile(
            &auth.actor(),
            UpdateProfile {
                first_name,
                last_name,
            },
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// Changes the caller's password and signs out their other sessions. Repeated wrong current
/// passwords lock the change out for growing periods (429 with `Retry-After`), so a stolen
/// access token cannot be used to guess the password.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.guard();
    limits.admit(&client, Action::ChangePassword).await?;
    let result = limits
        .guarded(
            &client,
            Secret::CurrentPassword {
                user: auth.actor().user_id(),
            },
            state
                .identity
                .change_password(&auth.0, &body.0.current_password, &body.0.new_password),
            |e| matches!(e, nexus_identity::IdentityError::WrongPassword),
        )
        .await?;
    // The policy error names `password`; in this request the field is `newPassword`.
    if let Err(nexus_identity::IdentityError::WeakPassword(rule)) = result {
        return Err(ApiError::field(
            "newPassword",
            password_code(rule),
            rule.to_string(),
        ));
    }
    result?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists accounts (ADMIN).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListUsersQuery),
    responses((status = 200, body = PageResponse<UserResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_users(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ListUsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let role = match query.role.as_deref() {
        None => None,
        Some(raw) => Some(
            raw.parse::<Role>()
                .map_err(|e| ApiError::field("role", "invalid", e.to_string()))?,
        ),
    };
    let filter = UserFilter {
        role,
        is_active: query.is_active,
    };
    let page = state
        .identity
        .list_users(
            &auth.actor(),
            &filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, UserResponse::from)))
}

/// Creates an account with any role (ADMIN).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", "email", Email::parse(&body.email));
    let first_name = errors.check("firstName", "invalid", PersonName::parse(&body.first_name));
    let last_name = errors.check("lastName", "invalid", PersonName::parse(&body.last_name));
    let role = errors.check("role", "invalid", body.role.parse::<Role>());
    let (Some(email), Some(first_name), Some(last_name), Some(role)) =
        (email, first_name, last_name, role)
    else {
        return Err(errors.into_error());
    };
    let input = NewStaffUser {
        email,
        password: body.password,
        first_name,
        last_name,
        role,
    };
    let user = state.identity.create_user(&auth.actor(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// One account (ADMIN).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = UserResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .identity
        .get_user(&auth.actor(), UserId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// Changes an account's role, status or names (ADMIN). `If-Match` is honoured when sent.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateUserRequest,
    responses((status = 200, body = UserResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::default();
    let first_name = errors.check_opt(
        "firstName",
        "invalid",
        body.first_name.as_deref().map(PersonName::parse),
    );
    let last_name = errors.check_opt(
        "lastName",
        "invalid",
        body.last_name.as_deref().map(PersonName::parse),
    );
    let role = errors.check_opt(
        "role",
        "invalid",
        body.role.as_deref().map(str::parse::<Role>),
    );
    let (Some(first_name), Some(last_name), Some(role)) = (first_name, last_name, role) else {
        return Err(errors.into_error());
    };
    let change = UpdateUser {
        role,
        is_active: body.is_active,
        first_name,
        last_name,
        expected_version: if_match.0,
    };
    let user = state
        .identity
        .update_user(&auth.actor(), UserId::from_uuid(*id), change)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}
