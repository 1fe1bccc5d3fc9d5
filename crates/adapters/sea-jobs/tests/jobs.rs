//! `SeaJobStore` on every backend: claiming with leases, results guarded by the lease,
//! retries, dead letters, sensitive payloads, lists, and concurrent claimers.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;
use common::{at, credit_note_job, invoice_job};
use nexus_kernel::{JobId, PageRequest};
use nexus_notifications::{
    Job, JobFilter, JobKind, JobPayload, JobState, JobStore, NewJob, NotificationsError,
};
use nexus_sea_jobs::SeaJobStore;
use nexus_sea_jobs::entities::job as job_row;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

const LEASE: i64 = 30;

fn lease() -> Duration {
    Duration::seconds(LEASE)
}

async fn enqueue(store: &SeaJobStore, job: &NewJob) {
    store.enqueue(job).await.expect("enqueue");
}

async fn stored(store: &SeaJobStore, id: JobId) -> Job {
    store
        .find(id)
        .await
        .expect("find job")
        .expect("the job exists")
}

fn ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|j| j.id).collect()
}

#[tokio::test]
async fn an_enqueued_job_is_pending_with_its_payload_and_budget() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let order = Uuid::now_v7();
        let job = invoice_job(order, 5);

        enqueue(&store, &job).await;

        let found = stored(&store, job.id).await;
        assert_eq!(
            found.payload,
            Some(JobPayload::GenerateInvoice { order_id: order })
        );
        assert_eq!(found.kind, JobKind::GenerateInvoice, "{}", t.backend);
        assert_eq!(found.state, JobState::Pending);
        assert_eq!((found.attempts, found.max_attempts), (0, 3));
        assert_eq!(found.run_at, at(5));
        assert_eq!(found.locked_by, None);
        assert_eq!(found.locked_until, None);
        assert_eq!(found.last_error, None);
        assert_eq!(store.find(JobId::new()).await.expect("find"), None);
    }
}

#[tokio::test]
async fn claim_takes_only_due_jobs_counts_the_attempt_and_sets_the_lease() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let order = Uuid::now_v7();
        let later = invoice_job(order, 20);
        let first = invoice_job(order, 0);
        let due_now = invoice_job(order, 10);
        for job in [&later, &first, &due_now] {
            enqueue(&store, job).await;
        }

        let claimed = store
            .claim("worker-a", at(10), lease(), 10)
            .await
            .expect("claim");

        assert_eq!(ids(&claimed), [first.id, due_now.id], "{}", t.backend);
        for job in &claimed {
            assert_eq!(job.state, JobState::Running);
            assert_eq!(job.attempts, 1);
            assert_eq!(job.locked_by.as_deref(), Some("worker-a"));
            assert_eq!(job.locked_until, Some(at(10 + LEASE)));
            assert_eq!(job.updated_at, at(10));
            assert_eq!(&stored(&store, job.id).await, job, "{}", t.backend);
        }
        assert_eq!(stored(&store, later.id).await.state, JobState::Pending);
        let again = store
            .claim("worker-b", at(10), lease(), 10)
            .await
            .expect("claim again");
        assert!(again.is_empty(), "{}: {again:?}", t.backend);
    }
}

#[tokio::test]
async fn claim_takes_at_most_the_limit_in_run_at_order() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let jobs: Vec<NewJob> = (0..5)
            .rev()
            .map(|i| invoice_job(Uuid::now_v7(), i))
            .collect();
        for job in &jobs {
            enqueue(&store, job).await;
        }

        let none = store
            .claim("worker", at(100), lease(), 0)
            .await
            .expect("claim none");
        let two = store
            .claim("worker", at(100), lease(), 2)
            .await
            .expect("claim two");

        assert!(none.is_empty());
        assert_eq!(ids(&two), [jobs[4].id, jobs[3].id], "{}", t.backend);
    }
}

