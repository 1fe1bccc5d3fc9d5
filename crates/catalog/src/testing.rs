//! Test doubles for the catalog's unit of work (with the `mocks` feature): a
//! [`MockCatalogUnitOfWork`] whose transactions use one [`MockProductStore`] and report what
//! they committed to a [`UnitLog`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::ProductId;
use async_trait::async_trait;
use nexus_outbox::EventEnvelope;

use crate::{CatalogError, CatalogTx, MockCatalogUnitOfWork, MockProductStore, ProductStore};

/// What the units of work of one test committed: the events of every committed unit, in
/// order, and how many units committed. Events of a unit dropped without commit never
/// show. Cheap to clone: clones share the log.
#[derive(Debug, Clone, Default)]
pub struct UnitLog {
    events: Arc<Mutex<Vec<EventEnvelope>>>,
    commits: Arc<AtomicUsize>,
}

impl UnitLog {
    /// A unit-of-work mock whose every `begin` opens a [`TestTx`] over `products` that
    /// reports to this log.
    #[must_use]
    pub fn unit_of_work(&self, products: MockProductStore) -> MockCatalogUnitOfWork {
        let products = Arc::new(products);
        let log = self.clone();
        let mut uow = MockCatalogUnitOfWork::new();
        uow.expect_begin().returning(move || {
            Ok(Box::new(TestTx {
                products: Arc::clone(&products),
                pending: Vec::new(),
                log: log.clone(),
            }))
        });
        uow
    }

    /// The events of every committed unit, in order.
    #[must_use]
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Each committed event as its name and the `productId` of its payload.
    #[must_use]
    pub fn product_events(&self) -> Vec<(String, Option<ProductId>)> {
        self.events()
            .into_iter()
            .map(|e| {
                let id = e
                    .payload
                    .get("productId")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok());
                (e.name, id)
            })
            .collect()
    }

    /// How many units committed.
    #[must_use]
    pub fn commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }
}

/// One open test unit of work: the shared product store mock, the events recorded so far.
#[derive(Debug)]
pub struct TestTx {
    products: Arc<MockProductStore>,
    pending: Vec<EventEnvelope>,
    log: UnitLog,
}

#[async_trait]
impl CatalogTx for TestTx {
    fn products(&self) -> &dyn ProductStore {
        &*self.products
    }

    fn record(&mut self, event: EventEnvelope) {
        self.pending.push(event);
    }

    fn audit(&mut self, _record: nexus_kernel::AuditRecord) {
        // The audit log is the adapter's: its rows are checked by the black-box tests.
    }

    async fn commit(self: Box<Self>) -> Result<(), CatalogError> {
        self.log
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(self.pending);
        self.log.commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
