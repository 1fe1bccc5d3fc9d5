//! `outbox_events`: domain events written with the change that caused them.

use sea_orm::entity::prelude::*;

/// One row of `outbox_events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    /// Event id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `"<domain>.<event>"`.
    pub name: String,
    /// Payload version.
    pub version: i32,
    /// The event as JSON; `None` once a sensitive payload was cleared.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub payload: Option<Json>,
    /// Whether the payload is cleared once every delivery ended.
    pub sensitive: bool,
    /// The request that caused the change.
    pub request_id: Option<String>,
    /// When the change happened.
    pub occurred_at: DateTimeUtc,
    /// When the row was written.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
