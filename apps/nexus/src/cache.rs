//! The cache of public answers (product list pages and product details): serialized JSON
//! bodies with a strong `ETag`, kept in two tiers, and the conditional-GET answers
//! (`If-None-Match` → 304) built from them.
//!
//! **Tiers.** Each instance keeps a local tier (moka, bounded by bytes, at most
//! `CACHE_TTL_SECS` per entry) in front of the shared one ([`SharedCache`]: Redis, whose
//! entries also live `CACHE_TTL_SECS`), in front of the database. A read looks up the
//! namespace's **generation** (memoized per instance for [`GENERATION_MEMO`]), then the key
//! `<namespace>:<generation>:<key>` locally, then in Redis, then loads it from the database
//! and stores it in both.
//!
//! **Invalidation.** A product write records an event in the same transaction; its
//! `invalidate_catalog_cache` delivery moves the generation on in Redis. Every instance
//! reads the new generation within [`GENERATION_MEMO`] of that, so from then on it reads
//! (and fills) keys of the new generation: the old entries are never read again and expire.
//!
//! **One load per key at a time.** The local tier's `or_try_insert_with` lets one caller
//! per key and instance run the load while the others with the same key wait for its
//! result; the generation lookup is coalesced the same way.
//!
//! **Failures.** When Redis cannot answer the generation, the instance cannot know about
//! invalidations, so it serves neither tier: it answers from the database (outcome
//! `bypass`) and tries Redis again once per [`SHARED_RETRY_EVERY`], so the other requests
//! pay no connection timeout meanwhile. A failed Redis read or write of a value only costs a
//! database read. Nothing here turns into a 5xx.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderMap};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use moka::future::Cache;
use nexus_kernel::SharedCache;
use sha2::{Digest, Sha256};

/// How long an instance reuses a namespace's generation before asking Redis again: the
/// most a write's invalidation waits, after its delivery, to be seen by every instance.
pub const GENERATION_MEMO: Duration = Duration::from_millis(200);

/// While Redis fails, one request per this period tries it again; the others bypass the
/// cache at once.
pub const SHARED_RETRY_EVERY: Duration = Duration::from_secs(2);

/// The most bytes of bodies the local tier of one cache holds.
pub const LOCAL_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// `Cache-Control` of cacheable public answers: anyone may store them, but must revalidate
/// before each reuse (a conditional GET, answered 304 when nothing changed). No `max-age`,
/// so a browser or CDN never serves an answer older than the server's own invalidation.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

/// A cached answer: the JSON body and its strong entity tag.
#[derive(Debug, Clone)]
pub struct CachedBody {
    /// The serialized JSON.
    pub body: Bytes,
    /// `"<first 32 hex digits of the body's SHA-256>"`, quotes included.
    pub etag: String,
}

impl CachedBody {
    /// Wraps a serialized body and computes its entity tag.
    #[must_use]
    pub fn new(body: Vec<u8>) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", &hex::encode(digest)[..32]);
        Self {
            body: Bytes::from(body),
            etag,
        }
    }

    /// The answer to `req`: 304 with no body when its `If-None-Match` matches this tag,
    /// otherwise 200 with the JSON body; both with `ETag` and [`PUBLIC_CACHE_CONTROL`].
    #[must_use]
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        self.respond_as(req, mime_json())
    }

    /// [`CachedBody::respond`] for a body of another media type.
    #[must_use]
    pub fn respond_as(&self, req: &HttpRequest, content_type: header::ContentType) -> HttpResponse {
        let headers = [
            (header::ETAG, self.etag.clone()),
            (header::CACHE_CONTROL, PUBLIC_CACHE_CONTROL.to_owned()),
        ];
        if none_match(req.headers(), &self.etag) {
            let mut res = HttpResponse::NotModified();
            for h in headers {
                res.insert_header(h);
            }
            return res.finish();
        }
        let mut res = HttpResponse::Ok();
        for h in headers {
            res.insert_header(h);
        }
        res.content_type(content_type).body(self.body.clone())
    }
}

fn mime_json() -> header::ContentType {
    header::ContentType::json()
}

/// Whether `If-None-Match` (any number of headers, each a comma-separated list) names
/// `etag` or is `*`. Comparison is weak, as RFC 9110 wants for `If-None-Match`: `W/"x"`
/// matches `"x"`.
#[must_use]
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// A short, fixed-length key part for a normalized request description (so a long search
/// text does not make a long key).
#[must_use]
pub fn key_digest(normalized: &str) -> String {
    hex::encode(&Sha256::digest(normalized.as_bytes())[..16])
}

/// Where a read was answered from, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The local tier or Redis.
    Hit,
    /// The database, then stored.
    Miss,
    /// The database, because Redis could not say whether the cache is current.
    Bypass,
}

impl Outcome {
    const fn label(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Bypass => "bypass",
        }
    }
}

