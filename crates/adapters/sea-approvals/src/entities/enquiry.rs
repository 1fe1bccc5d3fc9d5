//! `enquiries`: questions from the public and customers.

use sea_orm::entity::prelude::*;

/// One row of `enquiries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enquiries")]
pub struct Model {
    /// Enquiry id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The customer it is linked to (`customers.id`, cascade on delete).
    pub customer_id: Uuid,
    /// Name as given.
    pub name: String,
    /// Lower-cased address as given.
    pub email: String,
    /// Subject.
    pub subject: String,
    /// Message.
    pub message: String,
    /// The product it is about.
    pub product_id: Option<Uuid>,
    /// `OPEN`, `ANSWERED` or `CLOSED`.
    pub status: String,
    /// The officer who answers it (`users.id`, set null when the user is deleted).
    pub assigned_to: Option<Uuid>,
    /// Creation instant (UTC).
    pub created_at: DateTimeUtc,
    /// Last change (UTC).
    pub updated_at: DateTimeUtc,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// `lower(subject || ' ' || name || ' ' || email)`, kept by the repository.
    pub search_text: String,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
