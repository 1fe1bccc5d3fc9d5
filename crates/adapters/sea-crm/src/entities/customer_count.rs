//! `customer_counts`: exact counters behind customer list totals (see `docs/counting.md`).

use sea_orm::entity::prelude::*;

/// One counter row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_counts")]
pub struct Model {
    /// `all`, `status:<S>`, `assignee:<id>` or `assignee:<id>:status:<S>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// How many customers fall in this slice.
    pub n: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
