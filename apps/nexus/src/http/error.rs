//! The one place that knows HTTP status numbers: every domain error becomes an `ApiError`,
//! and every error response has the same JSON body.

use std::error::Error as StdError;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use chrono::{SecondsFormat, Utc};
use nexus_customers::CustomersError;
use nexus_identity::{IdentityError, PasswordRule};
use serde::Serialize;
use utoipa::ToSchema;

/// `Retry-After` of a 503 caused by a database or Redis that cannot be reached: long enough
/// for a restart or fail-over, short enough that clients come back soon after.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The request field, as the client spells it (camelCase).
    pub field: String,
    /// A stable machine code such as `email`, `too_short`, `required`.
    pub code: String,
    /// Human-readable text.
    pub message: String,
}

/// The uniform error body.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// HTTP status, repeated.
    pub status_code: u16,
    /// When the error happened (RFC 3339, UTC).
    pub timestamp: String,
    /// The request path.
    pub path: String,
    /// Human-readable message; may change.
    pub message: String,
    /// Stable snake_case code clients branch on.
    pub error: String,
    /// The request id (also in the `X-Request-Id` header).
    pub request_id: String,
    /// Field errors, for validation failures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

/// An error on its way to becoming an HTTP response.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Vec<FieldError>>,
    retry_after_secs: Option<u64>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ApiError {
    /// An error with a status, a stable code and a message. Private: a status is chosen in
    /// this file only, by the named constructors and the `From` impls below.
    #[must_use]
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after_secs: None,
            source: None,
        }
    }

    /// 400 `validation_failed` with field details.
    #[must_use]
    pub fn validation(details: Vec<FieldError>) -> Self {
        let mut err = Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "The request has invalid fields",
        );
        err.details = Some(details);
        err
    }

    /// 400 `validation_failed` for one field.
    #[must_use]
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }

    /// 400 `invalid_cursor`: a pagination cursor this API did not give.
    #[must_use]
    pub fn invalid_cursor() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            "The cursor is not one this API gave",
        )
    }

    /// 403 `totp_required`: a staff session that must enrol an authenticator first
    /// (`REQUIRE_STAFF_TOTP`) asked for something else.
    #[must_use]
    pub fn totp_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "totp_required",
            "Turn two-factor sign-in on first (POST /api/v1/users/me/totp)",
        )
    }

    /// 404 `not_found`.
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 404 `route_not_found`: no route matches the path (as opposed to a route that found
    /// no record), so clients and the route matrix can tell the two apart.
    #[must_use]
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "route_not_found", "No such resource")
    }

    /// 410 `gone`: a redirect rule says the page was removed for good.
    #[must_use]
    pub fn gone() -> Self {
        Self::new(
            StatusCode::GONE,
            "gone",
            "This page was removed and has no replacement",
        )
    }

    /// 429 `rate_limited` with a `Retry-After` header; the message names the `limit`
    /// reached (`login`, `checkout`...), as logs and metrics do.
    #[must_use]
    pub fn rate_limited(limit: &str, retry_after_secs: u64) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many requests (limit {limit}); try again in {retry_after_secs} seconds"),
        );
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    /// 503 `uploads_busy` with a `Retry-After` header: every upload slot is taken.
    #[must_use]
    pub fn uploads_busy(retry_after_secs: u64) -> Self {
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "uploads_busy",
            format!("Too many uploads in progress; try again in {retry_after_secs} seconds"),
        );
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    /// 400 `invalid_multipart`: the multipart body cannot be read.
    #[must_use]
    pub fn invalid_multipart(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_multipart", message)
    }

    /// 400 `invalid_json`: the body is not JSON, or not of the expected shape.
    #[must_use]
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// 412 `invalid_if_match`: `If-Match` is not an entity tag this API sends.
    #[must_use]
    pub fn invalid_if_match() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "invalid_if_match",
            "If-Match must be the ETag of the resource, e.g. \"3\"",
        )
    }

    /// 428 `precondition_required`: an update without the version read could silently
    /// overwrite someone else's change.
    #[must_use]
    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "Send the version you read as If-Match or as the 'version' field",
        )
    }

    /// 500 `internal_error` for a handler that panicked (the panic is logged, never sent).
    #[must_use]
    pub fn panicked() -> Self {
        Self::from_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 401 `unauthorized`.
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication is required, or the token is invalid or expired",
        )
    }

    /// 503 `service_unavailable` with `Retry-After`: something the request needs (the
    /// database, Redis) cannot be reached right now, and the same request may succeed later.
    #[must_use]
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            message,
        );
        err.retry_after_secs = Some(UNAVAILABLE_RETRY_AFTER_SECS);
        err
    }

    /// 503 `service_unavailable` with `Retry-After` from the readiness probe, its message
    /// naming each required dependency that is down (`details` stays for validation).
    #[must_use]
    pub fn dependencies_unavailable(names: &[&str]) -> Self {
        Self::unavailable(format!("Not ready: {} cannot be reached", names.join(", ")))
    }

    /// 500 `internal_error`, keeping the cause for the log only; or, when the cause's chain
    /// shows that the database or Redis could not be reached ([`is_unavailable`]), 503
    /// [`ApiError::unavailable`]: an outage is not a bug, and clients should retry.
    #[must_use]
    pub fn internal(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let source = source.into();
        if is_unavailable(&*source) {
            let mut err = Self::unavailable(
                "A service this request needs is temporarily unavailable; try again shortly",
            );
            err.source = Some(source);
            return err;
        }
        let mut err = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An unexpected error occurred",
        );
        err.source = Some(source);
        err
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The underlying cause, if any (logged, never sent).
    #[must_use]
    pub fn cause(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The body for a request with this path and id.
    #[must_use]
    pub fn body(&self, path: &str, request_id: &str) -> ErrorBody {
        ErrorBody {
            status_code: self.status.as_u16(),
            timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            path: path.to_owned(),
            message: self.message.clone(),
            error: self.code.to_owned(),
            request_id: request_id.to_owned(),
            details: self.details.clone(),
        }
    }

    /// A generic error for a status produced outside our handlers (routing, framework).
    #[must_use]
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "The request is malformed"),
            401 => ("unauthorized", "Authentication is required"),
            403 => ("forbidden", "You do not have permission to do this"),
            404 => ("not_found", "No such resource"),
            405 => (
                "method_not_allowed",
                "This method is not allowed on this resource",
            ),
            408 => ("request_timeout", "The request took too long"),
            413 => ("payload_too_large", "The request body is too large"),
            415 => (
                "unsupported_media_type",
                "Unsupported content type; send application/json",
            ),
            503 => (
                "service_unavailable",
                "The service is temporarily unavailable",
            ),
            s if s >= 500 => ("internal_error", "An unexpected error occurred"),
            _ => ("error", "The request failed"),
        };
        Self::new(status, code, message)
    }
}

