//! The in-process rate limiter and failure throttle: counters per key, kept in memory. They
//! limit one instance; with several instances behind a load balancer, a shared store is
//! needed (the ports allow a Redis one).
//!
//! Memory stays bounded under a flood of distinct keys: at `capacity` keys, expired ones are
//! swept, and if that is not enough the oldest are evicted. Eviction forgets a client's
//! count, which favours the client, never locks anyone out.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nexus_kernel::{FailureThrottle, LockoutPolicy, RateDecision, RateLimiter, Unexpected};

/// Keys kept by default before sweeping and evicting.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Removes the oldest tenth of `map` (by `age`), so a flood pays for eviction once per
/// tenth of the capacity instead of on every new key.
fn evict_oldest<V>(map: &mut HashMap<String, V>, capacity: usize, age: impl Fn(&V) -> Instant) {
    let excess = map.len().saturating_sub(capacity) + capacity / 10 + 1;
    let mut by_age: Vec<(Instant, String)> = map.iter().map(|(k, v)| (age(v), k.clone())).collect();
    by_age.sort_unstable_by_key(|(at, _)| *at);
    for (_, key) in by_age.into_iter().take(excess) {
        map.remove(&key);
    }
}

/// Fixed-window counters in a mutex-guarded map, swept as they expire.
#[derive(Debug)]
pub struct InProcessRateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    capacity: usize,
}

impl Default for InProcessRateLimiter {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl InProcessRateLimiter {
    /// An empty limiter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty limiter keeping at most about `capacity` keys.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// How many keys are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.windows.lock().map_or(0, |w| w.len())
    }

    /// Whether no key is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn decide(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Result<RateDecision, Unexpected> {
        let mut windows = self
            .windows
            .lock()
            .map_err(|_| Unexpected::msg("rate limiter lock poisoned"))?;
        if windows.len() >= self.capacity && !windows.contains_key(key) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
            if windows.len() >= self.capacity {
                evict_oldest(&mut windows, self.capacity, |(start, _)| *start);
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let elapsed = now.duration_since(entry.0);
            let retry_after_secs = window.saturating_sub(elapsed).as_secs().max(1);
            return Ok(RateDecision {
                allowed: false,
                retry_after_secs,
            });
        }
        entry.1 += 1;
        Ok(RateDecision {
            allowed: true,
            retry_after_secs: 0,
        })
    }
}

impl RateLimiter for InProcessRateLimiter {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<RateDecision, Unexpected>> + Send + 'a>> {
        let decision = self.decide(key, limit, window, Instant::now());
        Box::pin(async move { decision })
    }
}

/// One key's failures.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
    forget_after: Duration,
}

/// Failure counts and lockouts in a mutex-guarded map, bounded like the rate limiter.
#[derive(Debug)]
pub struct InProcessFailureThrottle {
    entries: Mutex<HashMap<String, Failures>>,
    capacity: usize,
}

impl Default for InProcessFailureThrottle {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl InProcessFailureThrottle {
    /// An empty throttle keeping at most about `capacity` keys.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// How many keys are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// Whether no key is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Failures>>, Unexpected> {
        self.entries
            .lock()
            .map_err(|_| Unexpected::msg("failure throttle lock poisoned"))
    }

    fn locked_for_at(&self, key: &str, now: Instant) -> Result<u64, Unexpected> {
        let entries = self.lock()?;
        Ok(entries
            .get(key)
            .and_then(|f| f.locked_until)
            .map_or(0, |until| remaining_secs(until, now)))
    }

    fn record_failure_at(
        &self,
        key: &str,
        policy: LockoutPolicy,
        now: Instant,
    ) -> Result<u64, Unexpected> {
        let mut entries = self.lock()?;
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            entries.retain(|_, f| !expired(f, now));
            if entries.len() >= self.capacity {
                evict_oldest(&mut entries, self.capacity, |f| f.last);
            }
        }
        let forget_after = Duration::from_secs(policy.forget_after_secs);
        let entry = entries.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
            forget_after,
        });
        if expired(entry, now) {
            entry.count = 0;
            entry.locked_until = None;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        entry.forget_after = forget_after.max(Duration::from_secs(policy.max_lock_secs));
        let lock = policy.lock_after(entry.count);
        if lock > 0 {
            entry.locked_until = Some(now + Duration::from_secs(lock));
        }
        Ok(lock)
    }

    fn clear_now(&self, key: &str) -> Result<(), Unexpected> {
        self.lock()?.remove(key);
        Ok(())
    }
}

/// Whether an entry may be forgotten: its lockout is over and its last failure is old.
fn expired(f: &Failures, now: Instant) -> bool {
    f.locked_until.is_none_or(|until| until <= now) && now.duration_since(f.last) >= f.forget_after
}

/// Whole seconds from `now` until `until`, at least 1 while it is in the future.
fn remaining_secs(until: Instant, now: Instant) -> u64 {
    let left = until.saturating_duration_since(now);
    if left.is_zero() {
        0
    } else {
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }
}

