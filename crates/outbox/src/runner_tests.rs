use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use nexus_kernel::FixedClock;
use serde::{Deserialize, Serialize};

use super::*;
use crate::{
    DeliveryState, DomainEvent, EventEnvelope, InMemoryOutbox, MockDeliveryStore, Subscriber,
    Subscription,
};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Placed {
    order: u32,
}
impl DomainEvent for Placed {
    const NAME: &'static str = "orders.order_placed";
    const VERSION: u32 = 1;
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct CodeIssued {
    code: String,
}
impl DomainEvent for CodeIssued {
    const NAME: &'static str = "identity.code_issued";
    const VERSION: u32 = 1;
    const SENSITIVE: bool = true;
}

/// What a test subscriber does on each attempt.
#[derive(Clone, Copy)]
enum Behaviour {
    Succeed,
    Retry,
    Refuse,
    Panic,
    DecodeCodes,
    /// Never ends (a mail server that never answers).
    Hang,
}

struct Probe {
    name: &'static str,
    events: Vec<Subscription>,
    behaviour: Behaviour,
    calls: AtomicU32,
}

#[async_trait::async_trait]
impl Subscriber for Probe {
    fn name(&self) -> &'static str {
        self.name
    }
    fn subscriptions(&self) -> Vec<Subscription> {
        self.events.clone()
    }
    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.behaviour {
            Behaviour::Succeed => Ok(()),
            Behaviour::Retry => Err(DeliveryError::Retryable("server down".into())),
            Behaviour::Refuse => Err(DeliveryError::Permanent("address refused".into())),
            Behaviour::Panic => panic!("boom"),
            Behaviour::Hang => std::future::pending().await,
            Behaviour::DecodeCodes => delivery
                .event
                .decode::<CodeIssued>()
                .map(|_| ())
                .map_err(Into::into),
        }
    }
}

fn probe(name: &'static str, behaviour: Behaviour) -> Arc<Probe> {
    Arc::new(Probe {
        name,
        events: vec![
            Subscription::to::<Placed>(),
            Subscription::to::<CodeIssued>(),
        ],
        behaviour,
        calls: AtomicU32::new(0),
    })
}

fn config(max_attempts: u32) -> DeliveryRunnerConfig {
    DeliveryRunnerConfig {
        worker_id: "w1".into(),
        lease: Duration::seconds(30),
        batch: 10,
        max_attempts,
        retry: RetryPolicy {
            base: Duration::seconds(10),
            max: Duration::seconds(60),
        },
    }
}

struct World {
    outbox: Arc<InMemoryOutbox>,
    runner: DeliveryRunner,
    now: DateTime<Utc>,
}

fn world(subscribers: Vec<Arc<Probe>>, max_attempts: u32) -> World {
    let mut registry = SubscriberRegistry::new();
    for s in subscribers {
        registry.register(s).expect("register");
    }
    let outbox = Arc::new(InMemoryOutbox::new(registry.shared_routes()));
    let now = FixedClock::default().0;
    let runner = DeliveryRunner::new(
        outbox.clone(),
        Arc::new(registry),
        Arc::new(FixedClock(now)),
        config(max_attempts),
    );
    World {
        outbox,
        runner,
        now,
    }
}

fn placed(now: DateTime<Utc>) -> EventEnvelope {
    EventEnvelope::new(&Placed { order: 1 }, now).expect("encode")
}

#[tokio::test]
async fn a_delivered_event_is_done() {
    let mail = probe("mail", Behaviour::Succeed);
    let w = world(vec![mail.clone()], 5);
    w.outbox.append(&[placed(w.now)], w.now);

    assert_eq!(w.runner.run_once().await.expect("run"), 1);

    let [delivery] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!(delivery.state, DeliveryState::Done);
    assert_eq!(mail.calls.load(Ordering::SeqCst), 1);
    assert_eq!(w.runner.run_once().await.expect("run again"), 0);
}

#[tokio::test]
async fn each_subscriber_gets_its_own_delivery_and_state() {
    let (ok, down) = (
        probe("ok", Behaviour::Succeed),
        probe("down", Behaviour::Retry),
    );
    let w = world(vec![ok, down], 5);
    w.outbox.append(&[placed(w.now)], w.now);

    w.runner.run_once().await.expect("run");

    let mut states: Vec<_> = w
        .outbox
        .deliveries()
        .into_iter()
        .map(|d| (d.subscriber, d.state))
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        states,
        [
            ("down".to_owned(), DeliveryState::Pending),
            ("ok".to_owned(), DeliveryState::Done)
        ]
    );
}

