//! An outbox in memory, for unit tests of domain services and of the runner.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Page, PageRequest, Unexpected};

use crate::{
    BacklogEntry, DEFAULT_MAX_ATTEMPTS, Delivery, DeliveryFilter, DeliveryId, DeliveryState,
    DeliveryStore, EventEnvelope, EventId, OutboxError, Routes,
};

#[derive(Debug, Default)]
struct State {
    events: Vec<EventEnvelope>,
    deliveries: BTreeMap<DeliveryId, Delivery>,
}

/// Events and their deliveries in memory, with the same rules as the SQL store: leases,
/// lease-guarded results, dead letters, and sensitive payloads cleared once every
/// delivery of their event ended. Not for production: nothing survives the process.
#[derive(Debug)]
pub struct InMemoryOutbox {
    routes: Arc<Routes>,
    state: Mutex<State>,
}

impl InMemoryOutbox {
    /// An empty outbox routing events by `routes`.
    #[must_use]
    pub fn new(routes: Arc<Routes>) -> Self {
        Self {
            routes,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves consistent data behind: every
        // change below is a single assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `events` and one PENDING delivery per route, due `delay` after the event,
    /// as a unit of work does at commit.
    pub fn append(&self, events: &[EventEnvelope], now: DateTime<Utc>) {
        let mut state = self.lock();
        for event in events {
            for route in self.routes.routes(&event.name) {
                let id = DeliveryId::new();
                state.deliveries.insert(
                    id,
                    Delivery {
                        id,
                        event: event.clone(),
                        subscriber: route.subscriber.to_owned(),
                        state: DeliveryState::Pending,
                        attempts: 0,
                        max_attempts: DEFAULT_MAX_ATTEMPTS,
                        run_at: event
                            .occurred_at
                            .checked_add_signed(route.delay)
                            .unwrap_or(DateTime::<Utc>::MAX_UTC),
                        locked_by: None,
                        locked_until: None,
                        last_error: None,
                        created_at: now,
                        updated_at: now,
                    },
                );
            }
            state.events.push(event.clone());
        }
    }

    /// Every event appended so far, oldest first, as stored now (cleared payloads `Null`).
    #[must_use]
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.lock().events.clone()
    }

    /// Every delivery, oldest first.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.values().cloned().collect()
    }

    /// Changes a RUNNING delivery held by `worker` with `change`, then clears sensitive
    /// payloads whose deliveries all ended.
    fn finish(&self, id: DeliveryId, worker: &str, change: impl FnOnce(&mut Delivery)) -> bool {
        let mut state = self.lock();
        let Some(delivery) = state.deliveries.get_mut(&id) else {
            return false;
        };
        if delivery.state != DeliveryState::Running || delivery.locked_by.as_deref() != Some(worker)
        {
            return false;
        }
        delivery.locked_by = None;
        delivery.locked_until = None;
        change(delivery);
        let event = delivery.event.id;
        clear_if_ended(&mut state, event);
        true
    }
}

fn clear_if_ended(state: &mut State, event: EventId) {
    let open = state
        .deliveries
        .values()
        .any(|d| d.event.id == event && !d.state.has_ended());
    if open {
        return;
    }
    let sensitive = |e: &EventEnvelope| e.id == event && e.sensitive;
    for e in state.events.iter_mut().filter(|e| sensitive(e)) {
        e.payload = serde_json::Value::Null;
    }
    for d in state
        .deliveries
        .values_mut()
        .filter(|d| sensitive(&d.event))
    {
        d.event.payload = serde_json::Value::Null;
    }
}

#[async_trait]
impl DeliveryStore for InMemoryOutbox {
    async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, OutboxError> {
        let locked_until = now
            .checked_add_signed(lease)
            .ok_or_else(|| Unexpected::msg("the delivery lease overflows the calendar"))?;
        let mut state = self.lock();
        let mut due: Vec<&mut Delivery> = state
            .deliveries
            .values_mut()
            .filter(|d| match d.state {
                DeliveryState::Pending => d.run_at <= now,
                DeliveryState::Running => d.locked_until.is_some_and(|until| until < now),
                DeliveryState::Done | DeliveryState::Dead => false,
            })
            .collect();
        due.sort_by(|a, b| a.run_at.cmp(&b.run_at).then(a.id.cmp(&b.id)));
        Ok(due
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|d| {
                d.state = DeliveryState::Running;
                d.locked_by = Some(worker.to_owned());
                d.locked_until = Some(locked_until);
                d.attempts = d.attempts.saturating_add(1);
                d.updated_at = now;
                d.clone()
            })
            .collect())
    }

    async fn complete(
        &self,
        id: DeliveryId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError> {
        Ok(self.finish(id, worker, |d| {
            d.state = DeliveryState::Done;
            d.updated_at = now;
        }))
    }

    async fn fail(
        &self,
        id: DeliveryId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError> {
        Ok(self.finish(id, worker, |d| {
            d.last_error = Some(error.to_owned());
            d.updated_at = now;
            match retry_at {
                Some(at) => {
                    d.state = DeliveryState::Pending;
                    d.run_at = at;
                }
                None => d.state = DeliveryState::Dead,
            }
        }))
    }

    async fn release(
        &self,
        id: DeliveryId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, OutboxError> {
        Ok(self.finish(id, worker, |d| {
            d.state = DeliveryState::Pending;
            d.run_at = now;
            d.attempts = d.attempts.saturating_sub(1);
            d.updated_at = now;
        }))
    }

    async fn find(&self, id: DeliveryId) -> Result<Option<Delivery>, OutboxError> {
        Ok(self.lock().deliveries.get(&id).cloned())
    }

    async fn list(
        &self,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<Delivery>, OutboxError> {
        let state = self.lock();
        let mut matching: Vec<&Delivery> = state
            .deliveries
            .values()
            .filter(|d| filter.state.is_none_or(|s| d.state == s))
            .filter(|d| {
                filter
                    .subscriber
                    .as_deref()
                    .is_none_or(|s| d.subscriber == s)
            })
            .collect();
        matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
        let items = matching
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(page.limit()).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn backlog(&self) -> Result<Vec<BacklogEntry>, OutboxError> {
        let state = self.lock();
        Ok(BacklogEntry::STATES
            .into_iter()
            .map(|wanted| {
                let of_state = state.deliveries.values().filter(|d| d.state == wanted);
                BacklogEntry {
                    state: wanted,
                    count: u64::try_from(of_state.clone().count()).unwrap_or(u64::MAX),
                    oldest_due: of_state.map(|d| d.run_at).min(),
                }
            })
            .collect())
    }

    async fn retry(&self, id: DeliveryId, now: DateTime<Utc>) -> Result<Delivery, OutboxError> {
        let mut state = self.lock();
        let delivery = state
            .deliveries
            .get_mut(&id)
            .ok_or(OutboxError::NotFound(id))?;
        if delivery.state != DeliveryState::Dead {
            return Err(OutboxError::InvalidState(delivery.state.as_str()));
        }
        delivery.state = DeliveryState::Pending;
        delivery.run_at = now;
        delivery.attempts = 0;
        delivery.updated_at = now;
        Ok(delivery.clone())
    }
}
