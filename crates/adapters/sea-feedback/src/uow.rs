//! The feedback unit of work on the database: one write transaction whose changes and
//! recorded events commit together.

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_feedback::{
    FeedbackError, FeedbackStore, FeedbackTx, FeedbackUnitOfWork, ModerationEntry, Review,
    ReviewId, SiteFeedback,
};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{EventTransaction, Transactions, unexpected};

use crate::store;

/// Opens [`SeaFeedbackTx`]s. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaFeedbackUnitOfWork {
    transactions: Transactions,
}

impl SeaFeedbackUnitOfWork {
    /// Units of work over `transactions`' database, which must be migrated.
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl FeedbackUnitOfWork for SeaFeedbackUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn FeedbackTx>, FeedbackError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting a feedback unit of work"))?;
        Ok(Box::new(SeaFeedbackTx { tx }))
    }
}

/// One open feedback unit of work.
#[derive(Debug)]
pub struct SeaFeedbackTx {
    tx: EventTransaction,
}

#[async_trait]
impl FeedbackStore for SeaFeedbackTx {
    async fn insert_feedback(&self, feedback: &SiteFeedback) -> Result<(), FeedbackError> {
        store::insert_feedback(self.tx.conn(), feedback).await
    }

    async fn update_feedback(
        &self,
        feedback: &SiteFeedback,
        expected_version: i64,
    ) -> Result<(), FeedbackError> {
        store::update_feedback(self.tx.conn(), feedback, expected_version).await
    }

    async fn insert_review(&self, review: &Review) -> Result<(), FeedbackError> {
        store::insert_review(self.tx.conn(), review).await
    }

    async fn update_review(
        &self,
        review: &Review,
        expected_version: i64,
    ) -> Result<(), FeedbackError> {
        store::update_review(self.tx.conn(), review, expected_version).await
    }

    async fn delete_review(
        &self,
        id: ReviewId,
        expected_version: i64,
    ) -> Result<(), FeedbackError> {
        store::delete_review(self.tx.conn(), id, expected_version).await
    }

    async fn adjust_rating(
        &self,
        product: ProductId,
        count: i64,
        sum: i64,
    ) -> Result<(), FeedbackError> {
        store::adjust_rating(self.tx.conn(), product, count, sum).await
    }

    async fn add_moderation(&self, entry: &ModerationEntry) -> Result<(), FeedbackError> {
        store::add_moderation(self.tx.conn(), entry).await
    }

    async fn anonymise_feedback_of(
        &self,
        user: nexus_kernel::UserId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, FeedbackError> {
        store::anonymise_feedback_of(self.tx.conn(), user, now).await
    }
}

#[async_trait]
impl FeedbackTx for SeaFeedbackTx {
    fn store(&self) -> &dyn FeedbackStore {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    async fn commit(self: Box<Self>) -> Result<(), FeedbackError> {
        Ok(self.tx.commit().await?)
    }
}
