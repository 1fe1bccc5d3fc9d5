//! The in-process rate limiter and failure throttle: counters per key, kept in memory. They
//! limit one instance; with several instances behind a load balancer, rate limits are shared
//! through Redis ([`nexus_redis_store::RedisRateLimiter`]) behind a [`FallbackRateLimiter`],
//! which counts in process while Redis cannot answer. Lockouts stay per instance.
//!
//! Memory stays bounded under a flood of distinct keys: at `capacity` keys, expired ones are
//! swept, and if that is not enough the oldest are evicted. Eviction forgets a client's
//! count, which favours the client, never locks anyone out.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
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

/// How often, while Redis is failing, one request tries it again instead of counting in
/// process: the other requests meanwhile pay no reconnection delay.
pub const SHARED_RETRY_EVERY: Duration = Duration::from_secs(2);

/// Where a [`FallbackRateLimiter`] counts at the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// In the shared store (Redis): the limits hold across instances.
    Shared,
    /// In this process, because the shared store failed: each instance counts alone.
    InProcess,
}

/// An outage of the shared store: when it was last tried.
#[derive(Debug, Clone, Copy)]
struct Outage {
    last_try: Instant,
}

/// A shared limiter (Redis) that falls back to counting in process while it fails, so a
/// Redis outage never turns into 500s or 503s, nor into no limits at all.
///
/// The first failure logs one warning and switches to the in-process counts; while failing,
/// one request every `retry_every` tries the shared store again (the others count in
/// process at once); the first answer logs one info and switches back. Counts made in
/// process during the outage are not carried over to Redis.
pub struct FallbackRateLimiter {
    shared: Arc<dyn RateLimiter>,
    local: InProcessRateLimiter,
    outage: Mutex<Option<Outage>>,
    retry_every: Duration,
}

impl std::fmt::Debug for FallbackRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackRateLimiter")
            .field("counting", &self.counting())
            .field("retry_every", &self.retry_every)
            .finish_non_exhaustive()
    }
}

impl FallbackRateLimiter {
    /// Counts in `shared`, falling back to process memory while it fails; retried at most
    /// once per `retry_every` meanwhile.
    #[must_use]
    pub fn new(shared: Arc<dyn RateLimiter>, retry_every: Duration) -> Self {
        Self {
            shared,
            local: InProcessRateLimiter::new(),
            outage: Mutex::new(None),
            retry_every,
        }
    }

    /// Where hits are counted now.
    #[must_use]
    pub fn counting(&self) -> Counting {
        match self.outage.lock().map(|o| o.is_some()) {
            Ok(false) => Counting::Shared,
            Ok(true) | Err(_) => Counting::InProcess,
        }
    }

    /// Whether this hit should go to the shared store: always when it is healthy; during an
    /// outage, only the first hit after each `retry_every` (it claims the retry).
    fn try_shared(&self, now: Instant) -> bool {
        let Ok(mut outage) = self.outage.lock() else {
            return false;
        };
        match outage.as_mut() {
            None => true,
            Some(o) if now.duration_since(o.last_try) >= self.retry_every => {
                o.last_try = now;
                true
            }
            Some(_) => false,
        }
    }

    /// Records a failure of the shared store; true if it starts an outage.
    fn failed(&self, now: Instant) -> bool {
        let Ok(mut outage) = self.outage.lock() else {
            return false;
        };
        let started = outage.is_none();
        *outage = Some(Outage { last_try: now });
        started
    }

    /// Records an answer of the shared store; true if it ends an outage.
    fn answered(&self) -> bool {
        self.outage.lock().is_ok_and(|mut o| o.take().is_some())
    }

    async fn check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, Unexpected> {
        if self.try_shared(Instant::now()) {
            match self.shared.hit(key, limit, window).await {
                Ok(decision) => {
                    if self.answered() {
                        metrics::gauge!("nexus_rate_limit_in_process").set(0.0);
                        tracing::info!("Redis answers again: rate limits are shared again");
                    }
                    return Ok(decision);
                }
                Err(error) => {
                    if self.failed(Instant::now()) {
                        metrics::gauge!("nexus_rate_limit_in_process").set(1.0);
                        let cause = std::error::Error::source(&error).map(ToString::to_string);
                        tracing::warn!(
                            %error,
                            cause,
                            "Redis is failing: rate limits are counted in this process until it answers"
                        );
                    }
                }
            }
        }
        self.local.decide(key, limit, window, Instant::now())
    }
}

