//! "My data": `GET /api/v1/users/me/export` (everything about the caller, as one JSON
//! document) and `POST /api/v1/users/me/erase` (erase the caller's account).
//!
//! The export is composed here from one read method per context, each bounded to its
//! `EXPORT_LIMIT` (1000 rows per section): identity (profile, sign-in identities), orders
//! (`OrderService::export`), the CRM (`EnquiryService::export`) and feedback
//! (`FeedbackService::export`). Nothing in it is a secret: no password hash, token, code or
//! link.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use nexus_identity::{ErasureProof, IdentityError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::http::auth::dto::UserResponse;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ValidatedJson};
use crate::http::feedback::dto::CustomerFeedbackResponse;
use crate::http::limits::{Action, Client, Secret};
use crate::http::oauth::dto::IdentityResponse;
use crate::http::orders::dto::{LibraryEntryDto, MoneyDto, OrderResponse};
use crate::state::AppState;

/// The version of the export document's shape.
pub const EXPORT_FORMAT: &str = "nexus-export/1";

/// Most rows of one section of an export.
pub const EXPORT_SECTION_LIMIT: usize = 1000;

/// Everything the service holds about the caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportDocument {
    /// `nexus-export/1`.
    pub format: &'static str,
    /// When the document was made.
    pub generated_at: DateTime<Utc>,
    /// Most rows of one section (orders, credit notes, library, enquiries, feedback).
    pub section_limit: usize,
    /// Whether a section had more rows than `sectionLimit` and was cut.
    pub truncated: bool,
    /// The account (never its password hash).
    pub profile: UserResponse,
    /// Whether the account has a password (the password itself is never exported).
    pub has_password: bool,
    /// Google and GitHub accounts linked for sign-in.
    pub sign_in_identities: Vec<IdentityResponse>,
    /// Orders, newest first, with their lines, payment and refunds.
    pub orders: Vec<OrderResponse>,
    /// The payments of paid orders.
    pub payments: Vec<ExportPayment>,
    /// Invoices of paid orders.
    pub invoices: Vec<ExportInvoice>,
    /// Credit notes of refunds.
    pub credit_notes: Vec<ExportCreditNote>,
    /// Products owned.
    pub library: Vec<LibraryEntryDto>,
    /// Enquiries sent from the account's verified address or through its CRM customer.
    pub enquiries: Vec<ExportEnquiry>,
    /// Product reviews and site feedback written while signed in.
    pub feedback: Vec<CustomerFeedbackResponse>,
}

/// The payment of an order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportPayment {
    /// The order paid.
    pub order_id: Uuid,
    /// The order's status (PAID, REFUNDED, PARTIALLY_REFUNDED…).
    pub status: String,
    /// The gateway (`razorpay`, `dev`).
    pub gateway: String,
    /// The gateway's order id.
    pub gateway_order_id: Option<String>,
    /// The gateway's payment id.
    pub payment_id: Option<String>,
    /// Amount paid.
    pub amount: MoneyDto,
    /// Amount refunded so far.
    pub refunded: MoneyDto,
    /// Paid at.
    pub paid_at: Option<DateTime<Utc>>,
}

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportInvoice {
    /// The order invoiced.
    pub order_id: Uuid,
    /// Invoice number.
    pub number: String,
    /// Issued at (the payment's time).
    pub issued_at: Option<DateTime<Utc>>,
    /// Total invoiced.
    pub amount: MoneyDto,
    /// Where its PDF downloads (signed in as the buyer).
    pub download_path: String,
}

/// A credit note.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportCreditNote {
    /// The refunded order.
    pub order_id: Uuid,
    /// The gateway's refund id.
    pub refund_id: String,
    /// Credit note number.
    pub number: String,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
    /// Amount refunded.
    pub amount: Option<MoneyDto>,
    /// Where its PDF downloads (signed in as the buyer).
    pub download_path: String,
}

/// An enquiry as sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportEnquiry {
    /// Reference.
    pub id: Uuid,
    /// Name given.
    pub name: String,
    /// Address given.
    pub email: String,
    /// Subject.
    pub subject: String,
    /// Message.
    pub message: String,
    /// OPEN, ANSWERED or CLOSED.
    #[schema(value_type = crate::http::schema::EnquiryStatusDto)]
    pub status: String,
    /// Sent at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Proof that the owner is erasing their own account: `password` for an account that has
/// one; otherwise `code`, a fresh `LOGIN` one-time code (`POST /api/v1/auth/otp/request`
/// with `purpose: LOGIN` e-mails it).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EraseAccountRequest {
    /// The current password (password accounts).
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// A fresh e-mailed LOGIN code (accounts without a password).
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub code: Option<String>,
}

impl EraseAccountRequest {
    fn into_proof(self) -> Result<ErasureProof, ApiError> {
        match (self.password, self.code) {
            (Some(password), _) => Ok(ErasureProof::Password(password)),
            (None, Some(code)) => Ok(ErasureProof::Code(code)),
            (None, None) => Err(ApiError::field(
                "password",
                "required",
                "give the current password, or a one-time code for an account without one",
            )),
        }
    }
}

