//! [`JobStore`] on the `jobs` table.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{JobId, Page, PageRequest, Unexpected};
use nexus_notifications::{
    Job, JobFilter, JobKind, JobPayload, JobState, JobStore, NewJob, NotificationsError,
};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use uuid::Uuid;

use nexus_sea_support::{begin_read, begin_write, insert_jobs, unexpected};

use crate::entities::{job, work};

/// Stores background jobs with SeaORM. Cheap to clone: it shares the connection pool.
///
/// Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING
/// *` on PostgreSQL, so concurrent workers never get the same job; SQLite runs the same
/// statement (without row locks, which it lacks) in a `BEGIN IMMEDIATE` transaction, where
/// the single writer lock does the same.
#[derive(Clone, Debug)]
pub struct SeaJobStore {
    db: DatabaseConnection,
}

impl SeaJobStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// Rebuilds a job through the domain parsers; a row that breaks a rule is a bug or
/// tampering, never silently accepted.
fn from_row(row: job::Model) -> Result<Job, Unexpected> {
    let id = row.id;
    let kind = JobKind::from_str(&row.kind).map_err(invalid(id, "kind"))?;
    let payload = row
        .payload
        .as_deref()
        .map(serde_json::from_str::<JobPayload>)
        .transpose()
        .map_err(invalid(id, "payload"))?;
    if let Some(payload) = &payload
        && payload.kind() != kind
    {
        return Err(Unexpected::msg(format!(
            "jobs row {id} is a {} whose payload is a {}",
            kind.as_str(),
            payload.kind().as_str()
        )));
    }
    Ok(Job {
        id: JobId::from_uuid(id),
        payload,
        kind,
        state: JobState::from_str(&row.state).map_err(invalid(id, "state"))?,
        attempts: u32::try_from(row.attempts).map_err(invalid(id, "attempts"))?,
        max_attempts: u32::try_from(row.max_attempts).map_err(invalid(id, "max_attempts"))?,
        run_at: row.run_at,
        locked_by: row.locked_by,
        locked_until: row.locked_until,
        last_error: row.last_error,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> Unexpected
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("jobs", id, field)
}

fn from_rows(rows: Vec<job::Model>) -> Result<Vec<Job>, NotificationsError> {
    rows.into_iter()
        .map(|row| from_row(row).map_err(NotificationsError::from))
        .collect()
}

/// `payload` unless the job is sensitive, in which case NULL: the secret must not outlive
/// the job.
fn payload_unless_sensitive() -> Expr {
    Expr::case(
        Expr::col(job::Column::Sensitive).eq(true),
        Expr::value(Option::<String>::None),
    )
    .finally(Expr::col(job::Column::Payload))
    .into()
}

/// An update of the job `id` that only applies while `worker` holds its lease.
fn held_by(id: JobId, worker: &str) -> sea_orm::UpdateMany<job::Entity> {
    job::Entity::update_many()
        .filter(job::Column::Id.eq(id.as_uuid()))
        .filter(job::Column::State.eq(JobState::Running.as_str()))
        .filter(job::Column::LockedBy.eq(worker))
}

fn filtered(filter: JobFilter) -> Select<work::Entity> {
    let mut select = work::Entity::find();
    if let Some(state) = filter.state {
        select = select.filter(work::Column::State.eq(state.as_str()));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(work::Column::Kind.eq(kind.as_str()));
    }
    select
}

/// The one statement that claims up to `limit` due jobs for `worker` on `backend`:
/// `UPDATE jobs SET ... WHERE id IN (SELECT id ... ORDER BY run_at LIMIT n [FOR UPDATE
/// SKIP LOCKED]) RETURNING *`.
fn claim_statement(
    backend: DbBackend,
    worker: &str,
    now: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    limit: u32,
) -> Statement {
    let mut due = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(job::Column::State.eq(JobState::Pending.as_str()))
                        .add(job::Column::RunAt.lte(now)),
                )
                // A RUNNING job whose lease ended lost its worker (crash, timeout).
                .add(
                    Condition::all()
                        .add(job::Column::State.eq(JobState::Running.as_str()))
                        .add(job::Column::LockedUntil.lt(now)),
                ),
        )
        .order_by_asc(job::Column::RunAt)
        .order_by_asc(job::Column::Id)
        .limit(u64::from(limit))
        .into_query();
    if backend == DbBackend::Postgres {
        // Rows another claimer has locked are skipped, not waited for: concurrent
        // workers split the due jobs between them.
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Running.as_str()))
        .col_expr(job::Column::LockedBy, Expr::value(worker))
        .col_expr(job::Column::LockedUntil, Expr::value(locked_until))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).add(1),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.in_subquery(due))
        .into_query();
    update.returning_all();
    backend.build(&update)
}

#[async_trait]
impl JobStore for SeaJobStore {
    async fn enqueue(&self, job: &NewJob) -> Result<(), NotificationsError> {
        insert_jobs(&self.db, std::slice::from_ref(job)).await?;
        Ok(())
    }

