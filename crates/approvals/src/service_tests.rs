//! Unit tests of `ApprovalService` against mocked ports and a real `CustomerService` over
//! mocked customer ports.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::ResponseId;
use chrono::{DateTime, Duration, Utc};
use nexus_customers::{
    Customer, CustomerService, CustomerStatus, MockCustomerRepository, MockStaffDirectory, Tags,
};
use nexus_customers::{CustomerId, EnquiryId};
use nexus_kernel::{
    Clock, Email, FixedClock, Page, PageRequest, PersonName, Role, Unexpected, UserId,
};

use crate::testing::{UnitLog, units_of_work};
use crate::{
    ApprovalService, ApprovalsError, MockApprovalsUnitOfWork, MockEnquiryAnswers,
    MockEnquiryLookup, MockResponseRepository, MockResponseStore, NewResponse, Response,
    ResponseApproved, ResponseContent, ResponseEvent, ResponseQuery, ResponseSent, ResponseStatus,
    ResponseSubject, ReviewNotes, Transition, UpdateResponse,
};

// ---- fixtures -------------------------------------------------------------------------

fn created() -> DateTime<Utc> {
    FixedClock::default().now() - Duration::days(1)
}

/// The service's clock: a day after every fixture response was written.
fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn subject(raw: &str) -> ResponseSubject {
    ResponseSubject::parse(raw).expect("valid subject")
}

fn content(raw: &str) -> ResponseContent {
    ResponseContent::parse(raw).expect("valid content")
}

fn notes(raw: &str) -> ReviewNotes {
    ReviewNotes::parse(raw).expect("valid notes")
}

fn customer_assigned_to(officer: Option<UserId>) -> Customer {
    Customer {
        id: CustomerId::new(),
        first_name: PersonName::parse("Ada").expect("valid name"),
        last_name: PersonName::parse("Lovelace").expect("valid name"),
        email: Email::parse("ada@example.com").expect("valid e-mail"),
        phone: None,
        company: None,
        status: CustomerStatus::Active,
        tags: Tags::default(),
        assigned_to: officer,
        created_by: UserId::new(),
        created_at: created(),
        updated_at: created(),
        version: 1,
        account_id: None,
    }
}

fn new_response(customer_id: CustomerId, enquiry_id: Option<EnquiryId>) -> NewResponse {
    NewResponse {
        customer_id,
        enquiry_id,
        subject: subject("About your order"),
        content: content("Dear Ada,\n\nyour order ships today."),
    }
}

/// A response by `author` to `customer`, driven through the real transitions into
/// `status` (decided, where it needs to be, by some other reviewer).
fn response_in(status: ResponseStatus, author: UserId, customer: CustomerId) -> Response {
    use ResponseStatus as S;
    let reviewer = UserId::new();
    let at = created();
    let step = |r: Result<Transition, ApprovalsError>| r.expect("valid transition").response;
    let draft = Response::draft(author, new_response(customer, None), at).response;
    let pending = || step(draft.submit(author, at));
    match status {
        S::Draft => draft,
        S::PendingApproval => pending(),
        S::Approved => step(pending().approve(reviewer, None, at)),
        S::Sent => step(step(pending().approve(reviewer, None, at)).mark_sent(at)),
        S::Rejected => step(pending().reject(reviewer, notes("Too curt."), at)),
    }
}

/// A real `CustomerService` whose repository holds exactly `customers`.
fn customer_service(customers: Vec<Customer>) -> Arc<CustomerService> {
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |id| Ok(customers.iter().find(|c| c.id == id).cloned()));
    Arc::new(CustomerService::new(
        Arc::new(repo),
        Arc::new(MockStaffDirectory::new()),
        Arc::new(FixedClock::default()),
    ))
}

/// One write a unit of work's response store was asked to make.
#[derive(Debug, Clone)]
struct Write {
    method: &'static str,
    response: Response,
    expected_version: Option<i64>,
    event: ResponseEvent,
}

/// Every write made through recording units of work, the enquiries they answered, and
/// their events and commits.
#[derive(Debug, Clone, Default)]
struct Writes {
    writes: Arc<Mutex<Vec<Write>>>,
    answered: Arc<Mutex<Vec<EnquiryId>>>,
    log: UnitLog,
}

impl Writes {
    fn push(&self, write: Write) {
        self.writes.lock().expect("not poisoned").push(write);
    }

    fn all(&self) -> Vec<Write> {
        self.writes.lock().expect("not poisoned").clone()
    }

    fn answered(&self) -> Vec<EnquiryId> {
        self.answered.lock().expect("not poisoned").clone()
    }
}

/// A read repository that serves `stored` from `find`. Any other call fails the test.
fn serving_repo(stored: &Response) -> MockResponseRepository {
    let mut repo = MockResponseRepository::new();
    let served = stored.clone();
    repo.expect_find()
        .returning(move |id| Ok((id == served.id()).then(|| served.clone())));
    repo
}

