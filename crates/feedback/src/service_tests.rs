//! The service's rules, against mocks of its ports.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use mockall::predicate::eq;
use nexus_catalog::ProductId;
use nexus_customers::CustomerId;
use nexus_kernel::{Actor, Email, FixedClock, Page, PageRequest, Permission, Role, UserId};
use nexus_outbox::EventEnvelope;

use crate::permissions::FEEDBACK_MODERATE;
use crate::*;

/// Commits report their events here.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

struct TestTx {
    store: Arc<MockFeedbackStore>,
    events: Vec<EventEnvelope>,
    log: Log,
}

#[async_trait]
impl FeedbackTx for TestTx {
    fn store(&self) -> &dyn FeedbackStore {
        self.store.as_ref()
    }
    fn record(&mut self, event: EventEnvelope) {
        self.events.push(event);
    }
    async fn commit(self: Box<Self>) -> Result<(), FeedbackError> {
        let mut log = self.log.0.lock().expect("lock");
        log.extend(self.events.iter().map(|e| e.name.clone()));
        log.push("commit".to_owned());
        Ok(())
    }
}

fn uow(store: MockFeedbackStore, log: &Log) -> MockFeedbackUnitOfWork {
    let store = Arc::new(store);
    let log = log.clone();
    let mut uow = MockFeedbackUnitOfWork::new();
    uow.expect_begin().returning(move || {
        Ok(Box::new(TestTx {
            store: Arc::clone(&store),
            events: Vec::new(),
            log: log.clone(),
        }))
    });
    uow
}

fn service(
    reader: MockFeedbackReader,
    store: MockFeedbackStore,
    ownership: MockOwnershipCheck,
    customers: MockCustomerDirectory,
    log: &Log,
) -> FeedbackService {
    FeedbackService::new(
        Arc::new(reader),
        Arc::new(uow(store, log)),
        Arc::new(ownership),
        Arc::new(customers),
        Arc::new(FixedClock::default()),
    )
}

const MODERATOR: &[Permission] = &[FEEDBACK_MODERATE];

fn moderator() -> Actor {
    Actor::new(UserId::new(), Role::Editor, MODERATOR)
}

fn buyer() -> Actor {
    Actor::new(UserId::new(), Role::Customer, &[])
}

fn input(stars: i64) -> ReviewInput {
    ReviewInput {
        rating: Rating::new(stars).expect("a rating"),
        title: None,
        body: ReviewBody::parse("Useful").expect("a body"),
    }
}

fn review(user: UserId, product: ProductId, status: ReviewStatus, stars: i64) -> Review {
    Review {
        id: ReviewId::new(),
        product_id: product,
        user_id: user,
        rating: Rating::new(stars).expect("a rating"),
        title: None,
        body: ReviewBody::parse("Good").expect("a body"),
        status,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        published_at: None,
        version: 3,
    }
}

