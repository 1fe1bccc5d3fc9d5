//! Keeping the external search index in step: the `index_product` subscriber after each
//! product write, and the full rebuild behind `nexus reindex`.

use std::sync::Arc;

use crate::ProductId;
use async_trait::async_trait;
use nexus_outbox::{Delivery, DeliveryError, EventEnvelope, Subscriber, Subscription};

use crate::events::{ProductCreated, ProductDeleted, ProductUpdated};
use crate::{CatalogError, ProductIndex, ProductRepository};

/// Writes the current state of a changed product to the search index: the PUBLISHED
/// product itself, or its removal when it is not PUBLISHED or no longer exists.
///
/// It never applies the event's content, only re-reads the product, so it is idempotent
/// and order-independent: delivered twice, or after a later event's delivery, it writes
/// the same current state.
pub struct IndexProduct {
    products: Arc<dyn ProductRepository>,
    index: Arc<dyn ProductIndex>,
}

impl IndexProduct {
    /// The subscriber's name, also its job kind in the administrators' list.
    pub const NAME: &'static str = "index_product";

    /// Reads from `products`, writes to `index`.
    #[must_use]
    pub fn new(products: Arc<dyn ProductRepository>, index: Arc<dyn ProductIndex>) -> Self {
        Self { products, index }
    }
}

/// The product an event is about.
pub(crate) fn product_of(event: &EventEnvelope) -> Result<ProductId, DeliveryError> {
    if event.is::<ProductCreated>() {
        Ok(event.decode::<ProductCreated>()?.product_id)
    } else if event.is::<ProductUpdated>() {
        Ok(event.decode::<ProductUpdated>()?.product_id)
    } else if event.is::<ProductDeleted>() {
        Ok(event.decode::<ProductDeleted>()?.product_id)
    } else {
        Err(DeliveryError::Permanent(format!(
            "{} is not a product event",
            event.name
        )))
    }
}

/// Database and index failures may pass (a restart, a timeout): try again later.
#[expect(
    clippy::needless_pass_by_value,
    reason = "used as map_err(retryable), which passes the error by value"
)]
fn retryable(err: CatalogError) -> DeliveryError {
    DeliveryError::Retryable(err.to_string())
}

#[async_trait]
impl Subscriber for IndexProduct {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<ProductCreated>(),
            Subscription::to::<ProductUpdated>(),
            Subscription::to::<ProductDeleted>(),
        ]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let id = product_of(&delivery.event)?;
        match self.products.find(id).await.map_err(retryable)? {
            Some(product) if product.is_public() => self
                .index
                .upsert(std::slice::from_ref(&product))
                .await
                .map_err(retryable),
            _ => self.index.remove(id).await.map_err(retryable),
        }
    }
}

/// How far a rebuild got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexProgress {
    /// Products sent to the index so far.
    pub indexed: u64,
    /// PUBLISHED products when the rebuild started.
    pub total: u64,
}

/// Rebuilds the search index from the database: clears it, then sends every PUBLISHED
/// product in batches of [`Reindexer::BATCH`] (walked by id).
///
/// Clearing first is what removes documents of products deleted or unpublished while the
/// index was not kept in step; the price is that searches miss products until their batch
/// is sent. A product written during the rebuild is also sent by `index_product`; if that
/// delivery lands before the rebuild's batch holding the product's older state, the older
/// state wins until the product's next write or the next rebuild.
pub struct Reindexer {
    products: Arc<dyn ProductRepository>,
    index: Arc<dyn ProductIndex>,
}

impl Reindexer {
    /// Products per read and per index write.
    pub const BATCH: u32 = 500;

    /// Reads from `products`, writes to `index`.
    #[must_use]
    pub fn new(products: Arc<dyn ProductRepository>, index: Arc<dyn ProductIndex>) -> Self {
        Self { products, index }
    }

    /// Clears the index and sends every PUBLISHED product, calling `progress` after each
    /// batch. Returns how many products were sent.
    ///
    /// # Errors
    /// `Unexpected` when the database or the index fails; the index then holds the
    /// batches sent so far, and running the rebuild again starts over.
    pub async fn rebuild(
        &self,
        progress: &mut (dyn FnMut(ReindexProgress) + Send),
    ) -> Result<u64, CatalogError> {
        let total = self.products.count_published().await?;
        self.index.clear().await?;
        let mut indexed = 0_u64;
        let mut after = None;
        loop {
            let batch = self.products.published_after(after, Self::BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            self.index.upsert(&batch).await?;
            indexed += batch.len() as u64;
            progress(ReindexProgress { indexed, total });
            if batch.len() < Self::BATCH as usize {
                break;
            }
        }
        tracing::info!(indexed, "search index rebuilt");
        Ok(indexed)
    }
}

#[cfg(test)]
#[path = "indexing_tests.rs"]
mod tests;
