//! `response_events`: the append-only history of each response.

use sea_orm::entity::prelude::*;

/// One row of `response_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "response_events")]
pub struct Model {
    /// Event id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The response (`responses.id`, cascade on delete).
    pub response_id: Uuid,
    /// Who acted (`users.id`, restrict); `None` for the system.
    pub actor_id: Option<Uuid>,
    /// Status before; `None` for the creation.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Reviewer's notes.
    pub notes: Option<String>,
    /// When (UTC).
    pub at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
