//! Covering indexes and a counter table that keep every dashboard within its time budget on
//! a million customers and a hundred thousand orders (see `docs/dashboards.md`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, date, text, uuid};
use sea_orm_migration::sea_orm::DbBackend;

/// Lets each dashboard query read an index alone instead of the table behind it, and adds
/// `response_event_counts`, the responses' status changes per UTC day, author and new
/// status, kept by the approvals adapter in the transaction that appends each event.
///
/// Indexes replaced by wider ones with the same leading columns (so every query that used
/// the old one can use the new one): `orders (paid_at)` by `orders (paid_at, currency,
/// total_minor, id)` (sales, revenue by day, top products), `responses (author_id, status,
/// submitted_at)` by `responses (author_id, status, warn_at, due_at)` (an officer's
/// responses and their deadlines), `responses (status, warn_at)` by `responses (status,
/// warn_at, due_at)` (the queue's deadlines in one pass, and the deadline sweep's warning
/// stage as before), `response_events (to_status, at)` by `response_events (to_status, at,
/// response_id)`. Index added: `orders (created_at, paid_at)` (conversion).
///
/// The counters start from the events already stored.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, columns) of an index.
type IndexDef = (&'static str, &'static str, &'static [&'static str]);

const DROPPED: &[IndexDef] = &[
    ("ix_orders_paid_at", "orders", &["paid_at"]),
    (
        "ix_responses_author_id_status_submitted_at",
        "responses",
        &["author_id", "status", "submitted_at"],
    ),
    (
        "ix_responses_status_warn_at",
        "responses",
        &["status", "warn_at"],
    ),
    (
        "ix_response_events_to_status_at",
        "response_events",
        &["to_status", "at"],
    ),
];

const CREATED: &[IndexDef] = &[
    (
        "ix_orders_paid_at_currency_total_minor_id",
        "orders",
        &["paid_at", "currency", "total_minor", "id"],
    ),
    (
        "ix_orders_created_at_paid_at",
        "orders",
        &["created_at", "paid_at"],
    ),
    (
        "ix_responses_author_id_status_warn_at_due_at",
        "responses",
        &["author_id", "status", "warn_at", "due_at"],
    ),
    (
        "ix_responses_status_warn_at_due_at",
        "responses",
        &["status", "warn_at", "due_at"],
    ),
    (
        "ix_response_events_to_status_at_response_id",
        "response_events",
        &["to_status", "at", "response_id"],
    ),
];

async fn create(manager: &SchemaManager<'_>, indexes: &[IndexDef]) -> Result<(), DbErr> {
    for (name, table, columns) in indexes {
        let mut index = Index::create();
        index.name(*name).table(Alias::new(*table));
        for column in *columns {
            index.col(Alias::new(*column));
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}

async fn drop(manager: &SchemaManager<'_>, indexes: &[IndexDef]) -> Result<(), DbErr> {
    for (name, table, _) in indexes {
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, CREATED).await?;
        drop(manager, DROPPED).await?;
        manager
            .create_table(
                Table::create()
                    .table(ResponseEventCounts::Table)
                    .col(date(ResponseEventCounts::Day))
                    .col(uuid(ResponseEventCounts::AuthorId))
                    .col(text(ResponseEventCounts::ToStatus))
                    .col(big_integer(ResponseEventCounts::N))
                    .primary_key(
                        Index::create()
                            .name("pk_response_event_counts")
                            .col(ResponseEventCounts::Day)
                            .col(ResponseEventCounts::AuthorId)
                            .col(ResponseEventCounts::ToStatus),
                    )
                    .to_owned(),
            )
            .await?;
        // The UTC day of each stored event: SQLite keeps UTC timestamps as text that starts
        // with the date.
        let day = match manager.get_database_backend() {
            DbBackend::Postgres => "CAST((v.at AT TIME ZONE 'UTC') AS DATE)",
            _ => "substr(v.at, 1, 10)",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO response_event_counts (day, author_id, to_status, n) \
                 SELECT {day}, r.author_id, v.to_status, COUNT(*) \
                 FROM response_events v JOIN responses r ON r.id = v.response_id \
                 GROUP BY {day}, r.author_id, v.to_status"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResponseEventCounts::Table).to_owned())
            .await?;
        create(manager, DROPPED).await?;
        drop(manager, CREATED).await
    }
}

#[derive(DeriveIden)]
enum ResponseEventCounts {
    Table,
    Day,
    AuthorId,
    ToStatus,
    N,
}