impl FailureThrottle for InProcessFailureThrottle {
    fn locked_for<'a>(
        &'a self,
        key: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u64, Unexpected>> + Send + 'a>> {
        let result = self.locked_for_at(key, Instant::now());
        Box::pin(async move { result })
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        policy: LockoutPolicy,
    ) -> Pin<Box<dyn Future<Output = Result<u64, Unexpected>> + Send + 'a>> {
        let result = self.record_failure_at(key, policy, Instant::now());
        Box::pin(async move { result })
    }

    fn clear<'a>(
        &'a self,
        key: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), Unexpected>> + Send + 'a>> {
        let result = self.clear_now(key);
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: LockoutPolicy = LockoutPolicy {
        free_failures: 3,
        base_lock_secs: 10,
        max_lock_secs: 40,
        forget_after_secs: 100,
    };

    #[test]
    fn a_flood_of_distinct_keys_keeps_the_limiter_bounded() {
        let limiter = InProcessRateLimiter::with_capacity(100);
        let start = Instant::now();
        let window = Duration::from_secs(60);

        for i in 0..10_000 {
            let decision = limiter
                .decide(&format!("ip:{i}"), 5, window, start)
                .expect("ok");
            assert!(decision.allowed);
        }

        assert!(limiter.len() <= 100, "held {} keys", limiter.len());
        assert!(
            limiter
                .decide("ip:9999", 1, window, start)
                .is_ok_and(|d| !d.allowed),
            "the newest keys are kept"
        );
    }

    #[test]
    fn failures_lock_a_key_for_growing_periods_and_a_success_clears_them() {
        let throttle = InProcessFailureThrottle::with_capacity(100);
        let t0 = Instant::now();

        let first_two: Vec<u64> = (0..2)
            .map(|_| throttle.record_failure_at("k", POLICY, t0).expect("ok"))
            .collect();
        let third = throttle.record_failure_at("k", POLICY, t0).expect("ok");
        let locked = throttle.locked_for_at("k", t0).expect("ok");
        let fourth = throttle
            .record_failure_at("k", POLICY, t0 + Duration::from_secs(10))
            .expect("ok");
        let fifth = throttle
            .record_failure_at("k", POLICY, t0 + Duration::from_secs(30))
            .expect("ok");
        let sixth = throttle
            .record_failure_at("k", POLICY, t0 + Duration::from_secs(70))
            .expect("ok");
        let other = throttle.locked_for_at("other", t0).expect("ok");

        assert_eq!(first_two, [0, 0]);
        assert_eq!((third, locked), (10, 10));
        assert_eq!((fourth, fifth, sixth), (20, 40, 40), "doubling, capped");
        assert_eq!(other, 0, "keys are independent");
        throttle.clear_now("k").expect("ok");
        assert_eq!(
            throttle
                .locked_for_at("k", t0 + Duration::from_secs(71))
                .expect("ok"),
            0
        );
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_period() {
        let throttle = InProcessFailureThrottle::with_capacity(100);
        let t0 = Instant::now();
        for _ in 0..2 {
            throttle.record_failure_at("k", POLICY, t0).expect("ok");
        }

        let later = throttle
            .record_failure_at("k", POLICY, t0 + Duration::from_secs(100))
            .expect("ok");

        assert_eq!(later, 0, "the count started again");
    }

    #[test]
    fn a_flood_of_distinct_keys_keeps_the_throttle_bounded() {
        let throttle = InProcessFailureThrottle::with_capacity(100);
        let t0 = Instant::now();
        for _ in 0..3 {
            throttle
                .record_failure_at("victim", POLICY, t0)
                .expect("ok");
        }
        // Old, unlocked entries are swept first.
        for i in 0..50 {
            throttle
                .record_failure_at(&format!("old:{i}"), POLICY, t0)
                .expect("ok");
        }
        let later = t0 + Duration::from_secs(5);

        for i in 0..10_000 {
            throttle
                .record_failure_at(&format!("flood:{i}"), POLICY, later)
                .expect("ok");
        }

        assert!(throttle.len() <= 100, "held {} keys", throttle.len());
    }

    #[test]
    fn allows_up_to_the_limit_then_refuses_until_the_window_ends() {
        let limiter = InProcessRateLimiter::new();
        let start = Instant::now();
        let window = Duration::from_secs(60);
        for _ in 0..3 {
            assert!(
                limiter
                    .decide("ip:1", 3, window, start)
                    .expect("ok")
                    .allowed
            );
        }
        let refused = limiter
            .decide("ip:1", 3, window, start + Duration::from_secs(20))
            .expect("ok");
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 40);
        assert!(
            limiter
                .decide("ip:2", 3, window, start)
                .expect("ok")
                .allowed,
            "keys are independent"
        );
        assert!(
            limiter
                .decide("ip:1", 3, window, start + window)
                .expect("ok")
                .allowed,
            "a new window starts"
        );
    }
}
