use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_customers::CustomerId;
use nexus_kernel::{Actor, Clock, Page, PageRequest};
use nexus_outbox::{DomainEvent, EventEnvelope};

use crate::events::{
    FeedbackModerated, ReviewDeleted, ReviewHidden, ReviewPublished, ReviewSubmitted,
};
use crate::permissions::FEEDBACK_MODERATE;
use crate::{
    CustomerDirectory, CustomerFeedback, FeedbackError, FeedbackFilter, FeedbackId, FeedbackReader,
    FeedbackStatus, FeedbackUnitOfWork, ModerationAction, ModerationEntry, ModerationReason,
    NewFeedback, OwnershipCheck, PublicReview, RatingSummary, Review, ReviewFilter, ReviewId,
    ReviewInput, ReviewStatus, SiteFeedback, Subject, Submission,
};

/// The metric counting submissions caught by the spam trap.
pub const SPAM_METRIC: &str = "nexus_feedback_spam_total";

/// Site feedback, product reviews, their moderation, ratings and the CRM view.
pub struct FeedbackService {
    pub(crate) reader: Arc<dyn FeedbackReader>,
    pub(crate) uow: Arc<dyn FeedbackUnitOfWork>,
    ownership: Arc<dyn OwnershipCheck>,
    customers: Arc<dyn CustomerDirectory>,
    pub(crate) clock: Arc<dyn Clock>,
}

fn envelope<E: DomainEvent>(event: &E, now: DateTime<Utc>) -> Result<EventEnvelope, FeedbackError> {
    Ok(EventEnvelope::new(event, now)?)
}

/// What a reviewer's write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewWrite {
    /// The review as stored.
    pub review: Review,
    /// Whether it was created (rather than replaced).
    pub created: bool,
}

