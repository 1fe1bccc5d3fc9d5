//! `/api/v1/auth`: register, login, refresh, logout, me.

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpResponse, web};
use nexus_identity::{IdentityError, OtpOutcome, OtpPurpose, RegisterUser, SecondFactor};

use super::dto::{
    AcceptInviteRequest, EmailVerified, ForgotPasswordRequest, LoginRequest, LoginResponse,
    MfaChallengeResponse, OtpRequest, OtpRequested, OtpVerifyRequest, RefreshRequest,
    RegisterRequest, RegistrationAccepted, ResetPasswordRequest, ResetRequested, SignInResponse,
    TotpLoginRequest, UserResponse,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ValidatedJson};
use crate::http::limits::{Action, Client, Secret};
use crate::state::AppState;

/// Mounts the auth routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").route(web::post().to(register)))
        .service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/login/totp").route(web::post().to(login_totp)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/auth/me").route(web::get().to(me)))
        .service(web::resource("/auth/otp/request").route(web::post().to(request_otp)))
        .service(web::resource("/auth/otp/verify").route(web::post().to(verify_otp)))
        .service(web::resource("/auth/password/forgot").route(web::post().to(forgot_password)))
        .service(web::resource("/auth/password/reset").route(web::post().to(reset_password)))
        .service(web::resource("/auth/invites/accept").route(web::post().to(accept_invite)));
}

/// A response carrying tokens: never stored by a browser or a proxy.
fn token_response(body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(body)
}

/// Creates a CUSTOMER account (welcomed by e-mail; sign in next). An address that already
/// has an account gets the same 202, and its owner an e-mail instead: the answer reveals
/// nothing about which addresses have accounts.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 202, description = "accepted; the same for a new and a taken address", body = RegistrationAccepted), (status = 400, body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn register(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    state
        .guard()
        .admit(&client, Action::Register { email: &body.email })
        .await?;
    state
        .identity
        .register(RegisterUser::try_from(body)?)
        .await?;
    Ok(HttpResponse::Accepted().json(RegistrationAccepted {
        message: "Registration received. Check your e-mail, then sign in.",
    }))
}

/// Signs in; unknown e-mail and wrong password give the same 401. Repeated wrong passwords
/// lock this client out of the account for growing periods (429 with `Retry-After`). An
/// account with two-factor sign-in on gets no tokens but `{mfaRequired, challenge,
/// expiresIn}`: answer it at `POST /api/v1/auth/login/totp`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "tokens, or a challenge when two-factor sign-in is on", body = SignInResponse), (status = 401, description = "invalid_credentials", body = ErrorBody), (status = 403, description = "account_disabled", body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let limits = state.guard();
    limits.admit(&client, Action::Login).await?;
    let result = limits
        .guarded(
            &client,
            Secret::Password { email: &body.email },
            state
                .identity
                .login(&body.email, &body.password, client.info()),
            |e| matches!(e, IdentityError::InvalidCredentials),
        )
        .await??;
    Ok(token_response(SignInResponse::from(result)))
}

/// Answers a sign-in challenge with a code from the authenticator app or a recovery code
/// (single use), and signs in. A code works once; five wrong answers void the challenge,
/// which also expires after five minutes and is spent by its first right answer.
#[utoipa::path(post, path = "/api/v1/auth/login/totp", tag = "auth", request_body = TotpLoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 400, description = "invalid_code (wrong or reused), invalid_challenge (unknown, expired, used or voided: sign in again), or validation_failed (neither or both of code and recoveryCode)", body = ErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn login_totp(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<TotpLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let factor = match (body.code.as_deref(), body.recovery_code.as_deref()) {
        (Some(code), None) => SecondFactor::Code(code),
        (None, Some(code)) => SecondFactor::RecoveryCode(code),
        _ => {
            return Err(ApiError::field(
                "code",
                "required",
                "give exactly one of code and recoveryCode",
            ));
        }
    };
    state.guard().admit(&client, Action::Login).await?;
    let result = state
        .identity
        .complete_totp_sign_in(&body.challenge, factor)
        .await?;
    Ok(token_response(LoginResponse::from(result)))
}

/// Exchanges a refresh token (single use; reuse revokes the session). The body names it
/// `refreshToken` (`refresh_token` is accepted too).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = LoginResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::Refresh).await?;
    let result = state.identity.refresh(&body.0.refresh_token).await?;
    Ok(token_response(LoginResponse::from(result)))
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

