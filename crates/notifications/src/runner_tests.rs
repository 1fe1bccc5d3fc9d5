//! Unit tests of `JobRunner` against a mocked `JobStore` and mocked handlers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Clock, FixedClock, JobId, Unexpected};

use crate::{
    Job, JobError, JobHandler, JobKind, JobPayload, JobRunner, JobState, MailError, MockJobHandler,
    MockJobStore, NotificationsError, RetryPolicy, RunnerConfig,
};

const WORKER: &str = "worker-1";

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn config() -> RunnerConfig {
    RunnerConfig {
        worker_id: WORKER.to_owned(),
        lease: Duration::minutes(5),
        batch: 10,
        max_attempts: 100,
        retry: RetryPolicy {
            base: Duration::seconds(30),
            max: Duration::hours(1),
        },
    }
}

fn invoice() -> JobPayload {
    JobPayload::GenerateInvoice {
        order_id: uuid::Uuid::now_v7(),
    }
}

fn credit_note() -> JobPayload {
    JobPayload::GenerateCreditNote {
        order_id: uuid::Uuid::now_v7(),
        refund_id: "rfnd_1".to_owned(),
    }
}

/// A job as `claim` returns it: RUNNING, locked by us, `attempts` already counting this run.
fn claimed(payload: JobPayload, attempts: u32, max_attempts: u32) -> Job {
    Job {
        id: JobId::new(),
        kind: payload.kind(),
        payload: Some(payload),
        state: JobState::Running,
        attempts,
        max_attempts,
        run_at: now() - Duration::seconds(1),
        locked_by: Some(WORKER.to_owned()),
        locked_until: Some(now() + Duration::minutes(5)),
        last_error: None,
        created_at: now() - Duration::minutes(1),
        updated_at: now(),
    }
}

fn store_claiming(jobs: Vec<Job>) -> MockJobStore {
    let mut store = MockJobStore::new();
    store
        .expect_claim()
        .times(1)
        .return_once(move |_, _, _, _| Ok(jobs));
    store
}

fn handler(kind: JobKind, result: Result<(), JobError>) -> MockJobHandler {
    let mut handler = MockJobHandler::new();
    handler.expect_kind().return_const(kind);
    handler
        .expect_handle()
        .returning(move |_, _| result.clone());
    handler
}

fn runner(store: MockJobStore, handlers: Vec<Arc<dyn JobHandler>>) -> JobRunner {
    JobRunner::new(
        Arc::new(store),
        handlers,
        Arc::new(FixedClock::default()),
        config(),
    )
}

#[tokio::test]
async fn claims_with_the_configured_worker_lease_and_batch() {
    let mut store = MockJobStore::new();
    store
        .expect_claim()
        .withf(|worker, at, lease, limit| {
            worker == WORKER && *at == now() && *lease == Duration::minutes(5) && *limit == 10
        })
        .times(1)
        .returning(|_, _, _, _| Ok(Vec::new()));
    let runner = runner(store, Vec::new());

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(0)));
}

