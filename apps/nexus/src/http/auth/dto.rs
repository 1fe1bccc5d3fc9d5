//! Request and response bodies of the auth and user endpoints.

use chrono::{DateTime, Utc};
use nexus_identity::{LoginResult, RegisterUser, User};
use nexus_kernel::{Email, PersonName, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};

/// A role on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleDto {
    /// Administrator.
    Admin,
    /// Manager.
    Manager,
    /// Customer-service officer.
    Cso,
    /// Content editor (pages, blog, team, SEO, feedback moderation).
    Editor,
    /// Storefront customer.
    Customer,
}

/// A staff role on the wire: the roles an invitation may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StaffRoleDto {
    /// Administrator.
    Admin,
    /// Manager.
    Manager,
    /// Customer-service officer.
    Cso,
    /// Content editor (pages, blog, team, SEO, feedback moderation).
    Editor,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => Self::Admin,
            Role::Manager => Self::Manager,
            Role::Cso => Self::Cso,
            Role::Editor => Self::Editor,
            Role::Customer => Self::Customer,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Admin => Self::Admin,
            RoleDto::Manager => Self::Manager,
            RoleDto::Cso => Self::Cso,
            RoleDto::Editor => Self::Editor,
            RoleDto::Customer => Self::Customer,
        }
    }
}

/// Self-service sign-up. Any other field (such as `role`) is ignored.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    /// Sign-in address.
    #[validate(length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// At least 8 characters and at most 72 bytes of UTF-8 (bcrypt's limit), not the e-mail or
    /// its local part. The pattern states the byte limit as far as JSON Schema can: up to 72
    /// ASCII characters, 36 below U+0800, 24 in the Basic Multilingual Plane, or 18 of any kind.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 8,
        max_length = 72,
        pattern = r"^(?:[\u0000-\u007f]{8,72}|[\u0000-\u07ff]{8,36}|[\u0000-\uffff]{8,24}|[\s\S]{8,18})$"
    )]
    pub password: String,
    /// Given name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub first_name: String,
    /// Family name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub last_name: String,
}

/// Sign-in with e-mail and password.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// Sign-in address.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub email: String,
    /// Password.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub password: String,
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh (also accepted as `refresh_token`).
    #[serde(alias = "refresh_token")]
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

/// The answer to a registration, the same whether or not the address already had an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationAccepted {
    /// Human text.
    pub message: &'static str,
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    /// Id.
    pub id: Uuid,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: RoleDto,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// Whether the e-mail is verified.
    pub email_verified: bool,
    /// Whether the account was invited and the invitee has not chosen a password yet.
    pub invitation_pending: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        let invitation_pending = u.awaits_invitation();
        Self {
            id: u.id.as_uuid(),
            email: u.email.into(),
            role: u.role.into(),
            first_name: u.first_name.into(),
            last_name: u.last_name.into(),
            is_active: u.is_active,
            email_verified: u.email_verified,
            invitation_pending,
            created_at: u.created_at,
            updated_at: u.updated_at,
            version: u.version,
        }
    }
}

/// Tokens and the signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization`.
    pub access_token: String,
    /// Single-use token for `/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The user.
    pub user: UserResponse,
}

impl From<LoginResult> for LoginResponse {
    fn from(r: LoginResult) -> Self {
        Self {
            access_token: r.access_token.token,
            refresh_token: r.refresh_token,
            token_type: "Bearer",
            expires_in: r.access_token.expires_in,
            user: r.user.into(),
        }
    }
}

/// Ask for a one-time code.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtpRequest {
    /// The account's address.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub email: String,
    /// VERIFY_EMAIL or LOGIN.
    #[schema(value_type = crate::http::schema::OtpPurposeDto)]
    pub purpose: String,
}

/// Check a one-time code.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtpVerifyRequest {
    /// The account's address.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub email: String,
    /// The 6-digit code.
    #[validate(length(max = 32))]
    #[schema(max_length = 32)]
    pub code: String,
    /// VERIFY_EMAIL or LOGIN.
    #[schema(value_type = crate::http::schema::OtpPurposeDto)]
    pub purpose: String,
}

