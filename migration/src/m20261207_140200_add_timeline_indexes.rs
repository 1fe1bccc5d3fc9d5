//! Indexes the customer timeline reads: each source of entries by its customer key and time.

use sea_orm_migration::prelude::*;

/// Adds the (key, time) indexes the timeline's branches range over that no list needed
/// before. The others exist already: responses by customer, response history by response
/// and time, orders by buyer and creation, reviews by author and creation, site feedback by
/// address and creation, notes by customer and creation.
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str, &[&str])] = &[
    (
        "ix_enquiries_customer_id_created_at_id",
        "enquiries",
        &["customer_id", "created_at", "id"],
    ),
    (
        "ix_orders_user_id_paid_at",
        "orders",
        &["user_id", "paid_at"],
    ),
    (
        "ix_site_feedback_user_id_created_at",
        "site_feedback",
        &["user_id", "created_at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Alias::new(*table));
            for column in *columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(*name)
                        .table(Alias::new(*table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
