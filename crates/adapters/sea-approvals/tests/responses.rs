//! `SeaResponseRepository` and `SeaApprovalsUnitOfWork` on every backend: each unit of
//! work is one transaction (response, history entry, enquiry, outbox events and their
//! deliveries), guarded by the version; history; scoped lists.

mod common;

use common::{at, customer, enquiry};
use nexus_approvals::ResponseId;
use nexus_approvals::{
    ApprovalsError, ApprovalsUnitOfWork, NewResponse, Response, ResponseApproved, ResponseContent,
    ResponseEvent, ResponseQuery, ResponseRepository, ResponseStatus, ResponseSubject, ReviewNotes,
    Transition, UpdateResponse,
};
use nexus_customers::EnquiryId;
use nexus_customers::{Customer, CustomerRepository, EnquiryRepository, EnquiryStatus};
use nexus_kernel::{Page, PageRequest, Role, UserId};
use nexus_outbox::EventEnvelope;
use nexus_sea_approvals::entities::response as response_row;
use nexus_sea_approvals::{SeaApprovalsUnitOfWork, SeaResponseRepository};
use nexus_sea_crm::{SeaCustomerRepository, SeaEnquiryRepository};
use nexus_sea_support::DatabaseConnection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// An author, a reviewer, and a customer assigned to the author.
struct Cast {
    author: UserId,
    reviewer: UserId,
    customer: Customer,
}

async fn cast(db: &DatabaseConnection) -> Cast {
    let author = common::staff(db, Role::Cso).await;
    let reviewer = common::staff(db, Role::Manager).await;
    let customer = assigned_customer(db, "pat@example.com", Some(author)).await;
    Cast {
        author,
        reviewer,
        customer,
    }
}

async fn assigned_customer(
    db: &DatabaseConnection,
    address: &str,
    officer: Option<UserId>,
) -> Customer {
    let creator = common::staff(db, Role::Manager).await;
    let mut c = customer(address, creator, 0);
    c.assigned_to = officer;
    SeaCustomerRepository::new(db.clone())
        .insert(&c, &[])
        .await
        .expect("insert customer");
    c
}

fn draft(
    author: UserId,
    customer: &Customer,
    enquiry: Option<EnquiryId>,
    created: i64,
) -> Transition {
    Response::draft(
        author,
        NewResponse {
            customer_id: customer.id,
            enquiry_id: enquiry,
            subject: ResponseSubject::parse("About your question").expect("subject"),
            content: ResponseContent::parse("Dear Pat,\nhere is the answer.").expect("content"),
        },
        at(created),
    )
}

fn notes(text: &str) -> ReviewNotes {
    ReviewNotes::parse(text).expect("notes")
}

fn step(result: Result<Transition, ApprovalsError>) -> Transition {
    result.expect("a valid transition")
}

/// The pool repository for reads and units of work for writes, used as the service uses
/// them: every write below is one unit of work of its own.
struct Responses {
    reads: SeaResponseRepository,
    uow: SeaApprovalsUnitOfWork,
}

impl std::ops::Deref for Responses {
    type Target = SeaResponseRepository;

    fn deref(&self) -> &SeaResponseRepository {
        &self.reads
    }
}

impl Responses {
    fn new(db: &DatabaseConnection) -> Self {
        Self {
            reads: SeaResponseRepository::new(db.clone()),
            uow: common::units_of_work(db),
        }
    }