/// Units of work whose stores record (and accept) every write and whose enquiries answer.
fn recording_uow(writes: &Writes) -> MockApprovalsUnitOfWork {
    let writes = writes.clone();
    units_of_work(&writes.log.clone(), move || {
        let mut store = MockResponseStore::new();
        let w = writes.clone();
        store.expect_insert().returning(move |response, event| {
            w.push(Write {
                method: "insert",
                response: response.clone(),
                expected_version: None,
                event: event.clone(),
            });
            Ok(())
        });
        let w = writes.clone();
        store
            .expect_save()
            .returning(move |response, expected_version, event| {
                w.push(Write {
                    method: "save",
                    response: response.clone(),
                    expected_version: Some(expected_version),
                    event: event.clone(),
                });
                Ok(())
            });
        let mut enquiries = MockEnquiryAnswers::new();
        let answered = writes.answered.clone();
        enquiries.expect_mark_answered().returning(move |id, _| {
            answered.lock().expect("not poisoned").push(id);
            Ok(true)
        });
        (store, enquiries)
    })
}

/// Units of work that must never be opened.
fn no_uow() -> MockApprovalsUnitOfWork {
    let mut uow = MockApprovalsUnitOfWork::new();
    uow.expect_begin().never();
    uow
}

fn service_with(
    repo: MockResponseRepository,
    uow: MockApprovalsUnitOfWork,
    enquiries: MockEnquiryLookup,
    customers: Arc<CustomerService>,
) -> ApprovalService {
    ApprovalService::new(
        Arc::new(repo),
        Arc::new(uow),
        Arc::new(enquiries),
        customers,
        Arc::new(FixedClock::default()),
    )
}

/// A service whose repository holds only `stored` and whose CRM holds only `customer`.
fn service_serving(stored: &Response, customer: &Customer, writes: &Writes) -> ApprovalService {
    service_with(
        serving_repo(stored),
        recording_uow(writes),
        MockEnquiryLookup::new(),
        customer_service(vec![customer.clone()]),
    )
}

// ---- the full matrix: every status x every action x every kind of actor ----------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Manager,
    /// The CSO who wrote the response.
    CsoAuthor,
    /// Another CSO, the officer of the response's customer.
    CsoOfficer,
    /// A CSO who neither wrote it nor has its customer.
    CsoStranger,
    /// A manager who wrote the response (four eyes).
    ManagerAuthor,
    /// A storefront account.
    Customer,
}

const EVERYONE: [Who; 7] = [
    Who::Admin,
    Who::Manager,
    Who::CsoAuthor,
    Who::CsoOfficer,
    Who::CsoStranger,
    Who::ManagerAuthor,
    Who::Customer,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Edit,
    Submit,
    Approve,
    Reject,
    /// The mail worker's call: it has no actor, so `Who` does not matter.
    MarkSent,
}

const ACTIONS: [Action; 5] = [
    Action::Edit,
    Action::Submit,
    Action::Approve,
    Action::Reject,
    Action::MarkSent,
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Ok, with exactly one write moving the response to this status.
    Moved(ResponseStatus),
    /// Ok, with no write at all.
    Unchanged,
    NotFound,
    Forbidden,
    NotAuthor,
    SelfApproval,
    InvalidTransition,
    /// Anything else, described.
    Other(String),
}

/// The rules, written out independently of the service: whom the caller may see, what
/// their role allows, the four-eyes rule, then the state machine.
fn expected_outcome(who: Who, action: Action, status: ResponseStatus) -> Outcome {
    use ResponseStatus as S;
    if action == Action::MarkSent {
        return match status {
            S::Approved => Outcome::Moved(S::Sent),
            S::Sent => Outcome::Unchanged,
            _ => Outcome::InvalidTransition,
        };
    }
    match who {
        Who::Customer => return Outcome::Forbidden,
        Who::CsoStranger => return Outcome::NotFound,
        _ => {}
    }
    let is_author = matches!(who, Who::CsoAuthor | Who::ManagerAuthor);
    let is_reviewer = matches!(who, Who::Admin | Who::Manager | Who::ManagerAuthor);
    match action {
        Action::Edit | Action::Submit if !is_author => return Outcome::NotAuthor,
        Action::Approve | Action::Reject if !is_reviewer => return Outcome::Forbidden,
        Action::Approve | Action::Reject if is_author => return Outcome::SelfApproval,
        _ => {}
    }
    match (action, status) {
        (Action::Edit, S::Draft | S::Rejected) => Outcome::Moved(S::Draft),
        (Action::Submit, S::Draft) => Outcome::Moved(S::PendingApproval),
        (Action::Approve, S::PendingApproval) => Outcome::Moved(S::Approved),
        (Action::Reject, S::PendingApproval) => Outcome::Moved(S::Rejected),
        _ => Outcome::InvalidTransition,
    }
}

/// One case of the matrix, run against a fresh world.
struct Case {
    who: Who,
    action: Action,
    status: ResponseStatus,
}

impl Case {
    fn label(&self) -> String {
        format!("{:?} {:?} on {}", self.who, self.action, self.status)
    }

