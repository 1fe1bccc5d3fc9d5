//! The shared cache on a real Redis and its in-process twin: values with a time-to-live,
//! generations that only move forward (also after the counter is lost), the key layout, and
//! many concurrent invalidations.
//!
//! Like the cart tests, the Redis ones use `TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`) and a fresh key prefix each, deleting their keys at the end;
//! they fail under `CI=true` when Redis is unreachable and are skipped with a note otherwise.

use std::sync::Arc;
use std::time::Duration;

use nexus_kernel::SharedCache;
use nexus_redis_store::{InMemoryCache, RedisCache};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use uuid::Uuid;

fn url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// A cache under a prefix of its own, plus a raw connection to inspect and clean up.
struct Fixture {
    cache: RedisCache,
    prefix: String,
    raw: ConnectionManager,
}

impl Fixture {
    async fn cleanup(mut self) {
        let mut keys = Vec::new();
        {
            let mut iter = self
                .raw
                .scan_match::<_, String>(format!("{}:*", self.prefix))
                .await
                .expect("scan test keys");
            while let Some(key) = iter.next_item().await {
                keys.push(key.expect("scanned key"));
            }
        }
        if !keys.is_empty() {
            let _: u64 = self.raw.del(keys).await.expect("delete test keys");
        }
    }
}

#[expect(
    clippy::print_stderr,
    reason = "tests have no tracing subscriber; the note must be seen"
)]
async fn setup() -> Option<Fixture> {
    let url = url();
    let cache = match RedisCache::connect(&url).await {
        Ok(cache) => cache,
        Err(e) if in_ci() => panic!("CI=true but Redis (TEST_REDIS_URL) is unreachable: {e:?}"),
        Err(e) => {
            eprintln!("note: Redis (TEST_REDIS_URL) is unreachable, skipping test: {e}");
            return None;
        }
    };
    let prefix = format!("nexus-test-{}", Uuid::new_v4());
    let raw = ConnectionManager::new(redis::Client::open(url).expect("valid URL"))
        .await
        .expect("second connection");
    Some(Fixture {
        cache: cache.with_prefix(prefix.clone()),
        prefix,
        raw,
    })
}

// --- behaviour both adapters share ------------------------------------------------------------

async fn stores_and_reads_back_bytes(cache: &dyn SharedCache) {
    assert_eq!(cache.get("k1").await.expect("get"), None);
    cache
        .put("k1", b"{\"a\":1}", Duration::from_secs(60))
        .await
        .expect("put");
    cache
        .put("k1", b"{\"a\":2}", Duration::from_secs(60))
        .await
        .expect("put again");
    assert_eq!(
        cache.get("k1").await.expect("get").as_deref(),
        Some(&b"{\"a\":2}"[..])
    );
    assert_eq!(cache.get("k2").await.expect("get"), None);
}

async fn a_value_is_gone_after_its_ttl(cache: &dyn SharedCache) {
    cache
        .put("short", b"x", Duration::from_millis(50))
        .await
        .expect("put");
    cache
        .put("long", b"y", Duration::from_secs(60))
        .await
        .expect("put");
    let mut gone = false;
    for _ in 0..100 {
        if cache.get("short").await.expect("get").is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the short-lived value expired");
    assert!(cache.get("long").await.expect("get").is_some());
}

async fn invalidate_moves_only_its_namespace_forward(cache: &dyn SharedCache) {
    let products = cache.generation("products").await.expect("generation");
    let pages = cache.generation("pages").await.expect("generation");
    assert!(products > 0);
    assert_eq!(cache.generation("products").await.expect("again"), products);

    let next = cache.invalidate("products").await.expect("invalidate");

    assert!(next > products);
    assert_eq!(cache.generation("products").await.expect("after"), next);
    assert_eq!(cache.generation("pages").await.expect("other"), pages);
}

async fn concurrent_invalidations_each_get_their_own_generation(cache: Arc<dyn SharedCache>) {
    let before = cache.generation("ns").await.expect("generation");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.invalidate("ns").await.expect("invalidate") })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.expect("task"));
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 50, "no two invalidations share a generation");
    assert_eq!(cache.generation("ns").await.expect("after"), before + 50);
}

// --- in process -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_cache_behaves_like_the_shared_one() {
    let cache = Arc::new(InMemoryCache::new(1 << 20));
    stores_and_reads_back_bytes(cache.as_ref()).await;
    a_value_is_gone_after_its_ttl(cache.as_ref()).await;
    invalidate_moves_only_its_namespace_forward(cache.as_ref()).await;
    concurrent_invalidations_each_get_their_own_generation(cache).await;
}

// --- Redis ------------------------------------------------------------------------------------

#[tokio::test]
async fn redis_cache_stores_and_reads_back_bytes() {
    let Some(f) = setup().await else { return };
    stores_and_reads_back_bytes(&f.cache).await;
    f.cleanup().await;
}

#[tokio::test]
async fn redis_cache_values_expire_with_their_ttl() {
    let Some(mut f) = setup().await else { return };
    a_value_is_gone_after_its_ttl(&f.cache).await;
    let pttl: i64 = f.raw.pttl(f.cache.key("long")).await.expect("pttl");
    assert!((1..=60_000).contains(&pttl), "{pttl}");
    f.cleanup().await;
}

#[tokio::test]
async fn redis_cache_invalidates_by_namespace() {
    let Some(f) = setup().await else { return };
    invalidate_moves_only_its_namespace_forward(&f.cache).await;
    f.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cache_counts_concurrent_invalidations_exactly() {
    let Some(f) = setup().await else { return };
    concurrent_invalidations_each_get_their_own_generation(Arc::new(f.cache.clone())).await;
    f.cleanup().await;
}

#[tokio::test]
async fn a_lost_generation_counter_restarts_above_every_earlier_generation() {
    let Some(mut f) = setup().await else { return };
    let first = f.cache.generation("products").await.expect("generation");
    let bumped = f.cache.invalidate("products").await.expect("invalidate");
    let stored: String = f
        .raw
        .get(f.cache.generation_key("products"))
        .await
        .expect("the counter is a plain Redis key");
    assert_eq!(stored, bumped.to_string());

    let _: u64 = f
        .raw
        .del(f.cache.generation_key("products"))
        .await
        .expect("lose the counter");
    let restarted = f.cache.generation("products").await.expect("generation");

    assert!(bumped > first);
    assert!(
        restarted > bumped,
        "{restarted} must be above the lost {bumped}"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_a_miss() {
    // Port 1 refuses connections; connect fails at start-up rather than later.
    let result = RedisCache::connect("redis://127.0.0.1:1").await;
    assert!(result.is_err());
}
