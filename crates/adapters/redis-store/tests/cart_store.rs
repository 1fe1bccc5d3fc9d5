//! The cart-store conformance suite against both adapters, plus Redis-only behaviour
//! (expiry, key layout, bad data).
//!
//! Redis tests use `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and a fresh key
//! prefix each, deleting their keys at the end; keys left by a failed test expire on their
//! own. When Redis is unreachable they fail under `CI=true` and are skipped with a note
//! otherwise.

mod conformance;
mod support;

mod in_memory {
    use nexus_orders::CartStore;
    use nexus_redis_store::InMemoryCartStore;

    use crate::conformance::conformance_tests;

    pub struct Fixture(InMemoryCartStore);

    impl Fixture {
        pub fn store(&self) -> &dyn CartStore {
            &self.0
        }

        /// Nothing to clean: the store dies with the test.
        pub async fn cleanup(self) {}
    }

    pub async fn setup() -> Option<Fixture> {
        Some(Fixture(InMemoryCartStore::new()))
    }

    conformance_tests!(setup);
}

mod redis_backed {
    use std::time::Duration;

    use chrono::Utc;
    use nexus_catalog::ProductId;
    use nexus_kernel::UserId;
    use nexus_orders::CartStore;
    use nexus_redis_store::{ConnectError, RedisCartStore};
    use redis::AsyncCommands;

    use crate::conformance::conformance_tests;
    use crate::support::{Keys, connected, url};

    /// A store under a prefix of its own, plus a raw connection to inspect and clean up.
    pub struct Fixture {
        store: RedisCartStore,
        keys: Keys,
    }

    impl Fixture {
        pub fn store(&self) -> &dyn CartStore {
            &self.store
        }

        pub async fn cleanup(self) {
            self.keys.delete_all().await;
        }
    }

    /// Connects with `ttl`, or returns `None` (outside CI) when Redis is not running.
    pub async fn setup_with_ttl(ttl: Duration) -> Option<Fixture> {
        let store = connected(RedisCartStore::connect(&url(), ttl).await)?;
        let keys = Keys::new().await;
        Some(Fixture {
            store: store.with_prefix(keys.prefix.clone()),
            keys,
        })
    }

    pub async fn setup() -> Option<Fixture> {
        setup_with_ttl(Duration::from_secs(60)).await
    }

    conformance_tests!(setup);

    async fn pttl(fixture: &mut Fixture, key: &str) -> i64 {
        fixture.keys.raw.pttl(key).await.expect("PTTL")
    }

    #[tokio::test]
    async fn keys_are_one_sorted_set_per_user_under_the_prefix() {
        let Some(mut fixture) = setup().await else {
            return;
        };
        let user = UserId::new();
        let product = ProductId::new();
        let now = Utc::now();

        fixture.store.add(user, product, now).await.expect("add");

        let key = fixture.store.key(user);
        assert_eq!(
            key,
            format!("{}:cart:{}", fixture.keys.prefix, user.as_uuid())
        );
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut fixture.keys.raw)
            .await
            .expect("TYPE");
        assert_eq!(kind, "zset");
        let score: Option<f64> = fixture
            .keys
            .raw
            .zscore(&key, product.as_uuid().to_string())
            .await
            .expect("ZSCORE");
        // Millisecond times are exact in an f64.
        let expected = now.timestamp_millis() as f64;
        assert_eq!(score, Some(expected));
        fixture.cleanup().await;
    }

    #[tokio::test]
    async fn the_default_prefix_is_nexus() {
        let Some(fixture) = setup().await else { return };
        let user = UserId::new();
        let store = RedisCartStore::connect(&url(), Duration::from_secs(1))
            .await
            .expect("connect");

        assert_eq!(store.key(user), format!("nexus:cart:{}", user.as_uuid()));
        assert_eq!(store.ttl(), Duration::from_secs(1));
        fixture.cleanup().await;
    }

    #[tokio::test]
    async fn every_write_renews_the_ttl_and_an_untouched_cart_expires() {
        let ttl = Duration::from_secs(2);
        let Some(mut fixture) = setup_with_ttl(ttl).await else {
            return;
        };
        let user = UserId::new();
        let key = fixture.store.key(user);
        let (first, second) = (ProductId::new(), ProductId::new());
        let pause = Duration::from_millis(1_200);

        assert!(
            fixture
                .store
                .add(user, first, Utc::now())
                .await
                .expect("add")
        );
        let fresh = pttl(&mut fixture, &key).await;
        assert!(
            (1_500..=2_000).contains(&fresh),
            "TTL after add: {fresh} ms"
        );

        tokio::time::sleep(pause).await;
        assert!(
            pttl(&mut fixture, &key).await < 1_000,
            "TTL is counting down"
        );
        // Adding a product that is already there changes nothing but still renews.
        assert!(
            !fixture
                .store
                .add(user, first, Utc::now())
                .await
                .expect("re-add")
        );
        let renewed = pttl(&mut fixture, &key).await;
        assert!(renewed > 1_500, "TTL after re-add: {renewed} ms");

        tokio::time::sleep(pause).await;
        fixture
            .store
            .add(user, second, Utc::now())
            .await
            .expect("add second");
        assert!(pttl(&mut fixture, &key).await > 1_500, "TTL after add");

        tokio::time::sleep(pause).await;
        assert!(fixture.store.remove(user, second).await.expect("remove"));
        assert!(pttl(&mut fixture, &key).await > 1_500, "TTL after remove");
        // 3.6 s have passed since the first add: only renewals kept the cart alive.
        let items = fixture.store.items(user).await.expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].product_id, first);

        tokio::time::sleep(ttl + Duration::from_millis(300)).await;
        assert!(fixture.store.items(user).await.expect("items").is_empty());
        let exists: bool = fixture.keys.raw.exists(&key).await.expect("EXISTS");
        assert!(!exists, "the key itself expired");
        fixture.cleanup().await;
    }

    #[tokio::test]
    async fn entries_the_store_did_not_write_are_an_error_not_silently_skipped() {
        let Some(mut fixture) = setup().await else {
            return;
        };
        let user = UserId::new();
        let key = fixture.store.key(user);
        let _: u64 = fixture
            .keys
            .raw
            .zadd(&key, "not-a-product-id", 1_i64)
            .await
            .expect("ZADD");

        let result = fixture.store.items(user).await;

        assert!(result.is_err());
        fixture.cleanup().await;
    }

    #[tokio::test]
    async fn a_zero_ttl_is_rejected_before_connecting() {
        let result = RedisCartStore::connect("redis://127.0.0.1:1", Duration::ZERO).await;

        assert!(matches!(result, Err(ConnectError::InvalidTtl)));
    }

    #[tokio::test]
    async fn an_invalid_url_is_a_redis_error() {
        let result = RedisCartStore::connect("not a url", Duration::from_secs(1)).await;

        assert!(matches!(result, Err(ConnectError::Redis(_))));
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_a_redis_error() {
        // Port 1 on loopback: nothing listens there, so the connection is refused.
        let result = RedisCartStore::connect("redis://127.0.0.1:1", Duration::from_secs(1)).await;

        assert!(matches!(result, Err(ConnectError::Redis(_))));
    }
}