    /// Runs the case; returns its outcome and every problem found in the details.
    async fn run(&self) -> (Outcome, Vec<String>) {
        let cso_author = UserId::new();
        let officer = UserId::new();
        let manager_author = UserId::new();
        let (actor, author) = match self.who {
            Who::Admin => (
                crate::permissions::actor(UserId::new(), Role::Admin),
                cso_author,
            ),
            Who::Manager => (
                crate::permissions::actor(UserId::new(), Role::Manager),
                cso_author,
            ),
            Who::CsoAuthor => (crate::permissions::actor(cso_author, Role::Cso), cso_author),
            Who::CsoOfficer => (crate::permissions::actor(officer, Role::Cso), cso_author),
            Who::CsoStranger => (
                crate::permissions::actor(UserId::new(), Role::Cso),
                cso_author,
            ),
            Who::ManagerAuthor => (
                crate::permissions::actor(manager_author, Role::Manager),
                manager_author,
            ),
            Who::Customer => (
                crate::permissions::actor(UserId::new(), Role::Customer),
                cso_author,
            ),
        };
        let customer = customer_assigned_to(Some(officer));
        let stored = response_in(self.status, author, customer.id);
        let id = stored.id();
        let writes = Writes::default();
        let service = service_serving(&stored, &customer, &writes);
        let revision = UpdateResponse {
            subject: None,
            content: Some(content("Dear Ada,\n\nyour order shipped this morning.")),
        };
        let approval_notes = notes("Good to go.");
        let rejection_notes = notes("Please apologise for the delay.");

        let result = match self.action {
            Action::Edit => {
                service
                    .update(&actor, id, Some(stored.version()), revision.clone())
                    .await
            }
            Action::Submit => service.submit(&actor, id).await,
            Action::Approve => {
                service
                    .approve(&actor, id, Some(approval_notes.clone()))
                    .await
            }
            Action::Reject => service.reject(&actor, id, rejection_notes.clone()).await,
            Action::MarkSent => service.mark_sent(id).await,
        };

        let log = writes.log.clone();
        let writes = writes.all();
        let mut problems = Vec::new();
        let outcome = match (&result, writes.as_slice()) {
            (Ok(returned), []) => {
                if *returned != stored {
                    problems.push("returned a changed response without writing it".to_owned());
                }
                if log.commits() != 0 || !log.events().is_empty() {
                    problems.push("committed or recorded without writing".to_owned());
                }
                Outcome::Unchanged
            }
            (Ok(returned), [write]) => {
                let expected_actor = (self.action != Action::MarkSent).then(|| actor.user_id());
                let expected_notes = match self.action {
                    Action::Approve => Some(approval_notes),
                    Action::Reject => Some(rejection_notes),
                    _ => None,
                };
                self.check_write(
                    write,
                    returned,
                    &stored,
                    expected_actor,
                    expected_notes.as_ref(),
                    &mut problems,
                );
                self.check_unit(&log, &stored, &mut problems);
                if self.action == Action::Edit
                    && write.response.content() != revision.content.as_ref().expect("set")
                {
                    problems.push("the revision was not applied".to_owned());
                }
                Outcome::Moved(write.response.status())
            }
            (Ok(_), many) => Outcome::Other(format!("{} writes", many.len())),
            (Err(e), writes) => {
                if !writes.is_empty() || log.commits() != 0 {
                    problems.push(format!("failed with {e:?} but wrote {writes:?}"));
                }
                match e {
                    ApprovalsError::NotFound(got) if *got == id => Outcome::NotFound,
                    ApprovalsError::Forbidden => Outcome::Forbidden,
                    ApprovalsError::NotAuthor => Outcome::NotAuthor,
                    ApprovalsError::SelfApproval => Outcome::SelfApproval,
                    ApprovalsError::InvalidTransition { from, .. } if *from == self.status => {
                        Outcome::InvalidTransition
                    }
                    other => Outcome::Other(format!("{other:?}")),
                }
            }
        };
        (outcome, problems)
    }

    fn check_write(
        &self,
        write: &Write,
        returned: &Response,
        stored: &Response,
        actor_id: Option<UserId>,
        notes: Option<&ReviewNotes>,
        problems: &mut Vec<String>,
    ) {
        let to = write.response.status();
        let method = "save";
        let mut check = |ok: bool, what: &str| {
            if !ok {
                problems.push(format!("{what}: {write:?}"));
            }
        };
        check(write.method == method, "wrong repository method");
        check(
            *returned == write.response,
            "returned something else than it saved",
        );
        check(write.response.id() == stored.id(), "saved another response");
        check(
            write.expected_version == Some(stored.version()),
            "guarded by the wrong version",
        );
        check(
            write.response.version() == stored.version() + 1,
            "version not bumped",
        );
        check(write.response.updated_at() == now(), "updated_at not now");
        check(
            write.event.response_id == stored.id(),
            "event for another response",
        );
        check(write.event.from == Some(self.status), "event `from`");
        check(write.event.to == to, "event `to`");
        check(write.event.actor_id == actor_id, "event actor");
        check(write.event.notes.as_ref() == notes, "event notes");
        check(write.event.at == now(), "event time");
    }

