//! `payment_events`: gateway webhook events already processed.

use sea_orm::entity::prelude::*;

/// One row of `payment_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_events")]
pub struct Model {
    /// The gateway's event id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    /// When it was processed (UTC).
    pub processed_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