impl RateLimiter for FallbackRateLimiter {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<RateDecision, Unexpected>> + Send + 'a>> {
        Box::pin(self.check(key, limit, window))
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

    /// A shared store that can be switched off, counting its calls.
    struct Switchable {
        up: std::sync::atomic::AtomicBool,
        calls: std::sync::atomic::AtomicU32,
        inner: InProcessRateLimiter,
    }

    impl Switchable {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                up: true.into(),
                calls: 0.into(),
                inner: InProcessRateLimiter::new(),
            })
        }

        fn set_up(&self, up: bool) {
            self.up.store(up, std::sync::atomic::Ordering::SeqCst);
        }

        fn calls(&self) -> u32 {
            self.calls.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl RateLimiter for Switchable {
        fn hit<'a>(
            &'a self,
            key: &'a str,
            limit: u32,
            window: Duration,
        ) -> Pin<Box<dyn Future<Output = Result<RateDecision, Unexpected>> + Send + 'a>> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let up = self.up.load(std::sync::atomic::Ordering::SeqCst);
            let result = if up {
                self.inner.decide(key, limit, window, Instant::now())
            } else {
                Err(Unexpected::new(
                    "checking a rate limit in Redis",
                    std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
                ))
            };
            Box::pin(async move { result })
        }
    }

    /// Log lines written while it is the default subscriber of this thread.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Logs {
        fn lines(&self, needle: &str) -> usize {
            let bytes = self.0.lock().expect("logs").clone();
            String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| l.contains(needle))
                .count()
        }
    }

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("logs").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    #[tokio::test]
    async fn a_failing_shared_store_falls_back_with_one_warning_and_returns_with_one_info() {
        let (logs, _guard) = capture_logs();
        let shared = Switchable::new();
        let limiter = FallbackRateLimiter::new(shared.clone(), Duration::ZERO);
        let window = Duration::from_secs(60);
        assert!(limiter.hit("k", 3, window).await.expect("ok").allowed);

        shared.set_up(false);
        let during: Vec<bool> = {
            let mut v = Vec::new();
            for _ in 0..5 {
                v.push(limiter.hit("k", 3, window).await.expect("no error").allowed);
            }
            v
        };
        let counting_during = limiter.counting();
        shared.set_up(true);
        let back = limiter.hit("k", 3, window).await.expect("ok");

        assert_eq!(
            during,
            [true, true, true, false, false],
            "counted in process during the outage"
        );
        assert_eq!(counting_during, Counting::InProcess);
        assert_eq!(limiter.counting(), Counting::Shared);
        assert!(
            back.allowed,
            "the shared count resumes where it was (1 of 3)"
        );
        assert_eq!(logs.lines("WARN"), 1, "one warning for the whole outage");
        assert_eq!(logs.lines("Redis is failing"), 1);
        assert_eq!(logs.lines("Redis answers again"), 1);
    }

    #[tokio::test]
    async fn during_an_outage_the_shared_store_is_retried_once_per_interval() {
        let shared = Switchable::new();
        let limiter = FallbackRateLimiter::new(shared.clone(), Duration::from_secs(3600));
        shared.set_up(false);

        for _ in 0..10 {
            let decision = limiter
                .hit("k", 100, Duration::from_secs(60))
                .await
                .expect("no error");
            assert!(decision.allowed);
        }
        shared.set_up(true);
        let still = limiter.hit("k", 100, Duration::from_secs(60)).await;

        assert!(still.is_ok());
        assert_eq!(
            shared.calls(),
            1,
            "only the first hit tried the failing store"
        );
        assert_eq!(
            limiter.counting(),
            Counting::InProcess,
            "not retried before the interval"
        );
    }
}