    /// One commit, with `ResponseApproved` for an approval, `ResponseSent` for a sent
    /// response, and no event otherwise.
    fn check_unit(&self, log: &UnitLog, stored: &Response, problems: &mut Vec<String>) {
        if log.commits() != 1 {
            problems.push(format!("{} commits", log.commits()));
        }
        let events = log.events();
        let ok = match (self.action, events.as_slice()) {
            (Action::Approve, [e]) => {
                e.decode::<ResponseApproved>()
                    == Ok(ResponseApproved {
                        response_id: stored.id(),
                    })
                    && e.occurred_at == now()
            }
            (Action::MarkSent, [e]) => {
                e.decode::<ResponseSent>()
                    == Ok(ResponseSent {
                        response_id: stored.id(),
                        enquiry_id: stored.enquiry_id(),
                    })
            }
            (Action::Approve | Action::MarkSent, _) => false,
            (_, events) => events.is_empty(),
        };
        if !ok {
            problems.push(format!("wrong events recorded: {events:?}"));
        }
    }
}

#[tokio::test]
async fn every_status_action_and_role_gets_the_outcome_the_rules_give() {
    let mut failures = String::new();
    let mut cases = 0;
    let mut successes = 0;
    for who in EVERYONE {
        for action in ACTIONS {
            for status in ResponseStatus::ALL {
                let case = Case {
                    who,
                    action,
                    status,
                };
                let expected = expected_outcome(who, action, status);
                let (actual, problems) = case.run().await;
                cases += 1;
                if matches!(actual, Outcome::Moved(_) | Outcome::Unchanged) {
                    successes += 1;
                }
                if actual != expected {
                    let _ = writeln!(
                        failures,
                        "{}: expected {expected:?}, got {actual:?}",
                        case.label()
                    );
                }
                for problem in problems {
                    let _ = writeln!(failures, "{}: {problem}", case.label());
                }
            }
        }
    }

    assert_eq!(cases, 7 * 5 * 5);
    assert!(failures.is_empty(), "\n{failures}");
    // Sanity check on the table itself: both authors may edit (DRAFT, REJECTED) and submit
    // (DRAFT), admin and manager may approve and reject (PENDING_APPROVAL), and mark_sent
    // succeeds on APPROVED and SENT whoever is named.
    assert_eq!(successes, 2 * 3 + 2 * 2 + 7 * 2);
}

// ---- focused: four eyes ---------------------------------------------------------------

#[tokio::test]
async fn a_manager_cannot_approve_their_own_response() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let customer = customer_assigned_to(None);
    let own = response_in(
        ResponseStatus::PendingApproval,
        manager.user_id(),
        customer.id,
    );
    let writes = Writes::default();
    let service = service_serving(&own, &customer, &writes);

    let result = service.approve(&manager, own.id(), None).await;

    assert!(matches!(result, Err(ApprovalsError::SelfApproval)));
    assert!(writes.all().is_empty());
    assert_eq!(writes.log.commits(), 0);
    assert!(writes.log.events().is_empty());
}

#[tokio::test]
async fn an_admin_cannot_reject_their_own_response() {
    let admin = crate::permissions::actor(UserId::new(), Role::Admin);
    let customer = customer_assigned_to(None);
    let own = response_in(
        ResponseStatus::PendingApproval,
        admin.user_id(),
        customer.id,
    );
    let writes = Writes::default();
    let service = service_serving(&own, &customer, &writes);

    let result = service.reject(&admin, own.id(), notes("Not good.")).await;

    assert!(matches!(result, Err(ApprovalsError::SelfApproval)));
    assert!(writes.all().is_empty());
}

#[tokio::test]
async fn a_rejection_cannot_be_made_without_notes_and_keeps_them() {
    // `reject` takes `ReviewNotes`, which cannot be empty: there is no way to call it
    // without notes.
    assert!(ReviewNotes::parse("   ").is_err());
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let customer = customer_assigned_to(None);
    let pending = response_in(ResponseStatus::PendingApproval, UserId::new(), customer.id);
    let writes = Writes::default();
    let service = service_serving(&pending, &customer, &writes);

    let rejected = service
        .reject(&manager, pending.id(), notes("  Say sorry first.  "))
        .await
        .expect("rejects");

    assert_eq!(rejected.status(), ResponseStatus::Rejected);
    assert_eq!(
        rejected.decision_notes().map(ReviewNotes::as_str),
        Some("Say sorry first.")
    );
    assert_eq!(rejected.decided_by(), Some(manager.user_id()));
    let [write] = writes.all().try_into().expect("one write");
    assert_eq!(write.event.notes, Some(notes("Say sorry first.")));
}

// ---- focused: races and stale versions ------------------------------------------------

