//! Unit tests of the `send_response` subscriber against mocked ports.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use nexus_customers::CustomerId;
use nexus_customers::{
    Customer, CustomerService, CustomerStatus, MockCustomerRepository, MockStaffDirectory, Tags,
};
use nexus_kernel::{Clock, Email, FixedClock, PersonName, Unexpected, UserId};
use nexus_notifications::{MailError, MockEmailRenderer, MockMailer, RenderedEmail};
use nexus_outbox::{Delivery, DeliveryError, DeliveryId, DeliveryState, EventEnvelope, Subscriber};

use super::ResponseMailSubscriber;
use crate::testing::{UnitLog, units_of_work};
use crate::{
    ApprovalService, ApprovalsError, MockEnquiryAnswers, MockEnquiryLookup, MockResponseRepository,
    MockResponseStore, NewResponse, Response, ResponseApproved, ResponseContent, ResponseStatus,
    ResponseSubject,
};

const DOMAIN: &str = "nexus.test";

fn customer() -> Customer {
    let at = FixedClock::default().now();
    Customer {
        id: CustomerId::new(),
        first_name: PersonName::parse("Ada").expect("valid name"),
        last_name: PersonName::parse("Lovelace").expect("valid name"),
        email: Email::parse("ada@example.com").expect("valid e-mail"),
        phone: None,
        company: None,
        status: CustomerStatus::Active,
        tags: Tags::default(),
        assigned_to: None,
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
        account_id: None,
    }
}

fn approved_to(customer: CustomerId) -> Response {
    let (author, at) = (UserId::new(), FixedClock::default().now());
    let input = NewResponse {
        customer_id: customer,
        enquiry_id: None,
        subject: ResponseSubject::parse("About your order").expect("valid"),
        content: ResponseContent::parse("It ships today.").expect("valid"),
    };
    let draft = Response::draft(author, input, at).response;
    let pending = draft.submit(author, at).expect("submits").response;
    pending
        .approve(UserId::new(), None, at)
        .expect("approves")
        .response
}

/// One delivery of `ResponseApproved` for `response`, on its `attempts`th attempt.
fn delivery_of(id: DeliveryId, response: &Response, attempts: u32) -> Delivery {
    let now = Utc::now();
    let event = EventEnvelope::new(
        &ResponseApproved {
            response_id: response.id(),
        },
        now,
    )
    .expect("encodes");
    Delivery {
        id,
        event,
        subscriber: "send_response".to_owned(),
        state: DeliveryState::Running,
        attempts,
        max_attempts: 10,
        run_at: now,
        locked_by: Some("worker".to_owned()),
        locked_until: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    }
}

/// The world of one test: the stored response (saved by units of work), the customer,
/// and what the units of work did.
struct World {
    stored: Arc<Mutex<Response>>,
    customer: Customer,
    log: UnitLog,
}

impl World {
    fn new() -> Self {
        let customer = customer();
        Self {
            stored: Arc::new(Mutex::new(approved_to(customer.id))),
            customer,
            log: UnitLog::default(),
        }
    }

    fn response(&self) -> Response {
        self.stored.lock().expect("not poisoned").clone()
    }

    fn subscriber(&self, mailer: MockMailer) -> ResponseMailSubscriber {
        let mut repo = MockResponseRepository::new();
        let stored = self.stored.clone();
        repo.expect_find()
            .returning(move |_| Ok(Some(stored.lock().expect("not poisoned").clone())));
        let stored = self.stored.clone();
        let uow = units_of_work(&self.log, move || {
            let mut store = MockResponseStore::new();
            let stored = stored.clone();
            store.expect_save().returning(move |response, _, _| {
                *stored.lock().expect("not poisoned") = response.clone();
                Ok(())
            });
            (store, MockEnquiryAnswers::new())
        });
        let mut customers = MockCustomerRepository::new();
        let known = self.customer.clone();
        customers
            .expect_find()
            .returning(move |_| Ok(Some(known.clone())));
        let customers: Arc<MockCustomerRepository> = Arc::new(customers);
        let approvals = Arc::new(ApprovalService::new(
            Arc::new(repo),
            Arc::new(uow),
            Arc::new(MockEnquiryLookup::new()),
            Arc::new(CustomerService::new(
                Arc::new(MockCustomerRepository::new()),
                Arc::new(MockStaffDirectory::new()),
                Arc::new(FixedClock::default()),
            )),
            Arc::new(FixedClock::default()),
        ));
        let mut renderer = MockEmailRenderer::new();
        renderer.expect_render().returning(|_| {
            Ok(RenderedEmail {
                subject: "About your order".to_owned(),
                text_body: "It ships today.".to_owned(),
                html_body: "<p>It ships today.</p>".to_owned(),
            })
        });
        ResponseMailSubscriber::new(
            approvals,
            customers,
            Arc::new(renderer),
            Arc::new(mailer),
            DOMAIN.to_owned(),
        )
    }
}

