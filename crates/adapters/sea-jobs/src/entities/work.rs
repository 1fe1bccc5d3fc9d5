//! `background_work`: a view of `jobs` and `event_deliveries` together (a delivery's kind
//! is its subscriber), read by the administrators' list.

use sea_orm::entity::prelude::*;

/// One row of `background_work`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "background_work")]
pub struct Model {
    /// Job id (UUID v7), also the idempotency key of what it sends.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `send_response`, `send_welcome`, `send_otp`, ... (the payload's JSON tag).
    pub kind: String,
    /// JSON of the payload; `None` once a sensitive payload was cleared.
    pub payload: Option<String>,
    /// Whether the payload holds a secret to clear when the job ends.
    pub sensitive: bool,
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
    /// Creation instant (UTC).
    pub created_at: DateTimeUtc,
    /// Last change (UTC).
    pub updated_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl From<Model> for super::job::Model {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            payload: m.payload,
            sensitive: m.sensitive,
            state: m.state,
            attempts: m.attempts,
            max_attempts: m.max_attempts,
            run_at: m.run_at,
            locked_by: m.locked_by,
            locked_until: m.locked_until,
            last_error: m.last_error,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