#[tokio::test]
async fn a_successful_job_is_completed_by_the_worker_holding_it() {
    let job = claimed(invoice(), 1, 8);
    let id = job.id;
    let mut store = store_claiming(vec![job]);
    store
        .expect_complete()
        .withf(move |job_id, worker, at| *job_id == id && worker == WORKER && *at == now())
        .times(1)
        .returning(|_, _, _| Ok(true));
    store.expect_fail().never();
    let runner = runner(
        store,
        vec![Arc::new(handler(JobKind::GenerateInvoice, Ok(())))],
    );

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn the_handler_receives_the_job_and_its_payload() {
    let payload = invoice();
    let job = claimed(payload.clone(), 1, 8);
    let id = job.id;
    let mut store = store_claiming(vec![job]);
    store
        .expect_complete()
        .times(1)
        .returning(|_, _, _| Ok(true));
    let mut handler = MockJobHandler::new();
    handler.expect_kind().return_const(JobKind::GenerateInvoice);
    handler
        .expect_handle()
        .withf(move |job, given| job.id == id && *given == payload)
        .times(1)
        .returning(|_, _| Ok(()));
    let runner = runner(store, vec![Arc::new(handler)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_retryable_failure_is_rescheduled_after_the_policy_delay() {
    let job = claimed(invoice(), 2, 8);
    let id = job.id;
    let delay = config()
        .retry
        .next_delay(2, RetryPolicy::jitter_seed(id.as_uuid(), 2));
    let expected = now() + delay;
    assert!(delay >= Duration::seconds(30) && delay <= Duration::seconds(60));
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(move |job_id, worker, _, retry_at, at| {
            *job_id == id && worker == WORKER && *retry_at == Some(expected) && *at == now()
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    store.expect_complete().never();
    let failing = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Retryable("smtp down".to_owned())),
    );
    let runner = runner(store, vec![Arc::new(failing)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn the_failure_message_is_recorded_on_the_job() {
    let mut store = store_claiming(vec![claimed(invoice(), 1, 8)]);
    store
        .expect_fail()
        .withf(|_, _, error, _, _| error == "smtp down")
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let failing = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Retryable("smtp down".to_owned())),
    );
    let runner = runner(store, vec![Arc::new(failing)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_very_long_failure_message_is_cut_before_it_is_stored() {
    let mut store = store_claiming(vec![claimed(invoice(), 1, 8)]);
    store
        .expect_fail()
        .withf(|_, _, error, _, _| error.len() <= 1_004 && error.starts_with("ééé"))
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let failing = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Retryable("é".repeat(5_000))),
    );
    let runner = runner(store, vec![Arc::new(failing)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_retryable_failure_on_the_last_attempt_is_dead_lettered() {
    let job = claimed(invoice(), 8, 8);
    let id = job.id;
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(move |job_id, _, _, retry_at, _| *job_id == id && retry_at.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let failing = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Retryable("smtp down".to_owned())),
    );
    let runner = runner(store, vec![Arc::new(failing)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once() {
    let job = claimed(invoice(), 1, 8);
    let id = job.id;
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(move |job_id, _, _, retry_at, _| *job_id == id && retry_at.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    store.expect_complete().never();
    let failing = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Permanent("user is gone".to_owned())),
    );
    let runner = runner(store, vec![Arc::new(failing)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_job_with_no_handler_for_its_kind_is_dead_lettered() {
    let job = claimed(credit_note(), 1, 8);
    let id = job.id;
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(move |job_id, _, error, retry_at, _| {
            *job_id == id && retry_at.is_none() && !error.is_empty()
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let mut invoice_handler = MockJobHandler::new();
    invoice_handler
        .expect_kind()
        .return_const(JobKind::GenerateInvoice);
    invoice_handler.expect_handle().never();
    let runner = runner(store, vec![Arc::new(invoice_handler)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_job_whose_payload_was_cleared_is_dead_lettered_without_running() {
    let mut job = claimed(credit_note(), 1, 8);
    job.payload = None;
    let id = job.id;
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(move |job_id, _, _, retry_at, _| *job_id == id && retry_at.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let mut credit_note_handler = MockJobHandler::new();
    credit_note_handler
        .expect_kind()
        .return_const(JobKind::GenerateCreditNote);
    credit_note_handler.expect_handle().never();
    let runner = runner(store, vec![Arc::new(credit_note_handler)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_job_whose_kind_does_not_match_its_payload_is_dead_lettered_without_running() {
    let mut job = claimed(invoice(), 1, 8);
    job.kind = JobKind::GenerateCreditNote;
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(|_, _, _, retry_at, _| retry_at.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let mut handlers: Vec<Arc<dyn JobHandler>> = Vec::new();
    for kind in [JobKind::GenerateInvoice, JobKind::GenerateCreditNote] {
        let mut h = MockJobHandler::new();
        h.expect_kind().return_const(kind);
        h.expect_handle().never();
        handlers.push(Arc::new(h));
    }
    let runner = runner(store, handlers);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_panicking_handler_is_retried_and_the_rest_of_the_batch_still_runs() {
    let (panicking, fine) = (claimed(credit_note(), 1, 8), claimed(invoice(), 1, 8));
    let (panicking_id, fine_id) = (panicking.id, fine.id);
    let mut store = store_claiming(vec![panicking, fine]);
    store
        .expect_fail()
        .withf(move |job_id, _, _, retry_at, _| {
            *job_id == panicking_id && retry_at.is_some_and(|at| at > now())
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    store
        .expect_complete()
        .withf(move |job_id, _, _| *job_id == fine_id)
        .times(1)
        .returning(|_, _, _| Ok(true));
    let mut credit_note_handler = MockJobHandler::new();
    credit_note_handler
        .expect_kind()
        .return_const(JobKind::GenerateCreditNote);
    credit_note_handler
        .expect_handle()
        .returning(|_, _| panic!("handler bug"));
    let runner = runner(
        store,
        vec![
            Arc::new(credit_note_handler),
            Arc::new(handler(JobKind::GenerateInvoice, Ok(()))),
        ],
    );

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(2)));
}

/// A handler whose future panics when polled. Hand-written because a mockall expectation
/// runs when `handle` is called, not when its future is polled.
struct PanicsWhenPolled;

#[async_trait]
impl JobHandler for PanicsWhenPolled {
    fn kind(&self) -> JobKind {
        JobKind::GenerateInvoice
    }

    async fn handle(&self, _job: &Job, _payload: &JobPayload) -> Result<(), JobError> {
        let fail: Pin<Box<dyn Future<Output = ()> + Send>> =
            Box::pin(async { panic!("bug while polling") });
        fail.await;
        Ok(())
    }
}

#[tokio::test]
async fn a_handler_that_panics_while_polled_is_retried() {
    let job = claimed(invoice(), 3, 8);
    let id = job.id;
    let expected = now()
        + config()
            .retry
            .next_delay(3, RetryPolicy::jitter_seed(id.as_uuid(), 3));
    let mut store = store_claiming(vec![job]);
    store
        .expect_fail()
        .withf(move |job_id, _, _, retry_at, _| *job_id == id && *retry_at == Some(expected))
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let runner = runner(store, vec![Arc::new(PanicsWhenPolled)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_panic_on_the_last_attempt_is_dead_lettered() {
    let mut store = store_claiming(vec![claimed(invoice(), 8, 8)]);
    store
        .expect_fail()
        .withf(|_, _, _, retry_at, _| retry_at.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let runner = runner(store, vec![Arc::new(PanicsWhenPolled)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_lost_lease_on_completion_is_not_an_error() {
    let mut store = store_claiming(vec![claimed(invoice(), 1, 8)]);
    store
        .expect_complete()
        .times(1)
        .returning(|_, _, _| Ok(false));
    let runner = runner(
        store,
        vec![Arc::new(handler(JobKind::GenerateInvoice, Ok(())))],
    );

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_lost_lease_on_failure_is_not_an_error() {
    let mut store = store_claiming(vec![claimed(invoice(), 1, 8)]);
    store
        .expect_fail()
        .times(1)
        .returning(|_, _, _, _, _| Ok(false));
    let failing = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Retryable("smtp down".to_owned())),
    );
    let runner = runner(store, vec![Arc::new(failing)]);

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[tokio::test]
async fn a_claim_failure_is_returned() {
    let mut store = MockJobStore::new();
    store
        .expect_claim()
        .returning(|_, _, _, _| Err(Unexpected::msg("database is down").into()));
    let runner = runner(store, Vec::new());

    let result = runner.run_once().await;

    assert!(matches!(result, Err(NotificationsError::Unexpected(_))));
}

#[tokio::test]
async fn a_store_failure_on_one_job_does_not_skip_the_rest_of_the_batch() {
    let (first, second) = (claimed(invoice(), 1, 8), claimed(invoice(), 1, 8));
    let (first_id, second_id) = (first.id, second.id);
    let mut store = store_claiming(vec![first, second]);
    store
        .expect_complete()
        .withf(move |id, _, _| *id == first_id)
        .times(1)
        .returning(|_, _, _| Err(Unexpected::msg("database is down").into()));
    store
        .expect_complete()
        .withf(move |id, _, _| *id == second_id)
        .times(1)
        .returning(|_, _, _| Ok(true));
    let runner = runner(
        store,
        vec![Arc::new(handler(JobKind::GenerateInvoice, Ok(())))],
    );

    let result = runner.run_once().await;

    assert!(matches!(result, Err(NotificationsError::Unexpected(_))));
}

#[tokio::test]
async fn the_first_handler_registered_for_a_kind_wins() {
    let mut store = store_claiming(vec![claimed(invoice(), 1, 8)]);
    store
        .expect_complete()
        .times(1)
        .returning(|_, _, _| Ok(true));
    let mut second = MockJobHandler::new();
    second.expect_kind().return_const(JobKind::GenerateInvoice);
    second.expect_handle().never();
    let runner = runner(
        store,
        vec![
            Arc::new(handler(JobKind::GenerateInvoice, Ok(()))),
            Arc::new(second),
        ],
    );

    let result = runner.run_once().await;

    assert!(matches!(result, Ok(1)));
}

#[test]
fn mail_errors_map_to_job_errors_of_the_same_nature() {
    assert!(matches!(
        JobError::from(MailError::Transient("421".to_owned())),
        JobError::Retryable(_)
    ));
    assert!(matches!(
        JobError::from(MailError::Permanent("550".to_owned())),
        JobError::Permanent(_)
    ));
}

#[tokio::test]
async fn the_configured_attempt_budget_caps_a_larger_one_written_with_the_job() {
    let mut store = store_claiming(vec![claimed(invoice(), 3, 8)]);
    store
        .expect_fail()
        .withf(|_, _, _, retry_at, _| retry_at.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let handler = handler(
        JobKind::GenerateInvoice,
        Err(JobError::Retryable("smtp down".into())),
    );
    let runner = JobRunner::new(
        Arc::new(store),
        vec![Arc::new(handler)],
        Arc::new(FixedClock(now())),
        RunnerConfig {
            max_attempts: 3,
            ..config()
        },
    );

    assert_eq!(runner.run_once().await.expect("runs"), 1);
}
