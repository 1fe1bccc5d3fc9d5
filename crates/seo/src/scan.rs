//! A scan of the whole site on the worker: the event that queues it and the subscriber that
//! runs it.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_outbox::{Delivery, DeliveryError, DomainEvent, Subscriber, Subscription};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::service::SeoService;

/// Someone asked for an audit of the whole site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanRequested {
    /// Who asked.
    pub requested_by: Uuid,
}

impl DomainEvent for ScanRequested {
    const NAME: &'static str = "seo.scan_requested";
    const VERSION: u32 = 1;
}

/// Runs a queued scan ([`SeoService::scan`]). Idempotent: a scan run twice leaves the same
/// audits.
pub struct RunSeoScan {
    seo: Arc<SeoService>,
}

impl RunSeoScan {
    /// The subscriber's name, also its job kind.
    pub const NAME: &'static str = "seo_scan";

    /// Scans with `seo`.
    #[must_use]
    pub fn new(seo: Arc<SeoService>) -> Self {
        Self { seo }
    }
}

#[async_trait]
impl Subscriber for RunSeoScan {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<ScanRequested>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        delivery.event.decode::<ScanRequested>()?;
        self.seo
            .scan()
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}
