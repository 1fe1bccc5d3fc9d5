//! `credit_notes`: one per refund of an invoiced order.

use sea_orm::entity::prelude::*;

/// One row of `credit_notes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_notes")]
pub struct Model {
    /// `CN-<year>-<sequence>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: String,
    /// The refunded order.
    pub order_id: Uuid,
    /// The gateway refund it documents, unique.
    pub refund_id: String,
    /// Issued at (UTC): when the refund was counted.
    pub issued_at: DateTimeUtc,
    /// Asset-store key of its PDF, once rendered.
    pub file_key: Option<String>,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
