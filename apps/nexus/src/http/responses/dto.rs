//! Request and response bodies of the response (approval workflow) endpoints.

use chrono::{DateTime, Utc};
use nexus_approvals::{
    NewResponse, Response, ResponseContent, ResponseEvent, ResponseQuery, ResponseStatus,
    ResponseSubject, UpdateResponse,
};
use nexus_customers::{CustomerId, EnquiryId};
use nexus_kernel::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};

/// A staff response to a customer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseResponse {
    /// Id.
    pub id: Uuid,
    /// The customer answered.
    pub customer_id: Uuid,
    /// The enquiry answered, if any.
    pub enquiry_id: Option<Uuid>,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Subject.
    pub subject: String,
    /// Body.
    pub content: String,
    /// DRAFT, PENDING_APPROVAL, APPROVED, SENT or REJECTED.
    #[schema(value_type = crate::http::schema::ResponseStatusDto)]
    pub status: String,
    /// Version, for `If-Match`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last submitted for approval at.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Who approved or rejected it.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Reviewer's notes.
    pub decision_notes: Option<String>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the last submission's approvers are warned (null without a deadline).
    pub warn_at: Option<DateTime<Utc>>,
    /// When the last submission is due for a decision (null without a deadline); a pending
    /// response past it has been escalated to ADMIN.
    pub due_at: Option<DateTime<Utc>>,
}

impl From<Response> for ResponseResponse {
    fn from(r: Response) -> Self {
        Self {
            id: r.id().as_uuid(),
            customer_id: r.customer_id().as_uuid(),
            enquiry_id: r.enquiry_id().map(|e| e.as_uuid()),
            author_id: r.author_id().as_uuid(),
            subject: r.subject().as_str().to_owned(),
            content: r.content().as_str().to_owned(),
            status: r.status().as_str().to_owned(),
            version: r.version(),
            created_at: r.created_at(),
            updated_at: r.updated_at(),
            submitted_at: r.submitted_at(),
            decided_by: r.decided_by().map(|u| u.as_uuid()),
            decided_at: r.decided_at(),
            decision_notes: r.decision_notes().map(|n| n.as_str().to_owned()),
            sent_at: r.sent_at(),
            warn_at: r.deadline().map(|d| d.warn_at),
            due_at: r.deadline().map(|d| d.due_at),
        }
    }
}

/// One step of a response's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseEventResponse {
    /// Id.
    pub id: Uuid,
    /// Who (null: the system, e.g. the mail worker).
    pub actor_id: Option<Uuid>,
    /// From state (null at creation).
    pub from: Option<String>,
    /// To state.
    pub to: String,
    /// Notes given.
    pub notes: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<ResponseEvent> for ResponseEventResponse {
    fn from(e: ResponseEvent) -> Self {
        Self {
            id: e.id,
            actor_id: e.actor_id.map(|u| u.as_uuid()),
            from: e.from.map(|s| s.as_str().to_owned()),
            to: e.to.as_str().to_owned(),
            notes: e.notes.map(|n| n.as_str().to_owned()),
            at: e.at,
        }
    }
}

/// A new draft.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponseRequest {
    /// The customer to answer.
    #[schema(value_type = Uuid)]
    pub customer_id: String,
    /// The enquiry answered, if any (it must be the customer's).
    #[schema(value_type = Option<crate::http::schema::IdText>)]
    pub enquiry_id: Option<String>,
    /// Subject (1 to 200 characters, one line).
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub subject: String,
    /// Body (1 to 20 000 characters).
    #[validate(length(max = 100_000))]
    #[schema(
        max_length = 100000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,19998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub content: String,
}

impl TryFrom<CreateResponseRequest> for NewResponse {
    type Error = ApiError;

