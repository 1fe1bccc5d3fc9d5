//! [`ResponseRepository`] on `responses` and its append-only `response_events`, and the
//! writes a unit of work makes there (functions over any connection, so that the pool
//! and a transaction share one SQL).

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_approvals::ResponseId;
use nexus_approvals::{
    ApprovalsError, Deadline, DeadlineStage, DueResponse, InconsistentResponse, Response,
    ResponseContent, ResponseEvent, ResponseParts, ResponseQuery, ResponseRepository,
    ResponseStatus, ResponseSubject, ReviewNotes,
};
use nexus_customers::EnquiryStatus;
use nexus_customers::{CustomerId, EnquiryId};
use nexus_kernel::{Page, PageRequest, Unexpected, UserId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Select,
};
use uuid::Uuid;

use nexus_sea_support::{begin_read, is_unique_violation, unexpected};

use crate::entities::{customer, enquiry, response, response_event};

/// Reads responses and their history with SeaORM. Cheap to clone: it shares the pool.
/// Writes go through [`crate::SeaApprovalsUnitOfWork`].
#[derive(Clone, Debug)]
pub struct SeaResponseRepository {
    db: DatabaseConnection,
}

impl SeaResponseRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_row(response: &Response) -> response::Model {
    let p = response.clone().into_parts();
    response::Model {
        id: p.id.as_uuid(),
        customer_id: p.customer_id.as_uuid(),
        enquiry_id: p.enquiry_id.map(|e| e.as_uuid()),
        author_id: p.author_id.as_uuid(),
        subject: p.subject.as_str().to_owned(),
        content: p.content.as_str().to_owned(),
        status: p.status.as_str().to_owned(),
        version: p.version,
        created_at: p.created_at,
        updated_at: p.updated_at,
        submitted_at: p.submitted_at,
        decided_by: p.decided_by.map(|u| u.as_uuid()),
        decided_at: p.decided_at,
        decision_notes: p.decision_notes.map(String::from),
        sent_at: p.sent_at,
        warn_at: p.deadline.map(|d| d.warn_at),
        due_at: p.deadline.map(|d| d.due_at),
        warned_at: None,
        escalated_at: None,
    }
}