#[tokio::test]
async fn a_running_job_whose_lease_ended_is_claimed_again_by_another_worker() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let job = invoice_job(Uuid::now_v7(), 0);
        enqueue(&store, &job).await;
        store
            .claim("worker-a", at(0), lease(), 1)
            .await
            .expect("first claim");

        let at_lease_end = store
            .claim("worker-b", at(LEASE), lease(), 1)
            .await
            .expect("claim at the lease end");
        let after = store
            .claim("worker-b", at(LEASE + 1), lease(), 1)
            .await
            .expect("claim after the lease");

        assert!(at_lease_end.is_empty(), "{}", t.backend);
        assert_eq!(ids(&after), [job.id], "{}", t.backend);
        assert_eq!(after[0].attempts, 2);
        assert_eq!(after[0].locked_by.as_deref(), Some("worker-b"));
        assert_eq!(after[0].locked_until, Some(at(2 * LEASE + 1)));
    }
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_can_neither_complete_nor_fail_the_job() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let job = invoice_job(Uuid::now_v7(), 0);
        enqueue(&store, &job).await;
        store
            .claim("worker-a", at(0), lease(), 1)
            .await
            .expect("first claim");
        store
            .claim("worker-b", at(LEASE + 1), lease(), 1)
            .await
            .expect("second claim");
        let before = stored(&store, job.id).await;

        let completed = store
            .complete(job.id, "worker-a", at(40))
            .await
            .expect("complete");
        let retried = store
            .fail(job.id, "worker-a", "boom", Some(at(100)), at(40))
            .await
            .expect("fail with retry");
        let killed = store
            .fail(job.id, "worker-a", "boom", None, at(40))
            .await
            .expect("fail for good");

        assert!(!completed && !retried && !killed, "{}", t.backend);
        assert_eq!(stored(&store, job.id).await, before, "{}", t.backend);
        assert!(
            store
                .complete(job.id, "worker-b", at(41))
                .await
                .expect("complete by the holder")
        );
        let done = stored(&store, job.id).await;
        assert_eq!(done.state, JobState::Done, "{}", t.backend);
        assert_eq!((done.locked_by, done.locked_until), (None, None));
        assert_eq!(done.updated_at, at(41));
        assert!(
            !store
                .complete(job.id, "worker-b", at(42))
                .await
                .expect("complete twice"),
            "a DONE job is not completed again"
        );
    }
}

#[tokio::test]
async fn a_failure_with_a_retry_time_reschedules_the_job() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let job = invoice_job(Uuid::now_v7(), 0);
        enqueue(&store, &job).await;
        store
            .claim("worker", at(0), lease(), 1)
            .await
            .expect("claim");

        let recorded = store
            .fail(job.id, "worker", "mail server down", Some(at(60)), at(5))
            .await
            .expect("fail");

        assert!(recorded);
        let pending = stored(&store, job.id).await;
        assert_eq!(pending.state, JobState::Pending, "{}", t.backend);
        assert_eq!(pending.run_at, at(60));
        assert_eq!(pending.last_error.as_deref(), Some("mail server down"));
        assert_eq!((pending.locked_by, pending.locked_until), (None, None));
        assert_eq!(pending.attempts, 1);
        assert!(
            store
                .claim("worker", at(59), lease(), 1)
                .await
                .expect("claim early")
                .is_empty()
        );
        let retried = store
            .claim("worker", at(60), lease(), 1)
            .await
            .expect("claim on time");
        assert_eq!(ids(&retried), [job.id], "{}", t.backend);
        assert_eq!(retried[0].attempts, 2);
    }
}

#[tokio::test]
async fn a_failure_without_a_retry_time_dead_letters_the_job_with_its_error() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let job = invoice_job(Uuid::now_v7(), 0);
        enqueue(&store, &job).await;
        store
            .claim("worker", at(0), lease(), 1)
            .await
            .expect("claim");

        let recorded = store
            .fail(job.id, "worker", "address refused", None, at(5))
            .await
            .expect("fail");

        assert!(recorded);
        let dead = stored(&store, job.id).await;
        assert_eq!(dead.state, JobState::Dead, "{}", t.backend);
        assert_eq!(dead.last_error.as_deref(), Some("address refused"));
        // Not sensitive: kept for the administrator who may retry it.
        assert_eq!(dead.payload, Some(job.payload.clone()), "{}", t.backend);
        assert!(
            store
                .claim("worker", at(1_000), lease(), 1)
                .await
                .expect("claim")
                .is_empty(),
            "a DEAD job is never claimed"
        );
    }
}