    fn try_from(r: CreateResponseRequest) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let customer_id = e.check(
            "customerId",
            "uuid",
            r.customer_id
                .parse::<CustomerId>()
                .map_err(|_| "must be a customer id (UUID)"),
        );
        let enquiry_id = e.check_opt(
            "enquiryId",
            "uuid",
            r.enquiry_id.as_deref().map(|s| {
                s.parse::<EnquiryId>()
                    .map_err(|_| "must be an enquiry id (UUID)")
            }),
        );
        let subject = e.check("subject", "invalid", ResponseSubject::parse(&r.subject));
        let content = e.check("content", "invalid", ResponseContent::parse(&r.content));
        match (customer_id, enquiry_id, subject, content) {
            (Some(customer_id), Some(enquiry_id), Some(subject), Some(content)) if e.is_empty() => {
                Ok(Self {
                    customer_id,
                    enquiry_id,
                    subject,
                    content,
                })
            }
            _ => Err(e.into_error()),
        }
    }
}

/// A revision of a draft or rejected response.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResponseRequest {
    /// New subject.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub subject: Option<String>,
    /// New body.
    #[validate(length(max = 100_000))]
    #[schema(
        max_length = 100000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,19998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub content: Option<String>,
    /// The version read (alternative to `If-Match`).
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    pub version: Option<i64>,
}

impl TryFrom<UpdateResponseRequest> for UpdateResponse {
    type Error = ApiError;

    fn try_from(r: UpdateResponseRequest) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let subject = e.check_opt(
            "subject",
            "invalid",
            r.subject.as_deref().map(ResponseSubject::parse),
        );
        let content = e.check_opt(
            "content",
            "invalid",
            r.content.as_deref().map(ResponseContent::parse),
        );
        match (subject, content) {
            (Some(subject), Some(content)) if e.is_empty() => Ok(Self { subject, content }),
            _ => Err(e.into_error()),
        }
    }
}

/// An approval, optionally with notes.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct ApproveRequest {
    /// Notes for the author (1 to 2 000 characters when given).
    #[validate(length(max = 10_000))]
    #[schema(
        max_length = 10000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,1998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub notes: Option<String>,
}

/// A rejection: notes are required.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RejectRequest {
    /// Why, for the author (required: 1 to 2 000 characters).
    #[validate(length(max = 10_000))]
    #[schema(value_type = String, required = true, max_length = 10000, pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,1998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$")]
    pub notes: Option<String>,
}

/// Filters and paging for responses.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListResponsesQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// DRAFT, PENDING_APPROVAL, APPROVED, SENT or REJECTED.
    #[param(value_type = Option<crate::http::schema::ResponseStatusDto>)]
    pub status: Option<String>,
    /// Only for this customer.
    #[param(
        pattern = r"^\s*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?\s*$"
    )]
    pub customer_id: Option<String>,
    /// Only by this author.
    #[param(
        pattern = r"^\s*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?\s*$"
    )]
    pub author_id: Option<String>,
}

impl TryFrom<&ListResponsesQuery> for ResponseQuery {
    type Error = ApiError;

    fn try_from(q: &ListResponsesQuery) -> Result<Self, ApiError> {
        let blank = crate::http::extract::non_blank;
        let mut e = FieldErrors::default();
        let status = e.check_opt(
            "status",
            "invalid",
            blank(&q.status).map(|s| s.parse::<ResponseStatus>()),
        );
        let customer_id = e.check_opt(
            "customerId",
            "uuid",
            blank(&q.customer_id).map(|s| {
                s.parse::<CustomerId>()
                    .map_err(|_| "must be a customer id (UUID)")
            }),
        );
        let author_id = e.check_opt(
            "authorId",
            "uuid",
            blank(&q.author_id)
                .map(|s| s.parse::<UserId>().map_err(|_| "must be a user id (UUID)")),
        );
        let (Some(status), Some(customer_id), Some(author_id)) = (status, customer_id, author_id)
        else {
            return Err(e.into_error());
        };
        Ok(Self {
            status,
            customer_id,
            author_id,
            visible_to: None,
        })
    }
}
