//! [`DeliveryStore`] on `event_deliveries` and `outbox_events`.

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Page, PageRequest, Unexpected};
use nexus_outbox::{
    BacklogEntry, Delivery, DeliveryFilter, DeliveryId, DeliveryState, DeliveryStore,
    EventEnvelope, EventId, OutboxError,
};
use nexus_sea_support::{begin_read, begin_write};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement, Value,
};
use uuid::Uuid;

use crate::entities::{delivery, event};

/// Stores event deliveries with SeaORM. Cheap to clone: it shares the connection pool.
///
/// Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING
/// *` on PostgreSQL, so concurrent workers never get the same delivery; SQLite runs the
/// same statement (without row locks, which it lacks) in a `BEGIN IMMEDIATE` transaction,
/// where the single writer lock does the same.
#[derive(Clone, Debug)]
pub struct SeaDeliveryStore {
    db: DatabaseConnection,
}

impl SeaDeliveryStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn unexpected(context: &'static str) -> impl FnOnce(DbErr) -> OutboxError {
    move |err| OutboxError::Unexpected(Unexpected::new(context, err))
}

fn invalid<E>(table: &'static str, id: Uuid, field: &'static str) -> impl FnOnce(E) -> Unexpected
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |err| Unexpected::new(format!("{table} row {id} has an invalid {field}"), err)
}

fn envelope(row: event::Model) -> Result<EventEnvelope, Unexpected> {
    Ok(EventEnvelope {
        id: EventId::from_uuid(row.id),
        version: u32::try_from(row.version).map_err(invalid("outbox_events", row.id, "version"))?,
        name: row.name,
        payload: row.payload.unwrap_or(serde_json::Value::Null),
        occurred_at: row.occurred_at,
        sensitive: row.sensitive,
        request_id: row.request_id,
    })
}

fn from_row(row: delivery::Model, event: EventEnvelope) -> Result<Delivery, Unexpected> {
    let id = row.id;
    Ok(Delivery {
        id: DeliveryId::from_uuid(id),
        event,
        subscriber: row.subscriber,
        state: DeliveryState::from_str(&row.state).map_err(invalid(
            "event_deliveries",
            id,
            "state",
        ))?,
        attempts: u32::try_from(row.attempts).map_err(invalid(
            "event_deliveries",
            id,
            "attempts",
        ))?,
        max_attempts: u32::try_from(row.max_attempts).map_err(invalid(
            "event_deliveries",
            id,
            "max_attempts",
        ))?,
        run_at: row.run_at,
        locked_by: row.locked_by,
        locked_until: row.locked_until,
        last_error: row.last_error,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Joins `rows` with their events, read through `conn`, keeping the rows' order.
async fn with_events<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<delivery::Model>,
) -> Result<Vec<Delivery>, OutboxError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.event_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let events: HashMap<Uuid, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(ids))
        .all(conn)
        .await
        .map_err(unexpected("loading outbox events"))?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    rows.into_iter()
        .map(|row| {
            let event = events.get(&row.event_id).cloned().ok_or_else(|| {
                Unexpected::msg(format!(
                    "event_deliveries row {} names a missing event {}",
                    row.id, row.event_id
                ))
            })?;
            Ok(from_row(row, envelope(event)?)?)
        })
        .collect()
}

/// An update of the delivery `id` that only applies while `worker` holds its lease.
fn held_by(id: DeliveryId, worker: &str) -> sea_orm::UpdateMany<delivery::Entity> {
    delivery::Entity::update_many()
        .filter(delivery::Column::Id.eq(id.as_uuid()))
        .filter(delivery::Column::State.eq(DeliveryState::Running.as_str()))
        .filter(delivery::Column::LockedBy.eq(worker))
}

/// An update of a delivery `worker` still holds that ends its claim at `now` (the caller
/// sets the new state).
fn let_go(
    id: DeliveryId,
    worker: &str,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<delivery::Entity> {
    held_by(id, worker)
        .col_expr(
            delivery::Column::LockedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            delivery::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
}

fn filtered(filter: &DeliveryFilter) -> Select<delivery::Entity> {
    let mut select = delivery::Entity::find();
    if let Some(state) = filter.state {
        select = select.filter(delivery::Column::State.eq(state.as_str()));
    }
    if let Some(subscriber) = &filter.subscriber {
        select = select.filter(delivery::Column::Subscriber.eq(subscriber.as_str()));
    }
    select
}

/// `UPDATE event_deliveries SET ... WHERE id IN (SELECT id ... ORDER BY run_at LIMIT n
/// [FOR UPDATE SKIP LOCKED]) RETURNING *`.
fn claim_statement(
    backend: DbBackend,
    worker: &str,
    now: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    limit: u32,
) -> Statement {
    let mut due = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(delivery::Column::State.eq(DeliveryState::Pending.as_str()))
                        .add(delivery::Column::RunAt.lte(now)),
                )
                // A RUNNING delivery whose lease ended lost its worker (crash, timeout).
                .add(
                    Condition::all()
                        .add(delivery::Column::State.eq(DeliveryState::Running.as_str()))
                        .add(delivery::Column::LockedUntil.lt(now)),
                ),
        )
        .order_by_asc(delivery::Column::RunAt)
        .order_by_asc(delivery::Column::Id)
        .limit(u64::from(limit))
        .into_query();
    if backend == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut update = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::State,
            Expr::value(DeliveryState::Running.as_str()),
        )
        .col_expr(delivery::Column::LockedBy, Expr::value(worker))
        .col_expr(delivery::Column::LockedUntil, Expr::value(locked_until))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.in_subquery(due))
        .into_query();
    update.returning_all();
    backend.build(&update)
}

