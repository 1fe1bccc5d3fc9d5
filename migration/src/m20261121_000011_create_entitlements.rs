//! Who owns which product: written when an order is paid, removed when it is fully
//! refunded.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `entitlements`: one row per user and product, naming the order that granted
/// it. A product owned cannot be deleted; an entitlement goes with its user or its order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Entitlements::Table)
                    .col(uuid(Entitlements::UserId))
                    .col(uuid(Entitlements::ProductId))
                    .col(uuid(Entitlements::OrderId))
                    // The order's payment time.
                    .col(timestamp_with_time_zone(Entitlements::GrantedAt))
                    // Digital products are owned once: a second grant keeps the first.
                    .primary_key(
                        Index::create()
                            .name("pk_entitlements")
                            .col(Entitlements::UserId)
                            .col(Entitlements::ProductId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_entitlements_user_id")
                            .from(Entitlements::Table, Entitlements::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        // An owned product stays (archived at most): its owner downloads
                        // it. NO ACTION for the reason given on `order_lines`.
                        ForeignKey::create()
                            .name("fk_entitlements_product_id")
                            .from(Entitlements::Table, Entitlements::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_entitlements_order_id")
                            .from(Entitlements::Table, Entitlements::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's library, most recently granted first (ties by product id).
        manager
            .create_index(
                Index::create()
                    .name("ix_entitlements_user_id_granted_at_product_id")
                    .table(Entitlements::Table)
                    .col(Entitlements::UserId)
                    .col(Entitlements::GrantedAt)
                    .col(Entitlements::ProductId)
                    .to_owned(),
            )
            .await?;
        // A full refund takes back what its order granted.
        manager
            .create_index(
                Index::create()
                    .name("ix_entitlements_order_id")
                    .table(Entitlements::Table)
                    .col(Entitlements::OrderId)
                    .to_owned(),
            )
            .await?;
        // Serves the foreign key when a product is deleted.
        manager
            .create_index(
                Index::create()
                    .name("ix_entitlements_product_id")
                    .table(Entitlements::Table)
                    .col(Entitlements::ProductId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Entitlements::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Entitlements {
    Table,
    UserId,
    ProductId,
    OrderId,
    GrantedAt,
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

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}
