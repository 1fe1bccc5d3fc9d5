//! Orders of the store, their snapshot lines and the refunds counted against them.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `orders`, `order_lines` and `order_refunds`. Lines and refunds go with their
/// order; an order keeps its buyer, a line keeps its product (an ordered product is archived,
/// never deleted), and a refund keeps the administrator who made it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Lists are newest first (ties by id): a buyer's orders, the staff list by status, or
/// everything. A buyer's list filtered by status uses the buyer's index and filters the
/// few rows it finds.
const ORDER_INDEXES: &[(&str, &[Orders])] = &[
    (
        "ix_orders_user_id_created_at_id",
        &[Orders::UserId, Orders::CreatedAt, Orders::Id],
    ),
    (
        "ix_orders_status_created_at_id",
        &[Orders::Status, Orders::CreatedAt, Orders::Id],
    ),
    ("ix_orders_created_at_id", &[Orders::CreatedAt, Orders::Id]),
    // Refund webhooks name the payment, not the order.
    ("ix_orders_payment_id", &[Orders::PaymentId]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(pk_uuid(Orders::Id))
                    .col(uuid(Orders::UserId))
                    // Minor units; `currency` is the order's (lines and refunds repeat it).
                    .col(big_integer(Orders::TotalMinor))
                    .col(text(Orders::Currency))
                    .col(text(Orders::Status))
                    .col(text(Orders::Gateway))
                    .col(text_null(Orders::GatewayOrderId))
                    .col(text_null(Orders::PaymentId))
                    // The sum of the order's refunds, kept with the order so that a list
                    // needs no aggregate.
                    .col(big_integer(Orders::RefundedMinor))
                    .col(text_null(Orders::InvoiceNumber))
                    .col(text_null(Orders::InvoiceKey))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Orders::PaidAt))
                    .col(big_integer(Orders::Version))
                    .foreign_key(
                        // Orders are accounting records: the buyer's account stays.
                        ForeignKey::create()
                            .name("fk_orders_user_id")
                            .from(Orders::Table, Orders::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // The checkout callback and payment webhooks find the order by the gateway's id.
        manager
            .create_index(
                Index::create()
                    .name("ux_orders_gateway_order_id")
                    .table(Orders::Table)
                    .col(Orders::GatewayOrderId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_orders_invoice_number")
                    .table(Orders::Table)
                    .col(Orders::InvoiceNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in ORDER_INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Orders::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(uuid(OrderLines::OrderId))
                    // 0-based place in the order, so lines read back in checkout order.
                    .col(integer(OrderLines::Position))
                    .col(uuid(OrderLines::ProductId))
                    // Snapshots taken at checkout: later catalog changes never alter them.
                    .col(text(OrderLines::Title))
                    .col(big_integer(OrderLines::UnitPriceMinor))
                    .col(text(OrderLines::Currency))
                    .primary_key(
                        Index::create()
                            .name("pk_order_lines")
                            .col(OrderLines::OrderId)
                            .col(OrderLines::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_lines_order_id")
                            .from(OrderLines::Table, OrderLines::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        // A product that was ever ordered cannot be deleted (the catalog
                        // answers ProductSold), which closes the race between its sales
                        // check and the delete. NO ACTION rather than RESTRICT: the effect
                        // is the same, but SQLite reports a RESTRICT as a trigger
                        // constraint, which is not recognised as a foreign-key violation.
                        ForeignKey::create()
                            .name("fk_order_lines_product_id")
                            .from(OrderLines::Table, OrderLines::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        // Whether a product sold, and the foreign key's check when a product is deleted.
        manager
            .create_index(
                Index::create()
                    .name("ix_order_lines_product_id")
                    .table(OrderLines::Table)
                    .col(OrderLines::ProductId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderRefunds::Table)
                    .col(uuid(OrderRefunds::OrderId))
                    // 0-based place among the order's refunds (oldest first).
                    .col(integer(OrderRefunds::Position))
                    // The gateway's refund id: a refund is counted once, whoever reports it.
                    .col(text(OrderRefunds::RefundId))
                    .col(big_integer(OrderRefunds::AmountMinor))
                    .col(text(OrderRefunds::Currency))
                    // NULL for a refund learnt from the gateway (made in its dashboard).
                    .col(text_null(OrderRefunds::Reason))
                    .col(uuid_null(OrderRefunds::RefundedBy))
                    .col(timestamp_with_time_zone(OrderRefunds::At))
                    .primary_key(
                        Index::create()
                            .name("pk_order_refunds")
                            .col(OrderRefunds::OrderId)
                            .col(OrderRefunds::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_refunds_order_id")
                            .from(OrderRefunds::Table, OrderRefunds::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_refunds_refunded_by")
                            .from(OrderRefunds::Table, OrderRefunds::RefundedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_order_refunds_refund_id")
                    .table(OrderRefunds::Table)
                    .col(OrderRefunds::RefundId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Serves the foreign key when an administrator's account is deleted.
        manager
            .create_index(
                Index::create()
                    .name("ix_order_refunds_refunded_by")
                    .table(OrderRefunds::Table)
                    .col(OrderRefunds::RefundedBy)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrderRefunds::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrderLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    UserId,
    TotalMinor,
    Currency,
    Status,
    Gateway,
    GatewayOrderId,
    PaymentId,
    RefundedMinor,
    InvoiceNumber,
    InvoiceKey,
    CreatedAt,
    UpdatedAt,
    PaidAt,
    Version,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    Position,
    ProductId,
    Title,
    UnitPriceMinor,
    Currency,
}

#[derive(DeriveIden)]
enum OrderRefunds {
    Table,
    OrderId,
    Position,
    RefundId,
    AmountMinor,
    Currency,
    Reason,
    RefundedBy,
    At,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}
