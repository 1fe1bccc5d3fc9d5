//! Unit tests of approval deadlines: the service gives submissions their deadline from its
//! clock, the sweep records each stage's event once, and the mail subscribers tell the
//! right people only while the submission is still waiting.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use nexus_customers::{CustomerId, CustomerService, MockCustomerRepository};
use nexus_kernel::{Clock, Email, FixedClock, Role, UserId};
use nexus_notifications::{EmailTemplate, MockEmailRenderer, MockMailer, RenderedEmail};
use nexus_outbox::{Delivery, DeliveryId, DeliveryState, EventEnvelope, Subscriber};

use crate::testing::{UnitLog, units_of_work};
use crate::{
    ApprovalDeadlineApproaching, ApprovalDeadlinePassed, ApprovalService, Deadline,
    DeadlineMailPorts, DeadlineMailSubscriber, DeadlinePolicy, DeadlineStage, DueResponse,
    MockEnquiryAnswers, MockEnquiryLookup, MockResponseRepository, MockResponseStore,
    MockStaffContacts, NewResponse, Response, ResponseContent, ResponseId, ResponseStatus,
    ResponseSubject, StaffContact,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn policy() -> DeadlinePolicy {
    DeadlinePolicy::new(Duration::hours(8), Duration::hours(2), None).expect("valid policy")
}

fn draft_by(author: UserId) -> Response {
    let input = NewResponse {
        customer_id: CustomerId::new(),
        enquiry_id: None,
        subject: ResponseSubject::parse("About your order").expect("valid"),
        content: ResponseContent::parse("It ships today.").expect("valid"),
    };
    Response::draft(author, input, now() - Duration::hours(1)).response
}

/// A service over `repo` and units of work whose store `store` builds, with `deadlines`.
fn service(
    repo: MockResponseRepository,
    log: &UnitLog,
    store: impl Fn() -> MockResponseStore + Send + Sync + 'static,
    deadlines: Option<DeadlinePolicy>,
) -> ApprovalService {
    let uow = units_of_work(log, move || (store(), MockEnquiryAnswers::new()));
    let customers = Arc::new(CustomerService::new(
        Arc::new(MockCustomerRepository::new()),
        Arc::new(nexus_customers::MockStaffDirectory::new()),
        Arc::new(FixedClock::default()),
    ));
    let service = ApprovalService::new(
        Arc::new(repo),
        Arc::new(uow),
        Arc::new(MockEnquiryLookup::new()),
        customers,
        Arc::new(FixedClock::default()),
    );
    match deadlines {
        Some(p) => service.with_deadlines(p),
        None => service,
    }
}

fn repo_holding(response: Response) -> MockResponseRepository {
    let mut repo = MockResponseRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(response.clone())));
    repo
}

/// A store that remembers the responses it saved.
fn saving_store(saved: Arc<Mutex<Vec<Response>>>) -> impl Fn() -> MockResponseStore {
    move || {
        let mut store = MockResponseStore::new();
        let saved = saved.clone();
        store.expect_save().returning(move |r, _, _| {
            saved.lock().expect("not poisoned").push(r.clone());
            Ok(())
        });
        store
    }
}

#[tokio::test]
async fn a_submission_gets_its_deadline_from_the_clock() {
    let author = UserId::new();
    let saved = Arc::new(Mutex::new(Vec::new()));
    let log = UnitLog::default();
    let svc = service(
        repo_holding(draft_by(author)),
        &log,
        saving_store(saved.clone()),
        Some(policy()),
    );
    let actor = crate::permissions::actor(author, Role::Cso);
    let submitted = svc
        .submit(&actor, ResponseId::new())
        .await
        .expect("submits");
    let expected = Deadline {
        warn_at: now() + Duration::hours(6),
        due_at: now() + Duration::hours(8),
    };
    assert_eq!(submitted.deadline(), Some(expected));
    let saved = saved.lock().expect("not poisoned").clone();
    assert_eq!(saved.len(), 1);
    assert_eq!(
        saved[0].deadline(),
        Some(expected),
        "the deadline is stored"
    );
    assert_eq!(saved[0].status(), ResponseStatus::PendingApproval);
}

