//! Carts on Redis: one sorted set per user, expiring after a period without changes.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Unexpected, UserId};
use nexus_orders::{CartItem, CartStore, CartStoreError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, SortedSetAddOptions};
use uuid::Uuid;

/// Key prefix used unless [`RedisCartStore::with_prefix`] says otherwise.
pub(crate) const DEFAULT_PREFIX: &str = "nexus";

/// Reconnection attempts before a command fails. Fewer than redis-rs's default six, so an
/// outage surfaces as an error within about a second instead of stalling requests.
const CONNECTION_RETRIES: usize = 3;

/// Longest pause between two reconnection attempts.
const RETRY_MAX_DELAY: Duration = Duration::from_millis(500);

/// How long one connection attempt may take (a host that drops packets, not a refusal).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a command waits for its answer before failing: a server that hangs cannot hold
/// a request longer than this (plus the reconnection attempts).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Opens the shared, self-reconnecting connection with the retries and timeouts above.
pub(crate) async fn connection(url: &str) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_number_of_retries(CONNECTION_RETRIES)
        .set_max_delay(RETRY_MAX_DELAY)
        .set_connection_timeout(Some(CONNECTION_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    ConnectionManager::new_with_config(client, config).await
}

/// The cart store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The time-to-live must be at least one millisecond (and fit Redis' 64-bit integers).
    #[error("cart time-to-live must be at least 1 ms")]
    InvalidTtl,
    /// The URL is invalid or the server cannot be reached.
    #[error("cannot connect to Redis")]
    Redis(#[source] redis::RedisError),
}

/// Carts on Redis. Each user's cart is the sorted set `nexus:cart:<user uuid>`: members are
/// product UUIDs, scores the time each was added in Unix milliseconds. Every write renews
/// the key's time-to-live, so a cart disappears after that long without changes.
///
/// Cloning is cheap and clones share one multiplexed, self-reconnecting connection.
#[derive(Clone)]
pub struct RedisCartStore {
    conn: ConnectionManager,
    ttl_ms: i64,
    prefix: String,
}

impl fmt::Debug for RedisCartStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCartStore")
            .field("prefix", &self.prefix)
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl RedisCartStore {
    /// Connects to the Redis at `url` (`redis://[:password@]host:port[/db]`, or `rediss://`
    /// for TLS when redis-rs is built with it); carts live for `ttl` after their last change.
    ///
    /// # Errors
    /// `ConnectError::InvalidTtl` for a zero or absurdly long `ttl`;
    /// `ConnectError::Redis` when the URL is invalid or the server does not answer.
    pub async fn connect(url: &str, ttl: Duration) -> Result<Self, ConnectError> {
        let ttl_ms = i64::try_from(ttl.as_millis())
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or(ConnectError::InvalidTtl)?;
        let conn = connection(url).await.map_err(ConnectError::Redis)?;
        Ok(Self {
            conn,
            ttl_ms,
            prefix: DEFAULT_PREFIX.to_owned(),
        })
    }

    /// The same store with keys under `prefix` instead of `nexus` (`<prefix>:cart:<user>`):
    /// lets several deployments or test runs share one Redis.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The Redis key holding `user`'s cart, for operators and tests.
    #[must_use]
    pub fn key(&self, user: UserId) -> String {
        format!("{}:cart:{}", self.prefix, user.as_uuid())
    }

    /// How long a cart lives after its last change.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms.unsigned_abs())
    }

    /// Sends `PING` over the shared connection, for readiness probes. It fails within the
    /// connection's response timeout while Redis is away.
    ///
    /// # Errors
    /// `Unexpected` when Redis does not answer `PONG`.
    pub async fn ping(&self) -> Result<(), CartStoreError> {
        let mut conn = self.conn.clone();
        let pong: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(redis_error("pinging Redis"))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(Unexpected::msg("Redis answered PING with something other than PONG").into())
        }
    }
}