/// Sends a 6-digit code (valid 10 minutes) to the address if it has an account. Answers the
/// same either way.
#[utoipa::path(post, path = "/api/v1/auth/otp/request", tag = "auth", request_body = OtpRequest,
    responses((status = 202, body = OtpRequested), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn request_otp(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let purpose = purpose(&body.0.purpose)?;
    state
        .guard()
        .admit(
            &client,
            Action::RequestOtp {
                email: &body.0.email,
            },
        )
        .await?;
    state.identity.request_otp(&body.0.email, purpose).await?;
    Ok(HttpResponse::Accepted().json(OtpRequested {
        message: "If the address belongs to an account, a code is on its way.",
    }))
}

/// Checks a code: VERIFY_EMAIL answers `{verified, user}`, LOGIN the login body. Twenty wrong
/// codes (from all clients together) void it.
#[utoipa::path(post, path = "/api/v1/auth/otp/verify", tag = "auth", request_body = OtpVerifyRequest,
    responses((status = 200, description = "EmailVerified for VERIFY_EMAIL; for LOGIN, LoginResponse, or MfaChallengeResponse when two-factor sign-in is on", body = LoginResponse), (status = 400, description = "invalid_code", body = ErrorBody), (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn verify_otp(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<OtpVerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let purpose = purpose(&body.0.purpose)?;
    let limits = state.guard();
    limits
        .admit(
            &client,
            Action::VerifyOtp {
                email: &body.0.email,
            },
        )
        .await?;
    // Wrong codes lock this client out of the address for growing periods, like wrong
    // passwords; the owner asking from elsewhere is not locked out.
    let outcome = limits
        .guarded(
            &client,
            Secret::Otp {
                email: &body.0.email,
            },
            state
                .identity
                .verify_otp(&body.0.email, &body.0.code, purpose, client.info()),
            |e| matches!(e, IdentityError::InvalidCode),
        )
        .await??;
    match outcome {
        OtpOutcome::Verified(user) => Ok(HttpResponse::Ok().json(EmailVerified {
            verified: true,
            user: user.into(),
        })),
        OtpOutcome::LoggedIn(result) => Ok(token_response(LoginResponse::from(result))),
        OtpOutcome::MfaRequired(challenge) => {
            Ok(token_response(MfaChallengeResponse::from(challenge)))
        }
    }
}

/// E-mails a single-use password-reset link (valid `PASSWORD_RESET_TTL_MINUTES`, default 30)
/// if the address belongs to an active account; a new link voids earlier ones. Answers the
/// same for unknown, deactivated and known addresses.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 202, description = "accepted; the same for every address", body = ResetRequested), (status = 400, body = ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn forgot_password(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .guard()
        .admit(
            &client,
            Action::ForgotPassword {
                email: &body.0.email,
            },
        )
        .await?;
    state.identity.request_password_reset(&body.0.email).await?;
    Ok(HttpResponse::Accepted().json(ResetRequested {
        message: "If the address belongs to an account, a reset link is on its way.",
    }))
}

/// Sets a new password with a reset link's token. The link is spent, the address counts as
/// verified, and every session of the account ends (sign in again). Unknown, expired, used
/// and voided tokens all answer 400 `invalid_token`.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 204, description = "password set; every session revoked"), (status = 400, description = "invalid_token, or a password the policy refuses", body = ErrorBody), (status = 409, description = "the account changed meanwhile; the link is still usable", body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::UseLink).await?;
    state
        .identity
        .reset_password(&body.0.token, &body.0.password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Chooses the first password of an invited staff account with its invitation link's
/// token. The link is spent and the address counts as verified; then sign in as usual.
/// Unknown, expired, used and voided tokens, and accounts no longer waiting for their
/// invitation, all answer 400 `invalid_token`.
#[utoipa::path(post, path = "/api/v1/auth/invites/accept", tag = "auth", request_body = AcceptInviteRequest,
    responses((status = 204, description = "password set; sign in with it"), (status = 400, description = "invalid_token, or a password the policy refuses", body = ErrorBody), (status = 409, description = "the account changed meanwhile; the link is still usable", body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn accept_invite(
    state: web::Data<AppState>,
    client: Client,
    body: ValidatedJson<AcceptInviteRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::UseLink).await?;
    state
        .identity
        .accept_invite(&body.0.token, &body.0.password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