impl SeaDeliveryStore {
    /// Clears the payload of the event of delivery `id` when it is sensitive and none of
    /// its deliveries is still open. Runs after the delivery's own change committed: of
    /// two deliveries ending at once, the later statement sees both ended.
    async fn clear_if_ended(&self, id: DeliveryId) -> Result<(), OutboxError> {
        let event_of = Query::select()
            .column(delivery::Column::EventId)
            .from(delivery::Entity)
            .and_where(delivery::Column::Id.eq(id.as_uuid()))
            .to_owned();
        let open = Query::select()
            .expr(Expr::val(1))
            .from(delivery::Entity)
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::EventId))
                    .equals((event::Entity, event::Column::Id)),
            )
            .and_where(delivery::Column::State.is_in([
                DeliveryState::Pending.as_str(),
                DeliveryState::Running.as_str(),
            ]))
            .to_owned();
        event::Entity::update_many()
            .col_expr(event::Column::Payload, Expr::value(Value::Json(None)))
            .filter(event::Column::Id.in_subquery(event_of))
            .filter(event::Column::Sensitive.eq(true))
            .filter(event::Column::Payload.is_not_null())
            .filter(Expr::exists(open).not())
            .exec(&self.db)
            .await
            .map_err(unexpected("clearing a delivered sensitive payload"))?;
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for SeaDeliveryStore {
    async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, OutboxError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let locked_until = now
            .checked_add_signed(lease)
            .ok_or_else(|| Unexpected::msg("the delivery lease overflows the calendar"))?;
        let backend = self.db.get_database_backend();
        let statement = claim_statement(backend, worker, now, locked_until, limit);
        let mut deliveries = if backend == DbBackend::Postgres {
            let rows = delivery::Entity::find()
                .from_raw_sql(statement)
                .all(&self.db)
                .await
                .map_err(unexpected("claiming deliveries"))?;
            with_events(&self.db, rows).await?
        } else {
            // SQLite has no row locks: the IMMEDIATE transaction's write lock makes the
            // select and the update one step no other claimer can interleave with.
            let tx = begin_write(&self.db)
                .await
                .map_err(unexpected("starting to claim deliveries"))?;
            let rows = delivery::Entity::find()
                .from_raw_sql(statement)
                .all(&tx)
                .await
                .map_err(unexpected("claiming deliveries"))?;
            let deliveries = with_events(&tx, rows).await?;
            tx.commit()
                .await
                .map_err(unexpected("committing claimed deliveries"))?;
            deliveries
        };
        // RETURNING has no order; hand deliveries out in the order they became due.
        deliveries.sort_by(|a, b| a.run_at.cmp(&b.run_at).then(a.id.cmp(&b.id)));
        Ok(deliveries)
    }

    async fn complete(
        &self,
        id: DeliveryId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError> {
        let result = let_go(id, worker, now)
            .col_expr(
                delivery::Column::State,
                Expr::value(DeliveryState::Done.as_str()),
            )
            .exec(&self.db)
            .await
            .map_err(unexpected("completing a delivery"))?;
        if result.rows_affected == 0 {
            return Ok(false);
        }
        self.clear_if_ended(id).await?;
        Ok(true)
    }

    async fn fail(
        &self,
        id: DeliveryId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError> {
        let mut update =
            let_go(id, worker, now).col_expr(delivery::Column::LastError, Expr::value(error));
        update = match retry_at {
            Some(retry_at) => update
                .col_expr(
                    delivery::Column::State,
                    Expr::value(DeliveryState::Pending.as_str()),
                )
                .col_expr(delivery::Column::RunAt, Expr::value(retry_at)),
            None => update.col_expr(
                delivery::Column::State,
                Expr::value(DeliveryState::Dead.as_str()),
            ),
        };
        let result = update
            .exec(&self.db)
            .await
            .map_err(unexpected("recording a delivery failure"))?;
        if result.rows_affected == 0 {
            return Ok(false);
        }
        if retry_at.is_none() {
            self.clear_if_ended(id).await?;
        }
        Ok(true)
    }

    async fn release(
        &self,
        id: DeliveryId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError> {
        let result = let_go(id, worker, now)
            .col_expr(
                delivery::Column::State,
                Expr::value(DeliveryState::Pending.as_str()),
            )
            .col_expr(delivery::Column::RunAt, Expr::value(now))
            // The claim counted an attempt that never ran.
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts).sub(1),
            )
            .exec(&self.db)
            .await
            .map_err(unexpected("releasing a delivery"))?;
        Ok(result.rows_affected > 0)
    }

    async fn find(&self, id: DeliveryId) -> Result<Option<Delivery>, OutboxError> {
        let row = delivery::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a delivery"))?;
        Ok(with_events(&self.db, row.into_iter().collect())
            .await?
            .pop())
    }

    async fn list(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<Delivery>, OutboxError> {
        let select = filtered(&filter);
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting to list deliveries"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting deliveries"))?;
        let rows = select
            .order_by_desc(delivery::Column::CreatedAt)
            .order_by_desc(delivery::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing deliveries"))?;
        let items = with_events(&tx, rows).await?;
        tx.commit()
            .await
            .map_err(unexpected("finishing the delivery list"))?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn backlog(&self) -> Result<Vec<BacklogEntry>, OutboxError> {
        // One grouped scan of `ix_event_deliveries_state_run_at` (state, run_at): counts
        // and minimums come from the index; DONE rows are never visited.
        let rows: Vec<(String, i64, Option<DateTime<Utc>>)> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::State)
            .column_as(delivery::Column::Id.count(), "count")
            .column_as(delivery::Column::RunAt.min(), "oldest_due")
            .filter(delivery::Column::State.is_in(BacklogEntry::STATES.map(DeliveryState::as_str)))
            .group_by(delivery::Column::State)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unexpected("counting the delivery backlog"))?;
        let mut found: HashMap<DeliveryState, (u64, Option<DateTime<Utc>>)> = HashMap::new();
        for (state, count, oldest_due) in rows {
            let state = DeliveryState::from_str(&state).map_err(|e| {
                Unexpected::new("event_deliveries has a row with an invalid state", e)
            })?;
            let count = u64::try_from(count)
                .map_err(|e| Unexpected::new("event_deliveries counted a negative backlog", e))?;
            found.insert(state, (count, oldest_due));
        }
        Ok(BacklogEntry::STATES
            .into_iter()
            .map(|state| {
                let (count, oldest_due) = found.get(&state).copied().unwrap_or((0, None));
                BacklogEntry {
                    state,
                    count,
                    oldest_due,
                }
            })
            .collect())
    }

    async fn retry(&self, id: DeliveryId, now: DateTime<Utc>) -> Result<Delivery, OutboxError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a delivery retry"))?;
        let state: Option<String> = delivery::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(delivery::Column::State)
            .lock_exclusive()
            .into_tuple()
            .one(&tx)
            .await
            .map_err(unexpected("locking a delivery for a retry"))?;
        let Some(state) = state else {
            return Err(OutboxError::NotFound(id));
        };
        let state = DeliveryState::from_str(&state).map_err(invalid(
            "event_deliveries",
            id.as_uuid(),
            "state",
        ))?;
        if state != DeliveryState::Dead {
            return Err(OutboxError::InvalidState(state.as_str()));
        }
        // A fresh attempt budget; the last error stays until it runs again.
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::State,
                Expr::value(DeliveryState::Pending.as_str()),
            )
            .col_expr(delivery::Column::RunAt, Expr::value(now))
            .col_expr(delivery::Column::Attempts, Expr::value(0))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(id.as_uuid()))
            .exec(&tx)
            .await
            .map_err(unexpected("retrying a delivery"))?;
        let row = delivery::Entity::find_by_id(id.as_uuid())
            .one(&tx)
            .await
            .map_err(unexpected("reloading a retried delivery"))?
            .ok_or_else(|| Unexpected::msg(format!("delivery {id} vanished during its retry")))?;
        let delivery = with_events(&tx, vec![row])
            .await?
            .pop()
            .ok_or_else(|| Unexpected::msg(format!("delivery {id} vanished during its retry")))?;
        tx.commit()
            .await
            .map_err(unexpected("committing a delivery retry"))?;
        Ok(delivery)
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
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        assert!(sqlite.contains("RETURNING"), "{sqlite}");
    }
}