fn feedback_input(trap: Option<&str>) -> NewFeedback {
    NewFeedback {
        message: FeedbackMessage::parse("Nice site").expect("a message"),
        name: None,
        email: None,
        page: None,
        rating: None,
        trap: trap.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_filled_spam_trap_stores_nothing_but_answers_like_success() {
    let log = Log::default();
    let mut store = MockFeedbackStore::new();
    store.expect_insert_feedback().never();
    let s = service(
        MockFeedbackReader::new(),
        store,
        MockOwnershipCheck::new(),
        MockCustomerDirectory::new(),
        &log,
    );

    let result = s.submit(None, feedback_input(Some("http://spam"))).await;

    assert!(matches!(result, Ok(Submission::Discarded)));
    assert!(log.0.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn feedback_from_a_signed_in_user_is_linked_to_them_and_new() {
    let log = Log::default();
    let sender = buyer();
    let user = sender.user_id();
    let mut store = MockFeedbackStore::new();
    store
        .expect_insert_feedback()
        .withf(move |f| f.user_id == Some(user) && f.status == FeedbackStatus::New)
        .times(1)
        .returning(|_| Ok(()));
    let s = service(
        MockFeedbackReader::new(),
        store,
        MockOwnershipCheck::new(),
        MockCustomerDirectory::new(),
        &log,
    );

    let result = s.submit(Some(&sender), feedback_input(Some("  "))).await;

    assert!(matches!(result, Ok(Submission::Received(_))));
}

#[tokio::test]
async fn a_buyer_who_does_not_own_the_product_cannot_review_it() {
    let log = Log::default();
    let mut ownership = MockOwnershipCheck::new();
    ownership.expect_owns().returning(|_, _| Ok(false));
    let mut store = MockFeedbackStore::new();
    store.expect_insert_review().never();
    let s = service(
        MockFeedbackReader::new(),
        store,
        ownership,
        MockCustomerDirectory::new(),
        &log,
    );

    let result = s
        .put_review(&buyer(), ProductId::new(), input(5), None)
        .await;

    assert!(matches!(result, Err(FeedbackError::NotOwner)));
}

#[tokio::test]
async fn replacing_a_review_needs_the_version_read_and_a_stale_one_conflicts() {
    let log = Log::default();
    let actor = buyer();
    let product = ProductId::new();
    let existing = review(actor.user_id(), product, ReviewStatus::Pending, 4);
    let mut ownership = MockOwnershipCheck::new();
    ownership.expect_owns().returning(|_, _| Ok(true));
    let mut reader = MockFeedbackReader::new();
    reader
        .expect_find_review_of()
        .returning(move |_, _| Ok(Some(existing.clone())));
    let mut store = MockFeedbackStore::new();
    store.expect_update_review().never();
    let s = service(reader, store, ownership, MockCustomerDirectory::new(), &log);

    let missing = s.put_review(&actor, product, input(5), None).await;
    let stale = s.put_review(&actor, product, input(5), Some(2)).await;

    assert!(matches!(missing, Err(FeedbackError::VersionRequired)));
    assert!(matches!(stale, Err(FeedbackError::Conflict)));
}

#[tokio::test]
async fn editing_a_published_review_takes_it_out_of_the_rating_and_back_to_pending() {
    let log = Log::default();
    let actor = buyer();
    let product = ProductId::new();
    let existing = review(actor.user_id(), product, ReviewStatus::Published, 4);
    let mut ownership = MockOwnershipCheck::new();
    ownership.expect_owns().returning(|_, _| Ok(true));
    let mut reader = MockFeedbackReader::new();
    reader
        .expect_find_review_of()
        .returning(move |_, _| Ok(Some(existing.clone())));
    let mut store = MockFeedbackStore::new();
    store
        .expect_update_review()
        .withf(|r, v| *v == 3 && r.version == 4 && r.status == ReviewStatus::Pending)
        .times(1)
        .returning(|_, _| Ok(()));
    store
        .expect_adjust_rating()
        .with(eq(product), eq(-1), eq(-4))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let s = service(reader, store, ownership, MockCustomerDirectory::new(), &log);

    let written = s
        .put_review(&actor, product, input(2), Some(3))
        .await
        .expect("edited");

    assert!(!written.created);
    assert_eq!(
        *log.0.lock().expect("lock"),
        ["feedback.review_submitted", "commit"]
    );
}

#[tokio::test]
async fn publishing_a_review_counts_it_and_hiding_it_uncounts_it() {
    let log = Log::default();
    let product = ProductId::new();
    let pending = review(UserId::new(), product, ReviewStatus::Pending, 5);
    let published = review(UserId::new(), product, ReviewStatus::Published, 3);
    let (pending_id, published_id) = (pending.id, published.id);
    let mut reader = MockFeedbackReader::new();
    reader
        .expect_find_review()
        .with(eq(pending_id))
        .returning(move |_| Ok(Some(pending.clone())));
    reader
        .expect_find_review()
        .with(eq(published_id))
        .returning(move |_| Ok(Some(published.clone())));
    let mut store = MockFeedbackStore::new();
    store
        .expect_update_review()
        .times(2)
        .returning(|_, _| Ok(()));
    store
        .expect_adjust_rating()
        .with(eq(product), eq(1), eq(5))
        .times(1)
        .returning(|_, _, _| Ok(()));
    store
        .expect_adjust_rating()
        .with(eq(product), eq(-1), eq(-3))
        .times(1)
        .returning(|_, _, _| Ok(()));
    store
        .expect_add_moderation()
        .withf(|e| e.action == ModerationAction::Publish || e.reason.is_some())
        .times(2)
        .returning(|_| Ok(()));
    let s = service(
        reader,
        store,
        MockOwnershipCheck::new(),
        MockCustomerDirectory::new(),
        &log,
    );
    let staff = moderator();
    let reason = ModerationReason::parse("Off topic").expect("a reason");

    s.moderate_review(&staff, pending_id, ModerationAction::Publish, None, None)
        .await
        .expect("published");
    s.moderate_review(
        &staff,
        published_id,
        ModerationAction::Hide,
        Some(reason),
        Some(3),
    )
    .await
    .expect("hidden");

    assert_eq!(
        *log.0.lock().expect("lock"),
        [
            "feedback.review_published",
            "commit",
            "feedback.review_hidden",
            "commit"
        ]
    );
}

#[tokio::test]
async fn moderation_needs_the_permission_and_a_current_version() {
    let log = Log::default();
    let product = ProductId::new();
    let pending = review(UserId::new(), product, ReviewStatus::Pending, 5);
    let id = pending.id;
    let mut reader = MockFeedbackReader::new();
    reader
        .expect_find_review()
        .returning(move |_| Ok(Some(pending.clone())));
    let mut store = MockFeedbackStore::new();
    store.expect_update_review().never();
    let s = service(
        reader,
        store,
        MockOwnershipCheck::new(),
        MockCustomerDirectory::new(),
        &log,
    );

    let denied = s
        .moderate_review(&buyer(), id, ModerationAction::Publish, None, None)
        .await;
    let stale = s
        .moderate_review(&moderator(), id, ModerationAction::Publish, None, Some(1))
        .await;

    assert!(matches!(denied, Err(FeedbackError::Forbidden)));
    assert!(matches!(stale, Err(FeedbackError::Conflict)));
}

#[tokio::test]
async fn hiding_hidden_feedback_is_an_invalid_transition() {
    let log = Log::default();
    let id = FeedbackId::new();
    let mut reader = MockFeedbackReader::new();
    reader.expect_find_feedback().returning(move |_| {
        Ok(Some(SiteFeedback {
            id,
            message: FeedbackMessage::parse("x").expect("msg"),
            name: None,
            email: None,
            page: None,
            rating: None,
            user_id: None,
            status: FeedbackStatus::Hidden,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 2,
        }))
    });
    let s = service(
        reader,
        MockFeedbackStore::new(),
        MockOwnershipCheck::new(),
        MockCustomerDirectory::new(),
        &log,
    );

    let result = s
        .moderate_feedback(&moderator(), id, ModerationAction::Hide, None, None)
        .await;

    assert!(matches!(
        result,
        Err(FeedbackError::InvalidTransition { .. })
    ));
}

#[tokio::test]
async fn the_crm_view_reads_by_the_address_of_a_customer_the_actor_may_see() {
    let log = Log::default();
    let mut customers = MockCustomerDirectory::new();
    customers
        .expect_email_of()
        .returning(|_, _| Ok(Email::parse("cara@example.com").expect("an address")));
    let mut reader = MockFeedbackReader::new();
    reader
        .expect_by_email()
        .withf(|e, _| e.as_str() == "cara@example.com")
        .times(1)
        .returning(|_, page| {
            Ok(Page {
                items: Vec::new(),
                total: 0,
                request: page,
            })
        });
    let s = service(
        reader,
        MockFeedbackStore::new(),
        MockOwnershipCheck::new(),
        customers,
        &log,
    );

    let page = s
        .customer_feedback(
            &moderator(),
            CustomerId::new(),
            PageRequest::new(None, None),
        )
        .await
        .expect("a page");

    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn another_officers_customer_is_not_found() {
    let log = Log::default();
    let mut customers = MockCustomerDirectory::new();
    customers
        .expect_email_of()
        .returning(|_, _| Err(FeedbackError::NotFound));
    let mut reader = MockFeedbackReader::new();
    reader.expect_by_email().never();
    let s = service(
        reader,
        MockFeedbackStore::new(),
        MockOwnershipCheck::new(),
        customers,
        &log,
    );

    let result = s
        .customer_feedback(&buyer(), CustomerId::new(), PageRequest::new(None, None))
        .await;

    assert!(matches!(result, Err(FeedbackError::NotFound)));
}
