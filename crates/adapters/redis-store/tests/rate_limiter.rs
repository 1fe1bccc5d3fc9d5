//! The Redis rate limiter's Lua sliding window against a real Redis: exact counts at the
//! limit, a window that slides, the key layout and expiry, many concurrent callers, and a server
//! that cannot be reached.
//!
//! Like the cart tests, these use `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and a
//! fresh key prefix each, deleting their keys at the end; they fail under `CI=true` when
//! Redis is unreachable and are skipped with a note otherwise.

mod support;

use std::sync::Arc;
use std::time::Duration;

use nexus_kernel::RateLimiter;
use nexus_redis_store::RedisRateLimiter;
use redis::AsyncCommands;
use support::{Keys, connected, url};

/// A limiter under a prefix of its own, plus a raw connection to inspect and clean up.
struct Fixture {
    limiter: RedisRateLimiter,
    keys: Keys,
}

impl Fixture {
    async fn cleanup(self) {
        self.keys.delete_all().await;
    }
}

/// Connects, or returns `None` (outside CI) when Redis is not running.
async fn setup() -> Option<Fixture> {
    let limiter = connected(RedisRateLimiter::connect(&url()).await)?;
    let keys = Keys::new().await;
    Some(Fixture {
        limiter: limiter.with_prefix(keys.prefix.clone()),
        keys,
    })
}

async fn allowed(limiter: &RedisRateLimiter, key: &str, limit: u32, window: Duration) -> bool {
    limiter
        .hit(key, limit, window)
        .await
        .expect("Redis answers")
        .allowed
}

#[tokio::test]
async fn exactly_the_limit_is_admitted_and_the_next_hit_is_refused_with_retry_after() {
    let Some(f) = setup().await else { return };
    let window = Duration::from_secs(60);

    let mut admitted = Vec::new();
    for _ in 0..5 {
        admitted.push(allowed(&f.limiter, "ip:1", 5, window).await);
    }
    let refused = f.limiter.hit("ip:1", 5, window).await.expect("answer");
    let other = allowed(&f.limiter, "ip:2", 5, window).await;

    assert_eq!(
        admitted, [true; 5],
        "the fifth hit is still within the limit"
    );
    assert!(!refused.allowed, "the sixth hit is over the limit");
    assert!(
        (59..=60).contains(&refused.retry_after_secs),
        "retry after the oldest hit leaves the window: {refused:?}"
    );
    assert!(other, "keys are independent");
    f.cleanup().await;
}

#[tokio::test]
async fn the_window_slides_one_hit_at_a_time() {
    let Some(f) = setup().await else { return };
    let window = Duration::from_millis(1500);

    let first = allowed(&f.limiter, "k", 2, window).await;
    tokio::time::sleep(Duration::from_millis(750)).await;
    let second = allowed(&f.limiter, "k", 2, window).await;
    let third = f.limiter.hit("k", 2, window).await.expect("answer");
    // The first hit leaves the window at 1500 ms; the second stays until 2250 ms.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let after_first_left = allowed(&f.limiter, "k", 2, window).await;
    let still_full = allowed(&f.limiter, "k", 2, window).await;

    assert!(first && second);
    assert!(!third.allowed);
    assert_eq!(
        third.retry_after_secs, 1,
        "about 750 ms, rounded up to whole seconds"
    );
    assert!(
        after_first_left,
        "one slot came back when the first hit left"
    );
    assert!(
        !still_full,
        "a sliding window, not a fixed one: the second hit still counts"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn refused_hits_are_not_recorded_and_the_key_expires_with_the_window() {
    let Some(mut f) = setup().await else { return };
    let window = Duration::from_secs(30);

    for _ in 0..10 {
        let _ = allowed(&f.limiter, "flood", 3, window).await;
    }
    let key = f.limiter.key("flood");
    let members: u64 = f.keys.raw.zcard(&key).await.expect("zcard");
    let ttl_ms: i64 = f.keys.raw.pttl(&key).await.expect("pttl");

    assert_eq!(key, format!("{}:rate:flood", f.keys.prefix));
    assert_eq!(members, 3, "only admitted hits are kept");
    assert!(
        (1..=30_000).contains(&ttl_ms),
        "the key expires within one window: {ttl_ms} ms"
    );
    f.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_callers_never_get_more_than_the_limit() {
    let Some(f) = setup().await else { return };
    let limiter = Arc::new(f.limiter.clone());
    let window = Duration::from_secs(60);

    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { allowed(&limiter, "shared", 37, window).await })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        if task.await.expect("task ends") {
            admitted += 1;
        }
    }

    assert_eq!(
        admitted, 37,
        "exactly the limit, however the calls interleave"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn two_limiters_on_one_redis_count_together() {
    let Some(f) = setup().await else { return };
    let other = RedisRateLimiter::connect(&url())
        .await
        .expect("second limiter")
        .with_prefix(f.keys.prefix.clone());
    let window = Duration::from_secs(60);

    let a = allowed(&f.limiter, "login", 2, window).await;
    let b = allowed(&other, "login", 2, window).await;
    let c = allowed(&f.limiter, "login", 2, window).await;

    assert_eq!((a, b, c), (true, true, false));
    f.cleanup().await;
}

#[tokio::test]
async fn connecting_to_an_unreachable_redis_fails() {
    // A port nothing listens on: connecting is refused at once.
    let unreachable = RedisRateLimiter::connect("redis://127.0.0.1:1").await;

    assert!(matches!(
        unreachable,
        Err(nexus_redis_store::ConnectError::Redis(_))
    ));
}
