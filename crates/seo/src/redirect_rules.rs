//! Stored redirect rules: a [`Redirect`] with its id, an editor's note, a version and who
//! made and last changed it; the inputs that create and change one; the event a write
//! records and the subscriber that tells every instance to reload its rules.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::SharedCache;
use nexus_outbox::{Delivery, DeliveryError, DomainEvent, Subscriber, Subscription};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::redirects::{Redirect, RedirectKind};

/// The most rules kept: every instance holds them all in memory, and a new rule is checked
/// against all of them.
pub const MAX_REDIRECT_RULES: u32 = 10_000;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// The shared cache namespace whose generation moves on after every redirect write.
pub const REDIRECTS_CACHE_NAMESPACE: &str = "redirects";
/// The audit trail's kind of a redirect rule's entries.
pub const ENTITY_REDIRECT_RULE: &str = "redirect_rule";

/// A stored redirect rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectRule {
    /// Id.
    pub id: Uuid,
    /// The rule itself (source, kind, target).
    pub rule: Redirect,
    /// What the editor noted (why, until when...).
    pub note: Option<String>,
    /// Optimistic version, 1 when created.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Who last changed it.
    pub updated_by: Option<Uuid>,
}

/// The fields of a new rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRedirectRule {
    /// Source path.
    pub source: String,
    /// 301, 302 or 410.
    pub kind: RedirectKind,
    /// Target path or URL (none for 410).
    pub target: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// A change of some of a rule's fields (`None`: unchanged). A change of kind to 410 drops
/// the target unless one is given (then it is refused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectRuleChange {
    /// New source path.
    pub source: Option<String>,
    /// New kind.
    pub kind: Option<RedirectKind>,
    /// New target: `Some(None)` clears it.
    pub target: Option<Option<String>>,
    /// New note: `Some(None)` clears it.
    pub note: Option<Option<String>>,
}

/// One entry of the audit trail of a redirect write.
#[derive(Debug, Clone, PartialEq)]
pub struct RedirectAudit {
    /// Id.
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Uuid,
    /// The rule.
    pub rule_id: Uuid,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// `{"fields": [...], "version": n, "source": ..., ...}`.
    pub changes: serde_json::Value,
}

/// A redirect rule was created, changed or deleted: every instance reloads its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectChanged {
    /// The rule.
    pub rule_id: Uuid,
    /// Its version after the change (`None` once deleted).
    pub version: Option<i64>,
    /// Its source path after the change (before it, once deleted).
    pub source: String,
}

impl DomainEvent for RedirectChanged {
    const NAME: &'static str = "seo.redirect_changed";
    const VERSION: u32 = 1;
}

/// Moves the [`REDIRECTS_CACHE_NAMESPACE`] generation on after every redirect write, so
/// each instance reloads its in-memory rules at its next lookup. Idempotent: it only moves
/// the generation on.
pub struct InvalidateRedirects {
    cache: Arc<dyn SharedCache>,
}

impl InvalidateRedirects {
    /// The subscriber's name, also its job kind.
    pub const NAME: &'static str = "invalidate_redirects";

    /// Invalidates in `cache`.
    #[must_use]
    pub fn new(cache: Arc<dyn SharedCache>) -> Self {
        Self { cache }
    }
}

#[async_trait]
impl Subscriber for InvalidateRedirects {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<RedirectChanged>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        if !delivery.event.is::<RedirectChanged>() {
            return Err(DeliveryError::Permanent(format!(
                "{} does not handle {}",
                Self::NAME,
                delivery.event.name
            )));
        }
        self.cache
            .invalidate(REDIRECTS_CACHE_NAMESPACE)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Retryable(e.to_string()))
    }
}
