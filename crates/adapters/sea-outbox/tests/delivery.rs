//! Delivery on the real store, on SQLite and PostgreSQL: a subscriber killed mid-delivery
//! runs again with its effect once; racing workers never deliver twice; a subscriber of this
//! test crate gets events through the registry routes, delay honoured; retry, dead letter
//! and admin retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Clock, PageRequest};
use nexus_outbox::{
    Delivery, DeliveryError, DeliveryFilter, DeliveryRunner, DeliveryRunnerConfig, DeliveryState,
    DeliveryStore, DomainEvent, EventEnvelope, RetryPolicy, Subscriber, SubscriberRegistry,
    Subscription,
};
use nexus_sea_outbox::SeaDeliveryStore;
use nexus_sea_support::append_events;
use nexus_sea_support::testing::{TestDb, backends};
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Shipped {
    n: u32,
}
impl DomainEvent for Shipped {
    const NAME: &'static str = "test.shipped";
    const VERSION: u32 = 1;
}

/// A clock the test moves.
struct TestClock(Mutex<DateTime<Utc>>);
impl TestClock {
    fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock");
        *now += by;
    }
}
impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

/// Applies its effect once per delivery id (the idempotency contract), counting every call
/// and every effect; fails the first `fail_first` calls.
struct Recorder {
    delay: Duration,
    fail_first: Mutex<u32>,
    calls: Mutex<u32>,
    effects: Mutex<HashMap<nexus_outbox::DeliveryId, u32>>,
}
impl Recorder {
    fn new(delay: Duration, fail_first: u32) -> Arc<Self> {
        Arc::new(Self {
            delay,
            fail_first: Mutex::new(fail_first),
            calls: Mutex::new(0),
            effects: Mutex::new(HashMap::new()),
        })
    }
    fn effects(&self) -> HashMap<nexus_outbox::DeliveryId, u32> {
        self.effects.lock().expect("effects").clone()
    }
}
#[async_trait]
impl Subscriber for Recorder {
    fn name(&self) -> &'static str {
        "tests.recorder"
    }
    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<Shipped>().after(self.delay)]
    }
    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        delivery.event.decode::<Shipped>()?;
        *self.calls.lock().expect("calls") += 1;
        {
            let mut left = self.fail_first.lock().expect("fail");
            if *left > 0 {
                *left -= 1;
                return Err(DeliveryError::Retryable("smtp down".into()));
            }
        }
        // The effect, keyed by delivery id: a redelivery finds it done.
        self.effects
            .lock()
            .expect("effects")
            .entry(delivery.id)
            .or_insert(1);
        Ok(())
    }
}

struct Setup {
    clock: Arc<TestClock>,
    store: Arc<SeaDeliveryStore>,
    registry: Arc<SubscriberRegistry>,
}

fn setup(db: &TestDb, subscriber: Arc<Recorder>, start: DateTime<Utc>) -> Setup {
    let mut registry = SubscriberRegistry::new();
    registry.register(subscriber).expect("register");
    Setup {
        clock: Arc::new(TestClock(Mutex::new(start))),
        store: Arc::new(SeaDeliveryStore::new(db.db.clone())),
        registry: Arc::new(registry),
    }
}

fn runner(s: &Setup, worker: &str, max_attempts: u32, batch: u32) -> DeliveryRunner {
    DeliveryRunner::new(
        s.store.clone(),
        s.registry.clone(),
        s.clock.clone(),
        DeliveryRunnerConfig {
            worker_id: worker.into(),
            lease: Duration::seconds(30),
            batch,
            max_attempts,
            retry: RetryPolicy {
                base: Duration::seconds(10),
                max: Duration::seconds(60),
            },
        },
    )
}

