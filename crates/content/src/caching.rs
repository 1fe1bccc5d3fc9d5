//! Keeping cached public page answers in step: the `invalidate_content_cache` subscriber
//! moves the content cache's generation on whenever what the public sees changes.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::SharedCache;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::events::{PagePublished, PageUnpublished, PostChanged, TeamMemberChanged};

/// The cache namespace of every public page answer: one generation for all of them.
pub const CONTENT_CACHE_NAMESPACE: &str = "content";

/// Invalidates the public content cache ([`CONTENT_CACHE_NAMESPACE`]) when a page is
/// published or unpublished, or a team member or a blog post changes. `content.page_updated` is not subscribed: an edit changes the
/// draft only, which the public never sees.
///
/// Idempotent: it only moves the generation on.
pub struct InvalidateContentCache {
    cache: Arc<dyn SharedCache>,
}

impl InvalidateContentCache {
    /// The subscriber's name, also its job kind.
    pub const NAME: &'static str = "invalidate_content_cache";

    /// Invalidates in `cache`.
    #[must_use]
    pub fn new(cache: Arc<dyn SharedCache>) -> Self {
        Self { cache }
    }
}

#[async_trait]
impl Subscriber for InvalidateContentCache {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<PagePublished>(),
            Subscription::to::<PageUnpublished>(),
            Subscription::to::<TeamMemberChanged>(),
            Subscription::to::<PostChanged>(),
        ]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        if !(delivery.event.is::<PagePublished>()
            || delivery.event.is::<PageUnpublished>()
            || delivery.event.is::<TeamMemberChanged>()
            || delivery.event.is::<PostChanged>())
        {
            return Err(DeliveryError::Permanent(format!(
                "{} does not handle {}",
                Self::NAME,
                delivery.event.name
            )));
        }
        self.cache
            .invalidate(CONTENT_CACHE_NAMESPACE)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}
