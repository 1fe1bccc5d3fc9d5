//! `order_refunds`: refunds counted against an order, once per gateway refund id.

use sea_orm::entity::prelude::*;

/// One row of `order_refunds`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_refunds")]
pub struct Model {
    /// The order (`orders.id`, cascade).
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    /// 0-based place of the refund among its order's, oldest first.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    /// The gateway's refund id, unique.
    pub refund_id: String,
    /// Amount given back, in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// Why, for a refund made here.
    pub reason: Option<String>,
    /// The administrator who refunded here (`users.id`, restrict).
    pub refunded_by: Option<Uuid>,
    /// When it was counted (UTC).
    pub at: DateTimeUtc,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