    async fn insert(
        &self,
        response: &Response,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError> {
        let tx = self.uow.begin().await?;
        tx.responses().insert(response, event).await?;
        tx.commit().await
    }

    /// Saves a transition, recording `ResponseApproved` for an approval (as the service
    /// does).
    async fn save(
        &self,
        response: &Response,
        expected_version: i64,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError> {
        let mut tx = self.uow.begin().await?;
        tx.responses()
            .save(response, expected_version, event)
            .await?;
        if response.status() == ResponseStatus::Approved {
            let approved = ResponseApproved {
                response_id: response.id(),
            };
            tx.record(EventEnvelope::new(&approved, event.at).expect("encodes"));
        }
        tx.commit().await
    }

    /// Saves the transition to SENT and answers the response's enquiry in one unit.
    async fn mark_sent(
        &self,
        response: &Response,
        expected_version: i64,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError> {
        let tx = self.uow.begin().await?;
        tx.responses()
            .save(response, expected_version, event)
            .await?;
        if let Some(enquiry) = response.enquiry_id() {
            tx.enquiries().mark_answered(enquiry, event.at).await?;
        }
        tx.commit().await
    }
}

/// Inserts a draft created at `at(created)`.
async fn inserted(repo: &Responses, t: Transition) -> Response {
    repo.insert(&t.response, &t.event).await.expect("insert");
    t.response
}

/// Applies `t` with `save`, expecting the version it came from.
async fn save(repo: &Responses, t: &Transition) -> Result<(), ApprovalsError> {
    repo.save(&t.response, t.response.version() - 1, &t.event)
        .await
}

/// Takes a draft through submission and approval; returns the approved response.
async fn approved(repo: &Responses, c: &Cast, draft_t: Transition) -> Response {
    let draft = inserted(repo, draft_t).await;
    let submitted = step(draft.submit(c.author, at(10)));
    save(repo, &submitted).await.expect("submit");
    let approval = step(submitted.response.approve(c.reviewer, None, at(20)));
    save(repo, &approval).await.expect("approve");
    approval.response
}

fn ids(page: &Page<Response>) -> Vec<ResponseId> {
    page.items.iter().map(Response::id).collect()
}

#[tokio::test]
async fn a_draft_round_trips_with_its_creation_event() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let created = draft(c.author, &c.customer, None, 0);

        repo.insert(&created.response, &created.event)
            .await
            .expect("insert");

        assert_eq!(
            repo.find(created.response.id()).await.expect("find"),
            Some(created.response.clone()),
            "{}",
            t.backend
        );
        assert_eq!(
            repo.history(created.response.id()).await.expect("history"),
            std::slice::from_ref(&created.event)
        );
        assert_eq!(repo.find(ResponseId::new()).await.expect("find"), None);
        assert!(
            repo.history(ResponseId::new())
                .await
                .expect("history")
                .is_empty()
        );
        let again = repo.insert(&created.response, &created.event).await;
        assert!(
            matches!(again, Err(ApprovalsError::Conflict)),
            "{}: {again:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn every_workflow_field_survives_storage_and_history_is_oldest_first() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let first = draft(c.author, &c.customer, None, 0);
        let mut events = vec![first.event.clone()];
        let mut current = inserted(&repo, first).await;
        let transitions: [&dyn Fn(&Response) -> Transition; 6] = [
            &|r| step(r.submit(c.author, at(10))),
            &|r| step(r.reject(c.reviewer, notes("Too curt.\nSay hello."), at(20))),
            &|r| {
                step(r.edit(
                    c.author,
                    UpdateResponse {
                        content: Some(ResponseContent::parse("Hello Pat!").expect("content")),
                        subject: None,
                    },
                    at(30),
                ))
            },
            &|r| step(r.submit(c.author, at(40))),
            &|r| step(r.approve(c.reviewer, Some(notes("Fine.")), at(50))),
            &|r| step(r.mark_sent(at(60))),
        ];

        for transition in transitions {
            let next = transition(&current);
            if next.response.status() == ResponseStatus::Sent {
                repo.mark_sent(&next.response, current.version(), &next.event)
                    .await
                    .expect("mark sent");
            } else {
                save(&repo, &next).await.expect("save");
            }
            assert_eq!(
                repo.find(current.id()).await.expect("find").as_ref(),
                Some(&next.response),
                "{}: {}",
                t.backend,
                next.response.status()
            );
            events.push(next.event);
            current = next.response;
        }

        let history = repo.history(current.id()).await.expect("history");
        assert_eq!(history, events, "{}", t.backend);
        let statuses: Vec<_> = history.iter().map(|e| (e.from, e.to)).collect();
        use ResponseStatus as S;
        assert_eq!(
            statuses,
            [
                (None, S::Draft),
                (Some(S::Draft), S::PendingApproval),
                (Some(S::PendingApproval), S::Rejected),
                (Some(S::Rejected), S::Draft),
                (Some(S::Draft), S::PendingApproval),
                (Some(S::PendingApproval), S::Approved),
                (Some(S::Approved), S::Sent),
            ]
        );
    }
}

#[tokio::test]
async fn events_of_the_same_instant_keep_the_order_they_were_made_in() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let created = draft(c.author, &c.customer, None, 0);
        let first_event = created.event.clone();
        let response = inserted(&repo, created).await;
        let submitted = step(response.submit(c.author, at(0)));
        save(&repo, &submitted).await.expect("submit");
        let rejected = step(submitted.response.reject(c.reviewer, notes("No."), at(0)));
        save(&repo, &rejected).await.expect("reject");

        let history = repo.history(response.id()).await.expect("history");

        assert_eq!(
            history,
            [first_event, submitted.event, rejected.event],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_save_with_a_stale_version_conflicts_and_writes_nothing() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let response = inserted(&repo, draft(c.author, &c.customer, None, 0)).await;
        let submitted = step(response.submit(c.author, at(10)));
        save(&repo, &submitted).await.expect("submit");
        let approval = step(submitted.response.approve(c.reviewer, None, at(20)));

        // Expecting version 1 although version 2 is stored.
        let stale = repo.save(&approval.response, 1, &approval.event).await;
        let gone = step(
            draft(c.author, &c.customer, None, 0)
                .response
                .submit(c.author, at(1)),
        );
        let missing = save(&repo, &gone).await;

        assert!(
            matches!(stale, Err(ApprovalsError::Conflict)),
            "{}: {stale:?}",
            t.backend
        );
        assert!(matches!(missing, Err(ApprovalsError::Conflict)));
        assert_eq!(
            repo.find(response.id()).await.expect("find"),
            Some(submitted.response.clone()),
            "{}",
            t.backend
        );
        assert_eq!(
            repo.history(response.id()).await.expect("history").len(),
            2,
            "{}: no event",
            t.backend
        );
        assert_eq!(common::outbox_counts(&t.db).await, (0, 0), "{}", t.backend);
    }
}

#[tokio::test]
async fn a_committed_approval_writes_the_response_its_event_and_one_delivery() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let response = inserted(&repo, draft(c.author, &c.customer, None, 0)).await;
        let submitted = step(response.submit(c.author, at(10)));
        save(&repo, &submitted).await.expect("submit");
        let approval = step(submitted.response.approve(c.reviewer, None, at(20)));

