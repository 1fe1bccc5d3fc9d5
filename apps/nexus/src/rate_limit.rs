//! The in-process rate limiter: fixed windows per key, kept in memory. It limits one
//! instance; with several instances behind a load balancer, a shared store is needed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nexus_kernel::{RateDecision, RateLimiter, Unexpected};

/// Fixed-window counters in a mutex-guarded map, swept as they expire.
#[derive(Debug, Default)]
pub struct InProcessRateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl InProcessRateLimiter {
    /// An empty limiter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
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
        // Sweep expired windows now and then so the map cannot grow without bound.
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
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

#[cfg(test)]
mod tests {
    use super::*;

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
