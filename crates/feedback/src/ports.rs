use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_customers::CustomerId;
use nexus_kernel::{Actor, Email, Page, PageRequest, UserId};
use nexus_outbox::EventEnvelope;

use crate::{
    CustomerFeedback, FeedbackError, FeedbackFilter, FeedbackId, ModerationEntry, PublicReview,
    RatingSummary, Review, ReviewFilter, ReviewId, SiteFeedback,
};

/// Reads feedback and reviews outside a unit of work. Lists are pages with exact totals,
/// newest first, never the whole table.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FeedbackReader: Send + Sync {
    /// One piece of site feedback; `Ok(None)` when there is none.
    async fn find_feedback(&self, id: FeedbackId) -> Result<Option<SiteFeedback>, FeedbackError>;

    /// Site feedback matching `filter`, newest first.
    async fn list_feedback(
        &self,
        filter: FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<SiteFeedback>, FeedbackError>;

    /// One review; `Ok(None)` when there is none.
    async fn find_review(&self, id: ReviewId) -> Result<Option<Review>, FeedbackError>;

    /// The review `user` wrote of `product`, if any.
    async fn find_review_of(
        &self,
        user: UserId,
        product: ProductId,
    ) -> Result<Option<Review>, FeedbackError>;

    /// Reviews matching `filter`, newest first.
    async fn list_reviews(
        &self,
        filter: ReviewFilter,
        page: PageRequest,
    ) -> Result<Page<Review>, FeedbackError>;

    /// `user`'s own reviews, newest first.
    async fn reviews_by(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<Review>, FeedbackError>;

    /// The PUBLISHED reviews of `product`, most recently published first.
    async fn public_reviews(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<PublicReview>, FeedbackError>;

    /// The rating summaries of these products, in one query; products without one are
    /// left out.
    async fn ratings(
        &self,
        products: &[ProductId],
    ) -> Result<Vec<(ProductId, RatingSummary)>, FeedbackError>;

    /// Site feedback sent with `email` (or by the user with that address) and the reviews
    /// of the user with that address, newest first.
    async fn by_email(
        &self,
        email: &Email,
        page: PageRequest,
    ) -> Result<Page<CustomerFeedback>, FeedbackError>;

    /// Site feedback sent by `user` while signed in and `user`'s reviews, newest first.
    async fn written_by(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<CustomerFeedback>, FeedbackError>;
}

/// Writes inside one unit of work (see [`FeedbackTx::store`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    /// Inserts new site feedback.
    async fn insert_feedback(&self, feedback: &SiteFeedback) -> Result<(), FeedbackError>;

    /// Saves the status of `feedback` (already at its new version) if the stored version is
    /// still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not (or the row is gone).
    async fn update_feedback(
        &self,
        feedback: &SiteFeedback,
        expected_version: i64,
    ) -> Result<(), FeedbackError>;

    /// Inserts a new review.
    ///
    /// # Errors
    /// `Conflict` when the user already has a review of the product (a racing first write).
    async fn insert_review(&self, review: &Review) -> Result<(), FeedbackError>;

    /// Saves every mutable field of `review` if the stored version is `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not (or the row is gone).
    async fn update_review(
        &self,
        review: &Review,
        expected_version: i64,
    ) -> Result<(), FeedbackError>;

    /// Deletes the review if its stored version is `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when it is not (or the row is gone).
    async fn delete_review(&self, id: ReviewId, expected_version: i64)
    -> Result<(), FeedbackError>;

    /// Adds `count` reviews and `sum` stars (both may be negative) to the product's rating
    /// summary, atomically in the database (never read-modify-write).
    async fn adjust_rating(
        &self,
        product: ProductId,
        count: i64,
        sum: i64,
    ) -> Result<(), FeedbackError>;

    /// Appends a line to the moderation history.
    async fn add_moderation(&self, entry: &ModerationEntry) -> Result<(), FeedbackError>;

    /// Clears the sender's name and address on every site feedback `user` sent while signed
    /// in (account erasure); returns how many changed. Idempotent.
    async fn anonymise_feedback_of(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, FeedbackError>;
}

/// Opens units of work over the feedback records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FeedbackUnitOfWork: Send + Sync {
    /// Starts one.
    ///
    /// # Errors
    /// `Unexpected` when the store cannot start a transaction.
    async fn begin(&self) -> Result<Box<dyn FeedbackTx>, FeedbackError>;
}

/// One open unit of work. Dropped without `commit`, nothing of it happened.
#[async_trait]
pub trait FeedbackTx: Send {
    /// The store, in this transaction.
    fn store(&self) -> &dyn FeedbackStore;

    /// Records `event`, written to the outbox with the changes.
    fn record(&mut self, event: EventEnvelope);

    /// Writes the changes and the recorded events together.
    ///
    /// # Errors
    /// `Unexpected` when the commit fails (then nothing was written).
    async fn commit(self: Box<Self>) -> Result<(), FeedbackError>;
}

/// Answers whether a user owns a product (an entitlement from a paid order).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OwnershipCheck: Send + Sync {
    /// Whether `user` is entitled to `product`.
    async fn owns(&self, user: UserId, product: ProductId) -> Result<bool, FeedbackError>;
}

/// The CRM's view of a customer, with the CRM's visibility rules.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CustomerDirectory: Send + Sync {
    /// The address of the customer, if `actor` may see that customer.
    ///
    /// # Errors
    /// `NotFound` when there is no such customer or it is not the actor's to see (another
    /// officer's); `Forbidden` when the actor's role sees no customers.
    async fn email_of(&self, actor: &Actor, customer: CustomerId) -> Result<Email, FeedbackError>;
}
