//! A unit of work for unit tests: mockall mocks of the repositories bound to it, the
//! events it records, and whether (and how often) it committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nexus_outbox::EventEnvelope;

use crate::{
    BuyerActivityLog, EntitlementStore, GatewayEventLog, InvoiceNumbers, MockBuyerActivityLog,
    MockEntitlementStore, MockGatewayEventLog, MockInvoiceNumbers, MockOrderStore,
    MockOrdersUnitOfWork, MockUnappliedPaymentStore, OrderStore, OrdersError, OrdersTx,
    UnappliedPaymentStore,
};

/// Runs when a [`TestTx`] commits, with the events it recorded.
pub(crate) type OnCommit = Box<dyn FnOnce(&[EventEnvelope]) + Send>;

/// One unit of work: set expectations on its mocks, hand it out from
/// [`MockOrdersUnitOfWork::begin`], then assert on `events` and `commits`.
pub(crate) struct TestTx {
    pub orders: MockOrderStore,
    pub entitlements: MockEntitlementStore,
    pub numbers: MockInvoiceNumbers,
    pub gateway_events: MockGatewayEventLog,
    pub unapplied: MockUnappliedPaymentStore,
    pub activity: MockBuyerActivityLog,
    /// Events recorded by this unit of work (committed or not).
    pub events: Arc<Mutex<Vec<EventEnvelope>>>,
    /// Commits of this unit of work.
    pub commits: Arc<AtomicUsize>,
    pub on_commit: Option<OnCommit>,
}

impl TestTx {
    /// A unit of work whose repositories expect nothing (any call fails the test).
    pub(crate) fn new() -> Self {
        Self {
            orders: MockOrderStore::new(),
            entitlements: MockEntitlementStore::new(),
            numbers: MockInvoiceNumbers::new(),
            gateway_events: MockGatewayEventLog::new(),
            unapplied: MockUnappliedPaymentStore::new(),
            activity: MockBuyerActivityLog::new(),
            events: Arc::default(),
            commits: Arc::default(),
            on_commit: None,
        }
    }

    /// A unit of work factory handing out `tx` once.
    pub(crate) fn uow_of(tx: Self) -> MockOrdersUnitOfWork {
        let mut uow = MockOrdersUnitOfWork::new();
        let mut once = Some(tx);
        uow.expect_begin().times(1).returning(move || {
            Ok(Box::new(once.take().expect("one unit of work")) as Box<dyn OrdersTx>)
        });
        uow
    }

    /// The names of the events recorded.
    pub(crate) fn names(events: &Mutex<Vec<EventEnvelope>>) -> Vec<String> {
        events
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|e| e.name.clone())
            .collect()
    }
}

#[async_trait]
impl OrdersTx for TestTx {
    fn orders(&self) -> &dyn OrderStore {
        &self.orders
    }

    fn entitlements(&self) -> &dyn EntitlementStore {
        &self.entitlements
    }

    fn invoice_numbers(&self) -> &dyn InvoiceNumbers {
        &self.numbers
    }

    fn gateway_events(&self) -> &dyn GatewayEventLog {
        &self.gateway_events
    }

    fn unapplied_payments(&self) -> &dyn UnappliedPaymentStore {
        &self.unapplied
    }

    fn activity(&self) -> &dyn BuyerActivityLog {
        &self.activity
    }

    fn record(&mut self, event: EventEnvelope) {
        self.events.lock().expect("not poisoned").push(event);
    }

    fn audit(&mut self, _record: nexus_kernel::AuditRecord) {
        // The audit log is the adapter's: its rows are checked by the black-box tests.
    }

    async fn commit(mut self: Box<Self>) -> Result<(), OrdersError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        if let Some(on_commit) = self.on_commit.take() {
            let events = self.events.lock().expect("not poisoned").clone();
            on_commit(&events);
        }
        Ok(())
    }
}
