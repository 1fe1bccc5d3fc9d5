//! The shared cache port: bytes by key with a time-to-live, and a generation number per
//! namespace whose increase invalidates everything cached under the older number.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::Unexpected;

/// What every [`SharedCache`] method returns: a boxed future, so the port stays object-safe
/// without an async-trait dependency in the kernel.
pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Unexpected>> + Send + 'a>>;

/// A cache every instance of the service shares (Redis), or an in-process twin of it.
///
/// Invalidation is by **generation**: readers put the current generation of a namespace
/// into their keys (`products:<generation>:<key>`), and [`SharedCache::invalidate`] moves
/// the generation on, so every older key stops being read at once and simply expires. No
/// key has to be found and deleted, and a reader racing an invalidation can only store
/// under the old generation, which nobody reads any more.
///
/// Implementations must be safe to share across requests. Every failure (server away,
/// timeout) is an `Unexpected`: callers treat it as "no cache" and read the source of truth.
pub trait SharedCache: Send + Sync {
    /// The bytes stored under `key`, if any and not expired.
    fn get<'a>(&'a self, key: &'a str) -> CacheFuture<'a, Option<Vec<u8>>>;

    /// Stores `value` under `key` for `ttl` (at least a millisecond), replacing what was
    /// there.
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> CacheFuture<'a, ()>;

    /// The current generation of `namespace`. A namespace never seen before starts at a
    /// number that no earlier run of the store handed out, so keys left over from a lost
    /// generation counter are never read again.
    fn generation<'a>(&'a self, namespace: &'a str) -> CacheFuture<'a, u64>;

    /// Moves `namespace` to a new, higher generation and returns it: everything cached under
    /// an older one is no longer read. Calling it twice is harmless (one more miss per key).
    fn invalidate<'a>(&'a self, namespace: &'a str) -> CacheFuture<'a, u64>;
}