        save(&repo, &approval).await.expect("approve");

        assert_eq!(
            repo.find(response.id()).await.expect("find"),
            Some(approval.response.clone()),
            "{}",
            t.backend
        );
        assert_eq!(common::outbox_counts(&t.db).await, (1, 1), "{}", t.backend);
        assert_eq!(
            common::delivery_subscribers(&t.db).await,
            ["send_response"],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_unit_of_work_dropped_without_commit_writes_nothing() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let enquiries = SeaEnquiryRepository::new(t.db.clone());
        let c = cast(&t.db).await;
        let open = enquiry(&c.customer, "Open question", 0);
        enquiries.insert(&open).await.expect("insert enquiry");
        let response = inserted(&repo, draft(c.author, &c.customer, Some(open.id), 0)).await;
        let submitted = step(response.submit(c.author, at(10)));

        {
            let mut tx = repo.uow.begin().await.expect("begin");
            tx.responses()
                .save(&submitted.response, 1, &submitted.event)
                .await
                .expect("save");
            assert!(
                tx.enquiries()
                    .mark_answered(open.id, at(10))
                    .await
                    .expect("answer")
            );
            let approved = ResponseApproved {
                response_id: response.id(),
            };
            tx.record(EventEnvelope::new(&approved, at(10)).expect("encodes"));
        }

        assert_eq!(
            repo.find(response.id()).await.expect("find"),
            Some(response.clone()),
            "{}",
            t.backend
        );
        assert_eq!(repo.history(response.id()).await.expect("history").len(), 1);
        assert_eq!(
            enquiries.find(open.id).await.expect("find"),
            Some(open.clone()),
            "{}",
            t.backend
        );
        assert_eq!(common::outbox_counts(&t.db).await, (0, 0), "{}", t.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_decisions_on_the_same_version_let_exactly_one_through() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let other_reviewer = common::staff(&t.db, Role::Admin).await;
        let response = inserted(&repo, draft(c.author, &c.customer, None, 0)).await;
        let submitted = step(response.submit(c.author, at(10)));
        save(&repo, &submitted).await.expect("submit");
        let pending = submitted.response;
        let approval = step(pending.approve(c.reviewer, None, at(20)));
        let rejection = step(pending.reject(other_reviewer, notes("No."), at(20)));

        let (approved, rejected) = tokio::join!(save(&repo, &approval), save(&repo, &rejection));

        let outcomes = [&approved, &rejected];
        let wins = outcomes.iter().filter(|r| r.is_ok()).count();
        let conflicts = outcomes
            .iter()
            .filter(|r| matches!(r, Err(ApprovalsError::Conflict)))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "{}: {outcomes:?}", t.backend);
        let (winner, events) = if approved.is_ok() {
            (&approval, 1)
        } else {
            (&rejection, 0)
        };
        assert_eq!(
            repo.find(pending.id()).await.expect("find").as_ref(),
            Some(&winner.response),
            "{}",
            t.backend
        );
        let history = repo.history(pending.id()).await.expect("history");
        assert_eq!(history.len(), 3, "{}: one decision event", t.backend);
        assert_eq!(history.last(), Some(&winner.event));
        assert_eq!(
            common::outbox_counts(&t.db).await,
            (events, events),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn marking_sent_answers_the_enquiry_only_when_it_is_open() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let enquiries = SeaEnquiryRepository::new(t.db.clone());
        let c = cast(&t.db).await;
        let open = enquiry(&c.customer, "Open question", 0);
        let mut closed = enquiry(&c.customer, "Closed question", 0);
        closed.status = EnquiryStatus::Closed;
        for e in [&open, &closed] {
            enquiries.insert(e).await.expect("insert enquiry");
        }
        let to_open = approved(&repo, &c, draft(c.author, &c.customer, Some(open.id), 0)).await;
        let to_closed = approved(&repo, &c, draft(c.author, &c.customer, Some(closed.id), 0)).await;
        let no_enquiry = approved(&repo, &c, draft(c.author, &c.customer, None, 0)).await;

        for response in [&to_open, &to_closed, &no_enquiry] {
            let sent = step(response.mark_sent(at(30)));
            repo.mark_sent(&sent.response, response.version(), &sent.event)
                .await
                .expect("mark sent");
            assert_eq!(
                repo.find(response.id())
                    .await
                    .expect("find")
                    .map(|r| r.status()),
                Some(ResponseStatus::Sent)
            );
        }

        let answered = enquiries
            .find(open.id)
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(answered.status, EnquiryStatus::Answered, "{}", t.backend);
        assert_eq!(answered.version, 2, "{}: the version moves", t.backend);
        assert_eq!(answered.updated_at, at(30));
        assert_eq!(
            enquiries.find(closed.id).await.expect("find"),
            Some(closed.clone()),
            "{}: a closed enquiry is left alone",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_stale_mark_sent_changes_neither_the_response_nor_the_enquiry() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let enquiries = SeaEnquiryRepository::new(t.db.clone());
        let c = cast(&t.db).await;
        let open = enquiry(&c.customer, "Open question", 0);
        enquiries.insert(&open).await.expect("insert enquiry");
        let response = approved(&repo, &c, draft(c.author, &c.customer, Some(open.id), 0)).await;
        let sent = step(response.mark_sent(at(30)));

        let result = repo
            .mark_sent(&sent.response, response.version() - 1, &sent.event)
            .await;

        assert!(
            matches!(result, Err(ApprovalsError::Conflict)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(
            repo.find(response.id()).await.expect("find"),
            Some(response.clone())
        );
        assert_eq!(
            enquiries.find(open.id).await.expect("find"),
            Some(open.clone()),
            "{}",
            t.backend
        );
        assert_eq!(repo.history(response.id()).await.expect("history").len(), 3);
    }
}

#[tokio::test]
async fn an_officer_sees_what_they_wrote_and_what_their_customers_received() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let officer_a = common::staff(&t.db, Role::Cso).await;
        let officer_b = common::staff(&t.db, Role::Cso).await;
        let customer_a = assigned_customer(&t.db, "a@example.com", Some(officer_a)).await;
        let customer_b = assigned_customer(&t.db, "b@example.com", Some(officer_b)).await;
        let nobodys = assigned_customer(&t.db, "n@example.com", None).await;
        let rows = [
            (officer_a, &customer_a),
            (officer_b, &customer_a),
            (officer_a, &customer_b),
            (officer_b, &customer_b),
            (officer_b, &nobodys),
        ];
        let mut r = Vec::new();
        for (i, (author, customer)) in rows.into_iter().enumerate() {
            let created = draft(author, customer, None, i64::try_from(i).expect("small"));
            r.push(inserted(&repo, created).await);
        }
        let submitted = step(r[1].submit(officer_b, at(10)));
        save(&repo, &submitted).await.expect("submit");
        let list = |query: ResponseQuery| {
            let repo = repo.clone();
            async move {
                repo.list(&query, PageRequest::new(Some(1), Some(100)))
                    .await
                    .expect("list")
            }
        };
        let id = |i: usize| r[i].id();

        let everything = list(ResponseQuery::default()).await;
        let page_two = repo
            .list(
                &ResponseQuery::default(),
                PageRequest::new(Some(2), Some(2)),
            )
            .await
            .expect("page two");
        let for_a = list(ResponseQuery {
            visible_to: Some(officer_a),
            ..ResponseQuery::default()
        })
        .await;
        let for_a_pending = list(ResponseQuery {
            visible_to: Some(officer_a),
            status: Some(ResponseStatus::PendingApproval),
            ..ResponseQuery::default()
        })
        .await;
        let for_a_by_b = list(ResponseQuery {
            visible_to: Some(officer_a),
            author_id: Some(officer_b),
            ..ResponseQuery::default()
        })
        .await;
        let to_b = list(ResponseQuery {
            customer_id: Some(customer_b.id),
            ..ResponseQuery::default()
        })
        .await;
        let drafts = list(ResponseQuery {
            status: Some(ResponseStatus::Draft),
            ..ResponseQuery::default()
        })
        .await;

        let backend = t.backend;
        assert_eq!(
            ids(&everything),
            [id(4), id(3), id(2), id(1), id(0)],
            "{backend}"
        );
        assert_eq!(everything.total, 5);
        assert_eq!(ids(&page_two), [id(2), id(1)], "{backend}");
        assert_eq!(page_two.total, 5);
        assert_eq!(ids(&for_a), [id(2), id(1), id(0)], "{backend}");
        assert_eq!(for_a.total, 3, "{backend}");
        assert_eq!(ids(&for_a_pending), [id(1)], "{backend}");
        assert_eq!(for_a_pending.total, 1);
        assert_eq!(ids(&for_a_by_b), [id(1)], "{backend}");
        assert_eq!(ids(&to_b), [id(3), id(2)], "{backend}");
        assert_eq!(to_b.total, 2);
        assert_eq!(drafts.total, 4, "{backend}");
    }
}

#[tokio::test]
async fn reassigning_a_customer_moves_their_responses_into_the_new_officers_view() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let customers = SeaCustomerRepository::new(t.db.clone());
        let c = cast(&t.db).await;
        let successor = common::staff(&t.db, Role::Cso).await;
        let response = inserted(&repo, draft(c.author, &c.customer, None, 0)).await;
        let scope = ResponseQuery {
            visible_to: Some(successor),
            ..ResponseQuery::default()
        };
        let before = repo
            .list(&scope, PageRequest::default())
            .await
            .expect("list");
        let mut moved = c.customer.clone();
        moved.assigned_to = Some(successor);
        moved.version = 2;
        customers.update(&moved, 1, &[]).await.expect("reassign");

        let after = repo
            .list(&scope, PageRequest::default())
            .await
            .expect("list");

        assert_eq!(before.total, 0, "{}", t.backend);
        assert_eq!(ids(&after), [response.id()], "{}", t.backend);
    }
}

