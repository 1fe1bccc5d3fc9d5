//! `content_audit`.

use sea_orm::entity::prelude::*;

/// One row of `content_audit`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_audit")]
pub struct Model {
    /// Entry id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// When.
    pub at: DateTimeUtc,
    /// Who (`None`: the scheduler).
    pub actor_id: Option<Uuid>,
    /// `page`...
    pub entity_kind: String,
    /// The entity.
    pub entity_id: Uuid,
    /// What was done.
    pub action: String,
    /// JSON summary.
    pub changes: String,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