#[tokio::test]
async fn without_a_policy_a_submission_has_no_deadline_and_the_sweep_does_nothing() {
    let author = UserId::new();
    let saved = Arc::new(Mutex::new(Vec::new()));
    let log = UnitLog::default();
    let svc = service(
        repo_holding(draft_by(author)),
        &log,
        saving_store(saved.clone()),
        None,
    );
    let actor = crate::permissions::actor(author, Role::Cso);
    let submitted = svc
        .submit(&actor, ResponseId::new())
        .await
        .expect("submits");
    assert_eq!(submitted.deadline(), None);
    assert_eq!(log.commits(), 1);
    let sweep = svc.run_deadlines().await.expect("sweeps");
    assert_eq!(sweep, crate::DeadlineSweep::default());
    assert_eq!(log.commits(), 1, "no unit of work was opened by the sweep");
}

fn due(id: ResponseId, due_at: DateTime<Utc>) -> DueResponse {
    DueResponse {
        response_id: id,
        deadline: Deadline {
            warn_at: due_at - Duration::hours(2),
            due_at,
        },
    }
}

#[tokio::test]
async fn the_sweep_escalates_and_warns_once_each_and_skips_what_another_worker_marked() {
    let (overdue, soon, taken) = (ResponseId::new(), ResponseId::new(), ResponseId::new());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = UnitLog::default();
    let asked_in = asked.clone();
    let svc = service(
        MockResponseRepository::new(),
        &log,
        move || {
            let mut store = MockResponseStore::new();
            let asked = asked_in.clone();
            store.expect_due().returning(move |stage, at, limit| {
                asked.lock().expect("not poisoned").push((stage, at, limit));
                Ok(match stage {
                    DeadlineStage::Escalation => vec![due(overdue, now() - Duration::minutes(5))],
                    DeadlineStage::Warning => vec![
                        due(soon, now() + Duration::hours(1)),
                        due(taken, now() + Duration::hours(1)),
                    ],
                })
            });
            store.expect_mark_stage().returning(move |id, _, at| {
                assert_eq!(at, now(), "marked at the clock's time");
                Ok(id != taken)
            });
            store
        },
        Some(policy()),
    );
    let sweep = svc.run_deadlines().await.expect("sweeps");
    assert_eq!(sweep.escalated, 1);
    assert_eq!(
        sweep.warned, 1,
        "the response another worker marked is not counted"
    );
    assert_eq!(log.commits(), 2, "one unit of work per stage");
    let asked = asked.lock().expect("not poisoned").clone();
    assert_eq!(
        asked,
        vec![
            (DeadlineStage::Escalation, now(), 100),
            (DeadlineStage::Warning, now(), 100)
        ]
    );
    let events = log.events();
    assert_eq!(
        log.event_names(),
        [
            "approvals.deadline_passed",
            "approvals.deadline_approaching"
        ]
    );
    let passed: ApprovalDeadlinePassed = events[0].decode().expect("decodes");
    assert_eq!(passed.response_id, overdue);
    assert_eq!(passed.due_at, now() - Duration::minutes(5));
    let approaching: ApprovalDeadlineApproaching = events[1].decode().expect("decodes");
    assert_eq!(approaching.response_id, soon);
}

// ---- the mail subscribers -------------------------------------------------------------

fn contact(name: &str, user_id: UserId) -> StaffContact {
    StaffContact {
        user_id,
        email: Email::parse(&format!("{name}@nexus.test")).expect("valid"),
        first_name: name.to_owned(),
    }
}

fn delivery(event: EventEnvelope, subscriber: &str) -> Delivery {
    let at = now();
    Delivery {
        id: DeliveryId::new(),
        event,
        subscriber: subscriber.to_owned(),
        state: DeliveryState::Running,
        attempts: 1,
        max_attempts: 10,
        run_at: at,
        locked_by: Some("worker".to_owned()),
        locked_until: None,
        last_error: None,
        created_at: at,
        updated_at: at,
    }
}

/// A pending response by `author` submitted under [`policy`].
fn pending_by(author: UserId) -> Response {
    let mut transition = draft_by(author).submit(author, now()).expect("submits");
    transition.response.set_deadline(policy().schedule(now()));
    transition.response
}

struct Sent(Arc<Mutex<Vec<(String, String)>>>);

impl Sent {
    fn mailer(&self) -> MockMailer {
        let sent = self.0.clone();
        let mut mailer = MockMailer::new();
        mailer.expect_send().returning(move |m| {
            sent.lock()
                .expect("not poisoned")
                .push((m.to.as_str().to_owned(), m.message_id.clone()));
            Ok(())
        });
        mailer
    }

    fn recipients(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|(to, _)| to.clone())
            .collect()
    }
}