#[tokio::test]
async fn a_response_row_that_breaks_the_workflow_is_unexpected_not_accepted() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let response = inserted(&repo, draft(c.author, &c.customer, None, 0)).await;
        // SENT without a send time (and without a decision) breaks the invariants.
        response_row::Entity::update_many()
            .col_expr(
                response_row::Column::Status,
                Expr::value(ResponseStatus::Sent.as_str()),
            )
            .filter(response_row::Column::Id.eq(response.id().as_uuid()))
            .exec(&t.db)
            .await
            .expect("corrupt the row");

        let found = repo.find(response.id()).await;
        let listed = repo
            .list(&ResponseQuery::default(), PageRequest::default())
            .await;

        assert!(
            matches!(found, Err(ApprovalsError::Unexpected(_))),
            "{}: {found:?}",
            t.backend
        );
        assert!(matches!(listed, Err(ApprovalsError::Unexpected(_))));
    }
}

#[tokio::test]
async fn deleting_a_customer_keeps_their_responses_enquiries_and_history() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let enquiries = SeaEnquiryRepository::new(t.db.clone());
        let e = enquiry(&c.customer, "Question", 0);
        enquiries.insert(&e).await.expect("insert enquiry");
        let response = inserted(&repo, draft(c.author, &c.customer, Some(e.id), 0)).await;

        let result = SeaCustomerRepository::new(t.db.clone())
            .delete(c.customer.id, &[])
            .await;

        assert!(
            matches!(result, Err(nexus_customers::CustomersError::HasHistory)),
            "{}: {result:?}",
            t.backend
        );
        assert!(repo.find(response.id()).await.expect("find").is_some());
        assert_eq!(repo.history(response.id()).await.expect("history").len(), 1);
        assert!(enquiries.find(e.id).await.expect("find").is_some());
    }
}

