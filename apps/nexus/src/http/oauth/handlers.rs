//! `/api/v1/auth/oauth/{provider}/start|callback` and `/api/v1/users/me/identities`.
//!
//! The browser binding: the start sets an HttpOnly, SameSite=Lax cookie (Secure when the
//! callbacks are https) scoped to the provider's callback path, holding a random value whose
//! hash is stored with the state. The callback must bring it back, so a state (or a whole
//! callback URL) replayed in another browser is refused.

use actix_web::http::header::{self, CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_identity::{IdentityProvider, OAuthState, SignInIntent};

use super::dto::{
    AuthorizationResponse, CallbackQuery, IdentitiesResponse, IntentDto, ProviderDto, StartModeDto,
    StartQuery,
};
use crate::http::auth::dto::SignInResponse;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Auth;
use crate::http::limits::{Action, Client};
use crate::state::AppState;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/oauth/{provider}/start").route(web::get().to(start_oauth)))
        .service(
            web::resource("/auth/oauth/{provider}/callback").route(web::get().to(oauth_callback)),
        )
        .service(web::resource("/users/me/identities").route(web::get().to(list_identities)))
        .service(
            web::resource("/users/me/identities/{provider}")
                .route(web::delete().to(unlink_identity)),
        );
}

/// The binding cookie's name for `provider`.
fn cookie_name(provider: IdentityProvider) -> String {
    format!("nexus_oauth_{provider}")
}

/// The path the binding cookie is sent to: the provider's routes only.
fn cookie_path(provider: IdentityProvider) -> String {
    format!("/api/v1/auth/oauth/{provider}")
}

fn binding_cookie(provider: IdentityProvider, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        cookie_name(provider),
        cookie_path(provider),
        if secure { "; Secure" } else { "" }
    )
}

