//! `unapplied_payments`: captured payments no order could take, refunded automatically.

use sea_orm::entity::prelude::*;

/// One row of `unapplied_payments`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unapplied_payments")]
pub struct Model {
    /// Our id (the refund's receipt derives from it).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The order the payment was made for.
    pub order_id: Uuid,
    /// Its buyer.
    pub user_id: Uuid,
    /// The gateway payment, unique.
    pub payment_id: String,
    /// Amount captured, in minor units.
    pub amount_minor: i64,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// Why it was not applied (`ORDER_CLOSED`, `PAID_BY_ANOTHER_PAYMENT`, ...).
    pub reason: String,
    /// The gateway's refund, once made.
    pub refund_id: Option<String>,
    /// Recorded at (UTC).
    pub created_at: DateTimeUtc,
    /// Refunded at (UTC).
    pub refunded_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
