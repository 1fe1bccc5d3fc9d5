//! `feedback_moderations`: the moderation history.

use sea_orm::entity::prelude::*;

/// One row of `feedback_moderations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback_moderations")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `FEEDBACK` or `REVIEW`.
    pub subject_kind: String,
    /// The feedback's or review's id.
    pub subject_id: Uuid,
    /// `PUBLISH` or `HIDE`.
    pub action: String,
    /// Why.
    pub reason: Option<String>,
    /// Who.
    pub moderator_id: Option<Uuid>,
    /// When.
    pub at: DateTimeUtc,
}

/// No relations are mapped.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