/// The binding cookie's value from the request, if present.
fn binding_of(req: &HttpRequest, provider: IdentityProvider) -> Option<String> {
    let name = cookie_name(provider);
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn provider_of(raw: &str) -> Result<IdentityProvider, ApiError> {
    raw.parse::<IdentityProvider>()
        .map_err(|e| ApiError::not_found(e.to_string()))
}

/// Starts signing in with Google or GitHub: answers 302 to the provider (or, with
/// `mode=json`, 200 with the same URL) and sets the browser-binding cookie the callback
/// needs. With `intent=link` and a bearer token, the provider account is linked to the
/// signed-in user instead. The state lives 10 minutes and works once.
#[utoipa::path(get, path = "/api/v1/auth/oauth/{provider}/start", tag = "auth",
    params(("provider" = ProviderDto, Path, description = "google or github"), StartQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 302, description = "to the provider's authorize URL; sets the binding cookie", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 200, description = "mode=json: the authorize URL; sets the binding cookie", body = AuthorizationResponse),
        (status = 400, description = "validation_failed (unknown intent or mode)", body = ErrorBody),
        (status = 401, description = "intent=link without a valid bearer token", body = ErrorBody),
        (status = 404, description = "provider_disabled: the provider is not configured (or not_found: no such provider)", body = ErrorBody),
        (status = 429, description = "rate_limited (the login limit), with Retry-After", body = ErrorBody),
        (status = 502, description = "provider_unavailable: the provider's discovery could not be read", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn start_oauth(
    state: web::Data<AppState>,
    client: Client,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    auth: Option<Auth>,
) -> Result<HttpResponse, ApiError> {
    let provider = provider_of(&path)?;
    state.guard().admit(&client, Action::Login).await?;
    let intent = match query.intent {
        Some(IntentDto::Link) => SignInIntent::Link,
        Some(IntentDto::SignIn) | None => SignInIntent::SignIn,
    };
    let actor = auth.map(|a| a.actor());
    let started = state.oauth.start(provider, intent, actor.as_ref()).await?;
    let cookie = binding_cookie(
        provider,
        &started.binding,
        OAuthState::TTL_MINUTES * 60,
        state.oauth_cookie_secure,
    );
    let mut res = match query.mode {
        Some(StartModeDto::Json) => HttpResponse::Ok(),
        Some(StartModeDto::Redirect) | None => HttpResponse::Found(),
    };
    res.insert_header((header::SET_COOKIE, cookie))
        .insert_header((CACHE_CONTROL, "no-store"));
    Ok(match query.mode {
        Some(StartModeDto::Json) => res.json(AuthorizationResponse {
            authorization_url: started.authorization_url,
        }),
        Some(StartModeDto::Redirect) | None => res
            .insert_header((header::LOCATION, started.authorization_url))
            .finish(),
    })
}

/// Where the provider sends the browser back. The state must exist, be unused and
/// unexpired, and match this browser's binding cookie; the code is exchanged with the PKCE
/// verifier (Google's ID token is verified: signature, issuer, audience, expiry, nonce).
/// A known identity signs in; a new one links to the account with the e-mail the provider
/// vouches for, or creates a CUSTOMER account without a password; an unverified e-mail never
/// links nor creates (403). Answers the login body, like `POST /auth/login`.
#[utoipa::path(get, path = "/api/v1/auth/oauth/{provider}/callback", tag = "auth",
    params(("provider" = ProviderDto, Path, description = "google or github"), CallbackQuery),
    responses(
        (status = 200, description = "tokens, or a challenge when two-factor sign-in is on (answer it at `POST /api/v1/auth/login/totp`)", body = SignInResponse),
        (status = 400, description = "invalid_state (unknown, used, expired or another browser's state), oauth_rejected (the provider refused the code or the PKCE verifier, or the user declined), invalid_id_token, or validation_failed (no code or state)", body = ErrorBody),
        (status = 403, description = "email_not_verified: the provider does not vouch for the e-mail; or account_disabled", body = ErrorBody),
        (status = 404, description = "provider_disabled or not_found", body = ErrorBody),
        (status = 409, description = "identity_taken (linked to another user), provider_already_linked, email_taken or conflict", body = ErrorBody),
        (status = 429, description = "rate_limited (the login limit), with Retry-After", body = ErrorBody),
        (status = 502, description = "provider_unavailable", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn oauth_callback(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let provider = provider_of(&path)?;
    state.guard().admit(&client, Action::Login).await?;
    let query = query.into_inner();
    if query.error.is_some() {
        return Err(nexus_identity::OAuthError::ProviderRejected.into());
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::field("code", "required", "the provider's code is missing"))?;
    let state_param = query
        .state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::field("state", "required", "the state is missing"))?;
    let binding = binding_of(&req, provider);
    let result = state
        .oauth
        .callback(
            provider,
            &code,
            &state_param,
            binding.as_deref(),
            client.info(),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        // The binding did its work: the browser can forget it.
        .insert_header((
            header::SET_COOKIE,
            binding_cookie(provider, "", 0, state.oauth_cookie_secure),
        ))
        .json(SignInResponse::from(result)))
}

/// The caller's linked Google and GitHub accounts, and whether they have a password.
#[utoipa::path(get, path = "/api/v1/users/me/identities", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = IdentitiesResponse), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_identities(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let methods = state.oauth.methods(&auth.actor()).await?;
    Ok(HttpResponse::Ok().json(IdentitiesResponse::from(methods)))
}

/// Unlinks the caller's account at a provider. Refused (409 `last_sign_in_method`) when it is
/// the last way to sign in: no password and no other linked provider.
#[utoipa::path(delete, path = "/api/v1/users/me/identities/{provider}", tag = "users", security(("bearer" = [])),
    params(("provider" = ProviderDto, Path, description = "google or github")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 404, description = "no account at this provider is linked", body = ErrorBody),
        (status = 409, description = "last_sign_in_method, or conflict with a concurrent change", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn unlink_identity(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let provider = provider_of(&path)?;
    state.oauth.unlink(&auth.actor(), provider).await?;
    Ok(HttpResponse::NoContent().finish())
}