const SOURCE_NONE: u8 = 0;
const SOURCE_SHARED: u8 = 1;
const SOURCE_LOADED: u8 = 2;

/// One cache of public answers (one namespace, one metrics label).
pub struct ResponseCache {
    name: &'static str,
    namespace: &'static str,
    shared: Arc<dyn SharedCache>,
    /// Whether `shared` is another process (Redis): then bodies are stored there too and the
    /// generation is memoized. In process, `shared` only keeps the generations and the local
    /// tier holds the bodies.
    remote: bool,
    /// `None`: caching is off (every read loads; `ETag` and 304 still work).
    ttl: Option<Duration>,
    local: Cache<String, Arc<CachedBody>>,
    generations: Cache<&'static str, u64>,
    /// When Redis last failed and was last tried, while it fails.
    outage: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("name", &self.name)
            .field("remote", &self.remote)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache labelled `name` in metrics, of the `namespace` whose generation `shared`
    /// keeps; `remote` when `shared` is Redis; entries live `ttl` at most (`None`: off).
    #[must_use]
    pub fn new(
        name: &'static str,
        namespace: &'static str,
        shared: Arc<dyn SharedCache>,
        remote: bool,
        ttl: Option<Duration>,
    ) -> Self {
        let ttl = ttl.filter(|t| !t.is_zero());
        Self {
            name,
            namespace,
            shared,
            remote,
            ttl,
            local: Cache::builder()
                .max_capacity(LOCAL_MAX_BYTES)
                .weigher(|k: &String, v: &Arc<CachedBody>| {
                    u32::try_from(k.len() + v.body.len() + v.etag.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl.unwrap_or(Duration::from_secs(1)))
                .build(),
            generations: Cache::builder()
                .max_capacity(64)
                .time_to_live(GENERATION_MEMO)
                .build(),
            outage: Mutex::new(None),
        }
    }

    /// Whether answers are cached at all.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.ttl.is_some()
    }

    /// The cached answer for `key`, or the one `load()` builds (then stored), counted as a
    /// hit, a miss or a bypass in `nexus_cache_requests_total`. `load` is called at most
    /// once, unless another caller's load of the same key failed while this one waited.
    ///
    /// # Errors
    /// What `load` fails with; such answers are never cached.
    pub async fn get_or_load<E, F>(
        &self,
        key: &str,
        load: impl Fn() -> F,
    ) -> Result<Arc<CachedBody>, E>
    where
        F: Future<Output = Result<Vec<u8>, E>>,
    {
        let Some(ttl) = self.ttl else {
            return Ok(Arc::new(CachedBody::new(load().await?)));
        };
        let Some(generation) = self.generation().await else {
            record(self.name, Outcome::Bypass);
            return Ok(Arc::new(CachedBody::new(load().await?)));
        };
        let full_key = format!("{}:{generation}:{key}", self.namespace);
        let source = AtomicU8::new(SOURCE_NONE);
        let failure: Mutex<Option<E>> = Mutex::new(None);
        let entry = {
            let init = async {
                if self.remote {
                    match self.shared.get(&full_key).await {
                        Ok(Some(body)) => {
                            source.store(SOURCE_SHARED, Ordering::Relaxed);
                            return Ok(Arc::new(CachedBody::new(body)));
                        }
                        Ok(None) => {}
                        Err(err) => {
                            tracing::debug!(cache = self.name, error = %err, "cache read failed; loading");
                        }
                    }
                }
                source.store(SOURCE_LOADED, Ordering::Relaxed);
                match load().await {
                    Ok(body) => {
                        let cached = CachedBody::new(body);
                        if self.remote
                            && let Err(err) = self.shared.put(&full_key, &cached.body, ttl).await
                        {
                            tracing::debug!(cache = self.name, error = %err, "cache write failed");
                        }
                        Ok(Arc::new(cached))
                    }
                    Err(err) => {
                        if let Ok(mut slot) = failure.lock() {
                            *slot = Some(err);
                        }
                        Err(())
                    }
                }
            };
            self.local
                .entry(full_key.clone())
                .or_try_insert_with(init)
                .await
        };
        match entry {
            Ok(entry) => {
                let outcome = if source.load(Ordering::Relaxed) == SOURCE_LOADED {
                    Outcome::Miss
                } else {
                    Outcome::Hit
                };
                record(self.name, outcome);
                Ok(entry.into_value())
            }
            Err(_) => {
                if let Some(err) = failure.lock().ok().and_then(|mut slot| slot.take()) {
                    return Err(err);
                }
                // Another caller's load of this key failed while this one waited for it:
                // this caller loads for itself (its error is its own to answer).
                record(self.name, Outcome::Miss);
                Ok(Arc::new(CachedBody::new(load().await?)))
            }
        }
    }

    /// Like [`ResponseCache::get_or_load`], for an answer that also depends on what
    /// `other`'s namespace holds (the sitemap lists products and pages): the key carries
    /// `other`'s generation as well, so a move of either generation makes the answer anew.
    /// While `other` caches nothing or cannot say its generation, `load()` answers uncached.
    ///
    /// # Errors
    /// What `load` fails with; such answers are never cached.
    pub async fn get_or_load_across<E, F>(
        &self,
        other: &Self,
        key: &str,
        load: impl Fn() -> F,
    ) -> Result<Arc<CachedBody>, E>
    where
        F: Future<Output = Result<Vec<u8>, E>>,
    {
        let other_generation = if other.enabled() {
            other.generation().await
        } else {
            None
        };
        match other_generation {
            Some(g) => {
                self.get_or_load(&format!("{key}@{}:{g}", other.namespace), load)
                    .await
            }
            None => {
                record(self.name, Outcome::Bypass);
                Ok(Arc::new(CachedBody::new(load().await?)))
            }
        }
    }

    /// The namespace's current generation, or `None` while Redis cannot say.
    async fn generation(&self) -> Option<u64> {
        if !self.remote {
            return match self.shared.generation(self.namespace).await {
                Ok(g) => Some(g),
                Err(err) => {
                    tracing::warn!(cache = self.name, error = %err, "cache generation unavailable");
                    None
                }
            };
        }
        if let Some(g) = self.generations.get(&self.namespace).await {
            return Some(g);
        }
        if !self.try_shared(Instant::now()) {
            return None;
        }
        let lookup = self
            .generations
            .try_get_with(self.namespace, self.shared.generation(self.namespace))
            .await;
        match lookup {
            Ok(g) => {
                let recovered = self.outage.lock().ok().and_then(|mut o| o.take());
                if recovered.is_some() {
                    tracing::info!(cache = self.name, "Redis answers again: caching resumes");
                }
                Some(g)
            }
            Err(err) => {
                let first = self.outage.lock().ok().is_some_and(|mut o| {
                    let first = o.is_none();
                    *o = Some(Instant::now());
                    first
                });
                if first {
                    tracing::warn!(
                        cache = self.name,
                        error = %err,
                        "Redis cannot answer the cache generation: answering from the database"
                    );
                }
                None
            }
        }
    }

    /// Whether to ask Redis now: always when it is healthy; during an outage only the first
    /// request after each [`SHARED_RETRY_EVERY`] (it claims the retry).
    fn try_shared(&self, now: Instant) -> bool {
        let Ok(mut outage) = self.outage.lock() else {
            return false;
        };
        match outage.as_mut() {
            None => true,
            Some(last) if now.duration_since(*last) >= SHARED_RETRY_EVERY => {
                *last = now;
                true
            }
            Some(_) => false,
        }
    }
}

fn record(name: &'static str, outcome: Outcome) {
    metrics::counter!(
        crate::observability::CACHE_REQUESTS,
        "cache" => name,
        "outcome" => outcome.label(),
    )
    .increment(1);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use actix_web::test::TestRequest;
    use nexus_redis_store::InMemoryCache;

    use super::*;

    fn cache(remote: bool, ttl: Duration) -> (ResponseCache, Arc<InMemoryCache>) {
        let shared = Arc::new(InMemoryCache::new(1 << 20));
        (
            ResponseCache::new("test", "ns", shared.clone(), remote, Some(ttl)),
            shared,
        )
    }

    async fn counted(loads: &AtomicUsize, body: &str) -> Result<Vec<u8>, String> {
        loads.fetch_add(1, Ordering::SeqCst);
        // Long enough for every concurrent caller to arrive while the first loads.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(body.as_bytes().to_vec())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_misses_of_one_key_load_once() {
        let (cache, _) = cache(true, Duration::from_secs(60));
        let cache = Arc::new(cache);
        let loads = Arc::new(AtomicUsize::new(0));

        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (cache, loads) = (cache.clone(), loads.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_load("k", || counted(&loads, "{}"))
                        .await
                        .map(|b| b.etag.clone())
                })
            })
            .collect();
        let mut tags = Vec::new();
        for t in tasks {
            tags.push(t.await.expect("task").expect("loaded"));
        }

        assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for 32 callers");
        tags.dedup();
        assert_eq!(tags.len(), 1);
    }

    #[tokio::test]
    async fn a_second_instance_reads_what_the_first_stored_in_the_shared_tier() {
        let shared = Arc::new(InMemoryCache::new(1 << 20));
        let a = ResponseCache::new(
            "t",
            "ns",
            shared.clone(),
            true,
            Some(Duration::from_secs(60)),
        );
        let b = ResponseCache::new("t", "ns", shared, true, Some(Duration::from_secs(60)));
        let loads = AtomicUsize::new(0);

        let first = a
            .get_or_load("k", || counted(&loads, "[1]"))
            .await
            .expect("a");
        let second = b
            .get_or_load("k", || counted(&loads, "[2]"))
            .await
            .expect("b");

        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(second.body, first.body);
        assert_eq!(second.etag, first.etag);
    }

    #[tokio::test]
    async fn invalidation_makes_the_next_read_load_again() {
        let (cache, shared) = cache(false, Duration::from_secs(60));
        let loads = AtomicUsize::new(0);
        let before = cache
            .get_or_load("k", || counted(&loads, "[1]"))
            .await
            .expect("1");
        let again = cache
            .get_or_load("k", || counted(&loads, "[9]"))
            .await
            .expect("2");

        shared.invalidate("ns").await.expect("invalidate");
        let after = cache
            .get_or_load("k", || counted(&loads, "[2]"))
            .await
            .expect("3");

        assert_eq!(again.body, before.body, "served from the cache");
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(&after.body[..], b"[2]");
        assert_ne!(after.etag, before.etag);
    }

    #[tokio::test]
    async fn an_entry_is_loaded_again_after_its_ttl() {
        let (cache, _) = cache(false, Duration::from_millis(30));
        let loads = AtomicUsize::new(0);
        cache
            .get_or_load("k", || counted(&loads, "[1]"))
            .await
            .expect("1");

        let mut reloaded = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let body = cache
                .get_or_load("k", || counted(&loads, "[2]"))
                .await
                .expect("n");
            if &body.body[..] == b"[2]" {
                reloaded = true;
                break;
            }
        }
        assert!(reloaded, "the expired entry was loaded again");
    }

    #[tokio::test]
    async fn a_failed_load_is_returned_and_not_cached() {
        let (cache, _) = cache(true, Duration::from_secs(60));
        let loads = AtomicUsize::new(0);

        let failed = cache
            .get_or_load("k", || async { Err::<Vec<u8>, _>("db down".to_owned()) })
            .await;
        let next = cache.get_or_load("k", || counted(&loads, "[1]")).await;

        assert_eq!(failed.err().as_deref(), Some("db down"));
        assert_eq!(next.map(|b| b.body.to_vec()).ok(), Some(b"[1]".to_vec()));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn with_caching_off_every_read_loads_but_keeps_its_etag() {
        let shared = Arc::new(InMemoryCache::new(1 << 20));
        let cache = ResponseCache::new("t", "ns", shared, false, None);
        let loads = AtomicUsize::new(0);

        let a = cache
            .get_or_load("k", || counted(&loads, "[1]"))
            .await
            .expect("1");
        let b = cache
            .get_or_load("k", || counted(&loads, "[1]"))
            .await
            .expect("2");

        assert!(!cache.enabled());
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(a.etag, b.etag);
    }

    #[test]
    fn with_the_default_poll_a_delivered_invalidation_is_seen_within_a_second() {
        // A write's invalidation is claimed within one poll of the worker (it polls again at
        // once while there is work), and every instance reads the new generation within
        // GENERATION_MEMO after that: the bound the docs promise.
        let poll = Duration::from_millis(crate::settings::Settings::default().worker.poll_ms);

        assert!(poll + GENERATION_MEMO < Duration::from_secs(1));
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let body = CachedBody::new(b"{}".to_vec());
        let tag = body.etag.clone();
        let matches = |value: &str| {
            let req = TestRequest::get()
                .insert_header((header::IF_NONE_MATCH, value.to_owned()))
                .to_http_request();
            none_match(req.headers(), &tag)
        };

        assert!(matches(&tag));
        assert!(matches(&format!("W/{tag}")));
        assert!(matches(&format!("\"other\", {tag}")));
        assert!(matches("*"));
        assert!(!matches("\"other\""));
        assert!(
            !matches(tag.trim_matches('"')),
            "an unquoted tag is not the tag"
        );
        assert!(!none_match(
            TestRequest::get().to_http_request().headers(),
            &tag
        ));
    }

    #[actix_web::test]
    async fn a_matching_request_gets_304_without_a_body_and_others_200() {
        let body = CachedBody::new(b"{\"a\":1}".to_vec());
        let hit = TestRequest::get()
            .insert_header((header::IF_NONE_MATCH, body.etag.clone()))
            .to_http_request();
        let miss = TestRequest::get().to_http_request();

        let not_modified = body.respond(&hit);
        let full = body.respond(&miss);

        assert_eq!(not_modified.status(), 304);
        assert_eq!(
            not_modified
                .headers()
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok()),
            Some(body.etag.as_str())
        );
        let bytes = actix_web::body::to_bytes(not_modified.into_body())
            .await
            .expect("body");
        assert!(bytes.is_empty());
        assert_eq!(full.status(), 200);
        assert_eq!(
            full.headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some(PUBLIC_CACHE_CONTROL)
        );
    }
}