#[tokio::test]
async fn when_two_managers_approve_at_once_exactly_one_wins() {
    let (first, second) = (
        crate::permissions::actor(UserId::new(), Role::Manager),
        crate::permissions::actor(UserId::new(), Role::Admin),
    );
    let customer = customer_assigned_to(None);
    let pending = response_in(ResponseStatus::PendingApproval, UserId::new(), customer.id);
    let taken = Arc::new(AtomicBool::new(false));
    let writes = Writes::default();
    let w = writes.clone();
    // The guarded UPDATE: the first writer at the expected version wins, the other finds
    // the version moved on.
    let uow = units_of_work(&writes.log, move || {
        let mut store = MockResponseStore::new();
        let (t, w) = (taken.clone(), w.clone());
        store
            .expect_save()
            .times(1)
            .returning(move |response, expected_version, event| {
                if t.swap(true, Ordering::SeqCst) {
                    return Err(ApprovalsError::Conflict);
                }
                w.push(Write {
                    method: "save",
                    response: response.clone(),
                    expected_version: Some(expected_version),
                    event: event.clone(),
                });
                Ok(())
            });
        (store, MockEnquiryAnswers::new())
    });
    let service = service_with(
        serving_repo(&pending),
        uow,
        MockEnquiryLookup::new(),
        customer_service(vec![customer]),
    );

    let (a, b) = tokio::join!(
        service.approve(&first, pending.id(), None),
        service.approve(&second, pending.id(), None),
    );

    let outcomes = [&a, &b];
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{a:?} {b:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|r| matches!(r, Err(ApprovalsError::Conflict)))
            .count(),
        1
    );
    assert_eq!(writes.all().len(), 1);
    assert_eq!(writes.log.commits(), 1, "only the winner commits");
    assert_eq!(writes.log.event_names(), ["approvals.response_approved"]);
}

#[tokio::test]
async fn a_conflict_from_the_repository_is_a_conflict() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let customer = customer_assigned_to(None);
    let pending = response_in(ResponseStatus::PendingApproval, UserId::new(), customer.id);
    let log = UnitLog::default();
    let uow = units_of_work(&log, || {
        let mut store = MockResponseStore::new();
        store
            .expect_save()
            .times(1)
            .returning(|_, _, _| Err(ApprovalsError::Conflict));
        (store, MockEnquiryAnswers::new())
    });
    let service = service_with(
        serving_repo(&pending),
        uow,
        MockEnquiryLookup::new(),
        customer_service(vec![customer]),
    );

    let result = service.reject(&manager, pending.id(), notes("No.")).await;

    assert!(matches!(result, Err(ApprovalsError::Conflict)));
    assert_eq!(log.commits(), 0);
}

#[tokio::test]
async fn revising_with_a_stale_version_is_a_conflict() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let customer = customer_assigned_to(Some(cso.user_id()));
    let draft = response_in(ResponseStatus::Draft, cso.user_id(), customer.id);
    let writes = Writes::default();
    let service = service_serving(&draft, &customer, &writes);
    let change = UpdateResponse {
        subject: Some(subject("New subject")),
        content: None,
    };

    let result = service
        .update(&cso, draft.id(), Some(draft.version() - 1), change)
        .await;

    assert!(matches!(result, Err(ApprovalsError::Conflict)));
    assert!(writes.all().is_empty());
}

#[tokio::test]
async fn revising_a_rejected_response_makes_it_a_draft_that_remembers_the_rejection() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let customer = customer_assigned_to(Some(cso.user_id()));
    let rejected = response_in(ResponseStatus::Rejected, cso.user_id(), customer.id);
    let writes = Writes::default();
    let service = service_serving(&rejected, &customer, &writes);
    let change = UpdateResponse {
        subject: Some(subject("About your order, again")),
        content: None,
    };

    let revised = service
        .update(&cso, rejected.id(), None, change)
        .await
        .expect("revises");

    assert_eq!(revised.status(), ResponseStatus::Draft);
    assert_eq!(revised.subject().as_str(), "About your order, again");
    assert_eq!(revised.content(), rejected.content());
    assert_eq!(revised.decision_notes(), rejected.decision_notes());
    let [write] = writes.all().try_into().expect("one write");
    assert_eq!(
        (write.event.from, write.event.to),
        (Some(ResponseStatus::Rejected), ResponseStatus::Draft)
    );
}

// ---- focused: visibility --------------------------------------------------------------

#[tokio::test]
async fn an_officer_cannot_see_another_officers_response_to_another_customer() {
    let (me, other) = (
        crate::permissions::actor(UserId::new(), Role::Cso),
        crate::permissions::actor(UserId::new(), Role::Cso),
    );
    let theirs_customer = customer_assigned_to(Some(other.user_id()));
    let theirs = response_in(
        ResponseStatus::PendingApproval,
        other.user_id(),
        theirs_customer.id,
    );
    let writes = Writes::default();
    let service = service_serving(&theirs, &theirs_customer, &writes);
    let id = theirs.id();

    let results = [
        service.get(&me, id).await.map(|_| ()),
        service.history(&me, id).await.map(|_| ()),
        service
            .update(&me, id, None, UpdateResponse::default())
            .await
            .map(|_| ()),
        service.submit(&me, id).await.map(|_| ()),
        service.approve(&me, id, None).await.map(|_| ()),
        service.reject(&me, id, notes("No.")).await.map(|_| ()),
    ];

    for (i, result) in results.into_iter().enumerate() {
        assert!(
            matches!(result, Err(ApprovalsError::NotFound(got)) if got == id),
            "call {i}: {result:?}"
        );
    }
    assert!(writes.all().is_empty());
}