#[tokio::test]
async fn a_customer_with_responses_is_not_deleted_and_the_approval_trail_survives() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let response = approved(&repo, &c, draft(c.author, &c.customer, None, 0)).await;
        let customers = SeaCustomerRepository::new(t.db.clone());
        let before = customers
            .list(
                &nexus_customers::CustomerQuery::default(),
                PageRequest::new(None, None),
            )
            .await
            .expect("list")
            .total;

        let result = customers.delete(c.customer.id, &[]).await;

        assert!(
            matches!(result, Err(nexus_customers::CustomersError::HasHistory)),
            "{}: {result:?}",
            t.backend
        );
        assert!(
            repo.find(response.id()).await.expect("find").is_some(),
            "{}",
            t.backend
        );
        assert_eq!(
            repo.history(response.id()).await.expect("history").len(),
            3,
            "{}: created, submitted, approved",
            t.backend
        );
        let after = customers
            .list(
                &nexus_customers::CustomerQuery::default(),
                PageRequest::new(None, None),
            )
            .await
            .expect("list")
            .total;
        assert_eq!(after, before, "{}: the counter is untouched", t.backend);
    }
}

#[tokio::test]
async fn a_customer_without_history_is_still_deleted() {
    for t in common::backends().await {
        let c = cast(&t.db).await;
        let customers = SeaCustomerRepository::new(t.db.clone());

        let deleted = customers.delete(c.customer.id, &[]).await.expect("delete");

        assert!(deleted, "{}", t.backend);
        assert_eq!(customers.find(c.customer.id).await.expect("find"), None);
    }
}