/// Whether `err` (one error, not its sources: callers walk the chain) says Redis could not be
/// reached, went away, timed out or is still loading its data: worth retrying later, unlike
/// a refused command. The connection manager reconnects by itself once Redis answers again.
#[must_use]
pub fn is_unavailable(err: &(dyn std::error::Error + 'static)) -> bool {
    err.downcast_ref::<redis::RedisError>().is_some_and(|e| {
        e.is_io_error()
            || e.is_timeout()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || matches!(
                e.kind(),
                redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
            )
    })
}

fn redis_error(context: &'static str) -> impl FnOnce(redis::RedisError) -> CartStoreError {
    move |e| Unexpected::new(context, e).into()
}

/// Rebuilds an item from a sorted-set entry; anything we did not write is `Unexpected`.
fn item_from_entry(member: &str, score: f64) -> Result<CartItem, CartStoreError> {
    let product_id = Uuid::parse_str(member)
        .map(ProductId::from_uuid)
        .map_err(|e| Unexpected::new("cart member is not a product id", e))?;
    let added_at = Some(score)
        .filter(|s| s.is_finite() && s.fract() == 0.0)
        // Whole-number scores up to 2^53 are exact; times in this era are far below that.
        .and_then(|s| DateTime::from_timestamp_millis(s as i64))
        .ok_or_else(|| Unexpected::msg("cart score is not a time in milliseconds"))?;
    Ok(CartItem {
        product_id,
        added_at,
    })
}

#[async_trait]
impl CartStore for RedisCartStore {
    async fn items(&self, user: UserId) -> Result<Vec<CartItem>, CartStoreError> {
        let mut conn = self.conn.clone();
        // Ascending score, ties by member: oldest first and stable.
        let entries: Vec<(String, f64)> = conn
            .zrange_withscores(self.key(user), 0, -1)
            .await
            .map_err(redis_error("reading cart"))?;
        entries
            .iter()
            .map(|(member, score)| item_from_entry(member, *score))
            .collect()
    }

    async fn add(
        &self,
        user: UserId,
        product: ProductId,
        now: DateTime<Utc>,
    ) -> Result<bool, CartStoreError> {
        let key = self.key(user);
        let mut conn = self.conn.clone();
        // MULTI/EXEC: the cart can never be left without an expiry. NX keeps the first
        // time a product was added; the expiry is renewed either way.
        let (added, _renewed): (u32, bool) = redis::pipe()
            .atomic()
            .zadd_options(
                &key,
                product.as_uuid().to_string(),
                now.timestamp_millis(),
                &SortedSetAddOptions::add_only(),
            )
            .pexpire(&key, self.ttl_ms)
            .query_async(&mut conn)
            .await
            .map_err(redis_error("adding to cart"))?;
        Ok(added == 1)
    }

    async fn remove(&self, user: UserId, product: ProductId) -> Result<bool, CartStoreError> {
        let key = self.key(user);
        let mut conn = self.conn.clone();
        // Removing the last member deletes the key; PEXPIRE on a missing key is a no-op.
        let (removed, _renewed): (u32, bool) = redis::pipe()
            .atomic()
            .zrem(&key, product.as_uuid().to_string())
            .pexpire(&key, self.ttl_ms)
            .query_async(&mut conn)
            .await
            .map_err(redis_error("removing from cart"))?;
        Ok(removed == 1)
    }

    async fn clear(&self, user: UserId) -> Result<(), CartStoreError> {
        let mut conn = self.conn.clone();
        let _deleted: u32 = conn
            .del(self.key(user))
            .await
            .map_err(redis_error("clearing cart"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_dropped_or_timed_out_connection_is_unavailable() {
        use std::io::ErrorKind as K;
        for kind in [
            K::ConnectionRefused,
            K::BrokenPipe,
            K::ConnectionReset,
            K::TimedOut,
        ] {
            let err = redis::RedisError::from(std::io::Error::from(kind));
            assert!(is_unavailable(&err), "{kind:?}");
        }
    }

    #[test]
    fn a_refused_command_or_another_error_is_not_unavailable() {
        let err = redis::RedisError::from((redis::ErrorKind::UnexpectedReturnType, "not a set"));
        assert!(!is_unavailable(&err));
        assert!(!is_unavailable(&std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        )));
    }

    #[test]
    fn entries_rebuild_items_with_millisecond_times() {
        let product = Uuid::now_v7();

        let item = item_from_entry(&product.to_string(), 1_767_225_600_123.0).expect("valid");

        assert_eq!(item.product_id.as_uuid(), product);
        assert_eq!(item.added_at.timestamp_millis(), 1_767_225_600_123);
    }

    #[test]
    fn entries_we_did_not_write_are_unexpected() {
        let product = Uuid::now_v7().to_string();
        for (member, score) in [
            ("not-a-uuid", 1.0),
            (product.as_str(), f64::NAN),
            (product.as_str(), 1.5),
            (product.as_str(), f64::INFINITY),
            (product.as_str(), 1e300),
        ] {
            assert!(item_from_entry(member, score).is_err(), "{member} {score}");
        }
    }
}
