//! Product answers show their rating, so a review event moves the public catalog cache on.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_catalog::CATALOG_CACHE_NAMESPACE;
use nexus_kernel::SharedCache;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::events::{ReviewDeleted, ReviewHidden, ReviewPublished, ReviewSubmitted};

/// Invalidates the public catalog cache (the namespace of product lists and details)
/// after a review event that can change a product's rating. Idempotent: it only moves the
/// generation on.
pub struct InvalidateCatalogRatings {
    cache: Arc<dyn SharedCache>,
}

impl InvalidateCatalogRatings {
    /// The subscriber's name, also its job kind in the administrators' list.
    pub const NAME: &'static str = "invalidate_catalog_ratings";

    /// Invalidates in `cache`.
    #[must_use]
    pub fn new(cache: Arc<dyn SharedCache>) -> Self {
        Self { cache }
    }
}

#[async_trait]
impl Subscriber for InvalidateCatalogRatings {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<ReviewSubmitted>(),
            Subscription::to::<ReviewPublished>(),
            Subscription::to::<ReviewHidden>(),
            Subscription::to::<ReviewDeleted>(),
        ]
    }

    async fn deliver(&self, _delivery: &Delivery) -> Result<(), DeliveryError> {
        self.cache
            .invalidate(CATALOG_CACHE_NAMESPACE)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}