/// Whether `err` or any of its sources says a backing service could not be reached: the
/// database or Redis down, restarting or out of connections (each adapter knows its own
/// errors), or a network failure on a connection.
#[must_use]
pub fn is_unavailable(err: &(dyn StdError + 'static)) -> bool {
    std::iter::successors(Some(err), |&e| e.source()).any(|e| {
        nexus_sea_support::db::is_unavailable(e)
            || nexus_redis_store::is_unavailable(e)
            || e.downcast_ref::<std::io::Error>().is_some_and(|io| {
                use std::io::ErrorKind as K;
                matches!(
                    io.kind(),
                    K::ConnectionRefused
                        | K::ConnectionReset
                        | K::ConnectionAborted
                        | K::NotConnected
                        | K::BrokenPipe
                        | K::TimedOut
                        | K::HostUnreachable
                        | K::NetworkUnreachable
                )
            })
    })
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The envelope middleware rewrites this with the path and request id; this body is
    /// what a caller sees if the error escapes it.
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.body("", ""))
    }
}

impl From<IdentityError> for ApiError {
    fn from(err: IdentityError) -> Self {
        use IdentityError as E;
        let message = err.to_string();
        match err {
            E::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid e-mail or password",
            ),
            E::AccountDisabled => Self::new(StatusCode::FORBIDDEN, "account_disabled", message),
            E::InvalidToken => Self::unauthorized(),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::NotFound(_) => Self::not_found(message),
            E::SessionNotFound => Self::new(StatusCode::NOT_FOUND, "session_not_found", message),
            E::TotpUnavailable => Self::new(StatusCode::NOT_FOUND, "totp_unavailable", message),
            E::TotpAlreadyEnabled => {
                Self::new(StatusCode::CONFLICT, "totp_already_enabled", message)
            }
            E::TotpNotStarted => Self::new(StatusCode::CONFLICT, "totp_not_started", message),
            E::TotpNotEnabled => Self::new(StatusCode::CONFLICT, "totp_not_enabled", message),
            E::InvalidChallenge => Self::new(StatusCode::BAD_REQUEST, "invalid_challenge", message),
            E::EmailTaken => Self::new(StatusCode::CONFLICT, "email_taken", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::SelfLockout(_) => Self::new(StatusCode::CONFLICT, "self_lockout", message),
            E::StaffErasure(_) => Self::new(StatusCode::CONFLICT, "staff_account", message),
            E::WeakPassword(rule) => Self::field("password", password_code(rule), message),
            E::WrongPassword => Self::field("currentPassword", "wrong_password", message),
            E::InvalidCode => Self::new(StatusCode::BAD_REQUEST, "invalid_code", message),
            E::InvalidLink => Self::new(StatusCode::BAD_REQUEST, "invalid_token", message),
            E::InviteRole => Self::field("role", "staff_role_required", message),
            E::NotInvited => Self::new(StatusCode::CONFLICT, "not_invited", message),
            E::Busy => {
                let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, "busy", message);
                err.retry_after_secs = Some(1);
                err
            }
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_identity::OAuthError> for ApiError {
    fn from(err: nexus_identity::OAuthError) -> Self {
        use nexus_identity::OAuthError as E;
        let message = err.to_string();
        match err {
            E::ProviderDisabled(_) => {
                Self::new(StatusCode::NOT_FOUND, "provider_disabled", message)
            }
            E::InvalidState => Self::new(StatusCode::BAD_REQUEST, "invalid_state", message),
            E::ProviderRejected => Self::new(StatusCode::BAD_REQUEST, "oauth_rejected", message),
            E::InvalidIdToken => Self::new(StatusCode::BAD_REQUEST, "invalid_id_token", message),
            E::ProviderUnavailable => {
                Self::new(StatusCode::BAD_GATEWAY, "provider_unavailable", message)
            }
            E::EmailNotVerified => Self::new(StatusCode::FORBIDDEN, "email_not_verified", message),
            E::IdentityTaken => Self::new(StatusCode::CONFLICT, "identity_taken", message),
            E::ProviderAlreadyLinked(_) => {
                Self::new(StatusCode::CONFLICT, "provider_already_linked", message)
            }
            E::NotLinked(_) => Self::not_found(message),
            E::LastSignInMethod => Self::new(StatusCode::CONFLICT, "last_sign_in_method", message),
            E::Identity(e) => e.into(),
        }
    }
}

/// The detail code for a password rule.
#[must_use]
pub fn password_code(rule: PasswordRule) -> &'static str {
    match rule {
        PasswordRule::TooShort => "too_short",
        PasswordRule::TooLong => "too_long",
        PasswordRule::SameAsEmail => "same_as_email",
    }
}

impl From<CustomersError> for ApiError {
    fn from(err: CustomersError) -> Self {
        use CustomersError as E;
        let message = err.to_string();
        match err {
            E::NotFound(_) => Self::not_found(message),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::EmailTaken => Self::new(StatusCode::CONFLICT, "email_taken", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::EnquiryNotFound(_) => Self::not_found(message),
            E::InvalidEnquiryTransition { .. } => {
                Self::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            E::EmailUnverified => Self::new(StatusCode::FORBIDDEN, "email_unverified", message),
            E::NoStaffAvailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                message,
            ),
            E::InvalidAssignee => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_assignee",
                message,
            ),
            E::HasHistory => Self::new(StatusCode::CONFLICT, "customer_has_history", message),
            E::InvalidAccount => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_account", message)
            }
            E::AccountLinked => Self::new(StatusCode::CONFLICT, "account_already_linked", message),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_approvals::ApprovalsError> for ApiError {
    fn from(err: nexus_approvals::ApprovalsError) -> Self {
        use nexus_approvals::ApprovalsError as E;
        let message = err.to_string();
        match err {
            E::NotFound(_) => Self::not_found(message),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::NotAuthor => Self::new(StatusCode::FORBIDDEN, "not_author", message),
            E::SelfApproval => Self::new(StatusCode::FORBIDDEN, "self_approval", message),
            E::NotesRequired => Self::field("notes", "required", message),
            E::InvalidTransition { .. } => {
                Self::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::CustomerNotFound(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_customer",
                message,
            ),
            E::EnquiryMismatch => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "enquiry_mismatch",
                message,
            ),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_outbox::OutboxError> for ApiError {
    fn from(err: nexus_outbox::OutboxError) -> Self {
        use nexus_outbox::OutboxError as E;
        match err {
            E::NotFound(id) => Self::not_found(format!("job {id} not found")),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", err.to_string()),
            E::InvalidState(state) => Self::new(
                StatusCode::CONFLICT,
                "invalid_state",
                format!("job is {state}, so this is not possible"),
            ),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_catalog::CatalogError> for ApiError {
    fn from(err: nexus_catalog::CatalogError) -> Self {
        use nexus_catalog::{AssetError, CatalogError as E};
        let message = err.to_string();
        match err {
            E::NotFound | E::Asset(AssetError::NotFound) => {
                Self::not_found("No such product or file")
            }
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::SlugTaken => Self::new(StatusCode::CONFLICT, "slug_taken", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::ProductSold => Self::new(StatusCode::CONFLICT, "product_sold", message),
            E::InvalidTransition { .. } => {
                Self::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            E::CurrencyNotAccepted { .. } => Self::field("currency", "not_accepted", message),
            E::PriceTooHigh { .. } => Self::field("priceMinor", "too_large", message),
            E::AssetMissing => Self::new(StatusCode::CONFLICT, "asset_missing", message),
            E::AssetTooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            E::ContentTypeNotAllowed | E::UnsupportedImage => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            ),
            E::ImageTooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            E::UploadLinkUnsupported => {
                Self::new(StatusCode::CONFLICT, "upload_link_unsupported", message)
            }
            E::Asset(AssetError::InvalidLink) => Self::not_found("The link is invalid or expired"),
            E::Asset(AssetError::Unexpected(e)) | E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_analytics::AnalyticsError> for ApiError {
    fn from(err: nexus_analytics::AnalyticsError) -> Self {
        use nexus_analytics::AnalyticsError as E;
        let message = err.to_string();
        match err {
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::InvalidBatch(problems) => Self::validation(
                problems
                    .into_iter()
                    .map(|p| FieldError {
                        field: p.field,
                        code: p.code.to_owned(),
                        message: p.message,
                    })
                    .collect(),
            ),
            E::InvalidRange(e) => Self::field("to", "invalid_range", e.to_string()),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_dashboards::DashboardsError> for ApiError {
    fn from(err: nexus_dashboards::DashboardsError) -> Self {
        use nexus_dashboards::DashboardsError as E;
        let message = err.to_string();
        match err {
            E::NoDashboard => Self::new(StatusCode::FORBIDDEN, "no_dashboard", message),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_catalog::AssetError> for ApiError {
    fn from(err: nexus_catalog::AssetError) -> Self {
        use nexus_catalog::AssetError as E;
        match err {
            E::InvalidLink | E::NotFound => Self::not_found("The link is invalid or expired"),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_orders::OrdersError> for ApiError {
    fn from(err: nexus_orders::OrdersError) -> Self {
        use nexus_orders::{OrdersError as E, PaymentError as P};
        let message = err.to_string();
        match err {
            E::NotFound => Self::not_found("No such order or product"),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::CartEmpty => Self::new(StatusCode::CONFLICT, "cart_empty", message),
            E::ProductUnavailable(_) => {
                Self::new(StatusCode::CONFLICT, "product_unavailable", message)
            }
            E::AlreadyOwned(_) => Self::new(StatusCode::CONFLICT, "already_owned", message),
            E::CartNotPurchasable { unavailable, owned } => {
                // `details` is for field validation only; the blocking products go in the text.
                let list = |ids: &[nexus_catalog::ProductId]| {
                    ids.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut text = message;
                if !unavailable.is_empty() {
                    text.push_str(&format!("; unavailable: {}", list(&unavailable)));
                }
                if !owned.is_empty() {
                    text.push_str(&format!("; already owned: {}", list(&owned)));
                }
                Self::new(StatusCode::CONFLICT, "cart_not_purchasable", text)
            }
            E::CurrencyConflict { .. } => {
                Self::new(StatusCode::CONFLICT, "currency_conflict", message)
            }
            E::CartTotalTooLarge => {
                Self::new(StatusCode::CONFLICT, "cart_total_too_large", message)
            }
            E::InvalidSignature => Self::new(StatusCode::BAD_REQUEST, "invalid_signature", message),
            E::InvalidTransition { .. } => {
                Self::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            E::RefundTooLarge { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "refund_too_large",
                message,
            ),
            E::NotRefundable => Self::new(StatusCode::CONFLICT, "not_refundable", message),
            E::InvalidRefundAmount => Self::field("amountMinor", "invalid", message),
            E::DevGatewayOnly => Self::new(StatusCode::CONFLICT, "dev_gateway_only", message),
            E::InvoiceNotReady => Self::new(StatusCode::CONFLICT, "invoice_not_ready", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::RefundInProgress => Self::new(StatusCode::CONFLICT, "refund_in_progress", message),
            E::TooManyPendingOrders { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_pending_orders",
                message,
            ),
            E::PaymentNotCaptured => {
                Self::new(StatusCode::CONFLICT, "payment_not_captured", message)
            }
            E::PaymentMismatch => Self::new(StatusCode::CONFLICT, "payment_mismatch", message),
            E::PaymentNotApplied => Self::new(StatusCode::CONFLICT, "payment_not_applied", message),
            E::Payment(P::Rejected(_)) => {
                Self::new(StatusCode::BAD_GATEWAY, "payment_gateway_rejected", message)
            }
            E::Payment(P::Unavailable(_)) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment_gateway_unavailable",
                message,
            ),
            E::Payment(P::MalformedEvent(_)) => {
                Self::new(StatusCode::BAD_REQUEST, "malformed_event", message)
            }
            E::Payment(P::Unexpected(e)) | E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<actix_web::error::JsonPayloadError> for ApiError {
    /// A JSON body the framework could not read: 400, 413 or 415.
    fn from(err: actix_web::error::JsonPayloadError) -> Self {
        use actix_web::error::{JsonPayloadError as J, PayloadError};
        match &err {
            J::OverflowKnownLength { .. }
            | J::Overflow { .. }
            | J::Payload(PayloadError::Overflow) => {
                Self::from_status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            J::ContentType => Self::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            J::Deserialize(e) if e.is_data() => Self::invalid_json(format!(
                "The JSON body does not match the expected shape: {e}"
            )),
            J::Deserialize(_) | J::Serialize(_) => Self::invalid_json("The body is not valid JSON"),
            _ => Self::invalid_json("The body could not be read"),
        }
    }
}

impl From<actix_web::error::PathError> for ApiError {
    /// A malformed path parameter (say, an id that is not a UUID) names no resource: 404.
    fn from(_: actix_web::error::PathError) -> Self {
        Self::not_found("No such resource")
    }
}

impl From<actix_web::error::QueryPayloadError> for ApiError {
    /// A malformed query string is a 400 naming the problem.
    fn from(err: actix_web::error::QueryPayloadError) -> Self {
        let message = match &err {
            actix_web::error::QueryPayloadError::Deserialize(e) => {
                format!("Invalid query parameter: {e}")
            }
            _ => "Invalid query string".to_owned(),
        };
        Self::field("query", "invalid", message)
    }
}

/// Collects field errors while converting a DTO into domain values.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Records the error of `result` under `field` (with `code`), passing the value on.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: &str,
        code: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, code, e.to_string());
                None
            }
        }
    }

    /// Like `check` for an optional input.
    pub fn check_opt<T, E: fmt::Display>(
        &mut self,
        field: &str,
        code: &str,
        result: Option<Result<T, E>>,
    ) -> Option<Option<T>> {
        match result {
            None => Some(None),
            Some(r) => self.check(field, code, r).map(Some),
        }
    }

    /// Records an error.
    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    /// Whether nothing failed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The 400 for the collected errors.
    #[must_use]
    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.0)
    }

    /// `Err` with the collected errors if there are any.
    ///
    /// # Errors
    /// The 400 validation error.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        for (field, errs) in errors.field_errors() {
            for e in errs {
                out.push(FieldError {
                    field: camel_case(&field),
                    code: e.code.to_string(),
                    message: e
                        .message
                        .as_ref()
                        .map_or_else(|| format!("{field} is invalid"), ToString::to_string),
                });
            }
        }
        out.sort_by(|a, b| a.field.cmp(&b.field));
        Self::validation(out)
    }
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<nexus_feedback::FeedbackError> for ApiError {
    fn from(err: nexus_feedback::FeedbackError) -> Self {
        use nexus_feedback::FeedbackError as E;
        let message = err.to_string();
        match err {
            E::NotFound => Self::not_found("No such feedback, review or customer"),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::NotOwner => Self::new(StatusCode::FORBIDDEN, "not_owner", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::VersionRequired => Self::precondition_required(),
            E::InvalidTransition { .. } => {
                Self::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_content::ContentError> for ApiError {
    fn from(err: nexus_content::ContentError) -> Self {
        use nexus_content::ContentError as E;
        let message = err.to_string();
        match err {
            E::NotFound => Self::not_found("No such page or version"),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Invalid(issues) => Self::validation(
                issues
                    .into_iter()
                    .map(|i| FieldError {
                        field: i.field,
                        code: i.code.to_owned(),
                        message: i.message,
                    })
                    .collect(),
            ),
            E::KeyTaken => Self::new(StatusCode::CONFLICT, "key_taken", message),
            E::SlugTaken => Self::new(StatusCode::CONFLICT, "slug_taken", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::InvalidTransition { .. } => {
                Self::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            E::PreviewExpired => Self::new(StatusCode::GONE, "preview_expired", message),
            E::InUse(_) => Self::new(StatusCode::CONFLICT, "in_use", message),
            E::UnsupportedImage => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            ),
            E::ImageTooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_audit::AuditError> for ApiError {
    fn from(err: nexus_audit::AuditError) -> Self {
        use nexus_audit::AuditError as E;
        let message = err.to_string();
        match err {
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<nexus_seo::SeoError> for ApiError {
    fn from(err: nexus_seo::SeoError) -> Self {
        use nexus_seo::SeoError as E;
        let message = err.to_string();
        match err {
            E::NotFound => Self::not_found("No SEO audit of this item"),
            E::RedirectNotFound => Self::not_found("No such redirect rule"),
            E::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Conflict => Self::new(StatusCode::CONFLICT, "conflict", message),
            E::SourceTaken => Self::new(StatusCode::CONFLICT, "source_taken", message),
            E::TooManyRedirects { .. } => {
                Self::new(StatusCode::CONFLICT, "too_many_redirects", message)
            }
            E::ReservedSource(_) => Self::field("source", "reserved", message),
            E::NoteTooLong { .. } => Self::field("note", "too_long", message),
            E::Redirect(rule) => {
                use nexus_seo::RedirectError as R;
                match rule {
                    R::InvalidSource => Self::field("source", "invalid", message),
                    R::InvalidTarget => Self::field("target", "invalid", message),
                    R::TargetMismatch => Self::field("target", "kind_mismatch", message),
                    R::Loop(_) => Self::new(StatusCode::CONFLICT, "redirect_loop", message),
                    R::TooLong(_) => {
                        Self::new(StatusCode::CONFLICT, "redirect_chain_too_long", message)
                    }
                }
            }
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unexpected_errors_are_500_without_internals() {
        let err: ApiError = IdentityError::Unexpected(nexus_kernel::Unexpected::msg(
            "SELECT * FROM users exploded",
        ))
        .into();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&err.body("/x", "id")).expect("serializes");
        assert!(!body.contains("SELECT"));
        assert!(err.cause().is_some());
    }

    #[test]
    fn an_unreachable_backing_service_is_503_with_retry_after_not_500() {
        for kind in [
            std::io::ErrorKind::ConnectionRefused,
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::BrokenPipe,
        ] {
            let cause = nexus_kernel::Unexpected::new(
                "loading customer",
                std::io::Error::new(kind, "connect to 10.0.0.7:5432 failed"),
            );
            let err: ApiError = CustomersError::Unexpected(cause).into();

            assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE, "{kind:?}");
            assert_eq!(err.code(), "service_unavailable");
            assert!(err.cause().is_some(), "the cause is kept for the log");
            let res = err.error_response();
            assert_eq!(
                res.headers()
                    .get(actix_web::http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
                Some("5")
            );
            let body = serde_json::to_string(&err.body("/x", "id")).expect("serializes");
            assert!(!body.contains("5432"), "no internals in {body}");
        }
    }

    #[test]
    fn other_unexpected_failures_stay_500() {
        for cause in [
            nexus_kernel::Unexpected::msg("row breaks an invariant"),
            nexus_kernel::Unexpected::new(
                "reading file",
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ),
        ] {
            let err: ApiError = CustomersError::Unexpected(cause).into();
            assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(err.code(), "internal_error");
        }
    }

    #[test]
    fn snake_case_fields_become_camel_case() {
        assert_eq!(camel_case("first_name"), "firstName");
        assert_eq!(camel_case("email"), "email");
    }

    #[test]
    fn generic_statuses_have_stable_codes() {
        assert_eq!(
            ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED).code(),
            "method_not_allowed"
        );
        assert_eq!(
            ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE).code(),
            "payload_too_large"
        );
        assert_eq!(
            ApiError::from_status(StatusCode::BAD_GATEWAY).code(),
            "internal_error"
        );
    }
}
