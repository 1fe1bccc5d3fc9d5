//! The shared response cache on Redis: bytes under `<prefix>:cache:<key>` with a
//! time-to-live, and a generation counter per namespace under `<prefix>:cache-gen:<namespace>`.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use nexus_kernel::{CacheFuture, SharedCache, Unexpected};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::redis_cart::{DEFAULT_PREFIX, connection};

/// Reads a namespace's generation, first setting it when missing, and increases it when
/// `ARGV[1]` is `1`; one round trip, atomic.
///
/// A missing counter (never set, or lost with an unpersisted restart or an eviction) starts
/// at the Redis server's clock in microseconds: higher than any generation an earlier
/// counter could have reached unless it was bumped more than a million times a second, so
/// entries stored under an old generation are never read again. The number stays below
/// 2^53, exact in Lua.
const GENERATION: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then
  local t = redis.call('TIME')
  v = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', KEYS[1], v, 'NX')
  v = redis.call('GET', KEYS[1])
end
if ARGV[1] == '1' then
  return redis.call('INCR', KEYS[1])
end
return tonumber(v)
";

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(GENERATION));

/// The cache every instance shares, on Redis. Values are plain strings with `PX` expiry;
/// generations are counters without expiry (a few bytes per namespace).
///
/// Cloning is cheap and clones share one multiplexed, self-reconnecting connection (with the
/// retries and timeouts of [`crate::RedisCartStore::connect`], so an outage fails a call
/// within about a second).
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Connects to the Redis at `url`.
    ///
    /// # Errors
    /// `ConnectError::Redis` when the URL is invalid or the server does not answer.
    pub async fn connect(url: &str) -> Result<Self, crate::ConnectError> {
        let conn = connection(url).await.map_err(crate::ConnectError::Redis)?;
        Ok(Self {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
        })
    }

    /// The same cache with keys under `prefix` instead of `nexus`.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The Redis key holding the value of `key`, for operators and tests.
    #[must_use]
    pub fn key(&self, key: &str) -> String {
        format!("{}:cache:{key}", self.prefix)
    }

    /// The Redis key holding the generation of `namespace`, for operators and tests.
    #[must_use]
    pub fn generation_key(&self, namespace: &str) -> String {
        format!("{}:cache-gen:{namespace}", self.prefix)
    }

    async fn run_generation(&self, namespace: &str, bump: bool) -> Result<u64, Unexpected> {
        let mut conn = self.conn.clone();
        SCRIPT
            .key(self.generation_key(namespace))
            .arg(if bump { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await
            .map_err(|e| Unexpected::new("reading a cache generation in Redis", e))
    }
}

impl SharedCache for RedisCache {
    fn get<'a>(&'a self, key: &'a str) -> CacheFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            conn.get(self.key(key))
                .await
                .map_err(|e| Unexpected::new("reading the cache in Redis", e))
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> CacheFuture<'a, ()> {
        Box::pin(async move {
            let ms = u64::try_from(ttl.as_millis())
                .unwrap_or(u64::MAX)
                .clamp(1, 1 << 40);
            let mut conn = self.conn.clone();
            conn.pset_ex::<_, _, ()>(self.key(key), value, ms)
                .await
                .map_err(|e| Unexpected::new("writing the cache in Redis", e))
        })
    }

    fn generation<'a>(&'a self, namespace: &'a str) -> CacheFuture<'a, u64> {
        Box::pin(self.run_generation(namespace, false))
    }

    fn invalidate<'a>(&'a self, namespace: &'a str) -> CacheFuture<'a, u64> {
        Box::pin(self.run_generation(namespace, true))
    }
}