#[tokio::test]
async fn a_sensitive_payload_is_cleared_when_its_job_ends_and_kept_while_it_may_run() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let order = Uuid::now_v7();
        let done = credit_note_job(order, "rfnd_123456", 0);
        let dead = credit_note_job(order, "rfnd_654321", 0);
        let rescheduled = credit_note_job(order, "rfnd_111111", 0);
        let plain = invoice_job(order, 0);
        for job in [&done, &dead, &rescheduled, &plain] {
            enqueue(&store, job).await;
        }
        // No payload is sensitive any more (one-time codes are outbox events now), but rows
        // written when one was still carry the flag, and the store still honours it.
        job_row::Entity::update_many()
            .col_expr(job_row::Column::Sensitive, Expr::value(true))
            .filter(
                job_row::Column::Id
                    .is_in([done.id, dead.id, rescheduled.id].map(|id| id.as_uuid())),
            )
            .exec(&t.db)
            .await
            .expect("flag the credit notes sensitive");
        store
            .claim("worker", at(0), lease(), 10)
            .await
            .expect("claim");

        assert!(
            store
                .complete(done.id, "worker", at(1))
                .await
                .expect("complete")
        );
        assert!(
            store
                .fail(dead.id, "worker", "refused", None, at(1))
                .await
                .expect("fail")
        );
        assert!(
            store
                .fail(rescheduled.id, "worker", "busy", Some(at(9)), at(1))
                .await
                .expect("fail")
        );
        assert!(
            store
                .complete(plain.id, "worker", at(1))
                .await
                .expect("complete")
        );

        let backend = t.backend;
        for cleared in [done.id, dead.id] {
            let job = stored(&store, cleared).await;
            assert_eq!(job.payload, None, "{backend}: {:?}", job.state);
            assert_eq!(
                job.kind,
                JobKind::GenerateCreditNote,
                "the kind outlives the payload"
            );
        }
        assert_eq!(
            stored(&store, rescheduled.id).await.payload,
            Some(rescheduled.payload.clone()),
            "{backend}: a job that will run again keeps its payload"
        );
        assert_eq!(
            stored(&store, plain.id).await.payload,
            Some(plain.payload.clone()),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_list_filters_by_state_and_kind_newest_first_with_exact_totals() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let order = Uuid::now_v7();
        let mut invoices = Vec::new();
        for i in 0..4 {
            let job = invoice_job(order, i);
            enqueue(&store, &job).await;
            invoices.push(job.id);
        }
        let credit_note = credit_note_job(order, "rfnd_123456", 10);
        enqueue(&store, &credit_note).await;
        // The two oldest invoices run: one completes, one dies.
        store
            .claim("worker", at(1), lease(), 2)
            .await
            .expect("claim");
        store
            .complete(invoices[0], "worker", at(2))
            .await
            .expect("complete");
        store
            .fail(invoices[1], "worker", "no", None, at(2))
            .await
            .expect("fail");
        let list = |state: Option<JobState>, kind: Option<JobKind>, page: PageRequest| {
            let store = store.clone();
            async move {
                store
                    .list(JobFilter { state, kind }, page)
                    .await
                    .expect("list")
            }
        };
        let all = PageRequest::default();

        let everything = list(None, None, all).await;
        let first_two = list(None, None, PageRequest::new(Some(1), Some(2))).await;
        let pending = list(Some(JobState::Pending), None, all).await;
        let pending_invoices =
            list(Some(JobState::Pending), Some(JobKind::GenerateInvoice), all).await;
        let credit_notes = list(None, Some(JobKind::GenerateCreditNote), all).await;
        let dead = list(Some(JobState::Dead), None, all).await;
        let running = list(Some(JobState::Running), None, all).await;

        let backend = t.backend;
        assert_eq!(
            ids(&everything.items),
            [
                credit_note.id,
                invoices[3],
                invoices[2],
                invoices[1],
                invoices[0]
            ],
            "{backend}"
        );
        assert_eq!(everything.total, 5);
        assert_eq!(
            ids(&first_two.items),
            [credit_note.id, invoices[3]],
            "{backend}"
        );
        assert_eq!(first_two.total, 5);
        assert_eq!(
            ids(&pending.items),
            [credit_note.id, invoices[3], invoices[2]],
            "{backend}"
        );
        assert_eq!(pending.total, 3);
        assert_eq!(ids(&pending_invoices.items), [invoices[3], invoices[2]]);
        assert_eq!(pending_invoices.total, 2);
        assert_eq!(ids(&credit_notes.items), [credit_note.id]);
        assert_eq!(ids(&dead.items), [invoices[1]], "{backend}");
        assert_eq!(running.total, 0);
        assert!(running.items.is_empty());
    }
}

