//! Indexes the dashboards' aggregate queries range over that no list needed before.

use sea_orm_migration::prelude::*;

/// Adds, per dashboard figure: sales and revenue by payment time (`orders (paid_at)`), the
/// approval queue oldest first (`responses (status, submitted_at)`), an officer's own
/// responses by status and waiting time (`responses (author_id, status, submitted_at)`), an
/// officer's customers by status and the unassigned leads (`customers (assigned_to,
/// status)`), the team's decisions and sendings over 30 days (`response_events (to_status,
/// at)`), refunds over 30 days (`order_refunds (at)`) and the oldest pending delivery
/// (`event_deliveries (state, created_at)`).
#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str, &[&str])] = &[
    ("ix_orders_paid_at", "orders", &["paid_at"]),
    (
        "ix_responses_status_submitted_at",
        "responses",
        &["status", "submitted_at"],
    ),
    (
        "ix_responses_author_id_status_submitted_at",
        "responses",
        &["author_id", "status", "submitted_at"],
    ),
    (
        "ix_customers_assigned_to_status",
        "customers",
        &["assigned_to", "status"],
    ),
    (
        "ix_response_events_to_status_at",
        "response_events",
        &["to_status", "at"],
    ),
    ("ix_order_refunds_at", "order_refunds", &["at"]),
    (
        "ix_event_deliveries_state_created_at",
        "event_deliveries",
        &["state", "created_at"],
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
