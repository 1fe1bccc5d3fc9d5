use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::Unexpected;

/// The verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the attempt may go ahead.
    pub allowed: bool,
    /// When refused: seconds until an attempt would be allowed again.
    pub retry_after_secs: u64,
}

/// Counts attempts per key in a time window (per IP, per address...). Implementations must
/// be safe to share; a shared store (Redis) makes the limit hold across instances.
pub trait RateLimiter: Send + Sync {
    /// Records one attempt for `key` and says whether it is within `limit` per `window`.
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<RateDecision, Unexpected>> + Send + 'a>>;
}
