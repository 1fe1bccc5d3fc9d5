//! What the Redis tests share: the server's address (`TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`), the rule that CI never skips them, and a key prefix of each
//! test's own with a raw connection to look at and delete its keys.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use uuid::Uuid;

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// The Redis the tests use.
pub fn url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The connected adapter, or `None` (the test ends with a note) when Redis is not running
/// outside CI.
///
/// # Panics
/// When Redis is unreachable and `CI=true`: CI must never silently skip these tests.
#[expect(
    clippy::print_stderr,
    reason = "tests have no tracing subscriber; the note must be seen"
)]
pub fn connected<T, E: std::fmt::Debug + std::fmt::Display>(connected: Result<T, E>) -> Option<T> {
    match connected {
        Ok(adapter) => Some(adapter),
        Err(e) if in_ci() => panic!("CI=true but Redis (TEST_REDIS_URL) is unreachable: {e:?}"),
        Err(e) => {
            eprintln!("note: Redis (TEST_REDIS_URL) is unreachable, skipping test: {e}");
            None
        }
    }
}

/// A fresh key prefix and a raw connection to the same Redis.
pub struct Keys {
    pub prefix: String,
    pub raw: ConnectionManager,
}

impl Keys {
    /// A new prefix (`nexus-test-<uuid>`) and connection.
    ///
    /// # Panics
    /// If the connection fails (the adapter has just connected).
    pub async fn new() -> Self {
        let raw = ConnectionManager::new(redis::Client::open(url()).expect("valid URL"))
            .await
            .expect("second connection");
        Self {
            prefix: format!("nexus-test-{}", Uuid::new_v4()),
            raw,
        }
    }

    /// Deletes every key under the prefix.
    pub async fn delete_all(mut self) {
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
