//! `/api/v1/auth`: register, login, refresh, logout, me.

use actix_web::{HttpResponse, web};
use nexus_identity::RegisterUser;
use nexus_kernel::{Email, PersonName};

use super::dto::{LoginRequest, LoginResponse, RefreshRequest, RegisterRequest, UserResponse};
use crate::http::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::extract::{Auth, ValidatedJson};
use crate::state::AppState;

/// Mounts the auth routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").route(web::post().to(register)))
        .service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/auth/me").route(web::get().to(me)));
}

/// Creates a CUSTOMER account and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = LoginResponse), (status = 400, body = ErrorBody), (status = 409, description = "email_taken", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn register(
    state: web::Data<AppState>,
    body: ValidatedJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", "email", Email::parse(&body.email));
    let first_name = errors.check("firstName", "invalid", PersonName::parse(&body.first_name));
    let last_name = errors.check("lastName", "invalid", PersonName::parse(&body.last_name));
    let (Some(email), Some(first_name), Some(last_name)) = (email, first_name, last_name) else {
        return Err(errors.into_error());
    };
    let result = state
        .identity
        .register(RegisterUser {
            email,
            password: body.password,
            first_name,
            last_name,
        })
        .await?;
    Ok(HttpResponse::Created().json(LoginResponse::from(result)))
}

/// Signs in; unknown e-mail and wrong password give the same 401.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials", body = ErrorBody), (status = 403, description = "account_disabled", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    body: ValidatedJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .identity
        .login(&body.0.email, &body.0.password)
        .await?;
    Ok(HttpResponse::Ok().json(LoginResponse::from(result)))
}

/// Exchanges a refresh token (single use; reuse revokes the session).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ValidatedJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = state.identity.refresh(&body.0.refresh_token).await?;
    Ok(HttpResponse::Ok().json(LoginResponse::from(result)))
}

/// Ends the current session: its access and refresh tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn logout(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    state.identity.logout(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn me(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let user = state.identity.me(&auth.actor()).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}