#[tokio::test]
async fn a_response_delivered_twice_is_mailed_once_with_the_delivery_id_as_message_id() {
    let world = World::new();
    let id = DeliveryId::new();
    let expected_id = format!("{id}@{DOMAIN}");
    let to = world.customer.email.clone();
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .withf(move |m| m.message_id == expected_id && m.to == to)
        .times(1)
        .returning(|_| Ok(()));
    let subscriber = world.subscriber(mailer);
    let delivery = delivery_of(id, &world.response(), 1);

    let first = subscriber.deliver(&delivery).await;
    let second = subscriber
        .deliver(&delivery_of(id, &world.response(), 2))
        .await;

    assert_eq!(first, Ok(()));
    assert_eq!(second, Ok(()));
    assert_eq!(world.response().status(), ResponseStatus::Sent);
    assert_eq!(world.log.commits(), 1);
    assert_eq!(world.log.event_names(), ["approvals.response_sent"]);
}

#[tokio::test]
async fn a_mail_server_that_is_down_makes_the_delivery_retryable_and_changes_nothing() {
    let world = World::new();
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .times(1)
        .returning(|_| Err(MailError::Transient("connection refused".to_owned())));
    let subscriber = world.subscriber(mailer);

    let result = subscriber
        .deliver(&delivery_of(DeliveryId::new(), &world.response(), 1))
        .await;

    assert!(
        matches!(result, Err(DeliveryError::Retryable(_))),
        "{result:?}"
    );
    assert_eq!(world.response().status(), ResponseStatus::Approved);
    assert_eq!(world.log.commits(), 0);
}

#[tokio::test]
async fn a_refused_address_is_permanent() {
    let world = World::new();
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .times(1)
        .returning(|_| Err(MailError::Permanent("550 no such user".to_owned())));
    let subscriber = world.subscriber(mailer);

    let result = subscriber
        .deliver(&delivery_of(DeliveryId::new(), &world.response(), 1))
        .await;

    assert!(
        matches!(result, Err(DeliveryError::Permanent(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_database_failure_while_loading_the_response_is_retryable() {
    let mut repo = MockResponseRepository::new();
    repo.expect_find()
        .returning(|_| Err(ApprovalsError::Unexpected(Unexpected::msg("database gone"))));
    let mut uow = crate::MockApprovalsUnitOfWork::new();
    uow.expect_begin().never();
    let approvals = Arc::new(ApprovalService::new(
        Arc::new(repo),
        Arc::new(uow),
        Arc::new(MockEnquiryLookup::new()),
        Arc::new(CustomerService::new(
            Arc::new(MockCustomerRepository::new()),
            Arc::new(MockStaffDirectory::new()),
            Arc::new(FixedClock::default()),
        )),
        Arc::new(FixedClock::default()),
    ));
    let mut mailer = MockMailer::new();
    mailer.expect_send().never();
    let subscriber = ResponseMailSubscriber::new(
        approvals,
        Arc::new(MockCustomerRepository::new()),
        Arc::new(MockEmailRenderer::new()),
        Arc::new(mailer),
        DOMAIN.to_owned(),
    );
    let response = approved_to(CustomerId::new());

    let result = subscriber
        .deliver(&delivery_of(DeliveryId::new(), &response, 1))
        .await;

    assert!(
        matches!(result, Err(DeliveryError::Retryable(_))),
        "{result:?}"
    );
}

#[test]
fn it_subscribes_to_approvals_under_the_old_job_kind() {
    let world = World::new();
    let subscriber = world.subscriber(MockMailer::new());

    assert_eq!(subscriber.name(), "send_response");
    assert_eq!(
        subscriber.subscriptions(),
        [nexus_outbox::Subscription::to::<ResponseApproved>()]
    );
}