/// `response_event_counts` as stored, and as the events say it should be: (UTC day,
/// author, status reached) → how many events, each sorted.
async fn event_counts(
    db: &DatabaseConnection,
) -> (
    Vec<(chrono::NaiveDate, uuid::Uuid, String, i64)>,
    Vec<(chrono::NaiveDate, uuid::Uuid, String, i64)>,
) {
    use sea_orm::{ConnectionTrait, Statement};
    let query = |sql: &str| Statement::from_string(db.get_database_backend(), sql);
    let stored = db
        .query_all_raw(query(
            "SELECT day, author_id, to_status, n FROM response_event_counts",
        ))
        .await
        .expect("read the counters");
    let mut stored: Vec<_> = stored
        .iter()
        .map(|row| {
            (
                row.try_get("", "day").expect("a day"),
                row.try_get("", "author_id").expect("an author"),
                row.try_get("", "to_status").expect("a status"),
                row.try_get("", "n").expect("a count"),
            )
        })
        .collect();
    stored.sort();
    let events = db
        .query_all_raw(query(
            "SELECT v.at, r.author_id, v.to_status FROM response_events v \
             JOIN responses r ON r.id = v.response_id",
        ))
        .await
        .expect("read the events");
    let mut expected = std::collections::BTreeMap::new();
    for row in &events {
        let at: chrono::DateTime<chrono::Utc> = row.try_get("", "at").expect("an instant");
        let key = (
            at.date_naive(),
            row.try_get::<uuid::Uuid>("", "author_id")
                .expect("an author"),
            row.try_get::<String>("", "to_status").expect("a status"),
        );
        *expected.entry(key).or_insert(0_i64) += 1;
    }
    let expected = expected
        .into_iter()
        .map(|((day, author, status), n)| (day, author, status, n))
        .collect();
    (stored, expected)
}

