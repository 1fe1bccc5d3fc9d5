//! "My data" in feedback: what a user's export holds, and what follows the erasure of
//! their account (subscriber `anonymise_erased_feedback`).

use std::sync::Arc;

use async_trait::async_trait;
use nexus_identity::AccountErased;
use nexus_kernel::{Actor, PageRequest, UserId};
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::{CustomerFeedback, FeedbackError, FeedbackService};

/// At most this many reviews and site feedback together go into one export.
pub const EXPORT_LIMIT: usize = 1000;

impl FeedbackService {
    /// The actor's own product reviews and the site feedback they sent while signed in,
    /// newest first, at most [`EXPORT_LIMIT`], read a page at a time; the flag tells when
    /// there were more.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn export(
        &self,
        actor: &Actor,
    ) -> Result<(Vec<CustomerFeedback>, bool), FeedbackError> {
        let mut said = Vec::new();
        let mut page = 1;
        loop {
            let got = self
                .reader
                .written_by(actor.user_id(), PageRequest::new(Some(page), Some(100)))
                .await?;
            let more = got.total > u64::from(page) * 100;
            said.extend(got.items);
            if said.len() >= EXPORT_LIMIT || !more {
                let truncated = more || said.len() > EXPORT_LIMIT;
                said.truncate(EXPORT_LIMIT);
                return Ok((said, truncated));
            }
            page += 1;
        }
    }

    /// Clears the sender's name and address on the site feedback of an erased account.
    /// Reviews keep their stars and text: they are about a product, carry no name of their
    /// own (the public sees the account's names, now "Erased C."), and removing them would
    /// change the product's published rating behind the readers' backs.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %user))]
    pub async fn forget_author(&self, user: UserId) -> Result<u64, FeedbackError> {
        let tx = self.uow.begin().await?;
        let changed = tx
            .store()
            .anonymise_feedback_of(user, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(changed)
    }
}

/// Anonymises what an erased account wrote (subscriber `anonymise_erased_feedback`, on
/// `identity.account_erased`): see [`FeedbackService::forget_author`]. Clearing what is
/// clear already changes nothing, so a delivery that runs again is harmless.
pub struct AnonymiseErasedFeedback {
    feedback: Arc<FeedbackService>,
}

impl AnonymiseErasedFeedback {
    /// Builds the subscriber over the feedback service.
    #[must_use]
    pub fn new(feedback: Arc<FeedbackService>) -> Self {
        Self { feedback }
    }
}

#[async_trait]
impl Subscriber for AnonymiseErasedFeedback {
    fn name(&self) -> &'static str {
        "anonymise_erased_feedback"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<AccountErased>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let AccountErased { user_id } = delivery.event.decode()?;
        let changed = self
            .feedback
            .forget_author(user_id)
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))?;
        tracing::info!(user_id = %user_id, changed, "feedback of an erased account anonymised");
        Ok(())
    }
}
