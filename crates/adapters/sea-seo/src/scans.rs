//! [`ScanQueue`] on the outbox: a scan is one `seo.scan_requested` event, delivered to the
//! `seo_scan` subscriber on the worker. Every request, queued or not, leaves an entry in
//! the staff audit trail (`content_audit`, kind `seo_scan`: who asked and when) in the same
//! transaction.

use std::sync::Arc;

use crate::entities::audit_entry;
use async_trait::async_trait;
use nexus_kernel::{Clock, Unexpected};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{Transactions, unexpected};
use nexus_seo::{RunSeoScan, ScanQueue, ScanRequest, ScanRequested, SeoError};
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, IntoActiveModel, Statement};
use serde_json::json;
use uuid::Uuid;

/// The kind of entity a scan request's audit-trail entry is about.
pub const AUDIT_ENTITY_SCAN: &str = "seo_scan";

/// The advisory lock key that serialises scan requests on PostgreSQL ("seo_scan").
const SCAN_LOCK: i64 = 0x7365_6f5f_7363_616e;

/// Queues scans through the outbox. Cheap to clone.
#[derive(Clone)]
pub struct SeaScanQueue {
    transactions: Transactions,
    clock: Arc<dyn Clock>,
}

impl SeaScanQueue {
    /// Queues in `transactions`' database, which must be migrated.
    #[must_use]
    pub fn new(transactions: Transactions, clock: Arc<dyn Clock>) -> Self {
        Self {
            transactions,
            clock,
        }
    }
}

fn fail(context: &'static str) -> impl FnOnce(sea_orm::DbErr) -> SeoError {
    move |e| SeoError::Unexpected(unexpected(context)(e))
}

#[async_trait]
impl ScanQueue for SeaScanQueue {
    async fn enqueue(&self, requested_by: Uuid) -> Result<ScanRequest, SeoError> {
        let mut tx = self
            .transactions
            .begin()
            .await
            .map_err(fail("starting a scan request"))?;
        let backend = tx.conn().get_database_backend();
        if backend == DatabaseBackend::Postgres {
            tx.conn()
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT pg_advisory_xact_lock($1)",
                    [SCAN_LOCK.into()],
                ))
                .await
                .map_err(fail("locking scan requests"))?;
        }
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "SELECT COUNT(*) AS n FROM event_deliveries \
                 WHERE state IN ('PENDING', 'RUNNING') AND subscriber = $1"
            }
            _ => {
                "SELECT COUNT(*) AS n FROM event_deliveries \
                 WHERE state IN ('PENDING', 'RUNNING') AND subscriber = ?"
            }
        };
        let waiting: i64 = tx
            .conn()
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [RunSeoScan::NAME.into()],
            ))
            .await
            .map_err(fail("looking for a queued scan"))?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()
            .map_err(fail("reading the queued scans"))?
            .unwrap_or(0);
        let now = self.clock.now();
        let entry_id = Uuid::now_v7();
        let (outcome, scan_id) = if waiting > 0 {
            (ScanRequest::AlreadyQueued, entry_id)
        } else {
            let event = EventEnvelope::new(&ScanRequested { requested_by }, now)
                .map_err(SeoError::Unexpected)?;
            let scan_id = event.id.as_uuid();
            tx.record(event);
            (ScanRequest::Queued, scan_id)
        };
        let status = match outcome {
            ScanRequest::Queued => "QUEUED",
            ScanRequest::AlreadyQueued => "ALREADY_QUEUED",
        };
        audit_entry::Entity::insert(
            audit_entry::Model {
                id: entry_id,
                at: now,
                actor_id: Some(requested_by),
                entity_kind: AUDIT_ENTITY_SCAN.to_owned(),
                entity_id: scan_id,
                action: "requested".to_owned(),
                changes: json!({ "status": status }).to_string(),
            }
            .into_active_model(),
        )
        .exec_without_returning(tx.conn())
        .await
        .map_err(fail("recording the scan request in the audit trail"))?;
        tx.commit()
            .await
            .map_err(|e: Unexpected| SeoError::Unexpected(e))?;
        Ok(outcome)
    }
}
