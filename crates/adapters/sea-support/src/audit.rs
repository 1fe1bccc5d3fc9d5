//! Writing audit records into `audit_log` inside a unit of work's transaction.
//!
//! The log is append-only: this module only inserts, no adapter updates or deletes a row,
//! and the migration adds triggers that refuse both.

use nexus_kernel::{AuditActor, AuditRecord, Role, Unexpected, UserId, redact};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Value};

use crate::outbox::current_request_id;

/// Writes `records` to `audit_log` through `conn`: call it inside the transaction of the
/// change they describe, so a change and its record exist together or not at all.
///
/// Each row's request id is `request_id`, else the current one ([`current_request_id`]).
/// The summaries are redacted once more here, so a secret never reaches the table.
///
/// # Errors
/// `Unexpected` when the database refuses the rows.
pub async fn append_audit<C>(
    conn: &C,
    records: &[AuditRecord],
    request_id: Option<&str>,
) -> Result<(), Unexpected>
where
    C: ConnectionTrait,
{
    if records.is_empty() {
        return Ok(());
    }
    let stamped = request_id.map(str::to_owned).or_else(current_request_id);
    let mut rows = Query::insert();
    rows.into_table(Alias::new("audit_log")).columns(
        [
            "id",
            "occurred_at",
            "actor_id",
            "actor_role",
            "action",
            "target_kind",
            "target_id",
            "summary",
            "request_id",
        ]
        .map(Alias::new),
    );
    for record in records {
        rows.values([
            record.id.into(),
            record.occurred_at.into(),
            record.actor.map(|a| a.user_id.as_uuid()).into(),
            record.actor.map(|a| a.role.as_str().to_owned()).into(),
            record.action.clone().into(),
            record.target_kind.clone().into(),
            record.target_id.clone().into(),
            Value::Json(Some(Box::new(redact(record.summary.clone())))).into(),
            stamped.clone().into(),
        ])
        .map_err(Unexpected::with("building an audit row"))?;
    }
    conn.execute(&rows)
        .await
        .map_err(Unexpected::with("writing the audit log"))?;
    Ok(())
}

/// `user` with the role their account has now, read through `conn`: for a context whose
/// own trail keeps only the user id, when it copies an entry to the audit log. `None` when
/// the account is gone or its role unreadable.
///
/// # Errors
/// `Unexpected` when the database cannot be read.
pub async fn actor_with_role<C>(conn: &C, user: UserId) -> Result<Option<AuditActor>, Unexpected>
where
    C: ConnectionTrait,
{
    let query = Query::select()
        .column(Alias::new("role"))
        .from(Alias::new("users"))
        .and_where(Expr::col(Alias::new("id")).eq(user.as_uuid()))
        .to_owned();
    let row = conn
        .query_one(&query)
        .await
        .map_err(Unexpected::with("loading the role of an actor"))?;
    Ok(row
        .and_then(|r| r.try_get::<String>("", "role").ok())
        .and_then(|r| r.parse::<Role>().ok())
        .map(|role| AuditActor {
            user_id: user,
            role,
        }))
}
