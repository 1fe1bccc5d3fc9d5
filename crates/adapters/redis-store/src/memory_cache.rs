//! The in-process twin of [`crate::RedisCache`]: values in a moka cache bounded by bytes,
//! each with its own time-to-live, and generations in a map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moka::Expiry;
use moka::future::Cache;
use nexus_kernel::{CacheFuture, SharedCache, Unexpected};

/// A stored value and how long it lives.
#[derive(Clone)]
struct Stored {
    bytes: Arc<[u8]>,
    ttl: Duration,
}

/// Each entry expires `ttl` after it was written.
struct PerEntryTtl;

impl Expiry<String, Stored> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Stored,
        _now: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Stored,
        _now: Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The shared-cache port in this process only: what one instance caches, no other sees.
/// For tests, tools and a single instance without Redis. Holds at most `max_bytes` of values
/// (keys and values counted), evicting the least used first.
pub struct InMemoryCache {
    values: Cache<String, Stored>,
    generations: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for InMemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryCache")
            .field("entries", &self.values.entry_count())
            .finish_non_exhaustive()
    }
}

impl InMemoryCache {
    /// An empty cache holding at most about `max_bytes`.
    #[must_use]
    pub fn new(max_bytes: u64) -> Self {
        Self {
            values: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &String, v: &Stored| {
                    u32::try_from(k.len() + v.bytes.len()).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .build(),
            generations: Mutex::new(HashMap::new()),
        }
    }

    fn bump(&self, namespace: &str, by: u64) -> Result<u64, Unexpected> {
        let mut generations = self
            .generations
            .lock()
            .map_err(|_| Unexpected::msg("cache generations lock poisoned"))?;
        // Same start as Redis: the clock in microseconds, so a restarted process never
        // reuses a generation a shared store might still hold values for.
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2));
        let g = generations.entry(namespace.to_owned()).or_insert(start);
        *g = g.saturating_add(by);
        Ok(*g)
    }
}

impl SharedCache for InMemoryCache {
    fn get<'a>(&'a self, key: &'a str) -> CacheFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move { Ok(self.values.get(key).await.map(|s| s.bytes.to_vec())) })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> CacheFuture<'a, ()> {
        Box::pin(async move {
            let stored = Stored {
                bytes: Arc::from(value),
                ttl: ttl.max(Duration::from_millis(1)),
            };
            self.values.insert(key.to_owned(), stored).await;
            Ok(())
        })
    }

    fn generation<'a>(&'a self, namespace: &'a str) -> CacheFuture<'a, u64> {
        let result = self.bump(namespace, 0);
        Box::pin(async move { result })
    }

    fn invalidate<'a>(&'a self, namespace: &'a str) -> CacheFuture<'a, u64> {
        let result = self.bump(namespace, 1);
        Box::pin(async move { result })
    }
}