async fn append(db: &TestDb, s: &Setup, count: u32, at: DateTime<Utc>) {
    let events: Vec<EventEnvelope> = (0..count)
        .map(|n| EventEnvelope::new(&Shipped { n }, at).expect("encode"))
        .collect();
    let tx = db.db.begin().await.expect("begin");
    append_events(&tx, &events, &s.registry.shared_routes(), None, at)
        .await
        .expect("append");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_subscriber_killed_mid_delivery_runs_again_and_its_effect_happens_once() {
    for db in backends::<nexus_migration::Migrator>().await {
        let start = Utc::now();
        let recorder = Recorder::new(Duration::zero(), 0);
        let s = setup(&db, recorder.clone(), start);
        append(&db, &s, 1, start).await;

        // A worker claims the delivery, does the effect, and dies before completing.
        let claimed = s
            .store
            .claim("doomed", start, Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "{}", db.backend);
        recorder.deliver(&claimed[0]).await.expect("effect");

        // Before the lease ends nobody else takes it.
        assert_eq!(runner(&s, "live", 5, 100).run_once().await.expect("run"), 0);
        s.clock.advance(Duration::seconds(31));
        assert_eq!(runner(&s, "live", 5, 100).run_once().await.expect("run"), 1);

        let done = s
            .store
            .find(claimed[0].id)
            .await
            .expect("find")
            .expect("row");
        assert_eq!(done.state, DeliveryState::Done, "{}", db.backend);
        assert_eq!(done.attempts, 2);
        assert_eq!(*recorder.calls.lock().expect("calls"), 2, "delivered again");
        assert_eq!(recorder.effects().get(&done.id), Some(&1), "effect once");
        // The dead worker's late result is refused.
        assert!(
            !s.store
                .complete(done.id, "doomed", start)
                .await
                .expect("complete")
        );
    }
}

#[tokio::test]
async fn a_subscriber_of_this_crate_gets_events_after_its_delay() {
    for db in backends::<nexus_migration::Migrator>().await {
        let start = Utc::now();
        let recorder = Recorder::new(Duration::minutes(10), 0);
        let s = setup(&db, recorder.clone(), start);
        append(&db, &s, 3, start).await;

        let r = runner(&s, "w", 5, 100);
        assert_eq!(
            r.run_once().await.expect("run"),
            0,
            "not due before its delay"
        );
        s.clock.advance(Duration::minutes(10));
        assert_eq!(r.run_once().await.expect("run"), 3, "{}", db.backend);
        assert_eq!(recorder.effects().len(), 3);
    }
}

#[tokio::test]
async fn failures_back_off_then_dead_letter_and_an_admin_retry_delivers() {
    for db in backends::<nexus_migration::Migrator>().await {
        let start = Utc::now();
        let recorder = Recorder::new(Duration::zero(), 3);
        let s = setup(&db, recorder.clone(), start);
        append(&db, &s, 1, start).await;
        let r = runner(&s, "w", 3, 100);

        assert_eq!(r.run_once().await.expect("run"), 1);
        let page = s
            .store
            .list(DeliveryFilter::default(), PageRequest::default())
            .await
            .expect("list");
        let d = page.items[0].clone();
        assert_eq!(d.state, DeliveryState::Pending, "{}", db.backend);
        assert!(d.run_at > start, "backed off");
        assert_eq!(d.last_error.as_deref(), Some("smtp down"));
        assert_eq!(
            r.run_once().await.expect("run"),
            0,
            "not before the backoff"
        );

        for _ in 0..2 {
            s.clock.advance(Duration::minutes(2));
            assert_eq!(r.run_once().await.expect("run"), 1);
        }
        let dead = s.store.find(d.id).await.expect("find").expect("row");
        assert_eq!(dead.state, DeliveryState::Dead, "{}", db.backend);
        assert_eq!(dead.attempts, 3);
        assert!(recorder.effects().is_empty());

        let retried = s.store.retry(d.id, s.clock.now()).await.expect("retry");
        assert_eq!(retried.state, DeliveryState::Pending);
        assert_eq!(retried.attempts, 0);
        assert_eq!(r.run_once().await.expect("run"), 1);
        let done = s.store.find(d.id).await.expect("find").expect("row");
        assert_eq!(done.state, DeliveryState::Done);
        assert_eq!(recorder.effects().get(&d.id), Some(&1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_racing_on_postgres_never_deliver_one_event_twice() {
    let Some(db) = nexus_sea_support::testing::postgres::<nexus_migration::Migrator>().await else {
        return;
    };
    let start = Utc::now();
    let recorder = Recorder::new(Duration::zero(), 0);
    let s = setup(&db, recorder.clone(), start);
    append(&db, &s, 50, start).await;
    let work = |name: &'static str| {
        let r = runner(&s, name, 5, 5);
        async move {
            let mut total = 0;
            loop {
                let n = r.run_once().await.expect("run");
                if n == 0 {
                    break total;
                }
                total += n;
            }
        }
    };
    let (a, b) = tokio::join!(work("a"), work("b"));
    assert_eq!(a + b, 50, "every delivery claimed once ({a} + {b})");
    assert_eq!(
        *recorder.calls.lock().expect("calls"),
        50,
        "no double delivery"
    );
    let page = s
        .store
        .list(
            DeliveryFilter {
                state: Some(DeliveryState::Done),
                ..DeliveryFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(page.total, 50);
}

#[tokio::test]
async fn a_released_delivery_is_due_at_once_with_its_attempt_taken_back_and_only_by_its_holder() {
    for db in backends::<nexus_migration::Migrator>().await {
        let start = Utc::now();
        let recorder = Recorder::new(Duration::zero(), 0);
        let s = setup(&db, recorder.clone(), start);
        append(&db, &s, 1, start).await;
        let claimed = s
            .store
            .claim("stopping", start, Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "{}", db.backend);
        let id = claimed[0].id;

        assert!(
            !s.store.release(id, "other", start).await.expect("release"),
            "{}: only the holder releases",
            db.backend
        );
        assert!(
            s.store
                .release(id, "stopping", start)
                .await
                .expect("release")
        );

        let released = s.store.find(id).await.expect("find").expect("row");
        assert_eq!(released.state, DeliveryState::Pending, "{}", db.backend);
        assert_eq!(released.attempts, 0, "{}: it never ran", db.backend);
        assert_eq!(released.locked_by, None);
        // Another worker takes it before the lease would have ended.
        assert_eq!(runner(&s, "live", 5, 10).run_once().await.expect("run"), 1);
        let done = s.store.find(id).await.expect("find").expect("row");
        assert_eq!(done.state, DeliveryState::Done, "{}", db.backend);
        assert_eq!(done.attempts, 1);
        assert!(
            !s.store.release(id, "live", start).await.expect("release"),
            "{}: a finished delivery is not released",
            db.backend
        );
    }
}

#[tokio::test]
async fn the_backlog_counts_open_and_dead_deliveries_by_state_with_the_oldest_due() {
    for db in backends::<nexus_migration::Migrator>().await {
        let start = Utc::now();
        let recorder = Recorder::new(Duration::zero(), 0);
        let s = setup(&db, recorder, start);
        let empty = s.store.backlog().await.expect("backlog");
        assert_eq!(
            empty
                .iter()
                .map(|e| (e.state, e.count, e.oldest_due))
                .collect::<Vec<_>>(),
            vec![
                (DeliveryState::Pending, 0, None),
                (DeliveryState::Running, 0, None),
                (DeliveryState::Dead, 0, None),
            ],
            "{}",
            db.backend
        );

        // Five deliveries: two older ones, then three a minute later.
        let early = start - Duration::minutes(10);
        append(&db, &s, 2, early).await;
        append(&db, &s, 3, start).await;
        // One is claimed (RUNNING), one of those dies (DEAD), one is delivered (DONE).
        let claimed = s
            .store
            .claim("w", start, Duration::seconds(30), 3)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 3, "{}", db.backend);
        assert!(
            s.store
                .fail(claimed[0].id, "w", "gave up", None, start)
                .await
                .expect("fail")
        );
        assert!(
            s.store
                .complete(claimed[2].id, "w", start)
                .await
                .expect("complete")
        );

        let backlog = s.store.backlog().await.expect("backlog");

        let by_state = |state| {
            backlog
                .iter()
                .find(|e| e.state == state)
                .copied()
                .expect("every state is reported")
        };
        let pending = by_state(DeliveryState::Pending);
        let running = by_state(DeliveryState::Running);
        let dead = by_state(DeliveryState::Dead);
        assert_eq!(backlog.len(), 3, "DONE is not backlog ({})", db.backend);
        assert_eq!((pending.count, running.count, dead.count), (2, 1, 1));
        // Claims go oldest first: the dead and the running one were the early events.
        let close = |a: Option<DateTime<Utc>>, b: DateTime<Utc>| {
            a.is_some_and(|a| (a - b).num_milliseconds().abs() < 5)
        };
        assert!(close(dead.oldest_due, early), "{dead:?} ({})", db.backend);
        assert!(close(running.oldest_due, early), "{running:?}");
        assert!(close(pending.oldest_due, start), "{pending:?}");
        assert_eq!(
            dead.oldest_age(start + Duration::minutes(1)).num_minutes(),
            11
        );
    }
}
