//! `site_feedback`.

use sea_orm::entity::prelude::*;

/// One row of `site_feedback`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "site_feedback")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Message.
    pub message: String,
    /// Sender's name.
    pub name: Option<String>,
    /// Sender's address, lower-cased.
    pub email: Option<String>,
    /// Page sent from.
    pub page: Option<String>,
    /// Stars, 1 to 5.
    pub rating: Option<i32>,
    /// Signed-in sender.
    pub user_id: Option<Uuid>,
    /// `NEW`, `PUBLISHED` or `HIDDEN`.
    pub status: String,
    /// Received at.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