/// The same answer whether or not the address has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtpRequested {
    /// Human text.
    pub message: &'static str,
}

/// The result of VERIFY_EMAIL.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailVerified {
    /// Always true.
    pub verified: bool,
    /// The user, now verified.
    pub user: UserResponse,
}

impl TryFrom<RegisterRequest> for RegisterUser {
    type Error = ApiError;

    fn try_from(body: RegisterRequest) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let email = errors.check("email", "email", Email::parse(&body.email));
        let first_name = errors.check("firstName", "invalid", PersonName::parse(&body.first_name));
        let last_name = errors.check("lastName", "invalid", PersonName::parse(&body.last_name));
        let (Some(email), Some(first_name), Some(last_name)) = (email, first_name, last_name)
        else {
            return Err(errors.into_error());
        };
        Ok(Self {
            email,
            password: body.password,
            first_name,
            last_name,
        })
    }
}

/// Ask for a password-reset link.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForgotPasswordRequest {
    /// The account's address.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub email: String,
}

/// The same answer whether or not the address has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetRequested {
    /// Human text.
    pub message: &'static str,
}

/// Set a new password with the token of an e-mailed reset link.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    /// The token from the link (after `#token=`).
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// The new password: the registration policy (at least 8 characters, at most 72 bytes,
    /// not the e-mail address or its local part).
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 8,
        max_length = 72,
        pattern = r"^(?:[\u0000-\u007f]{8,72}|[\u0000-\u07ff]{8,36}|[\u0000-\uffff]{8,24}|[\s\S]{8,18})$"
    )]
    pub password: String,
}

/// Choose the first password of an invited account with the token of its invitation link.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptInviteRequest {
    /// The token from the link (after `#token=`).
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// The password: the registration policy (at least 8 characters, at most 72 bytes,
    /// not the e-mail address or its local part).
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 8,
        max_length = 72,
        pattern = r"^(?:[\u0000-\u007f]{8,72}|[\u0000-\u07ff]{8,36}|[\u0000-\uffff]{8,24}|[\s\S]{8,18})$"
    )]
    pub password: String,
}

/// A sign-in whose account has two-factor sign-in on: no tokens yet; answer the challenge
/// at `POST /api/v1/auth/login/totp`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaChallengeResponse {
    /// Always `true`.
    pub mfa_required: bool,
    /// The opaque, single-use challenge.
    pub challenge: String,
    /// Seconds until the challenge expires (300).
    pub expires_in: i64,
}

impl From<nexus_identity::ChallengeIssued> for MfaChallengeResponse {
    fn from(c: nexus_identity::ChallengeIssued) -> Self {
        Self {
            mfa_required: true,
            challenge: c.challenge,
            expires_in: c.expires_in,
        }
    }
}

/// What a sign-in answers: tokens, or a challenge when two-factor sign-in is on.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignInResponse {
    /// Signed in.
    Tokens(LoginResponse),
    /// The second factor is needed.
    Challenge(MfaChallengeResponse),
}

impl From<nexus_identity::SignIn> for SignInResponse {
    fn from(s: nexus_identity::SignIn) -> Self {
        match s {
            nexus_identity::SignIn::Tokens(r) => Self::Tokens(r.into()),
            nexus_identity::SignIn::Challenge(c) => Self::Challenge(c.into()),
        }
    }
}

/// The answer to a sign-in challenge: a code from the authenticator app, or one of the
/// recovery codes (exactly one of the two).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpLoginRequest {
    /// The challenge the sign-in answered.
    #[validate(length(max = 256))]
    #[schema(max_length = 256)]
    pub challenge: String,
    /// The 6-digit code.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub code: Option<String>,
    /// A recovery code (single use), e.g. `a1b2c-3d4e5`.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub recovery_code: Option<String>,
}