#[tokio::test]
async fn an_officer_sees_a_colleagues_response_to_their_own_customer() {
    let officer = crate::permissions::actor(UserId::new(), Role::Cso);
    let customer = customer_assigned_to(Some(officer.user_id()));
    let colleagues = response_in(ResponseStatus::Draft, UserId::new(), customer.id);
    let service = service_serving(&colleagues, &customer, &Writes::default());

    let found = service
        .get(&officer, colleagues.id())
        .await
        .expect("visible");

    assert_eq!(found, colleagues);
}

#[tokio::test]
async fn an_author_still_sees_their_response_after_the_customer_moved_to_another_officer() {
    let author = crate::permissions::actor(UserId::new(), Role::Cso);
    let customer = customer_assigned_to(Some(UserId::new()));
    let own = response_in(ResponseStatus::Approved, author.user_id(), customer.id);
    let service = service_serving(&own, &customer, &Writes::default());

    let found = service.get(&author, own.id()).await.expect("visible");

    assert_eq!(found.id(), own.id());
}

#[tokio::test]
async fn a_missing_response_is_not_found_even_for_a_manager() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let customer = customer_assigned_to(None);
    let stored = response_in(ResponseStatus::Draft, UserId::new(), customer.id);
    let service = service_serving(&stored, &customer, &Writes::default());
    let missing = ResponseId::new();

    let result = service.get(&manager, missing).await;

    assert!(matches!(result, Err(ApprovalsError::NotFound(id)) if id == missing));
}

#[tokio::test]
async fn a_customer_account_is_forbidden_from_every_read_and_draft() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let mut repo = MockResponseRepository::new();
    repo.expect_find().never();
    repo.expect_list().never();
    repo.expect_history().never();
    let service = service_with(
        repo,
        no_uow(),
        MockEnquiryLookup::new(),
        customer_service(vec![]),
    );
    let id = ResponseId::new();

    let results = [
        service.get(&buyer, id).await.map(|_| ()),
        service.history(&buyer, id).await.map(|_| ()),
        service
            .list(&buyer, ResponseQuery::default(), PageRequest::default())
            .await
            .map(|_| ()),
        service
            .draft(&buyer, new_response(CustomerId::new(), None))
            .await
            .map(|_| ()),
    ];

    for (i, result) in results.into_iter().enumerate() {
        assert!(matches!(result, Err(ApprovalsError::Forbidden)), "call {i}");
    }
}

#[tokio::test]
async fn an_officer_lists_only_their_scope_whatever_the_client_asks() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let me = cso.user_id();
    let mut repo = MockResponseRepository::new();
    repo.expect_list()
        .withf(move |q, _| {
            q.visible_to == Some(me) && q.status == Some(ResponseStatus::PendingApproval)
        })
        .times(1)
        .returning(|_, request| {
            Ok(Page {
                items: vec![],
                total: 0,
                request,
            })
        });
    let service = service_with(
        repo,
        no_uow(),
        MockEnquiryLookup::new(),
        customer_service(vec![]),
    );
    let query = ResponseQuery {
        status: Some(ResponseStatus::PendingApproval),
        visible_to: Some(UserId::new()),
        ..ResponseQuery::default()
    };

    let result = service.list(&cso, query, PageRequest::default()).await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn managers_and_admins_list_every_response() {
    for role in [Role::Manager, Role::Admin] {
        let actor = crate::permissions::actor(UserId::new(), role);
        let mut repo = MockResponseRepository::new();
        repo.expect_list()
            .withf(|q, _| q.visible_to.is_none())
            .times(1)
            .returning(|_, request| {
                Ok(Page {
                    items: vec![],
                    total: 0,
                    request,
                })
            });
        let service = service_with(
            repo,
            no_uow(),
            MockEnquiryLookup::new(),
            customer_service(vec![]),
        );
        let query = ResponseQuery {
            visible_to: Some(actor.user_id()),
            ..ResponseQuery::default()
        };

        let result = service.list(&actor, query, PageRequest::default()).await;

        assert!(result.is_ok(), "{role}");
    }
}

#[tokio::test]
async fn the_history_of_a_visible_response_comes_from_the_repository() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let customer = customer_assigned_to(None);
    let author = UserId::new();
    let Transition {
        response, event, ..
    } = Response::draft(author, new_response(customer.id, None), created());
    let id = response.id();
    let mut repo = MockResponseRepository::new();
    let served = response.clone();
    repo.expect_find()
        .returning(move |_| Ok(Some(served.clone())));
    let events = vec![event];
    let expected = events.clone();
    repo.expect_history()
        .withf(move |wanted| *wanted == id)
        .times(1)
        .returning(move |_| Ok(events.clone()));
    let service = service_with(
        repo,
        no_uow(),
        MockEnquiryLookup::new(),
        customer_service(vec![customer]),
    );

    let history = service.history(&manager, id).await.expect("visible");

    assert_eq!(history, expected);
}

