//! Approval deadlines on every backend: a submission's deadline round-trips, the sweep
//! finds exactly the pending responses whose stage came (at a time the test chooses), each
//! stage is marked once (also when two workers race, on PostgreSQL), a new submission starts
//! afresh, and the staff directory lists active users by role.

mod common;

use common::{at, customer};
use nexus_approvals::{
    ApprovalsUnitOfWork, Deadline, DeadlineStage, NewResponse, Response, ResponseContent,
    ResponseRepository, ResponseSubject, ReviewNotes, StaffContacts, Transition,
};
use nexus_customers::{Customer, CustomerRepository};
use nexus_identity::UserRepository;
use nexus_kernel::{Role, UserId};
use nexus_sea_approvals::{SeaApprovalsUnitOfWork, SeaResponseRepository, SeaStaffContacts};
use nexus_sea_crm::SeaCustomerRepository;
use nexus_sea_support::DatabaseConnection;

struct Cast {
    author: UserId,
    reviewer: UserId,
    customer: Customer,
}

async fn cast(db: &DatabaseConnection) -> Cast {
    let author = common::staff(db, Role::Cso).await;
    let reviewer = common::staff(db, Role::Manager).await;
    let c = customer(
        &format!("{}@example.com", uuid::Uuid::now_v7().simple()),
        reviewer,
        0,
    );
    SeaCustomerRepository::new(db.clone())
        .insert(&c, &[])
        .await
        .expect("insert customer");
    Cast {
        author,
        reviewer,
        customer: c,
    }
}

/// Due `due` seconds after `at(0)`, warned when an eighth of that is left.
fn deadline(due: i64) -> Deadline {
    Deadline {
        warn_at: at(due - due / 8),
        due_at: at(due),
    }
}

/// `t` with its response given `deadline`, as the service does on submission.
fn with_deadline(t: Transition, deadline: Deadline) -> Transition {
    let mut parts = t.response.into_parts();
    parts.deadline = Some(deadline);
    Transition {
        response: Response::from_parts(parts).expect("a consistent response"),
        event: t.event,
    }
}

/// A response submitted at `at(0)` with `deadline`, stored through units of work.
async fn submitted(uow: &SeaApprovalsUnitOfWork, c: &Cast, deadline: Deadline) -> Response {
    let draft = Response::draft(
        c.author,
        NewResponse {
            customer_id: c.customer.id,
            enquiry_id: None,
            subject: ResponseSubject::parse("About your question").expect("subject"),
            content: ResponseContent::parse("Dear Pat,\nhere is the answer.").expect("content"),
        },
        at(-10),
    );
    let tx = uow.begin().await.expect("begin");
    tx.responses()
        .insert(&draft.response, &draft.event)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    let t = with_deadline(
        draft.response.submit(c.author, at(0)).expect("submits"),
        deadline,
    );
    save(uow, &t).await;
    t.response
}

async fn save(uow: &SeaApprovalsUnitOfWork, t: &Transition) {
    let tx = uow.begin().await.expect("begin");
    tx.responses()
        .save(&t.response, t.response.version() - 1, &t.event)
        .await
        .expect("save");
    tx.commit().await.expect("commit");
}

async fn due_ids(
    uow: &SeaApprovalsUnitOfWork,
    stage: DeadlineStage,
    now_secs: i64,
) -> Vec<nexus_approvals::ResponseId> {
    let tx = uow.begin().await.expect("begin");
    let due = tx
        .responses()
        .due(stage, at(now_secs), 100)
        .await
        .expect("due");
    due.into_iter().map(|d| d.response_id).collect()
}

async fn mark(
    uow: &SeaApprovalsUnitOfWork,
    id: nexus_approvals::ResponseId,
    stage: DeadlineStage,
    now_secs: i64,
) -> bool {
    let tx = uow.begin().await.expect("begin");
    let marked = tx
        .responses()
        .mark_stage(id, stage, at(now_secs))
        .await
        .expect("mark");
    tx.commit().await.expect("commit");
    marked
}

