//! `orders`: the store's orders (their lines and refunds are in their own tables).

use sea_orm::entity::prelude::*;

/// One row of `orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    /// Order id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The buyer (`users.id`, restrict).
    pub user_id: Uuid,
    /// Sum of the lines, in minor units.
    pub total_minor: i64,
    /// ISO 4217 code of the order (and of its lines and refunds).
    pub currency: String,
    /// `PENDING_PAYMENT`, `PAID`, `PARTIALLY_REFUNDED`, `REFUNDED`, `FAILED`, `CANCELLED`
    /// or `EXPIRED`.
    pub status: String,
    /// `razorpay` or `development`.
    pub gateway: String,
    /// The gateway's order id, unique once set.
    pub gateway_order_id: Option<String>,
    /// The gateway's payment id, once paid.
    pub payment_id: Option<String>,
    /// Sum of the order's refunds, in minor units.
    pub refunded_minor: i64,
    /// `INV-<year>-<sequence>`, unique; allocated when paid.
    pub invoice_number: Option<String>,
    /// Asset-store key of the invoice PDF, once generated.
    pub invoice_key: Option<String>,
    /// Placed at (UTC).
    pub created_at: DateTimeUtc,
    /// Last change (UTC).
    pub updated_at: DateTimeUtc,
    /// Paid at (UTC).
    pub paid_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Fingerprint of the cart the order was checked out from; unique per buyer among
    /// PENDING_PAYMENT orders.
    pub checkout_key: Option<String>,
    /// Our id of a refund written down and not yet counted (the gateway receipt).
    pub pending_refund_id: Option<Uuid>,
    /// Its amount, in the order's currency.
    pub pending_refund_minor: Option<i64>,
    /// Its reason.
    pub pending_refund_reason: Option<String>,
    /// The administrator who asked for it.
    pub pending_refund_by: Option<Uuid>,
    /// When it was asked for.
    pub pending_refund_at: Option<DateTimeUtc>,
    /// When a request last took it to the gateway; NULL once that call ended unanswered.
    pub pending_refund_claimed_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
