//! Request and response bodies of the feedback and review endpoints.

use chrono::{DateTime, Utc};
use nexus_feedback::{
    CustomerFeedback, FeedbackFilter, FeedbackMessage, FeedbackStatus, ModerationReason,
    NewFeedback, PagePath, PublicReview, Rating, RatingSummary, Review, ReviewBody, ReviewFilter,
    ReviewInput, ReviewStatus, ReviewTitle, SenderName, SiteFeedback,
};
use nexus_kernel::Email;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};

fn rating(raw: Option<i64>, e: &mut FieldErrors, field: &str) -> Option<Option<Rating>> {
    e.check_opt(field, "range", raw.map(Rating::new))
}

/// Site feedback from the public form.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFeedbackRequest {
    /// The message (1 to 5000 characters).
    #[validate(length(max = 20_000))]
    #[schema(
        max_length = 20000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,4998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub message: String,
    /// Your name (up to 100 characters; blank is none).
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub name: Option<String>,
    /// Where to answer, if you wish.
    #[validate(length(max = 1024))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// The page you were on: a relative path such as `/pricing`.
    #[validate(length(max = 2048))]
    #[schema(
        max_length = 2048,
        pattern = r"^$|^/(?:[^/\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f\\][^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f\\]{0,498})?$"
    )]
    pub page: Option<String>,
    /// How you rate the site, 1 to 5.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// Leave empty: a field people never see. Anything in it marks the message as spam,
    /// which is answered like any other and never stored.
    #[validate(length(max = 2048))]
    pub website: Option<String>,
}

impl TryFrom<CreateFeedbackRequest> for NewFeedback {
    type Error = ApiError;

    fn try_from(r: CreateFeedbackRequest) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let message = e.check("message", "invalid", FeedbackMessage::parse(&r.message));
        let name = e.check_opt(
            "name",
            "invalid",
            r.name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(SenderName::parse),
        );
        let email = e.check_opt("email", "email", r.email.as_deref().map(Email::parse));
        let page = e.check_opt(
            "page",
            "invalid",
            r.page
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(PagePath::parse),
        );
        let rating = rating(r.rating, &mut e, "rating");
        match (message, name, email, page, rating) {
            (Some(message), Some(name), Some(email), Some(page), Some(rating)) if e.is_empty() => {
                Ok(Self {
                    message,
                    name,
                    email,
                    page,
                    rating,
                    trap: r.website,
                })
            }
            _ => Err(e.into_error()),
        }
    }
}

/// The answer to every submission, stored or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    /// Always `received`.
    pub status: &'static str,
}

/// Site feedback as the public sees it: never the sender's address.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicFeedbackResponse {
    /// Id.
    pub id: Uuid,
    /// The message.
    pub message: String,
    /// The sender's name, if given.
    pub name: Option<String>,
    /// Stars, 1 to 5.
    pub rating: Option<u8>,
    /// Received at.
    pub created_at: DateTime<Utc>,
}

impl From<SiteFeedback> for PublicFeedbackResponse {
    fn from(f: SiteFeedback) -> Self {
        Self {
            id: f.id.as_uuid(),
            message: f.message.as_str().to_owned(),
            name: f.name.map(|n| n.as_str().to_owned()),
            rating: f.rating.map(Rating::get),
            created_at: f.created_at,
        }
    }
}

/// Site feedback as moderators see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackResponse {
    /// Id.
    pub id: Uuid,
    /// The message.
    pub message: String,
    /// The sender's name.
    pub name: Option<String>,
    /// The sender's address.
    pub email: Option<String>,
    /// The page it was sent from.
    pub page: Option<String>,
    /// Stars, 1 to 5.
    pub rating: Option<u8>,
    /// The signed-in sender.
    pub user_id: Option<Uuid>,
    /// NEW, PUBLISHED or HIDDEN.
    pub status: String,
    /// Received at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for moderation.
    pub version: i64,
}

