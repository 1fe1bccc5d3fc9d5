//! `event_deliveries`: one event on its way to one subscriber.

use sea_orm::entity::prelude::*;

/// One row of `event_deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_deliveries")]
pub struct Model {
    /// Delivery id (UUID v7), the subscriber's idempotency key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The subscriber's stable name.
    pub subscriber: String,
    /// `PENDING`, `RUNNING`, `DONE` or `DEAD`.
    pub state: String,
    /// Attempts started.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Not before.
    pub run_at: DateTimeUtc,
    /// Worker holding the lease, while RUNNING.
    pub locked_by: Option<String>,
    /// End of the lease, while RUNNING.
    pub locked_until: Option<DateTimeUtc>,
    /// Last failure message.
    pub last_error: Option<String>,
    /// Creation instant.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
