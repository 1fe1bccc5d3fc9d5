//! `/api/v1/users`: one's own profile and password, and user administration.

use actix_web::{HttpResponse, web};
use nexus_identity::{NewStaffUser, StaffInvite, UpdateProfile, UserFilter};
use nexus_kernel::{PageRequest, UserId};
use uuid::Uuid;

use super::dto::{
    ChangeEmailRequest, ChangePasswordRequest, ConfirmEmailRequest, CreateUserRequest,
    DisableTotpRequest, EmailChangeRequested, InviteUserRequest, ListUsersQuery, SessionList,
    SessionResponse, StartTotpRequest, TotpCodeRequest, TotpEnabledResponse, TotpSetupResponse,
    UpdateMeRequest, UpdateUserRequest,
};
use crate::http::auth::dto::UserResponse;
use crate::http::error::{ApiError, ErrorBody, password_code};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::limits::{Action, Client, Secret};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the user routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/users/me").route(web::patch().to(update_me)))
        .service(web::resource("/users/me/password").route(web::post().to(change_password)))
        .service(web::resource("/users/me/email").route(web::post().to(change_email)))
        .service(web::resource("/users/me/email/confirm").route(web::post().to(confirm_email)))
        .service(web::resource("/users/me/export").route(web::get().to(super::privacy::export_me)))
        .service(web::resource("/users/me/erase").route(web::post().to(super::privacy::erase_me)))
        .service(
            web::resource("/users/me/sessions")
                .route(web::get().to(list_sessions))
                .route(web::delete().to(revoke_other_sessions)),
        )
        .service(web::resource("/users/me/sessions/{id}").route(web::delete().to(revoke_session)))
        .service(
            web::resource("/users/me/totp")
                .route(web::post().to(start_totp))
                .route(web::delete().to(disable_totp)),
        )
        .service(web::resource("/users/me/totp/confirm").route(web::post().to(confirm_totp)))
        .service(web::resource("/users/invites").route(web::post().to(invite_user)))
        .service(web::resource("/users/{id}/invite").route(web::post().to(resend_invite)))
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
    let change = UpdateProfile::try_from(body.0)?;
    let user = state.identity.update_profile(&auth.actor(), change).await?;
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
    let filter = UserFilter::try_from(&*query)?;
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
    let input = NewStaffUser::try_from(body.0)?;
    let user = state.identity.create_user(&auth.actor(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// Invites a staff member by e-mail (ADMIN): creates the account (CSO, MANAGER, EDITOR or
/// ADMIN) without a password, and e-mails a single-use link (valid `INVITE_TTL_MINUTES`,
/// default 7 days) where the invitee chooses one (`POST /api/v1/auth/invites/accept`).
#[utoipa::path(post, path = "/api/v1/users/invites", tag = "users", security(("bearer" = [])), request_body = InviteUserRequest,
    responses((status = 201, description = "invited; `invitationPending` is true until the invitee accepts", body = UserResponse), (status = 400, description = "validation_failed (a CUSTOMER role: staff_role_required)", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "email_taken", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn invite_user(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<InviteUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let invite = StaffInvite::try_from(body.0)?;
    let user = state.identity.invite_staff(&auth.actor(), invite).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// E-mails a fresh invitation link to an invited account that has not accepted yet
/// (ADMIN); earlier links stop working.
#[utoipa::path(post, path = "/api/v1/users/{id}/invite", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 202, description = "a new link is on its way", body = UserResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "not_invited: the account has a password or a verified address, or is deactivated", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(user = %id))]
pub async fn resend_invite(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .identity
        .resend_invite(&auth.actor(), UserId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Accepted()
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
    let change = body.0.into_domain(if_match.0)?;
    let user = state
        .identity
        .update_user(&auth.actor(), UserId::from_uuid(*id), change)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// Asks to move the caller's sign-in address: a single-use confirmation link (valid
/// `EMAIL_CHANGE_TTL_MINUTES`, default 60) goes to the new address and a notice to the
/// current one. An address another account has gets nothing and the same 202. Wrong current
/// passwords lock the request out like a password change.
#[utoipa::path(post, path = "/api/v1/users/me/email", tag = "users", security(("bearer" = [])), request_body = ChangeEmailRequest,
    responses((status = 202, body = EmailChangeRequested), (status = 400, description = "validation_failed, or wrong_password", body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, description = "email_taken: the address is already the caller's", body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn change_email(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<ChangeEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let new_email = nexus_kernel::Email::parse(&body.0.new_email)
        .map_err(|e| ApiError::field("newEmail", "email", e.to_string()))?;
    let limits = state.guard();
    limits
        .admit(
            &client,
            Action::ChangeEmail {
                email: new_email.as_str(),
            },
        )
        .await?;
    limits
        .guarded(
            &client,
            Secret::CurrentPassword {
                user: auth.actor().user_id(),
            },
            state
                .identity
                .request_email_change(&auth.0, new_email, &body.0.current_password),
            |e| matches!(e, nexus_identity::IdentityError::WrongPassword),
        )
        .await??;
    Ok(HttpResponse::Accepted().json(EmailChangeRequested {
        message: "Check the new address for a confirmation link.",
    }))
}

/// Confirms an e-mail change with the token of the link sent to the new address: the
/// address changes (and stays verified) and every other session of the caller ends.
/// Unknown, expired, used, voided and other accounts' tokens answer 400 `invalid_token`.
#[utoipa::path(post, path = "/api/v1/users/me/email/confirm", tag = "users", security(("bearer" = [])), request_body = ConfirmEmailRequest,
    responses((status = 200, body = UserResponse), (status = 400, description = "invalid_token", body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, description = "email_taken: another account took the address meanwhile", body = ErrorBody), (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn confirm_email(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<ConfirmEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::UseLink).await?;
    let user = state
        .identity
        .confirm_email_change(&auth.0, &body.0.token)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// The caller's live sessions (one per sign-in), most recently used first; the session of
/// this request has `current: true`. Devices are labelled from the `User-Agent` and
/// networks cut to /24 (IPv4) or /48 (IPv6).
#[utoipa::path(get, path = "/api/v1/users/me/sessions", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_sessions(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.identity.list_sessions(&auth.0).await?;
    Ok(HttpResponse::Ok().json(SessionList {
        data: sessions.into_iter().map(SessionResponse::from).collect(),
    }))
}

/// Ends one of the caller's sessions at once: its refresh token and its access tokens stop
/// working. Ending the current one signs out. Another user's, an ended or an unknown
/// session is 404 alike.
#[utoipa::path(delete, path = "/api/v1/users/me/sessions/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the session id, as listed")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 404, description = "session_not_found", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(session = %id))]
pub async fn revoke_session(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .identity
        .revoke_session(&auth.0, nexus_identity::SessionFamilyId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of the caller except the current one ("sign out everywhere else").
#[utoipa::path(delete, path = "/api/v1/users/me/sessions", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn revoke_other_sessions(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    state.identity.revoke_other_sessions(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Starts enrolling an authenticator app: a new secret (base32) and its `otpauth://` URI,
/// shown once (a new start replaces an unconfirmed one). Accounts with a password give it
/// as `currentPassword`; wrong ones lock the caller out like a password change does.
#[utoipa::path(post, path = "/api/v1/users/me/totp", tag = "users", security(("bearer" = [])), request_body = StartTotpRequest,
    responses((status = 200, body = TotpSetupResponse),
        (status = 400, description = "wrong_password (field currentPassword)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "totp_already_enabled", body = ErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn start_totp(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<StartTotpRequest>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.guard();
    limits.admit(&client, Action::ChangePassword).await?;
    let user = auth.actor().user_id();
    let setup = limits
        .guarded(
            &client,
            Secret::CurrentPassword { user },
            state
                .identity
                .start_totp(&auth.0, body.0.current_password.as_deref()),
            |e| matches!(e, nexus_identity::IdentityError::WrongPassword),
        )
        .await??;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TotpSetupResponse {
            secret: setup.secret,
            otpauth_uri: setup.otpauth_uri,
        }))
}

/// Turns two-factor sign-in on with a first code from the app, and answers ten single-use
/// recovery codes, shown once.
#[utoipa::path(post, path = "/api/v1/users/me/totp/confirm", tag = "users", security(("bearer" = [])), request_body = TotpCodeRequest,
    responses((status = 200, body = TotpEnabledResponse),
        (status = 400, description = "invalid_code", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "totp_not_started, totp_already_enabled, or conflict with a concurrent confirmation", body = ErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<TotpCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::ChangePassword).await?;
    let codes = state.identity.confirm_totp(&auth.0, &body.0.code).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TotpEnabledResponse {
            enabled: true,
            recovery_codes: codes,
        }))
}

/// Turns two-factor sign-in off, proven by a current code, a recovery code or the
/// password (`currentPassword`).
#[utoipa::path(delete, path = "/api/v1/users/me/totp", tag = "users", security(("bearer" = [])), request_body = DisableTotpRequest,
    responses((status = 204),
        (status = 400, description = "invalid_code (wrong or reused), wrong_password, or validation_failed (none of code, recoveryCode and currentPassword)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "totp_not_enabled", body = ErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn disable_totp(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<DisableTotpRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let factor = match (body.code.as_deref(), body.recovery_code.as_deref()) {
        (Some(code), None) => Some(nexus_identity::SecondFactor::Code(code)),
        (None, Some(code)) => Some(nexus_identity::SecondFactor::RecoveryCode(code)),
        (None, None) if body.current_password.is_some() => None,
        _ => {
            return Err(ApiError::field(
                "code",
                "required",
                "give one of code, recoveryCode and currentPassword",
            ));
        }
    };
    let limits = state.guard();
    limits.admit(&client, Action::ChangePassword).await?;
    let user = auth.actor().user_id();
    limits
        .guarded(
            &client,
            Secret::CurrentPassword { user },
            state
                .identity
                .disable_totp(&auth.0, factor, body.current_password.as_deref()),
            |e| {
                matches!(
                    e,
                    nexus_identity::IdentityError::WrongPassword
                        | nexus_identity::IdentityError::InvalidCode
                )
            },
        )
        .await??;
    Ok(HttpResponse::NoContent().finish())
}
