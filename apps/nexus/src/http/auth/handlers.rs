//! `/api/v1/auth`: register, login, refresh, logout, me.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_identity::{IdentityError, OtpOutcome, OtpPurpose, RegisterUser};
use nexus_kernel::{Email, PersonName};

use super::dto::{
    EmailVerified, LoginRequest, LoginResponse, OtpRequest, OtpRequested, OtpVerifyRequest,
    RefreshRequest, RegisterRequest, RegistrationAccepted, UserResponse,
};
use crate::http::client::{PasswordGuard, client_ip, enforce};
use crate::http::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::extract::{Auth, ValidatedJson};
use crate::state::AppState;

/// Mounts the auth routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").route(web::post().to(register)))
        .service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/auth/me").route(web::get().to(me)))
        .service(web::resource("/auth/otp/request").route(web::post().to(request_otp)))
        .service(web::resource("/auth/otp/verify").route(web::post().to(verify_otp)));
}

/// A response carrying tokens: never stored by a browser or a proxy.
fn token_response(status: StatusCode, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(body)
}

/// Counts one request of `action` from this client against the auth limit.
async fn limit_client(
    state: &AppState,
    req: &HttpRequest,
    action: &str,
) -> Result<String, ApiError> {
    let limits = &state.limits;
    let client = client_ip(req, &limits.proxies);
    enforce(
        state.limiter.as_ref(),
        &format!("auth:{action}:{client}"),
        limits.auth,
        limits.auth_window_secs,
    )
    .await?;
    Ok(client)
}

/// Creates a CUSTOMER account (welcomed by e-mail; sign in next). An address that already
/// has an account gets the same 202, and its owner an e-mail instead: the answer reveals
/// nothing about which addresses have accounts.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 202, description = "accepted; the same for a new and a taken address", body = RegistrationAccepted), (status = 400, body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_client(&state, &req, "register").await?;
    let body = body.0;
    // Each registration of a taken address mails its owner: limit them per address too.
    let limits = &state.limits;
    enforce(
        state.limiter.as_ref(),
        &format!("auth:register:email:{}", body.email.trim().to_lowercase()),
        limits.otp_per_address,
        limits.otp_window_secs,
    )
    .await?;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", "email", Email::parse(&body.email));
    let first_name = errors.check("firstName", "invalid", PersonName::parse(&body.first_name));
    let last_name = errors.check("lastName", "invalid", PersonName::parse(&body.last_name));
    let (Some(email), Some(first_name), Some(last_name)) = (email, first_name, last_name) else {
        return Err(errors.into_error());
    };
    state
        .identity
        .register(RegisterUser {
            email,
            password: body.password,
            first_name,
            last_name,
        })
        .await?;
    Ok(HttpResponse::Accepted().json(RegistrationAccepted {
        message: "Registration received. Check your e-mail, then sign in.",
    }))
}

/// Signs in; unknown e-mail and wrong password give the same 401. Repeated wrong passwords
/// lock this client out of the account for growing periods (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials", body = ErrorBody), (status = 403, description = "account_disabled", body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = limit_client(&state, &req, "login").await?;
    let account = body.0.email.trim().to_lowercase();
    let guard = PasswordGuard::new(
        state.failures.as_ref(),
        &state.limits,
        "login",
        &account,
        &client,
    );
    guard.check().await?;
    match state.identity.login(&body.0.email, &body.0.password).await {
        Ok(result) => {
            guard.succeeded().await?;
            Ok(token_response(StatusCode::OK, LoginResponse::from(result)))
        }
        Err(IdentityError::InvalidCredentials) => {
            guard.failed().await?;
            Err(IdentityError::InvalidCredentials.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Exchanges a refresh token (single use; reuse revokes the session). The body names it
/// `refreshToken` (`refresh_token` is accepted too).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_client(&state, &req, "refresh").await?;
    let result = state.identity.refresh(&body.0.refresh_token).await?;
    Ok(token_response(StatusCode::OK, LoginResponse::from(result)))
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

fn purpose(raw: &str) -> Result<OtpPurpose, ApiError> {
    raw.parse::<OtpPurpose>()
        .map_err(|e| ApiError::field("purpose", "invalid", e.to_string()))
}

/// Limits code requests and checks per client (`OTP_RATE_LIMIT`, which also bounds what one
/// client can do to one address) and per address from all clients together
/// (`OTP_ADDRESS_RATE_LIMIT`, looser): one client cannot use up an address's budget and
/// lock its owner out, and many clients together still cannot grind through codes.
async fn limit_otp(
    state: &AppState,
    req: &HttpRequest,
    action: &str,
    email: &str,
) -> Result<(), ApiError> {
    let limits = &state.limits;
    let ip = client_ip(req, &limits.proxies);
    let address = email.trim().to_lowercase();
    enforce(
        state.limiter.as_ref(),
        &format!("otp:{action}:ip:{ip}"),
        limits.otp,
        limits.otp_window_secs,
    )
    .await?;
    enforce(
        state.limiter.as_ref(),
        &format!("otp:{action}:email:{address}"),
        limits.otp_per_address,
        limits.otp_window_secs,
    )
    .await
}

/// Sends a 6-digit code (valid 10 minutes) to the address if it has an account. Answers the
/// same either way.
#[utoipa::path(post, path = "/api/v1/auth/otp/request", tag = "auth", request_body = OtpRequest,
    responses((status = 202, body = OtpRequested), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn request_otp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let purpose = purpose(&body.0.purpose)?;
    limit_otp(&state, &req, "request", &body.0.email).await?;
    state.identity.request_otp(&body.0.email, purpose).await?;
    Ok(HttpResponse::Accepted().json(OtpRequested {
        message: "If the address belongs to an account, a code is on its way.",
    }))
}

/// Checks a code: VERIFY_EMAIL answers `{verified, user}`, LOGIN the login body. Twenty wrong
/// codes (from all clients together) void it.
#[utoipa::path(post, path = "/api/v1/auth/otp/verify", tag = "auth", request_body = OtpVerifyRequest,
    responses((status = 200, description = "EmailVerified for VERIFY_EMAIL, LoginResponse for LOGIN", body = LoginResponse), (status = 400, description = "invalid_code", body = ErrorBody), (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn verify_otp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<OtpVerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let purpose = purpose(&body.0.purpose)?;
    limit_otp(&state, &req, "verify", &body.0.email).await?;
    // Wrong codes lock this client out of the address for growing periods, like wrong
    // passwords; the owner asking from elsewhere is not locked out.
    let client = client_ip(&req, &state.limits.proxies);
    let account = body.0.email.trim().to_lowercase();
    let guard = PasswordGuard::new(
        state.failures.as_ref(),
        &state.limits,
        "otp",
        &account,
        &client,
    );
    guard.check().await?;
    let outcome = match state
        .identity
        .verify_otp(&body.0.email, &body.0.code, purpose)
        .await
    {
        Ok(outcome) => outcome,
        Err(IdentityError::InvalidCode) => {
            guard.failed().await?;
            return Err(IdentityError::InvalidCode.into());
        }
        Err(e) => return Err(e.into()),
    };
    guard.succeeded().await?;
    match outcome {
        OtpOutcome::Verified(user) => Ok(HttpResponse::Ok().json(EmailVerified {
            verified: true,
            user: user.into(),
        })),
        OtpOutcome::LoggedIn(result) => {
            Ok(token_response(StatusCode::OK, LoginResponse::from(result)))
        }
    }
}
