//! Request and response bodies of the enquiry endpoints.

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_customers::{
    EnquirerName, Enquiry, EnquiryMessage, EnquiryQuery, EnquiryStatus, EnquirySubject, NewEnquiry,
    SearchTerm,
};
use nexus_kernel::{Email, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};

/// A question from the public contact form.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateEnquiryRequest {
    /// Your name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub name: String,
    /// Where to answer.
    #[validate(length(max = 1024))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Subject (1 to 200 characters).
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub subject: String,
    /// Message (1 to 5000 characters).
    #[validate(length(max = 20_000))]
    #[schema(
        max_length = 20000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,4998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub message: String,
    /// The product it is about, if any.
    #[schema(value_type = Option<crate::http::schema::IdText>)]
    pub product_id: Option<String>,
}

impl TryFrom<CreateEnquiryRequest> for NewEnquiry {
    type Error = ApiError;

    fn try_from(r: CreateEnquiryRequest) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let name = e.check("name", "invalid", EnquirerName::parse(&r.name));
        let email = e.check("email", "email", Email::parse(&r.email));
        let subject = e.check("subject", "invalid", EnquirySubject::parse(&r.subject));
        let message = e.check("message", "invalid", EnquiryMessage::parse(&r.message));
        let product_id = e.check_opt(
            "productId",
            "uuid",
            r.product_id.as_deref().map(|s| {
                s.parse::<ProductId>()
                    .map_err(|_| "must be a product id (UUID)")
            }),
        );
        match (name, email, subject, message, product_id) {
            (Some(name), Some(email), Some(subject), Some(message), Some(product_id))
                if e.is_empty() =>
            {
                Ok(Self {
                    name,
                    email,
                    subject,
                    message,
                    product_id,
                })
            }
            _ => Err(e.into_error()),
        }
    }
}

/// What the public gets back: a receipt, nothing about who handles it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnquiryReceipt {
    /// Reference.
    pub id: Uuid,
    /// Subject as received.
    pub subject: String,
    /// Always OPEN at first.
    #[schema(value_type = crate::http::schema::EnquiryStatusDto)]
    pub status: String,
    /// Received at.
    pub created_at: DateTime<Utc>,
}

impl From<Enquiry> for EnquiryReceipt {
    fn from(e: Enquiry) -> Self {
        Self {
            id: e.id.as_uuid(),
            subject: e.subject.into(),
            status: e.status.as_str().to_owned(),
            created_at: e.created_at,
        }
    }
}

/// An enquiry as staff (and its sender) see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnquiryResponse {
    /// Id.
    pub id: Uuid,
    /// Linked customer.
    pub customer_id: Uuid,
    /// Sender's name.
    pub name: String,
    /// Sender's address.
    pub email: String,
    /// Subject.
    pub subject: String,
    /// Message.
    pub message: String,
    /// Product, if any.
    pub product_id: Option<Uuid>,
    /// OPEN, ANSWERED or CLOSED.
    #[schema(value_type = crate::http::schema::EnquiryStatusDto)]
    pub status: String,
    /// Officer in charge.
    pub assigned_to: Option<Uuid>,
    /// Received at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

impl From<Enquiry> for EnquiryResponse {
    fn from(e: Enquiry) -> Self {
        Self {
            id: e.id.as_uuid(),
            customer_id: e.customer_id.as_uuid(),
            name: e.name.into(),
            email: e.email.into(),
            subject: e.subject.into(),
            message: e.message.into(),
            product_id: e.product_id.map(|p| p.as_uuid()),
            status: e.status.as_str().to_owned(),
            assigned_to: e.assigned_to.map(|u| u.as_uuid()),
            created_at: e.created_at,
            updated_at: e.updated_at,
            version: e.version,
        }
    }
}

/// A status change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEnquiryRequest {
    /// OPEN, ANSWERED or CLOSED.
    #[schema(value_type = crate::http::schema::EnquiryStatusDto)]
    pub status: String,
}

/// Filters and paging for enquiries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListEnquiriesQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// OPEN, ANSWERED or CLOSED.
    #[param(value_type = Option<crate::http::schema::EnquiryStatusDto>)]
    pub status: Option<String>,
    /// Only assigned to this user id.
    #[param(
        pattern = r"^\s*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?\s*$"
    )]
    pub assigned_to: Option<String>,
    /// Case-insensitive substring of subject, name or e-mail.
    #[param(
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub search: Option<String>,
}

/// Paging only.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

/// An enquiry as its sender sees it (nothing about internal handling).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyEnquiryResponse {
    /// Reference.
    pub id: Uuid,
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

impl From<Enquiry> for MyEnquiryResponse {
    fn from(e: Enquiry) -> Self {
        Self {
            id: e.id.as_uuid(),
            subject: e.subject.into(),
            message: e.message.into(),
            status: e.status.as_str().to_owned(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl TryFrom<&ListEnquiriesQuery> for EnquiryQuery {
    type Error = ApiError;

    fn try_from(q: &ListEnquiriesQuery) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let blank = crate::http::extract::non_blank;
        let status = e.check_opt(
            "status",
            "invalid",
            blank(&q.status).map(|s| s.parse::<EnquiryStatus>()),
        );
        let assigned_to = e.check_opt(
            "assignedTo",
            "uuid",
            blank(&q.assigned_to)
                .map(|s| s.parse::<UserId>().map_err(|_| "must be a user id (UUID)")),
        );
        let search = e.check_opt(
            "search",
            "invalid",
            blank(&q.search).map(|s| SearchTerm::parse(&s)),
        );
        let (Some(status), Some(assigned_to), Some(search)) = (status, assigned_to, search) else {
            return Err(e.into_error());
        };
        Ok(Self {
            status,
            assigned_to,
            search,
            ..EnquiryQuery::default()
        })
    }
}
