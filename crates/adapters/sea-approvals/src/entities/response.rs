//! `responses`: staff responses to customers and their approval state.

use sea_orm::entity::prelude::*;

/// One row of `responses`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    /// Response id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Addressee (`customers.id`, cascade on delete).
    pub customer_id: Uuid,
    /// The enquiry it answers (`enquiries.id`, set null on delete).
    pub enquiry_id: Option<Uuid>,
    /// Author (`users.id`, restrict).
    pub author_id: Uuid,
    /// Subject line.
    pub subject: String,
    /// Body.
    pub content: String,
    /// `DRAFT`, `PENDING_APPROVAL`, `APPROVED`, `SENT` or `REJECTED`.
    pub status: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation instant (UTC).
    pub created_at: DateTimeUtc,
    /// Last transition (UTC).
    pub updated_at: DateTimeUtc,
    /// Last submitted for approval.
    pub submitted_at: Option<DateTimeUtc>,
    /// Reviewer of the last decision (`users.id`, restrict).
    pub decided_by: Option<Uuid>,
    /// Time of the last decision.
    pub decided_at: Option<DateTimeUtc>,
    /// Reviewer's notes on the last decision.
    pub decision_notes: Option<String>,
    /// Accepted by the mail server at.
    pub sent_at: Option<DateTimeUtc>,
    /// The last submission's warning time (set with `due_at`).
    pub warn_at: Option<DateTimeUtc>,
    /// The last submission's deadline.
    pub due_at: Option<DateTimeUtc>,
    /// When the worker warned the approvers about this submission.
    pub warned_at: Option<DateTimeUtc>,
    /// When the worker escalated this submission to ADMIN.
    pub escalated_at: Option<DateTimeUtc>,
}

/// The customer, joined by the officer-scoped list (visible to the author or to the
/// customer's current officer).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// `responses.customer_id` -> `customers.id`.
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
}

impl ActiveModelBehavior for ActiveModel {}