#[tokio::test]
async fn a_deadline_round_trips_and_each_stage_comes_once_at_its_time() {
    for t in common::backends().await {
        let uow = common::units_of_work(&t.db);
        let reads = SeaResponseRepository::new(t.db.clone());
        let c = cast(&t.db).await;
        let hours = |h: i64| h * 3600;
        let soon = submitted(&uow, &c, deadline(hours(8))).await;
        let later = submitted(&uow, &c, deadline(hours(48))).await;

        let stored = reads.find(soon.id()).await.expect("find").expect("stored");
        assert_eq!(stored.deadline(), Some(deadline(hours(8))), "{}", t.backend);
        assert_eq!(stored, soon, "{}", t.backend);

        // Before the warning time: nothing; at it: the first only, earliest first.
        let warn = DeadlineStage::Warning;
        let escalate = DeadlineStage::Escalation;
        assert!(
            due_ids(&uow, warn, hours(6)).await.is_empty(),
            "{}",
            t.backend
        );
        assert_eq!(due_ids(&uow, warn, hours(7)).await, [soon.id()]);
        assert!(due_ids(&uow, escalate, hours(7)).await.is_empty());

        assert!(mark(&uow, soon.id(), warn, hours(7)).await, "{}", t.backend);
        assert!(!mark(&uow, soon.id(), warn, hours(7)).await, "marked once");
        assert!(due_ids(&uow, warn, hours(7)).await.is_empty());

        // Past the deadline: escalation, once; never a warning any more.
        assert_eq!(due_ids(&uow, escalate, hours(8)).await, [soon.id()]);
        assert!(due_ids(&uow, warn, hours(8)).await.is_empty());
        assert!(mark(&uow, soon.id(), escalate, hours(8)).await);
        assert!(!mark(&uow, soon.id(), escalate, hours(9)).await);
        assert!(due_ids(&uow, escalate, hours(100)).await == [later.id()]);

        // The marks never move the version: a reviewer's guarded write still wins.
        let after = reads.find(soon.id()).await.expect("find").expect("stored");
        assert_eq!(after.version(), soon.version(), "{}", t.backend);
    }
}

#[tokio::test]
async fn decided_responses_are_never_due_and_a_new_submission_starts_afresh() {
    for t in common::backends().await {
        let uow = common::units_of_work(&t.db);
        let c = cast(&t.db).await;
        let first = submitted(&uow, &c, deadline(100)).await;
        assert!(mark(&uow, first.id(), DeadlineStage::Escalation, 100).await);

        // Rejected: out of every sweep, and marks cannot be set.
        let rejected = first
            .reject(
                c.reviewer,
                ReviewNotes::parse("Say hello.").expect("notes"),
                at(110),
            )
            .expect("rejects");
        save(&uow, &rejected).await;
        assert!(
            due_ids(&uow, DeadlineStage::Escalation, 1000)
                .await
                .is_empty()
        );
        assert!(!mark(&uow, first.id(), DeadlineStage::Warning, 1000).await);

        // Revised and submitted again with a new deadline: both stages come again.
        let revised = rejected
            .response
            .edit(
                c.author,
                nexus_approvals::UpdateResponse::default(),
                at(120),
            )
            .expect("edits");
        save(&uow, &revised).await;
        let again = with_deadline(
            revised.response.submit(c.author, at(130)).expect("submits"),
            deadline(5000),
        );
        save(&uow, &again).await;
        assert_eq!(
            due_ids(&uow, DeadlineStage::Warning, 4500).await,
            [first.id()],
            "{}",
            t.backend
        );
        assert_eq!(
            due_ids(&uow, DeadlineStage::Escalation, 5000).await,
            [first.id()],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn two_workers_marking_one_response_mark_it_once() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let uow = common::units_of_work(&t.db);
    let c = cast(&t.db).await;
    for round in 0..5 {
        let r = submitted(&uow, &c, deadline(100)).await;
        // Each worker holds its transaction open a moment after marking, so the other's
        // guarded write waits for its commit and then finds the mark set.
        let race = || async {
            let tx = uow.begin().await.expect("begin");
            let marked = tx
                .responses()
                .mark_stage(r.id(), DeadlineStage::Escalation, at(200))
                .await
                .expect("mark");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            tx.commit().await.expect("commit");
            marked
        };
        let (a, b) = tokio::join!(race(), race());
        assert!(a ^ b, "round {round}: exactly one worker marks ({a}, {b})");
    }
}

#[tokio::test]
async fn the_staff_directory_lists_active_users_of_the_roles_asked() {
    for t in common::backends().await {
        let users = nexus_sea_identity::SeaUserRepository::new(t.db.clone());
        let mut inactive = common::user("zed-admin@staff.example.com", Role::Admin, 0);
        inactive.is_active = false;
        users.insert(&inactive).await.expect("insert");
        for (address, role) in [
            ("b-manager@staff.example.com", Role::Manager),
            ("a-admin@staff.example.com", Role::Admin),
            ("c-cso@staff.example.com", Role::Cso),
        ] {
            users
                .insert(&common::user(address, role, 0))
                .await
                .expect("insert");
        }
        let directory = SeaStaffContacts::new(t.db.clone());
        let found = directory
            .active_with_roles(&[Role::Admin, Role::Manager])
            .await
            .expect("lists");
        let emails: Vec<&str> = found.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(
            emails,
            ["a-admin@staff.example.com", "b-manager@staff.example.com"],
            "{}",
            t.backend
        );
        assert_eq!(found[0].first_name, "Test");
        assert!(
            directory
                .active_with_roles(&[])
                .await
                .expect("lists")
                .is_empty()
        );
    }
}
