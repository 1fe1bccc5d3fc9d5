//! [`ScanQueue`] on the outbox: a scan is one `seo.scan_requested` event, delivered to the
//! `seo_scan` subscriber on the worker.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::{Clock, Unexpected};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{Transactions, unexpected};
use nexus_seo::{RunSeoScan, ScanQueue, ScanRequest, ScanRequested, SeoError};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use uuid::Uuid;

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
        if waiting > 0 {
            return Ok(ScanRequest::AlreadyQueued);
        }
        let event = EventEnvelope::new(&ScanRequested { requested_by }, self.clock.now())
            .map_err(SeoError::Unexpected)?;
        tx.record(event);
        tx.commit()
            .await
            .map_err(|e: Unexpected| SeoError::Unexpected(e))?;
        Ok(ScanRequest::Queued)
    }
}
