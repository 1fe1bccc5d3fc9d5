#![doc = include_str!("../README.md")]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_audit::{AuditCursor, AuditEntry, AuditError, AuditFilter, AuditLog};
use nexus_kernel::Unexpected;
use nexus_kernel::UserId;
use nexus_sea_support::unexpected;
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult};
use serde_json::Value;
use uuid::Uuid;

/// The audit log on the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SeaAuditLog {
    db: DatabaseConnection,
}

impl SeaAuditLog {
    /// The log in `db`, which must be migrated.
    #[must_use]
    pub const fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

const COLUMNS: [&str; 9] = [
    "id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "target_kind",
    "target_id",
    "summary",
    "request_id",
];

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

#[async_trait]
impl AuditLog for SeaAuditLog {
    async fn list(
        &self,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AuditError> {
        let mut query = Query::select();
        query
            .columns(COLUMNS.map(Alias::new))
            .from(Alias::new("audit_log"));
        if let Some(actor) = filter.actor {
            query.and_where(col("actor_id").eq(actor.as_uuid()));
        }
        if let Some(kind) = &filter.target_kind {
            query.and_where(col("target_kind").eq(kind.as_str()));
        }
        if let Some(id) = &filter.target_id {
            query.and_where(col("target_id").eq(id.as_str()));
        }
        if let Some(action) = &filter.action {
            query.and_where(col("action").eq(action.as_str()));
        }
        if let Some(from) = filter.from {
            query.and_where(col("occurred_at").gte(from));
        }
        if let Some(to) = filter.to {
            query.and_where(col("occurred_at").lt(to));
        }
        if let Some(cursor) = after {
            query.cond_where(
                Cond::any().add(col("occurred_at").lt(cursor.at)).add(
                    Cond::all()
                        .add(col("occurred_at").eq(cursor.at))
                        .add(col("id").lt(cursor.id)),
                ),
            );
        }
        query
            .order_by(Alias::new("occurred_at"), Order::Desc)
            .order_by(Alias::new("id"), Order::Desc)
            .limit(u64::from(limit));
        let rows = self
            .db
            .query_all(&query)
            .await
            .map_err(unexpected("reading the audit log"))?;
        rows.iter().map(from_row).collect()
    }
}

fn from_row(row: &QueryResult) -> Result<AuditEntry, AuditError> {
    let read = |e: DbErr| AuditError::from(Unexpected::new("reading an audit row", e));
    Ok(AuditEntry {
        id: row.try_get::<Uuid>("", "id").map_err(read)?,
        occurred_at: row
            .try_get::<DateTime<Utc>>("", "occurred_at")
            .map_err(read)?,
        actor_id: row
            .try_get::<Option<Uuid>>("", "actor_id")
            .map_err(read)?
            .map(UserId::from_uuid),
        actor_role: row.try_get("", "actor_role").map_err(read)?,
        action: row.try_get("", "action").map_err(read)?,
        target_kind: row.try_get("", "target_kind").map_err(read)?,
        target_id: row.try_get("", "target_id").map_err(read)?,
        summary: row.try_get::<Value>("", "summary").map_err(read)?,
        request_id: row.try_get("", "request_id").map_err(read)?,
    })
}