    async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, NotificationsError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let locked_until = now
            .checked_add_signed(lease)
            .ok_or_else(|| Unexpected::msg("the job lease overflows the calendar"))?;
        let backend = self.db.get_database_backend();
        let statement = claim_statement(backend, worker, now, locked_until, limit);
        let rows = if backend == DbBackend::Postgres {
            job::Entity::find()
                .from_raw_sql(statement)
                .all(&self.db)
                .await
                .map_err(unexpected("claiming jobs"))?
        } else {
            // SQLite has no row locks: the IMMEDIATE transaction's write lock makes the
            // select and the update one step that no other claimer can interleave with.
            let tx = begin_write(&self.db)
                .await
                .map_err(unexpected("starting to claim jobs"))?;
            let rows = job::Entity::find()
                .from_raw_sql(statement)
                .all(&tx)
                .await
                .map_err(unexpected("claiming jobs"))?;
            tx.commit()
                .await
                .map_err(unexpected("committing claimed jobs"))?;
            rows
        };
        let mut jobs = from_rows(rows)?;
        // RETURNING has no order; hand jobs out in the order they became due.
        jobs.sort_by(|a, b| a.run_at.cmp(&b.run_at).then(a.id.cmp(&b.id)));
        Ok(jobs)
    }

    async fn complete(
        &self,
        id: JobId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, NotificationsError> {
        let result = held_by(id, worker)
            .col_expr(job::Column::State, Expr::value(JobState::Done.as_str()))
            .col_expr(job::Column::Payload, payload_unless_sensitive())
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .exec(&self.db)
            .await
            .map_err(unexpected("completing a job"))?;
        Ok(result.rows_affected > 0)
    }

    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, NotificationsError> {
        let mut update = held_by(id, worker)
            .col_expr(job::Column::LastError, Expr::value(error))
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(job::Column::UpdatedAt, Expr::value(now));
        update = match retry_at {
            Some(retry_at) => update
                .col_expr(job::Column::State, Expr::value(JobState::Pending.as_str()))
                .col_expr(job::Column::RunAt, Expr::value(retry_at)),
            None => update
                .col_expr(job::Column::State, Expr::value(JobState::Dead.as_str()))
                .col_expr(job::Column::Payload, payload_unless_sensitive()),
        };
        let result = update
            .exec(&self.db)
            .await
            .map_err(unexpected("recording a job failure"))?;
        Ok(result.rows_affected > 0)
    }

    async fn find(&self, id: JobId) -> Result<Option<Job>, NotificationsError> {
        work::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a job"))?
            .map(|row| from_row(row.into()))
            .transpose()
            .map_err(NotificationsError::from)
    }

    async fn list(
        &self,
        filter: JobFilter,
        page: PageRequest,
    ) -> Result<Page<Job>, NotificationsError> {
        let select = filtered(filter);
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting to list jobs"))?;
        // An administrator's view: an exact COUNT over the indexed filter is fine here.
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting jobs"))?;
        let rows = select
            .order_by_desc(work::Column::CreatedAt)
            .order_by_desc(work::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing jobs"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing the job list"))?;
        Ok(Page {
            items: from_rows(rows.into_iter().map(job::Model::from).collect())?,
            total,
            request: page,
        })
    }

    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, NotificationsError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a job retry"))?;
        // Read the state under a row lock (SQLite's IMMEDIATE transaction already
        // excludes writers), so the answer matches the row this transaction changes.
        let state: Option<String> = job::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(job::Column::State)
            .lock_exclusive()
            .into_tuple()
            .one(&tx)
            .await
            .map_err(unexpected("locking a job for a retry"))?;
        let Some(state) = state else {
            return Err(NotificationsError::NotFound(id));
        };
        let state = JobState::from_str(&state).map_err(invalid(id.as_uuid(), "state"))?;
        if state != JobState::Dead {
            return Err(NotificationsError::InvalidState(state.as_str()));
        }
        // A fresh attempt budget; the last error stays so the administrator still sees
        // why it died until it runs again.
        let mut update = job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(JobState::Pending.as_str()))
            .col_expr(job::Column::RunAt, Expr::value(now))
            .col_expr(job::Column::Attempts, Expr::value(0))
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(id.as_uuid()))
            .filter(job::Column::State.eq(JobState::Dead.as_str()))
            .into_query();
        update.returning_all();
        let row = job::Entity::find()
            .from_raw_sql(tx.get_database_backend().build(&update))
            .one(&tx)
            .await
            .map_err(unexpected("retrying a job"))?
            .ok_or_else(|| Unexpected::msg(format!("job {id} vanished during its retry")))?;
        tx.commit()
            .await
            .map_err(unexpected("committing a job retry"))?;
        Ok(from_row(row)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_claims_with_skip_locked() {
        let now = Utc::now();
        let sql = |backend| claim_statement(backend, "w", now, now, 5).sql;

        let postgres = sql(DbBackend::Postgres);
        let sqlite = sql(DbBackend::Sqlite);

        assert!(postgres.contains("FOR UPDATE SKIP LOCKED"), "{postgres}");
        assert!(postgres.contains("RETURNING"), "{postgres}");
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        assert!(sqlite.contains("RETURNING"), "{sqlite}");
    }
}
