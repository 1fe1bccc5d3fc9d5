//! The database side of a unit of work: one write transaction that collects the domain
//! events recorded while it is open and appends them to the outbox just before it commits.
//!
//! Each context adapter wraps an [`EventTransaction`] in its own `<Context>Tx` type, which
//! implements that context's repositories over [`EventTransaction::conn`]; the domain only
//! ever sees its own port.

use std::fmt;
use std::sync::Arc;

use nexus_kernel::{AuditRecord, Clock, Unexpected};
use nexus_outbox::{EventEnvelope, RoutesHandle};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use crate::audit::append_audit;
use crate::outbox::append_events;
use crate::support::begin_write;

/// Opens [`EventTransaction`]s on one database, routing their events with the installed
/// routes.
#[derive(Clone)]
pub struct Transactions {
    db: DatabaseConnection,
    routes: RoutesHandle,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Transactions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transactions").finish_non_exhaustive()
    }
}

impl Transactions {
    /// Transactions on `db`; events get one delivery per route in `routes` (installed by
    /// the composition root once every subscriber is registered).
    #[must_use]
    pub fn new(db: DatabaseConnection, routes: RoutesHandle, clock: Arc<dyn Clock>) -> Self {
        Self { db, routes, clock }
    }

    /// The connection pool, for reads outside a unit of work.
    #[must_use]
    pub const fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite, see [`begin_write`]).
    ///
    /// # Errors
    /// The `DbErr` of a failed `BEGIN` (classify it with [`crate::DbError::classify`]).
    pub async fn begin(&self) -> Result<EventTransaction, DbErr> {
        Ok(EventTransaction {
            tx: begin_write(&self.db).await?,
            events: Vec::new(),
            audit: Vec::new(),
            routes: self.routes.clone(),
            clock: Arc::clone(&self.clock),
        })
    }
}

/// An open write transaction and the events recorded in it. Dropping it without
/// [`commit`](Self::commit) rolls everything back, events included.
pub struct EventTransaction {
    tx: DatabaseTransaction,
    events: Vec<EventEnvelope>,
    audit: Vec<AuditRecord>,
    routes: RoutesHandle,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for EventTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventTransaction")
            .field("events", &self.events.len())
            .field("audit", &self.audit.len())
            .finish_non_exhaustive()
    }
}

impl EventTransaction {
    /// The transaction, for the repositories bound to it.
    #[must_use]
    pub const fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Records `event`, to be written to the outbox when the transaction commits.
    pub fn record(&mut self, event: EventEnvelope) {
        self.events.push(event);
    }

    /// Records `record`, written to the audit log with the changes when the transaction
    /// commits.
    pub fn audit(&mut self, record: AuditRecord) {
        self.audit.push(record);
    }

    /// The events recorded so far.
    #[must_use]
    pub fn recorded(&self) -> &[EventEnvelope] {
        &self.events
    }

    /// Appends the recorded events (and their deliveries) to the outbox and the audit
    /// records to the audit log, then commits: the change, its events and its audit
    /// records exist together or not at all.
    ///
    /// # Errors
    /// `Unexpected` (with the `DbErr` as its source, so an unreachable database still reads
    /// as unavailable) when a write or the commit fails, or when events were recorded
    /// before the composition root installed the routes.
    pub async fn commit(self) -> Result<(), Unexpected> {
        if !self.events.is_empty() {
            let routes = self.routes.get().ok_or_else(|| {
                Unexpected::msg("events were recorded before the subscriber routes were installed")
            })?;
            append_events(&self.tx, &self.events, &routes, None, self.clock.now()).await?;
        }
        append_audit(&self.tx, &self.audit, None).await?;
        self.tx
            .commit()
            .await
            .map_err(|e| Unexpected::new("committing a unit of work", e))
    }
}
