//! [`insert_jobs`]: writing jobs inside the transaction of the change that causes them.
//!
//! Several contexts' repositories write jobs with their own change (an account and its
//! welcome mail, a sent response's mail, a paid order's invoice). The `jobs` table belongs to
//! the notifications context (`nexus-sea-jobs` claims and completes them); this module keeps
//! its own mapping of the table, insert-only, so that no adapter crate depends on another.

use chrono::{DateTime, Utc};
use nexus_kernel::Unexpected;
use nexus_notifications::{JobState, NewJob};
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel};

/// Writes `jobs` as PENDING through `conn`, which is normally the transaction of the
/// state change that causes them, so that they exist exactly when that change does.
///
/// `created_at` is the system time: a `NewJob` carries only when it may run.
///
/// # Errors
/// `Unexpected` when a payload cannot be encoded or the insert fails.
pub async fn insert_jobs<C>(conn: &C, jobs: &[NewJob]) -> Result<(), Unexpected>
where
    C: ConnectionTrait,
{
    if jobs.is_empty() {
        return Ok(());
    }
    // The stores' clock precision (microseconds), like every other timestamp.
    let now = nexus_kernel::Clock::now(&nexus_kernel::SystemClock);
    let rows = jobs
        .iter()
        .map(|job| new_row(job, now).map(IntoActiveModel::into_active_model))
        .collect::<Result<Vec<_>, _>>()?;
    job::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await
        .map_err(Unexpected::with("inserting jobs"))?;
    Ok(())
}

fn new_row(job: &NewJob, now: DateTime<Utc>) -> Result<job::Model, Unexpected> {
    let payload =
        serde_json::to_string(&job.payload).map_err(Unexpected::with("encoding a job payload"))?;
    Ok(job::Model {
        id: job.id.as_uuid(),
        kind: job.payload.kind().as_str().to_owned(),
        payload: Some(payload),
        sensitive: job.payload.is_sensitive(),
        state: JobState::Pending.as_str().to_owned(),
        attempts: 0,
        max_attempts: to_db_count(job.max_attempts)?,
        run_at: job.run_at,
        locked_by: None,
        locked_until: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    })
}

fn to_db_count(n: u32) -> Result<i32, Unexpected> {
    i32::try_from(n).map_err(|e| Unexpected::new(format!("attempt count {n} is too large"), e))
}

/// The `jobs` table as the insert sees it.
mod job {
    use sea_orm::entity::prelude::*;

    /// One row of `jobs`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "jobs")]
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
}