#[tokio::test]
async fn a_retryable_failure_waits_with_backoff_then_dead_letters() {
    let down = probe("down", Behaviour::Retry);
    let w = world(vec![down.clone()], 2);
    w.outbox.append(&[placed(w.now)], w.now);

    w.runner.run_once().await.expect("first attempt");
    let [first] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!(first.state, DeliveryState::Pending);
    assert_eq!(first.last_error.as_deref(), Some("server down"));
    let wait = first.run_at - w.now;
    assert!(
        wait >= Duration::seconds(5) && wait <= Duration::seconds(10),
        "{wait}"
    );
    // Not due yet at the same instant.
    assert_eq!(w.runner.run_once().await.expect("too early"), 0);

    // The second (last) attempt, once due.
    let later = DeliveryRunner::new(
        w.outbox.clone(),
        w.runner.registry.clone(),
        Arc::new(FixedClock(first.run_at)),
        config(2),
    );
    later.run_once().await.expect("second attempt");

    let [last] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!(last.state, DeliveryState::Dead);
    assert_eq!(last.attempts, 2);
    assert_eq!(down.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_permanent_failure_dead_letters_at_once() {
    let w = world(vec![probe("refuse", Behaviour::Refuse)], 5);
    w.outbox.append(&[placed(w.now)], w.now);

    w.runner.run_once().await.expect("run");

    let [d] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!((d.state, d.attempts), (DeliveryState::Dead, 1));
    assert_eq!(d.last_error.as_deref(), Some("address refused"));
}

#[tokio::test]
async fn a_panicking_subscriber_is_retried_and_the_worker_survives() {
    let w = world(vec![probe("panics", Behaviour::Panic)], 5);
    w.outbox.append(&[placed(w.now)], w.now);

    w.runner.run_once().await.expect("run");

    let [d] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!(d.state, DeliveryState::Pending);
    assert!(
        d.last_error
            .as_deref()
            .is_some_and(|e| e.contains("panicked: boom"))
    );
}

#[tokio::test]
async fn an_undecodable_payload_is_dead_lettered_with_the_reason() {
    let w = world(vec![probe("codes", Behaviour::DecodeCodes)], 5);
    // The subscriber reads code events, but gets an order event routed to it.
    w.outbox.append(&[placed(w.now)], w.now);

    w.runner.run_once().await.expect("run");

    let [d] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!(d.state, DeliveryState::Dead);
    assert!(
        d.last_error
            .as_deref()
            .is_some_and(|e| e.contains("expected identity.code_issued v1")),
        "{:?}",
        d.last_error
    );
}

#[tokio::test]
async fn a_delivery_for_an_unknown_subscriber_is_dead_lettered() {
    let w = world(vec![probe("mail", Behaviour::Succeed)], 5);
    w.outbox.append(&[placed(w.now)], w.now);
    // Deployed without the subscriber: a runner whose registry lacks it.
    let bare = DeliveryRunner::new(
        w.outbox.clone(),
        Arc::new(SubscriberRegistry::new()),
        Arc::new(FixedClock(w.now)),
        config(5),
    );

    bare.run_once().await.expect("run");

    let [d] = w.outbox.deliveries().try_into().expect("one delivery");
    assert_eq!(d.state, DeliveryState::Dead);
    assert_eq!(
        d.last_error.as_deref(),
        Some("no subscriber named mail is registered")
    );
}

#[tokio::test]
async fn a_sensitive_payload_is_cleared_when_its_last_delivery_ends() {
    let w = world(vec![probe("ok", Behaviour::Succeed)], 5);
    let code = EventEnvelope::new(
        &CodeIssued {
            code: "123456".into(),
        },
        w.now,
    )
    .expect("encode");
    w.outbox.append(&[code.clone(), placed(w.now)], w.now);

    w.runner.run_once().await.expect("run");

    let events = w.outbox.events();
    assert_eq!(events[0].id, code.id);
    assert!(events[0].payload.is_null(), "the code is gone");
    assert!(!events[1].payload.is_null(), "ordinary payloads stay");
}

#[tokio::test]
async fn a_sensitive_payload_stays_while_another_delivery_is_open() {
    let w = world(
        vec![
            probe("ok", Behaviour::Succeed),
            probe("down", Behaviour::Retry),
        ],
        5,
    );
    let code = EventEnvelope::new(
        &CodeIssued {
            code: "123456".into(),
        },
        w.now,
    )
    .expect("encode");
    w.outbox.append(&[code], w.now);

    w.runner.run_once().await.expect("run");

    assert!(!w.outbox.events()[0].payload.is_null());
}

#[tokio::test]
async fn a_lost_lease_is_logged_not_an_error() {
    let mut store = MockDeliveryStore::new();
    let mut registry = SubscriberRegistry::new();
    registry
        .register(probe("mail", Behaviour::Succeed))
        .expect("register");
    let now = FixedClock::default().0;
    let routes = registry.shared_routes();
    let source = InMemoryOutbox::new(routes);
    source.append(&[placed(now)], now);
    let claimed = source
        .claim("w1", now, Duration::seconds(30), 10)
        .await
        .expect("claim");
    store
        .expect_claim()
        .times(1)
        .returning(move |_, _, _, _| Ok(claimed.clone()));
    store
        .expect_complete()
        .times(1)
        .returning(|_, _, _| Ok(false));
    store.expect_fail().never();
    let runner = DeliveryRunner::new(
        Arc::new(store),
        Arc::new(registry),
        Arc::new(FixedClock(now)),
        config(5),
    );

    assert_eq!(runner.run_once().await.expect("no error"), 1);
}

#[tokio::test]
async fn every_delivery_runs_within_the_context() {
    struct Recording(Mutex<Vec<Option<String>>>);
    impl DeliveryContext for Recording {
        fn scope<'a>(&self, delivery: &Delivery, work: DeliveryFuture<'a>) -> DeliveryFuture<'a> {
            self.0
                .lock()
                .expect("lock")
                .push(delivery.event.request_id.clone());
            work
        }
    }
    let w = world(vec![probe("mail", Behaviour::Succeed)], 5);
    let mut event = placed(w.now);
    event.request_id = Some("req-1".into());
    w.outbox.append(&[event], w.now);
    let context = Arc::new(Recording(Mutex::new(Vec::new())));
    let runner = DeliveryRunner::new(
        w.outbox.clone(),
        w.runner.registry.clone(),
        Arc::new(FixedClock(w.now)),
        config(5),
    )
    .with_context(context.clone());

    runner.run_once().await.expect("run");

    assert_eq!(*context.0.lock().expect("lock"), [Some("req-1".to_owned())]);
}

