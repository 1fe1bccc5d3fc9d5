//! Test support (feature `mocks`): an [`ApprovalsTx`] over mocks that remembers what its
//! units of work recorded and whether they committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nexus_outbox::EventEnvelope;

use crate::{
    ApprovalsError, ApprovalsTx, EnquiryAnswers, MockApprovalsUnitOfWork, MockEnquiryAnswers,
    MockResponseStore, ResponseStore,
};

/// What the units of work of one test did: the events recorded (in order, committed or
/// not) and how many units committed.
#[derive(Debug, Clone, Default)]
pub struct UnitLog {
    events: Arc<Mutex<Vec<EventEnvelope>>>,
    audit: Arc<Mutex<Vec<nexus_kernel::AuditRecord>>>,
    commits: Arc<AtomicUsize>,
}

impl UnitLog {
    /// Every event recorded so far.
    ///
    /// # Panics
    /// When a test panicked while holding the log.
    #[must_use]
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.events.lock().expect("not poisoned").clone()
    }

    /// The names of the events recorded so far.
    #[must_use]
    pub fn event_names(&self) -> Vec<String> {
        self.events().into_iter().map(|e| e.name).collect()
    }

    /// Every audit record written so far (committed or not).
    ///
    /// # Panics
    /// When a test panicked while holding the log.
    #[must_use]
    pub fn audit(&self) -> Vec<nexus_kernel::AuditRecord> {
        self.audit.lock().expect("not poisoned").clone()
    }

    /// How many units of work committed.
    #[must_use]
    pub fn commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }
}

/// A unit of work over mocks of the tx-bound repositories.
pub struct TestTx {
    responses: MockResponseStore,
    enquiries: MockEnquiryAnswers,
    log: UnitLog,
}

impl TestTx {
    /// A unit of work over these mocks, reporting to `log`.
    #[must_use]
    pub fn new(responses: MockResponseStore, enquiries: MockEnquiryAnswers, log: &UnitLog) -> Self {
        Self {
            responses,
            enquiries,
            log: log.clone(),
        }
    }
}

#[async_trait]
impl ApprovalsTx for TestTx {
    fn responses(&self) -> &dyn ResponseStore {
        &self.responses
    }

    fn enquiries(&self) -> &dyn EnquiryAnswers {
        &self.enquiries
    }

    fn record(&mut self, event: EventEnvelope) {
        self.log.events.lock().expect("not poisoned").push(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.log.audit.lock().expect("not poisoned").push(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), ApprovalsError> {
        self.log.commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A unit-of-work factory whose every `begin` builds a [`TestTx`] from the mocks `make`
/// returns, reporting to `log`.
pub fn units_of_work<F>(log: &UnitLog, make: F) -> MockApprovalsUnitOfWork
where
    F: Fn() -> (MockResponseStore, MockEnquiryAnswers) + Send + Sync + 'static,
{
    let log = log.clone();
    let mut uow = MockApprovalsUnitOfWork::new();
    uow.expect_begin().returning(move || {
        let (responses, enquiries) = make();
        Ok(Box::new(TestTx::new(responses, enquiries, &log)))
    });
    uow
}
