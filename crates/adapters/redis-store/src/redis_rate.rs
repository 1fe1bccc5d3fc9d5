//! Rate limits on Redis: a sliding window per key, counted by one Lua script, so every
//! instance sharing the Redis counts against the same limit.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::time::Duration;

use nexus_kernel::{RateDecision, RateLimiter, Unexpected};
use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::redis_cart::{DEFAULT_PREFIX, connection};

/// The sliding window, run atomically by Redis (a script blocks every other command while it
/// runs, so concurrent checks from any number of instances cannot both take the last slot).
///
/// `KEYS[1]`: the window, a sorted set whose members are the admitted hits and whose scores
/// are their times in milliseconds of the **Redis server's clock** (`TIME`), so instances with
/// skewed clocks agree. `ARGV[1]`: the limit; `ARGV[2]`: the window in milliseconds;
/// `ARGV[3]`: a unique member for this hit.
///
/// Milliseconds, not microseconds: Lua passes numbers to Redis with 14 significant digits,
/// which hold a time in milliseconds exactly. A hit exactly one window old has left it.
/// Hits older than the window are dropped; if fewer than the limit remain, this hit is added
/// and the key's expiry set to the window. A refused hit is not recorded (a flood of refused
/// requests neither grows the set nor pushes the window forward), so a key holds at most
/// `limit` members. Returns `{1, 0}` when admitted, `{0, ms}` when refused, `ms` being the
/// time until the oldest hit leaves the window.
const SLIDING_WINDOW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then
  wait = tonumber(oldest[2]) + window - now
end
return {0, wait}
";

/// The script, hashed once; `invoke_async` sends `EVALSHA` and loads it only when Redis does
/// not know it yet (first use, or after a restart).
static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(SLIDING_WINDOW));

/// Rate limits shared by every instance using one Redis: a sliding window per key (a sorted
/// set of the admitted hits, `<prefix>:rate:<key>`), checked and updated by one Lua script in
/// one round trip.
///
/// Cloning is cheap and clones share one multiplexed, self-reconnecting connection.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Connects to the Redis at `url` (same URL forms and timeouts as
    /// [`crate::RedisCartStore::connect`]).
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

    /// The same limiter with keys under `prefix` instead of `nexus` (`<prefix>:rate:<key>`):
    /// lets several deployments or test runs share one Redis.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The Redis key holding the window of `key`, for operators and tests.
    #[must_use]
    pub fn key(&self, key: &str) -> String {
        format!("{}:rate:{key}", self.prefix)
    }

    async fn check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, Unexpected> {
        // At least 1 ms (PEXPIRE refuses 0) and at most 2^40 ms, about 35 years, so every
        // number the script computes stays exact in Lua's 14 printed digits.
        let window_ms = u64::try_from(window.as_millis())
            .unwrap_or(u64::MAX)
            .clamp(1, 1 << 40);
        let mut conn = self.conn.clone();
        let (allowed, retry_after_ms): (u8, u64) = SCRIPT
            .key(self.key(key))
            .arg(limit)
            .arg(window_ms)
            .arg(Uuid::new_v4().simple().to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(|e| Unexpected::new("checking a rate limit in Redis", e))?;
        Ok(RateDecision {
            allowed: allowed == 1,
            retry_after_secs: if allowed == 1 {
                0
            } else {
                retry_after_ms.div_ceil(1000).max(1)
            },
        })
    }
}

impl RateLimiter for RedisRateLimiter {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<RateDecision, Unexpected>> + Send + 'a>> {
        Box::pin(self.check(key, limit, window))
    }
}