/// Rebuilds a response through the domain constructors and `Response::from_parts`, which
/// checks the workflow's invariants; a row that breaks any rule is `Unexpected`.
fn from_row(row: response::Model) -> Result<Response, ApprovalsError> {
    let id = row.id;
    let parts = ResponseParts {
        id: ResponseId::from_uuid(id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        enquiry_id: row.enquiry_id.map(EnquiryId::from_uuid),
        author_id: UserId::from_uuid(row.author_id),
        subject: ResponseSubject::parse(&row.subject).map_err(invalid(id, "subject"))?,
        content: ResponseContent::parse(&row.content).map_err(invalid(id, "content"))?,
        status: ResponseStatus::from_str(&row.status).map_err(invalid(id, "status"))?,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        submitted_at: row.submitted_at,
        decided_by: row.decided_by.map(UserId::from_uuid),
        decided_at: row.decided_at,
        decision_notes: row
            .decision_notes
            .as_deref()
            .map(ReviewNotes::parse)
            .transpose()
            .map_err(invalid(id, "decision_notes"))?,
        sent_at: row.sent_at,
        deadline: match (row.warn_at, row.due_at) {
            (Some(warn_at), Some(due_at)) => Some(Deadline { warn_at, due_at }),
            (None, None) => None,
            _ => {
                return Err(invalid(id, "deadline")(InconsistentResponse::new(
                    "warn_at and due_at are set together",
                )));
            }
        },
    };
    Response::from_parts(parts).map_err(invalid(id, "workflow state"))
}

fn event_row(event: &ResponseEvent) -> response_event::Model {
    response_event::Model {
        id: event.id,
        response_id: event.response_id.as_uuid(),
        actor_id: event.actor_id.map(|u| u.as_uuid()),
        from_status: event.from.map(|s| s.as_str().to_owned()),
        to_status: event.to.as_str().to_owned(),
        notes: event.notes.as_ref().map(|n| n.as_str().to_owned()),
        at: event.at,
    }
}

fn event_from_row(row: response_event::Model) -> Result<ResponseEvent, ApprovalsError> {
    let id = row.id;
    let invalid = |field| invalid_event(id, field);
    Ok(ResponseEvent {
        id,
        response_id: ResponseId::from_uuid(row.response_id),
        actor_id: row.actor_id.map(UserId::from_uuid),
        from: row
            .from_status
            .as_deref()
            .map(ResponseStatus::from_str)
            .transpose()
            .map_err(invalid("from_status"))?,
        to: ResponseStatus::from_str(&row.to_status).map_err(invalid("to_status"))?,
        notes: row
            .notes
            .as_deref()
            .map(ReviewNotes::parse)
            .transpose()
            .map_err(invalid("notes"))?,
        at: row.at,
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> ApprovalsError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("responses", id, field)
}

fn invalid_event<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> ApprovalsError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("response_events", id, field)
}

/// On `conn`: inserts `response` and its creation `event`. `Conflict` when the id exists.
pub(crate) async fn insert_response<C: ConnectionTrait>(
    conn: &C,
    response: &Response,
    event: &ResponseEvent,
) -> Result<(), ApprovalsError> {
    response::Entity::insert(to_row(response).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(|err| {
            if is_unique_violation(&err, "responses_pkey", "responses.id") {
                ApprovalsError::Conflict
            } else {
                ApprovalsError::Unexpected(Unexpected::new("inserting a response", err))
            }
        })?;
    response_event::Entity::insert(event_row(event).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("appending a response's creation event"))?;
    count_event(conn, response.author_id(), event).await
}

/// On `conn`, in the transaction that appends `event` to a response of `author`: adds one
/// to the `response_event_counts` row of the event's UTC day, the author and the status it
/// reached, creating the row if needed. The dashboards read the team's throughput there
/// instead of joining a month of events to their responses; counter and event commit or
/// roll back together, so the count never drifts from the events.
async fn count_event<C: ConnectionTrait>(
    conn: &C,
    author: UserId,
    event: &ResponseEvent,
) -> Result<(), ApprovalsError> {
    let table = Alias::new("response_event_counts");
    let [day, author_id, to_status, n] = ["day", "author_id", "to_status", "n"].map(Alias::new);
    let mut insert = Query::insert();
    insert
        .into_table(table.clone())
        .columns([day.clone(), author_id.clone(), to_status.clone(), n.clone()])
        .values([
            Expr::val(event.at.date_naive()),
            Expr::val(author.as_uuid()),
            Expr::val(event.to.as_str()),
            Expr::val(1_i64),
        ])
        .map_err(|e| Unexpected::new("building a response event counter update", e))?
        // Valid on both PostgreSQL and SQLite (3.24+); on PostgreSQL two transactions
        // counting the same row queue on its lock, so no increment is lost.
        .on_conflict(
            OnConflict::columns([day, author_id, to_status])
                .value(n, Expr::cust("response_event_counts.n + excluded.n"))
                .to_owned(),
        );
    conn.execute(&insert)
        .await
        .map_err(unexpected("counting a response event"))?;
    Ok(())
}

/// On `conn`: saves `response` if its stored version is still `expected_version` and
/// appends `event`. `Conflict` (the caller drops its transaction, rolling back) when the
/// guard fails.
pub(crate) async fn save_response<C: ConnectionTrait>(
    conn: &C,
    response: &Response,
    expected_version: i64,
    event: &ResponseEvent,
) -> Result<(), ApprovalsError> {
    let mut changes = to_row(response).into_active_model().reset_all();
    // Identity, addressee, author and creation time never change.
    changes.id = NotSet;
    changes.customer_id = NotSet;
    changes.author_id = NotSet;
    changes.created_at = NotSet;
    // A new submission starts its deadline afresh; any other change leaves the marks alone.
    if response.status() != ResponseStatus::PendingApproval {
        changes.warned_at = NotSet;
        changes.escalated_at = NotSet;
    }
    let updated = response::Entity::update_many()
        .set(changes)
        .filter(response::Column::Id.eq(response.id().as_uuid()))
        .filter(response::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .map_err(unexpected("saving a response"))?;
    if updated.rows_affected == 0 {
        return Err(ApprovalsError::Conflict);
    }
    response_event::Entity::insert(event_row(event).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("appending a response event"))?;
    count_event(conn, response.author_id(), event).await
}

/// A response's id, `warn_at` and `due_at`, as the deadline sweep reads them.
type DueRow = (Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// On `conn`: up to `limit` pending responses whose deadline reached `stage` at `now` and
/// was not acted on, earliest first (by the `(status, warn_at)` or `(status, due_at)` index).
pub(crate) async fn due_responses<C: ConnectionTrait>(
    conn: &C,
    stage: DeadlineStage,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DueResponse>, ApprovalsError> {
    let pending = response::Column::Status.eq(ResponseStatus::PendingApproval.as_str());
    let select = response::Entity::find().filter(pending);
    let select = match stage {
        DeadlineStage::Warning => select
            .filter(response::Column::WarnAt.lte(now))
            .filter(response::Column::DueAt.gt(now))
            .filter(response::Column::WarnedAt.is_null())
            .order_by_asc(response::Column::WarnAt),
        DeadlineStage::Escalation => select
            .filter(response::Column::DueAt.lte(now))
            .filter(response::Column::EscalatedAt.is_null())
            .order_by_asc(response::Column::DueAt),
    };
    let rows: Vec<DueRow> = select
        .order_by_asc(response::Column::Id)
        .select_only()
        .column(response::Column::Id)
        .column(response::Column::WarnAt)
        .column(response::Column::DueAt)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await
        .map_err(unexpected("finding responses whose deadline came"))?;
    rows.into_iter()
        .map(|(id, warn_at, due_at)| match (warn_at, due_at) {
            (Some(warn_at), Some(due_at)) => Ok(DueResponse {
                response_id: ResponseId::from_uuid(id),
                deadline: Deadline { warn_at, due_at },
            }),
            _ => Err(invalid(id, "deadline")(InconsistentResponse::new(
                "warn_at and due_at are set together",
            ))),
        })
        .collect()
}

/// On `conn`: marks `stage` done at `at` for response `id` if it is still pending and the
/// stage was not done: a guarded UPDATE, so that of two workers exactly one changes the
/// row (on PostgreSQL the second waits for the first's commit, then finds the mark set).
/// The response's version is left alone: a mark is not a change of the response.
pub(crate) async fn mark_deadline_stage<C: ConnectionTrait>(
    conn: &C,
    id: ResponseId,
    stage: DeadlineStage,
    at: DateTime<Utc>,
) -> Result<bool, ApprovalsError> {
    let column = match stage {
        DeadlineStage::Warning => response::Column::WarnedAt,
        DeadlineStage::Escalation => response::Column::EscalatedAt,
    };
    let updated = response::Entity::update_many()
        .col_expr(column, Expr::value(at))
        .filter(response::Column::Id.eq(id.as_uuid()))
        .filter(response::Column::Status.eq(ResponseStatus::PendingApproval.as_str()))
        .filter(column.is_null())
        .exec(conn)
        .await
        .map_err(unexpected("marking a response's deadline"))?;
    Ok(updated.rows_affected > 0)
}

/// On `conn`: marks enquiry `id` ANSWERED at `at` if it is OPEN; one already answered or
/// closed is left alone. The version bump makes a concurrent edit of it conflict.
/// Returns whether it changed.
pub(crate) async fn mark_enquiry_answered<C: ConnectionTrait>(
    conn: &C,
    id: EnquiryId,
    at: DateTime<Utc>,
) -> Result<bool, ApprovalsError> {
    let updated = enquiry::Entity::update_many()
        .col_expr(
            enquiry::Column::Status,
            Expr::value(EnquiryStatus::Answered.as_str()),
        )
        .col_expr(
            enquiry::Column::Version,
            Expr::col(enquiry::Column::Version).add(1),
        )
        .col_expr(enquiry::Column::UpdatedAt, Expr::value(at))
        .filter(enquiry::Column::Id.eq(id.as_uuid()))
        .filter(enquiry::Column::Status.eq(EnquiryStatus::Open.as_str()))
        .exec(conn)
        .await
        .map_err(unexpected("marking an enquiry answered"))?;
    Ok(updated.rows_affected > 0)
}

/// The WHERE clause (and, for an officer's scope, the join) of a list, shared by its page
/// and its `COUNT(*)`.
fn filtered(query: &ResponseQuery) -> Select<response::Entity> {
    let mut select = response::Entity::find();
    if let Some(status) = query.status {
        select = select.filter(response::Column::Status.eq(status.as_str()));
    }
    if let Some(customer) = query.customer_id {
        select = select.filter(response::Column::CustomerId.eq(customer.as_uuid()));
    }
    if let Some(author) = query.author_id {
        select = select.filter(response::Column::AuthorId.eq(author.as_uuid()));
    }
    if let Some(user) = query.visible_to {
        // Written by the officer, or to a customer assigned to them now: reassigning a
        // customer moves its responses into the new officer's view.
        select = select
            .join(JoinType::InnerJoin, response::Relation::Customer.def())
            .filter(
                Condition::any()
                    .add(response::Column::AuthorId.eq(user.as_uuid()))
                    .add(customer::Column::AssignedTo.eq(user.as_uuid())),
            );
    }
    select
}

#[async_trait]
impl ResponseRepository for SeaResponseRepository {
    async fn find(&self, id: ResponseId) -> Result<Option<Response>, ApprovalsError> {
        response::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a response"))?
            .map(from_row)
            .transpose()
    }

    async fn list(
        &self,
        query: &ResponseQuery,
        page: PageRequest,
    ) -> Result<Page<Response>, ApprovalsError> {
        let select = filtered(query);
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a response list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting responses"))?;
        let rows = select
            .order_by_desc(response::Column::CreatedAt)
            .order_by_desc(response::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing responses"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a response list"))?;
        let items = rows
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn history(&self, id: ResponseId) -> Result<Vec<ResponseEvent>, ApprovalsError> {
        response_event::Entity::find()
            .filter(response_event::Column::ResponseId.eq(id.as_uuid()))
            // Event ids are UUID v7: they break ties between events of the same instant
            // in the order they were made.
            .order_by_asc(response_event::Column::At)
            .order_by_asc(response_event::Column::Id)
            .all(&self.db)
            .await
            .map_err(unexpected("loading a response's history"))?
            .into_iter()
            .map(event_from_row)
            .collect()
    }
}