impl FeedbackService {
    /// A service over these ports.
    #[must_use]
    pub fn new(
        reader: Arc<dyn FeedbackReader>,
        uow: Arc<dyn FeedbackUnitOfWork>,
        ownership: Arc<dyn OwnershipCheck>,
        customers: Arc<dyn CustomerDirectory>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            reader,
            uow,
            ownership,
            customers,
            clock,
        }
    }

    fn moderator(actor: &Actor) -> Result<(), FeedbackError> {
        if actor.can(FEEDBACK_MODERATE) {
            Ok(())
        } else {
            Err(FeedbackError::Forbidden)
        }
    }

    /// Receives site feedback from anyone (`sender` when signed in). A filled spam trap
    /// stores nothing and is only counted.
    ///
    /// # Errors
    /// `Unexpected` when it cannot be stored.
    #[tracing::instrument(skip_all)]
    pub async fn submit(
        &self,
        sender: Option<&Actor>,
        input: NewFeedback,
    ) -> Result<Submission, FeedbackError> {
        if input.trap.as_deref().is_some_and(|t| !t.trim().is_empty()) {
            metrics::counter!(SPAM_METRIC).increment(1);
            tracing::info!("site feedback caught by the spam trap was discarded");
            return Ok(Submission::Discarded);
        }
        let now = self.clock.now();
        let feedback = SiteFeedback {
            id: FeedbackId::new(),
            message: input.message,
            name: input.name,
            email: input.email,
            page: input.page,
            rating: input.rating,
            user_id: sender.map(Actor::user_id),
            status: FeedbackStatus::New,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let tx = self.uow.begin().await?;
        tx.store().insert_feedback(&feedback).await?;
        tx.commit().await?;
        Ok(Submission::Received(feedback.id))
    }

    /// Published site feedback, newest first (public).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn published_feedback(
        &self,
        page: PageRequest,
    ) -> Result<Page<SiteFeedback>, FeedbackError> {
        let filter = FeedbackFilter {
            status: Some(FeedbackStatus::Published),
        };
        self.reader.list_feedback(filter, page).await
    }

    /// The moderation queue of site feedback.
    ///
    /// # Errors
    /// `Forbidden` without `feedback.moderate`.
    pub async fn list_feedback(
        &self,
        actor: &Actor,
        filter: FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<SiteFeedback>, FeedbackError> {
        Self::moderator(actor)?;
        self.reader.list_feedback(filter, page).await
    }

    /// Publishes or hides site feedback, recording who, when and why.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (stale `version` or a racing moderator),
    /// `InvalidTransition`.
    #[tracing::instrument(skip_all, fields(feedback_id = %id))]
    pub async fn moderate_feedback(
        &self,
        actor: &Actor,
        id: FeedbackId,
        action: ModerationAction,
        reason: Option<ModerationReason>,
        version: Option<i64>,
    ) -> Result<SiteFeedback, FeedbackError> {
        Self::moderator(actor)?;
        let mut feedback = self
            .reader
            .find_feedback(id)
            .await?
            .ok_or(FeedbackError::NotFound)?;
        let read = feedback.version;
        if version.is_some_and(|v| v != read) {
            return Err(FeedbackError::Conflict);
        }
        let now = self.clock.now();
        feedback.moderate(action, now)?;
        let mut tx = self.uow.begin().await?;
        tx.store().update_feedback(&feedback, read).await?;
        tx.store()
            .add_moderation(&ModerationEntry {
                subject: Subject::Feedback(id),
                action,
                reason,
                moderator: actor.user_id(),
                at: now,
            })
            .await?;
        tx.record(envelope(&FeedbackModerated { feedback_id: id }, now)?);
        tx.commit().await?;
        Ok(feedback)
    }

    /// Creates the caller's review of a product they own, or replaces it (then `version`
    /// must be the one read). Either way it waits for a moderator; replacing a published
    /// review takes it out of the rating until it is published again.
    ///
    /// # Errors
    /// `NotOwner` without an entitlement; `VersionRequired`; `Conflict` on a stale version
    /// or a racing write.
    #[tracing::instrument(skip_all, fields(product_id = %product))]
    pub async fn put_review(
        &self,
        actor: &Actor,
        product: ProductId,
        input: ReviewInput,
        version: Option<i64>,
    ) -> Result<ReviewWrite, FeedbackError> {
        let user = actor.user_id();
        if !self.ownership.owns(user, product).await? {
            return Err(FeedbackError::NotOwner);
        }
        let now = self.clock.now();
        let existing = self.reader.find_review_of(user, product).await?;
        let mut tx = self.uow.begin().await?;
        let (review, created) = match existing {
            None => {
                let review = Review {
                    id: ReviewId::new(),
                    product_id: product,
                    user_id: user,
                    rating: input.rating,
                    title: input.title,
                    body: input.body,
                    status: ReviewStatus::Pending,
                    created_at: now,
                    updated_at: now,
                    published_at: None,
                    version: 1,
                };
                tx.store().insert_review(&review).await?;
                (review, true)
            }
            Some(mut review) => {
                let read = version.ok_or(FeedbackError::VersionRequired)?;
                if read != review.version {
                    return Err(FeedbackError::Conflict);
                }
                let was = (review.status, review.rating);
                review.edit(input, now);
                tx.store().update_review(&review, read).await?;
                if was.0 == ReviewStatus::Published {
                    tx.store()
                        .adjust_rating(product, -1, -i64::from(was.1.get()))
                        .await?;
                }
                (review, false)
            }
        };
        tx.record(envelope(
            &ReviewSubmitted {
                review_id: review.id,
                product_id: product,
            },
            now,
        )?);
        tx.commit().await?;
        Ok(ReviewWrite { review, created })
    }

    /// Deletes the caller's own review of `product` (`version` checked when sent).
    ///
    /// # Errors
    /// `NotFound` when the caller has none; `Conflict` on a stale version.
    #[tracing::instrument(skip_all, fields(product_id = %product))]
    pub async fn delete_review(
        &self,
        actor: &Actor,
        product: ProductId,
        version: Option<i64>,
    ) -> Result<(), FeedbackError> {
        let review = self
            .reader
            .find_review_of(actor.user_id(), product)
            .await?
            .ok_or(FeedbackError::NotFound)?;
        if version.is_some_and(|v| v != review.version) {
            return Err(FeedbackError::Conflict);
        }
        let now = self.clock.now();
        let mut tx = self.uow.begin().await?;
        tx.store().delete_review(review.id, review.version).await?;
        if review.status == ReviewStatus::Published {
            tx.store()
                .adjust_rating(product, -1, -i64::from(review.rating.get()))
                .await?;
        }
        tx.record(envelope(
            &ReviewDeleted {
                review_id: review.id,
                product_id: product,
            },
            now,
        )?);
        tx.commit().await
    }

    /// The caller's own reviews, newest first.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn my_reviews(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Review>, FeedbackError> {
        self.reader.reviews_by(actor.user_id(), page).await
    }

    /// The moderation queue of reviews.
    ///
    /// # Errors
    /// `Forbidden` without `feedback.moderate`.
    pub async fn list_reviews(
        &self,
        actor: &Actor,
        filter: ReviewFilter,
        page: PageRequest,
    ) -> Result<Page<Review>, FeedbackError> {
        Self::moderator(actor)?;
        self.reader.list_reviews(filter, page).await
    }

    /// Publishes or hides a review, keeping the product's rating exact in the same
    /// transaction and recording who, when and why.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `InvalidTransition`.
    #[tracing::instrument(skip_all, fields(review_id = %id))]
    pub async fn moderate_review(
        &self,
        actor: &Actor,
        id: ReviewId,
        action: ModerationAction,
        reason: Option<ModerationReason>,
        version: Option<i64>,
    ) -> Result<Review, FeedbackError> {
        Self::moderator(actor)?;
        let mut review = self
            .reader
            .find_review(id)
            .await?
            .ok_or(FeedbackError::NotFound)?;
        let read = review.version;
        if version.is_some_and(|v| v != read) {
            return Err(FeedbackError::Conflict);
        }
        let was = review.status;
        let now = self.clock.now();
        review.moderate(action, now)?;
        let stars = i64::from(review.rating.get());
        let mut tx = self.uow.begin().await?;
        tx.store().update_review(&review, read).await?;
        match (was, review.status) {
            (ReviewStatus::Published, ReviewStatus::Published) => {}
            (_, ReviewStatus::Published) => {
                tx.store()
                    .adjust_rating(review.product_id, 1, stars)
                    .await?;
            }
            (ReviewStatus::Published, _) => {
                tx.store()
                    .adjust_rating(review.product_id, -1, -stars)
                    .await?;
            }
            _ => {}
        }
        tx.store()
            .add_moderation(&ModerationEntry {
                subject: Subject::Review(id),
                action,
                reason,
                moderator: actor.user_id(),
                at: now,
            })
            .await?;
        let (review_id, product_id) = (review.id, review.product_id);
        tx.record(match action {
            ModerationAction::Publish => envelope(
                &ReviewPublished {
                    review_id,
                    product_id,
                },
                now,
            )?,
            ModerationAction::Hide => envelope(
                &ReviewHidden {
                    review_id,
                    product_id,
                },
                now,
            )?,
        });
        tx.commit().await?;
        Ok(review)
    }

    /// A product's published reviews, most recent first (public).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn public_reviews(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<PublicReview>, FeedbackError> {
        self.reader.public_reviews(product, page).await
    }

    /// The rating summaries of these products, read at once; a product without published
    /// reviews is absent.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn ratings(
        &self,
        products: &[ProductId],
    ) -> Result<HashMap<ProductId, RatingSummary>, FeedbackError> {
        if products.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self.reader.ratings(products).await?.into_iter().collect())
    }

    /// What a CRM customer said: site feedback and reviews matched by the customer's
    /// address, for whoever may see the customer.
    ///
    /// # Errors
    /// `NotFound` (no such customer, or another officer's), `Forbidden`.
    pub async fn customer_feedback(
        &self,
        actor: &Actor,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<CustomerFeedback>, FeedbackError> {
        let email = self.customers.email_of(actor, customer).await?;
        self.reader.by_email(&email, page).await
    }
}