// ---- focused: the mail worker ---------------------------------------------------------

#[tokio::test]
async fn marking_a_sent_response_sent_again_changes_nothing() {
    let customer = customer_assigned_to(None);
    let sent = response_in(ResponseStatus::Sent, UserId::new(), customer.id);
    let writes = Writes::default();
    let service = service_serving(&sent, &customer, &writes);

    let first = service.mark_sent(sent.id()).await.expect("idempotent");
    let second = service.mark_sent(sent.id()).await.expect("idempotent");

    assert_eq!(first, sent);
    assert_eq!(second, sent);
    assert!(writes.all().is_empty());
    assert_eq!(writes.log.commits(), 0);
}

fn approved_answering(enquiry: Option<EnquiryId>, customer: CustomerId) -> Response {
    let author = UserId::new();
    let at = created();
    let draft = Response::draft(author, new_response(customer, enquiry), at).response;
    let pending = draft.submit(author, at).expect("submits").response;
    pending
        .approve(UserId::new(), None, at)
        .expect("approves")
        .response
}

#[tokio::test]
async fn sending_a_response_answers_its_enquiry_and_records_that_it_was_sent_in_one_unit() {
    let customer = customer_assigned_to(None);
    let enquiry = EnquiryId::new();
    let approved = approved_answering(Some(enquiry), customer.id);
    let writes = Writes::default();
    let service = service_serving(&approved, &customer, &writes);

    let sent = service.mark_sent(approved.id()).await.expect("sends");

    assert_eq!(sent.status(), ResponseStatus::Sent);
    let [write] = writes.all().try_into().expect("one write");
    assert_eq!(write.response, sent);
    assert_eq!(write.expected_version, Some(approved.version()));
    assert_eq!(writes.answered(), [enquiry]);
    assert_eq!(writes.log.commits(), 1);
    let [event] = writes.log.events().try_into().expect("one event");
    assert_eq!(
        event.decode::<ResponseSent>(),
        Ok(ResponseSent {
            response_id: approved.id(),
            enquiry_id: Some(enquiry),
        })
    );
}

#[tokio::test]
async fn sending_a_response_without_an_enquiry_touches_no_enquiry() {
    let customer = customer_assigned_to(None);
    let approved = approved_answering(None, customer.id);
    let log = UnitLog::default();
    let uow = units_of_work(&log, || {
        let mut store = MockResponseStore::new();
        store.expect_save().times(1).returning(|_, _, _| Ok(()));
        let mut enquiries = MockEnquiryAnswers::new();
        enquiries.expect_mark_answered().never();
        (store, enquiries)
    });
    let service = service_with(
        serving_repo(&approved),
        uow,
        MockEnquiryLookup::new(),
        customer_service(vec![customer]),
    );

    service.mark_sent(approved.id()).await.expect("sends");

    assert_eq!(log.commits(), 1);
    assert_eq!(log.event_names(), ["approvals.response_sent"]);
}

#[tokio::test]
async fn when_the_enquiry_cannot_be_answered_the_response_is_not_sent_either() {
    let customer = customer_assigned_to(None);
    let approved = approved_answering(Some(EnquiryId::new()), customer.id);
    let log = UnitLog::default();
    let uow = units_of_work(&log, || {
        let mut store = MockResponseStore::new();
        store.expect_save().times(1).returning(|_, _, _| Ok(()));
        let mut enquiries = MockEnquiryAnswers::new();
        enquiries
            .expect_mark_answered()
            .times(1)
            .returning(|_, _| Err(Unexpected::msg("database gone").into()));
        (store, enquiries)
    });
    let service = service_with(
        serving_repo(&approved),
        uow,
        MockEnquiryLookup::new(),
        customer_service(vec![customer]),
    );

    let result = service.mark_sent(approved.id()).await;

    assert!(matches!(result, Err(ApprovalsError::Unexpected(_))));
    assert_eq!(
        log.commits(),
        0,
        "the unit of work is dropped, not committed"
    );
    assert!(log.events().is_empty());
}

#[tokio::test]
async fn a_worker_that_lost_the_race_to_mark_a_response_sent_still_succeeds() {
    let customer = customer_assigned_to(None);
    let approved = response_in(ResponseStatus::Approved, UserId::new(), customer.id);
    let sent_meanwhile = approved
        .mark_sent(created())
        .expect("approved can be sent")
        .response;
    let (before, after) = (approved.clone(), sent_meanwhile.clone());
    let read_once = Arc::new(AtomicBool::new(false));
    let mut repo = MockResponseRepository::new();
    repo.expect_find().times(2).returning(move |_| {
        if read_once.swap(true, Ordering::SeqCst) {
            Ok(Some(after.clone()))
        } else {
            Ok(Some(before.clone()))
        }
    });
    let log = UnitLog::default();
    let uow = units_of_work(&log, || {
        let mut store = MockResponseStore::new();
        store
            .expect_save()
            .times(1)
            .returning(|_, _, _| Err(ApprovalsError::Conflict));
        (store, MockEnquiryAnswers::new())
    });
    let service = service_with(
        repo,
        uow,
        MockEnquiryLookup::new(),
        customer_service(vec![]),
    );

    let result = service
        .mark_sent(approved.id())
        .await
        .expect("already sent");

    assert_eq!(result, sent_meanwhile);
    assert_eq!(log.commits(), 0);
}