#[tokio::test]
async fn a_dead_delivery_can_be_sent_round_again() {
    let w = world(vec![probe("refuse", Behaviour::Refuse)], 5);
    w.outbox.append(&[placed(w.now)], w.now);
    w.runner.run_once().await.expect("run");
    let [dead] = w.outbox.deliveries().try_into().expect("one delivery");

    let again = w.outbox.retry(dead.id, w.now).await.expect("retry");

    assert_eq!((again.state, again.attempts), (DeliveryState::Pending, 0));
    assert!(matches!(
        w.outbox.retry(dead.id, w.now).await,
        Err(OutboxError::InvalidState("PENDING"))
    ));
}

#[tokio::test]
async fn a_stopping_worker_finishes_the_delivery_in_hand_and_releases_the_rest() {
    let mail = probe("mail", Behaviour::Succeed);
    let w = world(vec![mail.clone()], 5);
    w.outbox
        .append(&[placed(w.now), placed(w.now), placed(w.now)], w.now);
    let told_to_stop = || mail.calls.load(Ordering::SeqCst) >= 1;

    let claimed = w.runner.run_once_until(&told_to_stop).await.expect("run");

    assert_eq!(claimed, 3);
    let deliveries = w.outbox.deliveries();
    let done = deliveries
        .iter()
        .filter(|d| d.state == DeliveryState::Done)
        .count();
    assert_eq!(done, 1, "the delivery in hand finished: {deliveries:?}");
    for d in deliveries.iter().filter(|d| d.state != DeliveryState::Done) {
        assert_eq!(d.state, DeliveryState::Pending, "{d:?}");
        assert_eq!(d.attempts, 0, "a released delivery never ran: {d:?}");
        assert_eq!(d.locked_by, None);
        assert_eq!(d.run_at, w.now, "due at once for another worker");
    }
    assert_eq!(w.runner.run_once().await.expect("the next run"), 2);
    assert_eq!(mail.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_dropped_run_hands_back_the_delivery_in_hand_and_the_ones_not_started() {
    let hang = probe("hang", Behaviour::Hang);
    let w = world(vec![hang.clone()], 5);
    w.outbox.append(&[placed(w.now), placed(w.now)], w.now);
    {
        // One poll claims both and starts the first, which never ends; then the run is
        // dropped, as when a worker's grace period runs out.
        let mut run = std::pin::pin!(w.runner.run_once());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(run.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(hang.calls.load(Ordering::SeqCst), 1);

    let handed_back = w.runner.release_unfinished().await.expect("release");

    assert_eq!(handed_back, 2);
    let deliveries = w.outbox.deliveries();
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Pending
            && d.locked_by.is_none()
            && d.run_at == w.now),
        "{deliveries:?}"
    );
    let mut attempts: Vec<u32> = deliveries.iter().map(|d| d.attempts).collect();
    attempts.sort_unstable();
    assert_eq!(attempts, [0, 1], "only the interrupted attempt counts");
    let interrupted = deliveries
        .iter()
        .find(|d| d.attempts == 1)
        .expect("the interrupted one");
    assert_eq!(interrupted.last_error.as_deref(), Some(INTERRUPTED));
    assert_eq!(
        w.runner.release_unfinished().await.expect("again"),
        0,
        "nothing is handed back twice"
    );
}