impl From<SiteFeedback> for FeedbackResponse {
    fn from(f: SiteFeedback) -> Self {
        Self {
            id: f.id.as_uuid(),
            message: f.message.as_str().to_owned(),
            name: f.name.map(|n| n.as_str().to_owned()),
            email: f.email.map(|m| m.as_str().to_owned()),
            page: f.page.map(|p| p.as_str().to_owned()),
            rating: f.rating.map(Rating::get),
            user_id: f.user_id.map(|u| u.as_uuid()),
            status: f.status.as_str().to_owned(),
            created_at: f.created_at,
            updated_at: f.updated_at,
            version: f.version,
        }
    }
}

/// Paging, and a status for the moderation queue of site feedback.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// NEW, PUBLISHED or HIDDEN (empty: all).
    #[param(pattern = "^(|NEW|PUBLISHED|HIDDEN)$")]
    pub status: Option<String>,
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

impl FeedbackQuery {
    /// The filter.
    ///
    /// # Errors
    /// 400 on an unknown status.
    pub fn filter(&self) -> Result<FeedbackFilter, ApiError> {
        let status = self
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::parse::<FeedbackStatus>)
            .transpose()
            .map_err(|_| {
                ApiError::field("status", "invalid", "must be NEW, PUBLISHED or HIDDEN")
            })?;
        Ok(FeedbackFilter { status })
    }
}

/// Paging, and status and product for the moderation queue of reviews.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ReviewsQuery {
    /// PENDING, PUBLISHED or HIDDEN (empty: all).
    #[param(pattern = "^(|PENDING|PUBLISHED|HIDDEN)$")]
    pub status: Option<String>,
    /// Only this product.
    #[param(value_type = Option<Uuid>)]
    pub product_id: Option<String>,
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

impl ReviewsQuery {
    /// The filter.
    ///
    /// # Errors
    /// 400 on an unknown status or a product id that is not a UUID.
    pub fn filter(&self) -> Result<ReviewFilter, ApiError> {
        let mut e = FieldErrors::default();
        let status = e.check_opt(
            "status",
            "invalid",
            self.status.as_deref().filter(|s| !s.is_empty()).map(|s| {
                s.parse::<ReviewStatus>()
                    .map_err(|_| "must be PENDING, PUBLISHED or HIDDEN")
            }),
        );
        let product_id = e.check_opt(
            "productId",
            "uuid",
            self.product_id
                .as_deref()
                .map(|s| s.parse().map_err(|_| "must be a product id (UUID)")),
        );
        match (status, product_id) {
            (Some(status), Some(product_id)) if e.is_empty() => {
                Ok(ReviewFilter { status, product_id })
            }
            _ => Err(e.into_error()),
        }
    }
}

/// Paging only.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagingQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

/// Publishing: the version read, checked when sent.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishRequest {
    /// The version read; a stale one is 409.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub version: Option<i64>,
}

/// Hiding: why, and the version read.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HideRequest {
    /// Why (1 to 500 characters).
    #[validate(length(max = 2048))]
    #[schema(
        max_length = 2048,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,498}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub reason: String,
    /// The version read; a stale one is 409.
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub version: Option<i64>,
}

impl HideRequest {
    /// The reason.
    ///
    /// # Errors
    /// 400 when it is blank or too long.
    pub fn reason(&self) -> Result<ModerationReason, ApiError> {
        ModerationReason::parse(&self.reason)
            .map_err(|err| ApiError::field("reason", "invalid", err.to_string()))
    }
}

/// A review: create, or replace with the version read.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutReviewRequest {
    /// Stars, 1 to 5.
    #[serde(deserialize_with = "crate::http::extract::whole")]
    #[schema(value_type = i64, minimum = 1, maximum = 5)]
    pub rating: i64,
    /// A title (up to 120 characters; blank is none).
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]{0,118}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub title: Option<String>,
    /// The review (up to 5000 characters).
    #[validate(length(max = 20_000))]
    #[serde(default)]
    #[schema(
        max_length = 20000,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,4998}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub body: String,
    /// The version read: required when replacing a review (or `If-Match`).
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub version: Option<i64>,
}

