//! Carts kept in the database, for installations without Redis.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `carts`: one row per product in a user's cart.
///
/// There are no foreign keys, on purpose: a cart is a scratch list with the same meaning
/// as the Redis one, which cannot reference rows either. A product deleted meanwhile is
/// shown as unavailable by the cart service and never reaches an order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Carts::Table)
                    .col(uuid(Carts::UserId))
                    .col(uuid(Carts::ProductId))
                    .col(timestamp_with_time_zone(Carts::AddedAt))
                    // A cart holds each product once; the key also serves the user's
                    // reads, deletes and clears.
                    .primary_key(
                        Index::create()
                            .name("pk_carts")
                            .col(Carts::UserId)
                            .col(Carts::ProductId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Carts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    UserId,
    ProductId,
    AddedAt,
}
