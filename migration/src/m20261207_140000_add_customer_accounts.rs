//! The link between a CRM customer and the buyer account with the same verified e-mail.

use sea_orm_migration::prelude::*;

/// Adds `customers.user_id`: the linked buyer account, unique (one customer per account),
/// nullable (most customers have none) and indexed by its unique index, which the timeline
/// and the link look-ups use. Deleting the account clears the link.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite accepts a REFERENCES clause on an added column whose default is NULL.
        let mut column = ColumnDef::new(Customers::UserId);
        column
            .uuid()
            .null()
            .extra("REFERENCES users (id) ON DELETE SET NULL");
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_customers_user_id")
                    .table(Customers::Table)
                    .col(Customers::UserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_customers_user_id")
                    .table(Customers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .drop_column(Customers::UserId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    UserId,
}