#[tokio::test]
async fn the_worker_loads_any_response_and_a_missing_one_is_not_found() {
    let customer = customer_assigned_to(None);
    let approved = response_in(ResponseStatus::Approved, UserId::new(), customer.id);
    let service = service_serving(&approved, &customer, &Writes::default());
    let missing = ResponseId::new();

    let found = service.for_sending(approved.id()).await.expect("found");
    let result = service.for_sending(missing).await;

    assert_eq!(found, approved);
    assert!(matches!(result, Err(ApprovalsError::NotFound(id)) if id == missing));
}

// ---- focused: drafting ----------------------------------------------------------------

/// A service for drafting: an empty response store recording inserts, a CRM holding
/// `customers`, and enquiries belonging to the given customers.
fn drafting_service(
    customers: Vec<Customer>,
    enquiries: Vec<(EnquiryId, CustomerId)>,
    writes: &Writes,
) -> ApprovalService {
    let mut lookup = MockEnquiryLookup::new();
    lookup
        .expect_customer_of()
        .returning(move |id| Ok(enquiries.iter().find(|(e, _)| *e == id).map(|(_, c)| *c)));
    service_with(
        MockResponseRepository::new(),
        recording_uow(writes),
        lookup,
        customer_service(customers),
    )
}

#[tokio::test]
async fn an_officer_drafts_a_response_to_their_customers_enquiry() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let customer = customer_assigned_to(Some(cso.user_id()));
    let enquiry = EnquiryId::new();
    let writes = Writes::default();
    let service = drafting_service(
        vec![customer.clone()],
        vec![(enquiry, customer.id)],
        &writes,
    );

    let drafted = service
        .draft(&cso, new_response(customer.id, Some(enquiry)))
        .await
        .expect("drafts");

    assert_eq!(drafted.status(), ResponseStatus::Draft);
    assert_eq!(drafted.version(), 1);
    assert_eq!(drafted.author_id(), cso.user_id());
    assert_eq!(drafted.enquiry_id(), Some(enquiry));
    assert_eq!(drafted.created_at(), now());
    let [write] = writes.all().try_into().expect("one write");
    assert_eq!(write.method, "insert");
    assert_eq!(write.response, drafted);
    assert_eq!(write.event.from, None);
    assert_eq!(write.event.to, ResponseStatus::Draft);
    assert_eq!(write.event.actor_id, Some(cso.user_id()));
    assert_eq!(writes.log.commits(), 1);
    assert!(
        writes.log.events().is_empty(),
        "a draft is followed by nothing"
    );
}

#[tokio::test]
async fn drafting_for_a_customer_the_officer_cannot_see_is_customer_not_found() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let someone_elses = customer_assigned_to(Some(UserId::new()));
    let missing = CustomerId::new();
    let writes = Writes::default();
    let service = drafting_service(vec![someone_elses.clone()], vec![], &writes);

    for customer_id in [someone_elses.id, missing] {
        let result = service.draft(&cso, new_response(customer_id, None)).await;

        assert!(
            matches!(result, Err(ApprovalsError::CustomerNotFound(id)) if id == customer_id),
            "{result:?}"
        );
    }
    assert!(writes.all().is_empty());
}

#[tokio::test]
async fn drafting_an_answer_to_another_customers_enquiry_is_a_mismatch() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let (mine, other) = (customer_assigned_to(None), customer_assigned_to(None));
    let (others_enquiry, unknown_enquiry) = (EnquiryId::new(), EnquiryId::new());
    let writes = Writes::default();
    let service = drafting_service(
        vec![mine.clone(), other.clone()],
        vec![(others_enquiry, other.id)],
        &writes,
    );

    for enquiry in [others_enquiry, unknown_enquiry] {
        let result = service
            .draft(&manager, new_response(mine.id, Some(enquiry)))
            .await;

        assert!(
            matches!(result, Err(ApprovalsError::EnquiryMismatch)),
            "{result:?}"
        );
    }
    assert!(writes.all().is_empty());
}

#[tokio::test]
async fn a_crm_failure_while_checking_the_customer_is_unexpected() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let mut customers = MockCustomerRepository::new();
    customers
        .expect_find()
        .returning(|_| Err(Unexpected::msg("database gone").into()));
    let crm = Arc::new(CustomerService::new(
        Arc::new(customers),
        Arc::new(MockStaffDirectory::new()),
        Arc::new(FixedClock::default()),
    ));
    let service = service_with(
        MockResponseRepository::new(),
        no_uow(),
        MockEnquiryLookup::new(),
        crm,
    );

    let result = service
        .draft(&manager, new_response(CustomerId::new(), None))
        .await;

    assert!(matches!(result, Err(ApprovalsError::Unexpected(_))));
}
