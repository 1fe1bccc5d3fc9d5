//! Test support (feature `mocks`): an [`IdentityTx`] over mocks that remembers what its
//! units of work recorded and whether they committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nexus_outbox::EventEnvelope;

use crate::{
    CodeStore, IdentityError, IdentityTx, LinkStore, MockCodeStore, MockIdentityUnitOfWork,
    MockLinkStore, MockSessionRevoker, MockUserStore, SessionRevoker, UserStore,
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
    users: MockUserStore,
    codes: MockCodeStore,
    links: MockLinkStore,
    sessions: MockSessionRevoker,
    erasure: crate::MockCredentialEraser,
    log: UnitLog,
}

impl TestTx {
    /// A unit of work over these mocks, reporting to `log`.
    #[must_use]
    pub fn new(users: MockUserStore, codes: MockCodeStore, log: &UnitLog) -> Self {
        Self {
            users,
            codes,
            links: MockLinkStore::new(),
            sessions: MockSessionRevoker::new(),
            erasure: crate::MockCredentialEraser::new(),
            log: log.clone(),
        }
    }

    /// The same unit of work with these account links.
    #[must_use]
    pub fn with_links(mut self, links: MockLinkStore) -> Self {
        self.links = links;
        self
    }

    /// The same unit of work with this credential removal.
    #[must_use]
    pub fn with_erasure(mut self, erasure: crate::MockCredentialEraser) -> Self {
        self.erasure = erasure;
        self
    }

    /// The same unit of work with this session revocation.
    #[must_use]
    pub fn with_sessions(mut self, sessions: MockSessionRevoker) -> Self {
        self.sessions = sessions;
        self
    }
}

#[async_trait]
impl IdentityTx for TestTx {
    fn users(&self) -> &dyn UserStore {
        &self.users
    }

    fn codes(&self) -> &dyn CodeStore {
        &self.codes
    }

    fn links(&self) -> &dyn LinkStore {
        &self.links
    }

    fn sessions(&self) -> &dyn SessionRevoker {
        &self.sessions
    }

    fn erasure(&self) -> &dyn crate::CredentialEraser {
        &self.erasure
    }

    fn record(&mut self, event: EventEnvelope) {
        self.log.events.lock().expect("not poisoned").push(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.log.audit.lock().expect("not poisoned").push(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), IdentityError> {
        self.log.commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A unit-of-work factory whose every `begin` builds a [`TestTx`] from the mocks `make`
/// returns, reporting to `log`.
pub fn units_of_work<F>(log: &UnitLog, make: F) -> MockIdentityUnitOfWork
where
    F: Fn() -> (MockUserStore, MockCodeStore) + Send + Sync + 'static,
{
    let log = log.clone();
    let mut uow = MockIdentityUnitOfWork::new();
    uow.expect_begin().returning(move || {
        let (users, codes) = make();
        Ok(Box::new(TestTx::new(users, codes, &log)))
    });
    uow
}

/// A unit-of-work factory whose every `begin` builds the [`TestTx`] `make` returns (given
/// the log to report to).
pub fn units_of_work_from<F>(log: &UnitLog, make: F) -> MockIdentityUnitOfWork
where
    F: Fn(&UnitLog) -> TestTx + Send + Sync + 'static,
{
    let log = log.clone();
    let mut uow = MockIdentityUnitOfWork::new();
    uow.expect_begin()
        .returning(move || Ok(Box::new(make(&log)) as Box<dyn IdentityTx>));
    uow
}
