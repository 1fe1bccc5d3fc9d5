//! `credit_note_counters`: the last credit note number issued per year.

use sea_orm::entity::prelude::*;

/// One row of `credit_note_counters`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_note_counters")]
pub struct Model {
    /// Calendar year (UTC) of the refunds it numbers.
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    /// The last sequence number issued that year.
    pub last: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