#[tokio::test]
async fn only_a_dead_job_can_be_retried_and_it_gets_a_fresh_budget() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let order = Uuid::now_v7();
        let (pending, running, done, dead) = (
            invoice_job(order, 0),
            invoice_job(order, 0),
            invoice_job(order, 0),
            invoice_job(order, 0),
        );
        enqueue(&store, &running).await;
        enqueue(&store, &done).await;
        enqueue(&store, &dead).await;
        store
            .claim("worker", at(0), lease(), 3)
            .await
            .expect("claim");
        enqueue(&store, &pending).await;
        store
            .complete(done.id, "worker", at(1))
            .await
            .expect("complete");
        store
            .fail(dead.id, "worker", "gave up", None, at(1))
            .await
            .expect("fail");

        let backend = t.backend;
        for (job, state) in [
            (&pending, "PENDING"),
            (&running, "RUNNING"),
            (&done, "DONE"),
        ] {
            let before = stored(&store, job.id).await;
            let result = store.retry(job.id, at(50)).await;
            assert!(
                matches!(result, Err(NotificationsError::InvalidState(s)) if s == state),
                "{backend}: {result:?}"
            );
            assert_eq!(stored(&store, job.id).await, before, "{backend}");
        }
        let missing = JobId::new();
        assert!(matches!(
            store.retry(missing, at(50)).await,
            Err(NotificationsError::NotFound(id)) if id == missing
        ));

        let retried = store.retry(dead.id, at(50)).await.expect("retry");

        assert_eq!(retried.state, JobState::Pending, "{backend}");
        assert_eq!(retried.run_at, at(50));
        assert_eq!(retried.attempts, 0);
        assert_eq!(retried.last_error.as_deref(), Some("gave up"), "{backend}");
        assert_eq!(retried.updated_at, at(50));
        assert_eq!(stored(&store, dead.id).await, retried, "{backend}");
        let claimed = store
            .claim("worker", at(50), lease(), 10)
            .await
            .expect("claim");
        assert!(ids(&claimed).contains(&dead.id), "{backend}");
    }
}

