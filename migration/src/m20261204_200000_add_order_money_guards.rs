//! Guards on the money paths: one unpaid order per buyer and cart, refunds written down
//! before the gateway is called, and captured payments that no order could take.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds to `orders` the checkout key (the fingerprint of the cart an order comes from) with
/// a partial unique index over unpaid orders, and the pending refund columns; creates
/// `unapplied_payments`, one row per gateway payment refunded because its order could not
/// take it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            text_null(Orders::CheckoutKey),
            uuid_null(Orders::PendingRefundId),
            big_integer_null(Orders::PendingRefundMinor),
            text_null(Orders::PendingRefundReason),
            uuid_null(Orders::PendingRefundBy),
            timestamp_with_time_zone_null(Orders::PendingRefundAt),
            timestamp_with_time_zone_null(Orders::PendingRefundClaimedAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // Concurrent checkouts of one unchanged cart make one order: the database refuses
        // a second unpaid order with the same key. Same SQL on PostgreSQL and SQLite.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_orders_pending_checkout ON orders (user_id, checkout_key) \
                 WHERE status = 'PENDING_PAYMENT'",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UnappliedPayments::Table)
                    .col(pk_uuid(UnappliedPayments::Id))
                    .col(uuid(UnappliedPayments::OrderId))
                    .col(uuid(UnappliedPayments::UserId))
                    // Unique: a payment is refunded once, however many events report it.
                    .col(text(UnappliedPayments::PaymentId).unique_key())
                    .col(big_integer(UnappliedPayments::AmountMinor))
                    .col(text(UnappliedPayments::Currency))
                    .col(text(UnappliedPayments::Reason))
                    // The gateway's refund, once made.
                    .col(text_null(UnappliedPayments::RefundId))
                    .col(timestamp_with_time_zone(UnappliedPayments::CreatedAt))
                    .col(timestamp_with_time_zone_null(UnappliedPayments::RefundedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unapplied_payments_order_id")
                            .from(UnappliedPayments::Table, UnappliedPayments::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_unapplied_payments_order_id")
                    .table(UnappliedPayments::Table)
                    .col(UnappliedPayments::OrderId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UnappliedPayments::Table).to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_orders_pending_checkout")
            .await?;
        for column in [
            Orders::PendingRefundClaimedAt,
            Orders::PendingRefundAt,
            Orders::PendingRefundBy,
            Orders::PendingRefundReason,
            Orders::PendingRefundMinor,
            Orders::PendingRefundId,
            Orders::CheckoutKey,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    CheckoutKey,
    PendingRefundId,
    PendingRefundMinor,
    PendingRefundReason,
    PendingRefundBy,
    PendingRefundAt,
    PendingRefundClaimedAt,
}

#[derive(DeriveIden)]
enum UnappliedPayments {
    Table,
    Id,
    OrderId,
    UserId,
    PaymentId,
    AmountMinor,
    Currency,
    Reason,
    RefundId,
    CreatedAt,
    RefundedAt,
}
