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

/// How repeated failures on one key (an account from one client, say) become lockouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed before the first lockout.
    pub free_failures: u32,
    /// The first lockout, in seconds; each further failure doubles it.
    pub base_lock_secs: u64,
    /// The longest lockout, in seconds.
    pub max_lock_secs: u64,
    /// Failures are forgotten this long after the last one, in seconds.
    pub forget_after_secs: u64,
}

impl LockoutPolicy {
    /// The lockout that the `failures`-th failure starts, in seconds (0: none yet).
    #[must_use]
    pub fn lock_after(&self, failures: u32) -> u64 {
        let Some(over) = failures.checked_sub(self.free_failures) else {
            return 0;
        };
        let factor = 1u64.checked_shl(over).unwrap_or(u64::MAX);
        self.base_lock_secs
            .saturating_mul(factor)
            .min(self.max_lock_secs)
    }
}

/// Remembers failed attempts per key and locks a key out for growing periods once it has
/// failed too often (in the manner of a `maxLoginAttempts` / `lockTime` lockout). Only
/// failures count, so the owner of an account is never slowed down by their own successes.
/// Implementations must be safe to share and keep bounded memory; a shared store (Redis)
/// makes lockouts hold across instances.
pub trait FailureThrottle: Send + Sync {
    /// Seconds `key` is still locked out for; 0 when it may try.
    fn locked_for<'a>(
        &'a self,
        key: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u64, Unexpected>> + Send + 'a>>;

    /// Counts one failure for `key` under `policy`; returns the lockout it starts, in
    /// seconds (0 for none).
    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        policy: LockoutPolicy,
    ) -> Pin<Box<dyn Future<Output = Result<u64, Unexpected>> + Send + 'a>>;

    /// Forgets the failures of `key` (after a success).
    fn clear<'a>(
        &'a self,
        key: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), Unexpected>> + Send + 'a>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_start_after_the_free_failures_and_double_up_to_the_cap() {
        let policy = LockoutPolicy {
            free_failures: 3,
            base_lock_secs: 10,
            max_lock_secs: 60,
            forget_after_secs: 600,
        };
        let locks: Vec<u64> = (0..=8).map(|n| policy.lock_after(n)).collect();
        assert_eq!(locks, [0, 0, 0, 10, 20, 40, 60, 60, 60]);
        assert_eq!(policy.lock_after(u32::MAX), 60, "no overflow");
    }
}