fn ports(
    response: Response,
    roles: Vec<Role>,
    staff: Vec<StaffContact>,
    mailer: MockMailer,
) -> DeadlineMailPorts {
    let log = UnitLog::default();
    let approvals = Arc::new(service(
        repo_holding(response),
        &log,
        MockResponseStore::new,
        Some(policy()),
    ));
    let mut directory = MockStaffContacts::new();
    directory
        .expect_active_with_roles()
        .returning(move |asked| {
            assert_eq!(asked, roles.as_slice(), "the subscriber asks for its roles");
            Ok(staff.clone())
        });
    let mut renderer = MockEmailRenderer::new();
    renderer.expect_render().returning(|t| {
        let EmailTemplate::ApprovalDeadline {
            overdue, due_at, ..
        } = t
        else {
            panic!("unexpected template {t:?}");
        };
        Ok(RenderedEmail {
            subject: format!("overdue={overdue}"),
            text_body: due_at.clone(),
            html_body: String::new(),
        })
    });
    DeadlineMailPorts {
        approvals,
        staff: Arc::new(directory),
        renderer: Arc::new(renderer),
        mailer: Arc::new(mailer),
        message_domain: "nexus.test".to_owned(),
    }
}

#[tokio::test]
async fn approvers_but_not_the_author_are_warned_with_stable_message_ids() {
    let author = UserId::new();
    let response = pending_by(author);
    let due_at = response.deadline().expect("has a deadline").due_at;
    let sent = Sent(Arc::default());
    let staff = vec![
        contact("author", author),
        contact("manager", UserId::new()),
        contact("admin", UserId::new()),
    ];
    let sub = DeadlineMailSubscriber::warning(
        ports(
            response.clone(),
            vec![Role::Admin, Role::Manager],
            staff,
            sent.mailer(),
        ),
        vec![Role::Admin, Role::Manager],
    );
    assert_eq!(sub.name(), "warn_approvers");
    let event = EventEnvelope::new(
        &ApprovalDeadlineApproaching {
            response_id: response.id(),
            due_at,
        },
        now(),
    )
    .expect("encodes");
    let d = delivery(event, "warn_approvers");
    sub.deliver(&d).await.expect("delivers");
    assert_eq!(
        sent.recipients(),
        ["manager@nexus.test", "admin@nexus.test"]
    );
    let ids: Vec<String> = sent
        .0
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(_, id)| id.clone())
        .collect();
    assert!(
        ids.iter().all(|id| id.starts_with(&d.id.to_string())),
        "{ids:?}"
    );
    assert_ne!(ids[0], ids[1], "one Message-ID per recipient");
}

#[tokio::test]
async fn nobody_is_mailed_about_a_decided_or_resubmitted_response() {
    let author = UserId::new();
    let pending = pending_by(author);
    let due_at = pending.deadline().expect("has a deadline").due_at;
    let approved = pending
        .approve(UserId::new(), None, now())
        .expect("approves")
        .response;
    for (response, event_due) in [
        (approved, due_at),
        // The same response submitted again has another deadline: the old event is stale.
        (pending.clone(), due_at - Duration::minutes(1)),
    ] {
        let sent = Sent(Arc::default());
        let sub = DeadlineMailSubscriber::escalation(ports(
            response.clone(),
            vec![Role::Admin],
            vec![contact("admin", UserId::new())],
            sent.mailer(),
        ));
        assert_eq!(sub.name(), "escalate_overdue_response");
        let event = EventEnvelope::new(
            &ApprovalDeadlinePassed {
                response_id: response.id(),
                due_at: event_due,
            },
            now(),
        )
        .expect("encodes");
        sub.deliver(&delivery(event, "escalate_overdue_response"))
            .await
            .expect("delivers");
        assert!(sent.recipients().is_empty(), "{:?}", response.status());
    }
}

#[tokio::test]
async fn an_overdue_response_is_escalated_to_admins() {
    let author = UserId::new();
    let response = pending_by(author);
    let due_at = response.deadline().expect("has a deadline").due_at;
    let sent = Sent(Arc::default());
    let sub = DeadlineMailSubscriber::escalation(ports(
        response.clone(),
        vec![Role::Admin],
        vec![contact("root", UserId::new())],
        sent.mailer(),
    ));
    let event = EventEnvelope::new(
        &ApprovalDeadlinePassed {
            response_id: response.id(),
            due_at,
        },
        now(),
    )
    .expect("encodes");
    sub.deliver(&delivery(event, "escalate_overdue_response"))
        .await
        .expect("delivers");
    assert_eq!(sent.recipients(), ["root@nexus.test"]);
}
