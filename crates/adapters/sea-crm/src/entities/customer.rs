//! `customers`: the CRM's customer records.

use sea_orm::entity::prelude::*;

/// One row of `customers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    /// Customer id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Lower-cased contact address, unique.
    pub email: String,
    /// Contact number as entered.
    pub phone: Option<String>,
    /// Organisation.
    pub company: Option<String>,
    /// `LEAD`, `ACTIVE`, `INACTIVE` or `CHURNED`.
    pub status: String,
    /// Tags as a JSON array of strings.
    pub tags: String,
    /// Responsible officer (`users.id`, set null when the user is deleted).
    pub assigned_to: Option<Uuid>,
    /// Creator (`users.id`, restrict).
    pub created_by: Uuid,
    /// Creation instant (UTC).
    pub created_at: DateTimeUtc,
    /// Last change (UTC).
    pub updated_at: DateTimeUtc,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// `lower(first_name || ' ' || last_name || ' ' || email)`, kept by the repository.
    pub search_text: String,
    /// The linked buyer account (`users.id`, unique, set null when the user is deleted).
    pub user_id: Option<Uuid>,
}

/// No relations are mapped: foreign keys live in the migrations, and no query joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