#[tokio::test]
async fn a_job_row_with_a_bad_payload_is_unexpected_not_accepted() {
    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let broken = invoice_job(Uuid::now_v7(), 0);
        let mismatched = invoice_job(Uuid::now_v7(), 0);
        enqueue(&store, &broken).await;
        enqueue(&store, &mismatched).await;
        job_row::Entity::update_many()
            .col_expr(job_row::Column::Payload, Expr::value("{not json"))
            .filter(job_row::Column::Id.eq(broken.id.as_uuid()))
            .exec(&t.db)
            .await
            .expect("corrupt the payload");
        job_row::Entity::update_many()
            .col_expr(job_row::Column::Kind, Expr::value("generate_credit_note"))
            .filter(job_row::Column::Id.eq(mismatched.id.as_uuid()))
            .exec(&t.db)
            .await
            .expect("corrupt the kind");

        for id in [broken.id, mismatched.id] {
            let result = store.find(id).await;
            assert!(
                matches!(result, Err(NotificationsError::Unexpected(_))),
                "{}: {result:?}",
                t.backend
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_concurrent_workers_claim_fifty_jobs_exactly_once_between_them() {
    for t in common::backends().await {
        let store = Arc::new(SeaJobStore::new(t.db.clone()));
        let mut all = HashSet::new();
        for i in 0..50 {
            let job = invoice_job(Uuid::now_v7(), i % 7);
            enqueue(&store, &job).await;
            all.insert(job.id);
        }

        let mut workers = tokio::task::JoinSet::new();
        for w in 0..4 {
            let store = Arc::clone(&store);
            workers.spawn(async move {
                let name = format!("worker-{w}");
                let mut mine = Vec::new();
                loop {
                    // Each claim runs on its own pooled connection.
                    let batch = store
                        .claim(&name, at(100), lease(), 3)
                        .await
                        .expect("claim");
                    if batch.is_empty() {
                        break;
                    }
                    for job in &batch {
                        assert_eq!(job.locked_by.as_deref(), Some(name.as_str()));
                    }
                    mine.extend(batch.into_iter().map(|j| j.id));
                    tokio::task::yield_now().await;
                }
                mine
            });
        }
        let mut claimed = Vec::new();
        let mut per_worker = Vec::new();
        while let Some(joined) = workers.join_next().await {
            let mine = joined.expect("worker task");
            per_worker.push(mine.len());
            claimed.extend(mine);
        }

        let distinct: HashSet<JobId> = claimed.iter().copied().collect();
        assert_eq!(
            claimed.len(),
            distinct.len(),
            "{}: a job was claimed twice",
            t.backend
        );
        assert_eq!(distinct, all, "{}: per worker {per_worker:?}", t.backend);
        for id in all {
            let job = stored(&store, id).await;
            assert_eq!((job.state, job.attempts), (JobState::Running, 1));
        }
    }
}

#[tokio::test]
async fn an_event_delivery_is_listed_and_found_as_work_of_its_subscriber() {
    use nexus_outbox::{EventEnvelope, EventId, MockSubscriber, SubscriberRegistry, Subscription};

    for t in common::backends().await {
        let store = SeaJobStore::new(t.db.clone());
        let job = invoice_job(Uuid::now_v7(), 5);
        enqueue(&store, &job).await;
        let mut subscriber = MockSubscriber::new();
        subscriber.expect_name().return_const("send_response");
        subscriber.expect_subscriptions().returning(|| {
            vec![Subscription {
                event: "approvals.response_approved",
                delay: Duration::zero(),
            }]
        });
        let mut registry = SubscriberRegistry::new();
        registry.register(Arc::new(subscriber)).expect("register");
        let event = EventEnvelope {
            id: EventId::new(),
            name: "approvals.response_approved".into(),
            version: 1,
            payload: serde_json::json!({ "response_id": uuid::Uuid::now_v7() }),
            occurred_at: at(10),
            sensitive: false,
            request_id: None,
        };
        nexus_sea_support::append_events(&t.db, &[event], &registry.shared_routes(), None, at(10))
            .await
            .expect("append");

        let all = store
            .list(JobFilter::default(), PageRequest::new(Some(1), Some(10)))
            .await
            .expect("list");
        let deliveries = store
            .list(
                JobFilter {
                    kind: Some(JobKind::SendResponse),
                    state: Some(JobState::Pending),
                },
                PageRequest::new(Some(1), Some(10)),
            )
            .await
            .expect("list deliveries");

        assert_eq!(all.total, 2, "{}", t.backend);
        assert_eq!(deliveries.total, 1, "{}", t.backend);
        let delivery = &deliveries.items[0];
        assert_eq!(
            delivery.payload, None,
            "a delivery's payload is never shown"
        );
        assert_eq!(delivery.run_at, at(10));
        let found = stored(&store, delivery.id).await;
        assert_eq!(found.kind, JobKind::SendResponse);
        // Newest first: the job's row was created at the system time, after the delivery's
        // (at `at(10)`, early in 2026).
        assert_eq!(ids(&all.items), [job.id, delivery.id]);
    }
}
