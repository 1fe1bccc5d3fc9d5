//! The dependencies the readiness probe checks, one per configured technology.

use std::sync::Arc;

use nexus_meili_search::MeiliProductSearch;
use nexus_object_store::S3AssetStore;
use nexus_redis_store::RedisCartStore;
use nexus_sea_support::DatabaseConnection;

use crate::http::health::{Dependency, Probe};

/// The database: always configured, always required.
pub struct Database(pub DatabaseConnection);

impl Dependency for Database {
    fn name(&self) -> &'static str {
        "database"
    }
    fn required(&self) -> bool {
        true
    }
    fn check(&self) -> Probe {
        let db = self.0.clone();
        Box::pin(async move {
            nexus_sea_support::db::ping(&db)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// Redis (`REDIS_URL`): carts live there, and shared rate limits. Every instance shares it,
/// so taking instances out of rotation would not help (it would take them all out): while it
/// is down carts answer 503, limits count in process, and the instance stays ready, reported
/// as degraded.
pub struct Redis(pub Arc<RedisCartStore>);

impl Dependency for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn required(&self) -> bool {
        false
    }
    fn check(&self) -> Probe {
        let redis = self.0.clone();
        Box::pin(async move { redis.ping().await.map_err(|e| e.to_string()) })
    }
}

/// Meilisearch (`MEILI_URL`): only the catalog search needs it, and every instance shares
/// it, so taking instances out of rotation would not help: reported, not required.
pub struct Meilisearch(pub Arc<MeiliProductSearch>);

impl Dependency for Meilisearch {
    fn name(&self) -> &'static str {
        "meilisearch"
    }
    fn required(&self) -> bool {
        false
    }
    fn check(&self) -> Probe {
        let search = self.0.clone();
        Box::pin(async move { search.health().await.map_err(|e| e.to_string()) })
    }
}

/// S3 storage (`S3_BUCKET`): only files and invoices need it: reported, not required.
pub struct ObjectStore(pub Arc<S3AssetStore>);

impl Dependency for ObjectStore {
    fn name(&self) -> &'static str {
        "objectStore"
    }
    fn required(&self) -> bool {
        false
    }
    fn check(&self) -> Probe {
        let store = self.0.clone();
        Box::pin(async move { store.ping().await.map_err(|e| e.to_string()) })
    }
}
