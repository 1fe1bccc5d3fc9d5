//! Keeping cached public catalog answers in step with the database: the
//! `invalidate_catalog_cache` subscriber moves the catalog's cache generation on after every
//! product write that can change what the public sees.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::SharedCache;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::events::{ProductDeleted, ProductUpdated};

/// The cache namespace of every public catalog answer (product list pages and product
/// details): one generation for all of them, so one product write invalidates them all.
pub const CATALOG_CACHE_NAMESPACE: &str = "products";

/// Invalidates the public catalog cache ([`CATALOG_CACHE_NAMESPACE`]) when a product
/// changes or is deleted.
///
/// `catalog.product_created` is not subscribed: a new product is a DRAFT, which no public
/// answer shows, and the write that publishes it records `catalog.product_updated`.
///
/// Idempotent and order-independent: it applies nothing from the event, it only moves the
/// generation on, so a second delivery costs one more cache miss per key and nothing else.
pub struct InvalidateCatalogCache {
    cache: Arc<dyn SharedCache>,
}

impl InvalidateCatalogCache {
    /// The subscriber's name, also its job kind in the administrators' list.
    pub const NAME: &'static str = "invalidate_catalog_cache";

    /// Invalidates in `cache`.
    #[must_use]
    pub fn new(cache: Arc<dyn SharedCache>) -> Self {
        Self { cache }
    }
}

#[async_trait]
impl Subscriber for InvalidateCatalogCache {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<ProductUpdated>(),
            Subscription::to::<ProductDeleted>(),
        ]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        if !(delivery.event.is::<ProductUpdated>() || delivery.event.is::<ProductDeleted>()) {
            return Err(DeliveryError::Permanent(format!(
                "{} does not handle {}",
                Self::NAME,
                delivery.event.name
            )));
        }
        // A cache that cannot be reached now may be back in a moment; until then readers
        // that cannot reach it read the database, so nothing stale is served meanwhile.
        self.cache
            .invalidate(CATALOG_CACHE_NAMESPACE)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use nexus_kernel::{CacheFuture, Clock, FixedClock, Unexpected};
    use nexus_outbox::{
        DEFAULT_MAX_ATTEMPTS, DeliveryId, DeliveryState, DomainEvent, EventEnvelope,
    };

    use super::*;
    use crate::ProductId;
    use crate::events::ProductCreated;

    /// Records invalidations; fails them all when `down`. (The kernel's port has no
    /// generated mock: the kernel does not depend on mockall.)
    #[derive(Default)]
    struct Recording {
        invalidated: Mutex<Vec<String>>,
        down: bool,
    }

    impl SharedCache for Recording {
        fn get<'a>(&'a self, _key: &'a str) -> CacheFuture<'a, Option<Vec<u8>>> {
            Box::pin(async { Ok(None) })
        }
        fn put<'a>(&'a self, _k: &'a str, _v: &'a [u8], _t: Duration) -> CacheFuture<'a, ()> {
            Box::pin(async { Ok(()) })
        }
        fn generation<'a>(&'a self, _ns: &'a str) -> CacheFuture<'a, u64> {
            Box::pin(async { Ok(1) })
        }
        fn invalidate<'a>(&'a self, ns: &'a str) -> CacheFuture<'a, u64> {
            Box::pin(async move {
                if self.down {
                    return Err(Unexpected::msg("cache unreachable"));
                }
                let mut seen = self.invalidated.lock().expect("lock");
                seen.push(ns.to_owned());
                Ok(seen.len() as u64 + 1)
            })
        }
    }

    fn now() -> DateTime<Utc> {
        FixedClock::default().now()
    }

    fn delivery<E: DomainEvent>(event: &E) -> Delivery {
        Delivery {
            id: DeliveryId::new(),
            event: EventEnvelope::new(event, now()).expect("encodes"),
            subscriber: InvalidateCatalogCache::NAME.to_owned(),
            state: DeliveryState::Running,
            attempts: 1,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: now(),
            locked_by: Some("worker".to_owned()),
            locked_until: None,
            last_error: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn it_keeps_its_job_kind_name_and_wants_updates_and_deletions_only() {
        let s = InvalidateCatalogCache::new(Arc::new(Recording::default()));

        let events: Vec<&str> = s.subscriptions().iter().map(|s| s.event).collect();

        assert_eq!(s.name(), "invalidate_catalog_cache");
        assert_eq!(events, [ProductUpdated::NAME, ProductDeleted::NAME]);
    }

    #[tokio::test]
    async fn an_update_or_a_deletion_moves_the_catalog_generation_on() {
        let cache = Arc::new(Recording::default());
        let s = InvalidateCatalogCache::new(cache.clone());
        let product_id = ProductId::new();

        s.deliver(&delivery(&ProductUpdated { product_id }))
            .await
            .expect("delivered");
        s.deliver(&delivery(&ProductDeleted { product_id }))
            .await
            .expect("delivered");

        assert_eq!(
            *cache.invalidated.lock().expect("lock"),
            [CATALOG_CACHE_NAMESPACE, CATALOG_CACHE_NAMESPACE]
        );
    }

    #[tokio::test]
    async fn an_unreachable_cache_is_retried_later() {
        let s = InvalidateCatalogCache::new(Arc::new(Recording {
            down: true,
            ..Recording::default()
        }));

        let result = s
            .deliver(&delivery(&ProductUpdated {
                product_id: ProductId::new(),
            }))
            .await;

        assert!(matches!(result, Err(DeliveryError::Retryable(_))));
    }

    #[tokio::test]
    async fn an_event_it_does_not_handle_is_dead_lettered() {
        let cache = Arc::new(Recording::default());
        let s = InvalidateCatalogCache::new(cache.clone());

        let result = s
            .deliver(&delivery(&ProductCreated {
                product_id: ProductId::new(),
            }))
            .await;

        assert!(matches!(result, Err(DeliveryError::Permanent(_))));
        assert!(cache.invalidated.lock().expect("lock").is_empty());
    }
}
