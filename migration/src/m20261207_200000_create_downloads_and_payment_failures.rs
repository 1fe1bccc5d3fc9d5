//! What buyers did that no order row keeps: the downloads of their files and the payment
//! attempts the gateway reported as failed.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `downloads` (one row per download link issued for a purchased file) and
/// `payment_failures` (one row per `payment.failed` webhook of a known order), each with the
/// (key, time) index the customer timeline and the dashboards range over.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign keys: a download stays in the buyer's history after its product is
        // deleted (the timeline shows it without a title), and the account link decides
        // whose history it is.
        manager
            .create_table(
                Table::create()
                    .table(Downloads::Table)
                    .if_not_exists()
                    .col(pk_uuid(Downloads::Id))
                    .col(uuid(Downloads::UserId))
                    .col(uuid(Downloads::ProductId))
                    .col(timestamp_with_time_zone(Downloads::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_downloads_user_id_at")
                    .table(Downloads::Table)
                    .col(Downloads::UserId)
                    .col(Downloads::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentFailures::Table)
                    .if_not_exists()
                    .col(pk_uuid(PaymentFailures::Id))
                    .col(uuid(PaymentFailures::OrderId))
                    .col(text(PaymentFailures::PaymentId))
                    .col(text_null(PaymentFailures::ErrorCode))
                    .col(text_null(PaymentFailures::ErrorDescription))
                    .col(timestamp_with_time_zone(PaymentFailures::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_payment_failures_order_id")
                            .from(PaymentFailures::Table, PaymentFailures::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_payment_failures_order_id_at")
                    .table(PaymentFailures::Table)
                    .col(PaymentFailures::OrderId)
                    .col(PaymentFailures::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaymentFailures::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Downloads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Downloads {
    Table,
    Id,
    UserId,
    ProductId,
    At,
}

#[derive(DeriveIden)]
enum PaymentFailures {
    Table,
    Id,
    OrderId,
    PaymentId,
    ErrorCode,
    ErrorDescription,
    At,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}
