//! Request and response bodies of provider sign-in and linked identities.

use chrono::{DateTime, Utc};
use nexus_identity::{IdentityProvider, LinkedIdentity, SignInMethods};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A sign-in provider on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderDto {
    /// Google.
    Google,
    /// GitHub.
    Github,
}

impl From<ProviderDto> for IdentityProvider {
    fn from(p: ProviderDto) -> Self {
        match p {
            ProviderDto::Google => Self::Google,
            ProviderDto::Github => Self::GitHub,
        }
    }
}

impl From<IdentityProvider> for ProviderDto {
    fn from(p: IdentityProvider) -> Self {
        match p {
            IdentityProvider::Google => Self::Google,
            IdentityProvider::GitHub => Self::Github,
        }
    }
}

/// What the authorization is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntentDto {
    /// Sign in, or sign up (the default).
    SignIn,
    /// Link the provider account to the signed-in user (needs a bearer token).
    Link,
}

/// How the start answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StartModeDto {
    /// 302 to the provider (the default, for a browser navigation).
    Redirect,
    /// 200 with `{authorizationUrl}` (for a script that then navigates there itself).
    Json,
}

/// `GET /auth/oauth/{provider}/start` options.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// `sign_in` (default) or `link` (with a bearer token).
    #[param(inline)]
    pub intent: Option<IntentDto>,
    /// `redirect` (default) or `json`.
    #[param(inline)]
    pub mode: Option<StartModeDto>,
}

/// `GET /auth/oauth/{provider}/callback`: what the provider appended to the redirect URI.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code.
    #[param(max_length = 2048)]
    pub code: Option<String>,
    /// The state from the start.
    #[param(max_length = 256)]
    pub state: Option<String>,
    /// Set by the provider when the user declined or the request failed.
    #[param(max_length = 256)]
    pub error: Option<String>,
}

/// Where to send the browser (`mode=json`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationResponse {
    /// The provider's authorize URL (the same as the redirect's `Location`).
    pub authorization_url: String,
}

/// One linked identity.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityResponse {
    /// The provider.
    pub provider: ProviderDto,
    /// The e-mail the provider last reported (informational).
    pub email: Option<String>,
    /// Linked at.
    pub created_at: DateTime<Utc>,
    /// Last sign-in through it.
    pub last_used_at: DateTime<Utc>,
}

impl From<LinkedIdentity> for IdentityResponse {
    fn from(i: LinkedIdentity) -> Self {
        Self {
            provider: i.provider.into(),
            email: i.email.map(Into::into),
            created_at: i.created_at,
            last_used_at: i.last_used_at,
        }
    }
}

/// The caller's ways to sign in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentitiesResponse {
    /// Linked identities, oldest first.
    pub data: Vec<IdentityResponse>,
    /// Whether the account has a password.
    pub has_password: bool,
}

impl From<SignInMethods> for IdentitiesResponse {
    fn from(m: SignInMethods) -> Self {
        Self {
            data: m.identities.into_iter().map(Into::into).collect(),
            has_password: m.has_password,
        }
    }
}