impl PutReviewRequest {
    /// The review's content.
    ///
    /// # Errors
    /// 400 listing the invalid fields.
    pub fn input(&self) -> Result<ReviewInput, ApiError> {
        let mut e = FieldErrors::default();
        let rating = e.check("rating", "range", Rating::new(self.rating));
        let title = e.check_opt(
            "title",
            "invalid",
            self.title
                .as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(ReviewTitle::parse),
        );
        let body = e.check("body", "invalid", ReviewBody::parse(&self.body));
        match (rating, title, body) {
            (Some(rating), Some(title), Some(body)) if e.is_empty() => Ok(ReviewInput {
                rating,
                title,
                body,
            }),
            _ => Err(e.into_error()),
        }
    }
}

/// A review as its author and moderators see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewResponse {
    /// Id.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The reviewer.
    pub user_id: Uuid,
    /// Stars.
    pub rating: u8,
    /// Title.
    pub title: Option<String>,
    /// Text.
    pub body: String,
    /// PENDING, PUBLISHED or HIDDEN.
    pub status: String,
    /// Written at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last publication.
    pub published_at: Option<DateTime<Utc>>,
    /// Version, for replacing and moderating.
    pub version: i64,
}

impl From<Review> for ReviewResponse {
    fn from(r: Review) -> Self {
        Self {
            id: r.id.as_uuid(),
            product_id: r.product_id.as_uuid(),
            user_id: r.user_id.as_uuid(),
            rating: r.rating.get(),
            title: r.title.map(|t| t.as_str().to_owned()),
            body: r.body.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
            version: r.version,
        }
    }
}

/// A published review as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicReviewResponse {
    /// Id.
    pub id: Uuid,
    /// Stars.
    pub rating: u8,
    /// Title.
    pub title: Option<String>,
    /// Text.
    pub body: String,
    /// The reviewer's first name and last initial ("Cara B.").
    pub reviewer: String,
    /// Published at.
    pub published_at: DateTime<Utc>,
}

impl From<PublicReview> for PublicReviewResponse {
    fn from(r: PublicReview) -> Self {
        Self {
            id: r.id.as_uuid(),
            rating: r.rating.get(),
            title: r.title.map(|t| t.as_str().to_owned()),
            body: r.body.as_str().to_owned(),
            reviewer: r.reviewer,
            published_at: r.published_at,
        }
    }
}

/// A product's published rating.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct RatingDto {
    /// Mean stars, two decimals (0 without reviews).
    pub average: f64,
    /// Published reviews.
    pub count: u64,
}

impl From<RatingSummary> for RatingDto {
    fn from(s: RatingSummary) -> Self {
        Self {
            average: s.average(),
            count: s.count,
        }
    }
}

/// Something a customer said, in the CRM.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerFeedbackResponse {
    /// SITE or REVIEW.
    pub kind: &'static str,
    /// The feedback's or review's id.
    pub id: Uuid,
    /// The product reviewed.
    pub product_id: Option<Uuid>,
    /// Stars.
    pub rating: Option<u8>,
    /// A review's title.
    pub title: Option<String>,
    /// The message or review.
    pub text: String,
    /// Moderation status.
    pub status: String,
    /// Sent at.
    pub created_at: DateTime<Utc>,
}

impl From<CustomerFeedback> for CustomerFeedbackResponse {
    fn from(c: CustomerFeedback) -> Self {
        Self {
            kind: c.kind.as_str(),
            id: c.id,
            product_id: c.product_id.map(|p| p.as_uuid()),
            rating: c.rating.map(Rating::get),
            title: c.title,
            text: c.text,
            status: c.status,
            created_at: c.created_at,
        }
    }
}
