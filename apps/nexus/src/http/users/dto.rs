//! Request bodies of the user endpoints (responses are in `auth::dto`).

use nexus_identity::{NewStaffUser, StaffInvite, UpdateProfile, UpdateUser, UserFilter};
use nexus_kernel::{Email, PersonName, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::http::auth::dto::{RoleDto, StaffRoleDto};
use crate::http::error::{ApiError, FieldErrors};

/// A change to one's own profile.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMeRequest {
    /// New given name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub first_name: Option<String>,
    /// New family name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub last_name: Option<String>,
}

/// A password change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    /// The current password.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// The new password: as for registration, 8 characters to 72 bytes of UTF-8.
    #[validate(length(max = 1024))]
    #[schema(
        min_length = 8,
        max_length = 72,
        pattern = r"^(?:[\u0000-\u007f]{8,72}|[\u0000-\u07ff]{8,36}|[\u0000-\uffff]{8,24}|[\s\S]{8,18})$"
    )]
    pub new_password: String,
}

/// Move one's sign-in address.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEmailRequest {
    /// The new address; the confirmation link goes there.
    #[validate(length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub new_email: String,
    /// The current password.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub current_password: String,
}

/// The answer to an e-mail change request.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailChangeRequested {
    /// Human text.
    pub message: &'static str,
}

/// Confirm an e-mail change with the token of the link sent to the new address.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmEmailRequest {
    /// The token from the link (after `#token=`).
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
}

/// An account created by an administrator.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    /// Sign-in address.
    #[validate(length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Initial password: as for registration, 8 characters to 72 bytes of UTF-8.
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
    /// Role: ADMIN, MANAGER, CSO, EDITOR or CUSTOMER.
    #[schema(value_type = RoleDto)]
    pub role: String,
}

/// A staff member an administrator invites by e-mail.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteUserRequest {
    /// Sign-in address; the invitation goes there.
    #[validate(length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
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
    /// Role: ADMIN, MANAGER, CSO or EDITOR (buyers register themselves; CUSTOMER is 400
    /// `staff_role_required`).
    #[schema(value_type = StaffRoleDto)]
    pub role: String,
}

/// An administrator's change to an account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    /// New role: ADMIN, MANAGER, CSO, EDITOR or CUSTOMER.
    #[schema(value_type = Option<RoleDto>)]
    pub role: Option<String>,
    /// Activate or deactivate (deactivation ends every session).
    pub is_active: Option<bool>,
    /// New given name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub first_name: Option<String>,
    /// New family name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub last_name: Option<String>,
}

/// Filters and paging for the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Only this role.
    #[param(value_type = Option<RoleDto>)]
    pub role: Option<String>,
    /// Only active or inactive accounts.
    pub is_active: Option<bool>,
}

impl TryFrom<UpdateMeRequest> for UpdateProfile {
    type Error = ApiError;

    fn try_from(body: UpdateMeRequest) -> Result<Self, ApiError> {
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
        Ok(Self {
            first_name,
            last_name,
        })
    }
}

impl TryFrom<CreateUserRequest> for NewStaffUser {
    type Error = ApiError;

    fn try_from(body: CreateUserRequest) -> Result<Self, ApiError> {
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
        Ok(Self {
            email,
            password: body.password,
            first_name,
            last_name,
            role,
        })
    }
}

impl TryFrom<InviteUserRequest> for StaffInvite {
    type Error = ApiError;

    fn try_from(body: InviteUserRequest) -> Result<Self, ApiError> {
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
        Ok(Self {
            email,
            first_name,
            last_name,
            role,
        })
    }
}

impl UpdateUserRequest {
    /// The change, completed by the version the client read (`If-Match`, when sent).
    pub fn into_domain(self, expected_version: Option<i64>) -> Result<UpdateUser, ApiError> {
        let body = self;
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
        Ok(UpdateUser {
            role,
            is_active: body.is_active,
            first_name,
            last_name,
            expected_version,
        })
    }
}

impl TryFrom<&ListUsersQuery> for UserFilter {
    type Error = ApiError;

    fn try_from(q: &ListUsersQuery) -> Result<Self, ApiError> {
        let role = match q.role.as_deref() {
            None => None,
            Some(raw) => Some(
                raw.parse::<Role>()
                    .map_err(|e| ApiError::field("role", "invalid", e.to_string()))?,
            ),
        };
        Ok(Self {
            role,
            is_active: q.is_active,
        })
    }
}

/// One of the caller's live sessions (a sign-in and its refresh tokens).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    /// The session's id (the `sid` of its access tokens).
    pub id: uuid::Uuid,
    /// A short label of the signing-in device, read from its `User-Agent`
    /// ("Firefox on Linux"; "Unknown device" when nothing is recognised).
    pub device: String,
    /// The client's network at sign-in (IPv4 /24, IPv6 /48), never the full address.
    pub ip_prefix: Option<String>,
    /// When it was signed in.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When its refresh token was last exchanged (the sign-in if never).
    pub last_used_at: chrono::DateTime<chrono::Utc>,
    /// When it ends unless used again.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Whether it is the session of this request.
    pub current: bool,
}

impl From<nexus_identity::SessionSummary> for SessionResponse {
    fn from(s: nexus_identity::SessionSummary) -> Self {
        Self {
            id: s.id.as_uuid(),
            device: s.client.device,
            ip_prefix: s.client.ip_prefix,
            created_at: s.signed_in_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            current: s.current,
        }
    }
}

/// The caller's live sessions, most recently used first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// The sessions.
    pub data: Vec<SessionResponse>,
}

/// Start enrolling an authenticator app.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartTotpRequest {
    /// The account's password (required for accounts that have one).
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub current_password: Option<String>,
}

/// The new secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpSetupResponse {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI, for a QR code.
    pub otpauth_uri: String,
}

/// A code from the authenticator app.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpCodeRequest {
    /// The 6-digit code.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub code: String,
}

/// Two-factor sign-in is on: the recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpEnabledResponse {
    /// Always `true`.
    pub enabled: bool,
    /// Ten single-use recovery codes; keep them safe, they are not shown again.
    pub recovery_codes: Vec<String>,
}

/// Turn two-factor sign-in off, proven by a code, a recovery code or the password
/// (one of them).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisableTotpRequest {
    /// A current 6-digit code.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub code: Option<String>,
    /// A recovery code.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub recovery_code: Option<String>,
    /// The account's password.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub current_password: Option<String>,
}