#[tokio::test]
async fn every_event_is_counted_by_day_author_and_status_and_a_conflict_counts_nothing() {
    for t in common::backends().await {
        let repo = Responses::new(&t.db);
        let c = cast(&t.db).await;
        let response = inserted(&repo, draft(c.author, &c.customer, None, 0)).await;
        let submitted = step(response.submit(c.author, at(10)));
        save(&repo, &submitted).await.expect("submit");
        // A day later, approved; a stale second decision is refused and counts nothing.
        let approval = step(submitted.response.approve(c.reviewer, None, at(86_400)));
        save(&repo, &approval).await.expect("approve");
        let stale = step(
            submitted
                .response
                .reject(c.reviewer, notes("No."), at(86_500)),
        );
        assert!(matches!(
            save(&repo, &stale).await,
            Err(ApprovalsError::Conflict)
        ));

        let (stored, expected) = event_counts(&t.db).await;

        let author = c.author.as_uuid();
        let first = at(0).date_naive();
        let second = at(86_400).date_naive();
        assert_eq!(
            stored,
            vec![
                (first, author, "DRAFT".to_owned(), 1),
                (first, author, "PENDING_APPROVAL".to_owned(), 1),
                (second, author, "APPROVED".to_owned(), 1),
            ],
            "{}",
            t.backend
        );
        assert_eq!(stored, expected, "{}", t.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_keep_the_event_counters_equal_to_the_events() {
    for t in common::backends().await {
        let c = cast(&t.db).await;
        let repo = Responses::new(&t.db);
        let mut drafts = Vec::new();
        for _ in 0..8 {
            drafts.push(inserted(&repo, draft(c.author, &c.customer, None, 0)).await);
        }

        // Eight submissions at once, all counted on the same (day, author, status) row;
        // then eight decisions at once, half approvals and half rejections.
        let mut tasks = tokio::task::JoinSet::new();
        for response in drafts {
            let db = t.db.clone();
            let author = c.author;
            tasks.spawn(async move {
                let submitted = step(response.submit(author, at(10)));
                save(&Responses::new(&db), &submitted)
                    .await
                    .expect("submit");
                submitted.response
            });
        }
        let pending = tasks.join_all().await;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, response) in pending.into_iter().enumerate() {
            let db = t.db.clone();
            let reviewer = c.reviewer;
            tasks.spawn(async move {
                let decision = if i % 2 == 0 {
                    step(response.approve(reviewer, None, at(20)))
                } else {
                    step(response.reject(reviewer, notes("No."), at(20)))
                };
                save(&Responses::new(&db), &decision).await.expect("decide");
            });
        }
        tasks.join_all().await;

        let (stored, expected) = event_counts(&t.db).await;

        let counts: Vec<(&str, i64)> = stored.iter().map(|(_, _, s, n)| (s.as_str(), *n)).collect();
        assert_eq!(
            counts,
            [
                ("APPROVED", 4),
                ("DRAFT", 8),
                ("PENDING_APPROVAL", 8),
                ("REJECTED", 4)
            ],
            "{}",
            t.backend
        );
        assert_eq!(stored, expected, "{}", t.backend);
    }
}
