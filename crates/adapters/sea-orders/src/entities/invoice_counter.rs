//! `invoice_counters`: the last invoice number issued per year.

use sea_orm::entity::prelude::*;

/// One row of `invoice_counters`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_counters")]
pub struct Model {
    /// Calendar year (UTC) of the payments it numbers.
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    /// The last sequence number issued that year.
    pub last: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