/// Everything the service holds about the caller, as one JSON document downloaded as
/// `nexus-export-<date>.json`: profile, sign-in identities, orders with lines, payments and
/// refunds, invoices and credit notes (numbers, dates, amounts, download paths), library,
/// enquiries, reviews and site feedback. Each section holds at most 1000 rows
/// (`truncated` tells when one was cut). Never a password hash, token or code.
#[utoipa::path(get, path = "/api/v1/users/me/export", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ExportDocument, headers(("Content-Disposition" = String, description = "attachment; filename=\"nexus-export-<date>.json\""))), (status = 401, body = ErrorBody), (status = 429, description = "rate_limited (`EXPORT_RATE_LIMIT` per user), with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn export_me(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.actor();
    state
        .guard()
        .admit(
            &client,
            Action::Export {
                user: actor.user_id(),
            },
        )
        .await?;
    let user = state.identity.me(&actor).await?;
    let methods = state.oauth.methods(&actor).await?;
    let orders = state.orders.export(&actor).await?;
    let (enquiries, enquiries_cut) = state.enquiries.export(&actor).await?;
    let (feedback, feedback_cut) = state.feedback.export(&actor).await?;
    let now = Utc::now();
    let mut payments = Vec::new();
    let mut invoices = Vec::new();
    for order in &orders.orders {
        if order.paid_at().is_some() {
            payments.push(ExportPayment {
                order_id: order.id().as_uuid(),
                status: order.status().as_str().to_owned(),
                gateway: order.gateway().as_str().to_owned(),
                gateway_order_id: order.gateway_order_id().map(str::to_owned),
                payment_id: order.payment_id().map(str::to_owned),
                amount: order.total().into(),
                refunded: order.refunded().into(),
                paid_at: order.paid_at(),
            });
        }
        if let Some(number) = order.invoice_number() {
            invoices.push(ExportInvoice {
                order_id: order.id().as_uuid(),
                number: number.as_str().to_owned(),
                issued_at: order.paid_at(),
                amount: order.total().into(),
                download_path: format!("/api/v1/orders/{}/invoice", order.id().as_uuid()),
            });
        }
    }
    let credit_notes = orders
        .credit_notes
        .iter()
        .map(|note| {
            let amount = orders
                .orders
                .iter()
                .flat_map(|o| o.refunds())
                .find(|r| r.refund_id == note.refund_id)
                .map(|r| MoneyDto::from(r.amount));
            ExportCreditNote {
                order_id: note.order_id.as_uuid(),
                refund_id: note.refund_id.clone(),
                number: note.number.as_str().to_owned(),
                issued_at: note.issued_at,
                amount,
                download_path: format!(
                    "/api/v1/orders/{}/refunds/{}/credit-note",
                    note.order_id.as_uuid(),
                    note.refund_id
                ),
            }
        })
        .collect();
    let document = ExportDocument {
        format: EXPORT_FORMAT,
        generated_at: now,
        section_limit: EXPORT_SECTION_LIMIT,
        truncated: orders.truncated || enquiries_cut || feedback_cut,
        profile: UserResponse::from(user),
        has_password: methods.has_password,
        sign_in_identities: methods
            .identities
            .into_iter()
            .map(IdentityResponse::from)
            .collect(),
        orders: orders.orders.into_iter().map(OrderResponse::from).collect(),
        payments,
        invoices,
        credit_notes,
        library: orders
            .library
            .into_iter()
            .map(LibraryEntryDto::from)
            .collect(),
        enquiries: enquiries
            .into_iter()
            .map(|e| ExportEnquiry {
                id: e.id.as_uuid(),
                name: e.name.into(),
                email: e.email.as_str().to_owned(),
                subject: e.subject.into(),
                message: e.message.into(),
                status: e.status.as_str().to_owned(),
                created_at: e.created_at,
                updated_at: e.updated_at,
            })
            .collect(),
        feedback: feedback
            .into_iter()
            .map(CustomerFeedbackResponse::from)
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"nexus-export-{}.json\"",
                now.format("%Y-%m-%d")
            ),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .json(document))
}

/// Erases the caller's account. Password accounts give `password`; accounts without one
/// (Google or GitHub sign-in only) give `code`, a fresh LOGIN one-time code. The account is
/// anonymised (its address becomes `erased+<id>@erased.invalid`, its names "Erased"
/// "Customer"), deactivated, and loses every password, sign-in identity, session, code and
/// link at once; the old address can register again. Orders, payments, invoices and credit
/// notes are kept, as the law requires; subscribers then drop the cart, anonymise site
/// feedback and unlink and anonymise the CRM customer. Staff accounts (the last
/// administrator among them) answer 409 `staff_account`: an administrator deactivates them.
/// Wrong passwords lock the route out like a password change.
#[utoipa::path(post, path = "/api/v1/users/me/erase", tag = "users", security(("bearer" = [])), request_body = EraseAccountRequest,
    responses((status = 204, description = "erased; every session of the account has ended"), (status = 400, description = "validation_failed, wrong_password or invalid_code", body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, description = "staff_account: staff accounts are deactivated by an administrator; conflict: the account changed meanwhile", body = ErrorBody), (status = 429, description = "rate_limited or busy, with Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn erase_me(
    state: web::Data<AppState>,
    client: Client,
    auth: Auth,
    body: ValidatedJson<EraseAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let proof = body.0.into_proof()?;
    let limits = state.guard();
    limits.admit(&client, Action::ChangePassword).await?;
    let result = limits
        .guarded(
            &client,
            Secret::CurrentPassword {
                user: auth.actor().user_id(),
            },
            state.identity.erase_account(&auth.0, proof),
            |e| matches!(e, IdentityError::WrongPassword | IdentityError::InvalidCode),
        )
        .await?;
    // The error names `currentPassword`; in this request the field is `password`.
    if let Err(IdentityError::WrongPassword) = result {
        return Err(ApiError::field(
            "password",
            "wrong_password",
            IdentityError::WrongPassword.to_string(),
        ));
    }
    result?;
    Ok(HttpResponse::NoContent().finish())
}
