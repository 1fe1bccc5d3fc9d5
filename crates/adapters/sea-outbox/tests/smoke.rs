//! The outbox tables on every backend: an event appended in a committed transaction is
//! delivered later by a fresh store; a rolled-back one delivers nothing; a sensitive
//! payload is cleared once its delivery ended.

use std::sync::Arc;

use chrono::{Duration, Utc};
use nexus_outbox::{
    DeliveryState, DeliveryStore, EventEnvelope, MockSubscriber, SubscriberRegistry, Subscription,
};
use nexus_sea_outbox::SeaDeliveryStore;
use nexus_sea_support::{append_events, scope_request_id};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct CodeIssued {
    code: String,
}
impl nexus_outbox::DomainEvent for CodeIssued {
    const NAME: &'static str = "test.code_issued";
    const VERSION: u32 = 1;
    const SENSITIVE: bool = true;
}

async fn databases() -> Vec<(
    DatabaseConnection,
    Option<tempfile::TempDir>,
    Option<String>,
)> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("o.db").display());
    let sqlite = Database::connect(url).await.expect("open SQLite");
    let mut dbs = vec![(sqlite, Some(dir), None)];
    if let Ok(maintenance) = std::env::var("TEST_DATABASE_URL") {
        let admin = Database::connect(ConnectOptions::new(maintenance.clone()))
            .await
            .expect("connect");
        let name = format!("test_{}", uuid::Uuid::now_v7().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        let base = maintenance
            .rsplit_once('/')
            .map_or(maintenance.as_str(), |(b, _)| b);
        let db = Database::connect(format!("{base}/{name}"))
            .await
            .expect("connect");
        dbs.push((db, None, Some(name)));
    }
    for (db, _, _) in &dbs {
        nexus_migration::Migrator::up(db, None)
            .await
            .expect("migrate");
    }
    dbs
}

#[tokio::test]
async fn a_committed_event_is_delivered_later_and_a_rolled_back_one_never() {
    for (db, _dir, pg) in databases().await {
        let mut sub = MockSubscriber::new();
        sub.expect_name().return_const("test.mail");
        sub.expect_subscriptions()
            .returning(|| vec![Subscription::to::<CodeIssued>()]);
        let mut registry = SubscriberRegistry::new();
        registry.register(Arc::new(sub)).expect("register");
        let routes = registry.shared_routes();
        let now = Utc::now();

        let kept = EventEnvelope::new(&CodeIssued { code: "1".into() }, now).expect("encode");
        let tx = db.begin().await.expect("begin");
        scope_request_id(
            Some("req-9".into()),
            append_events(&tx, std::slice::from_ref(&kept), &routes, None, now),
        )
        .await
        .expect("append");
        tx.commit().await.expect("commit");
        let lost = EventEnvelope::new(&CodeIssued { code: "2".into() }, now).expect("encode");
        let tx = db.begin().await.expect("begin");
        append_events(&tx, &[lost], &routes, None, now)
            .await
            .expect("append");
        tx.rollback().await.expect("rollback");

        // A store made after the "crash".
        let store = SeaDeliveryStore::new(db.clone());
        let claimed = store
            .claim("w", now + Duration::seconds(1), Duration::seconds(30), 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "{pg:?}");
        let d = &claimed[0];
        assert_eq!(d.event.id, kept.id);
        assert_eq!(d.event.request_id.as_deref(), Some("req-9"));
        assert_eq!(d.event.payload, kept.payload);

        assert!(store.complete(d.id, "w", now).await.expect("complete"));
        let done = store.find(d.id).await.expect("find").expect("exists");
        assert_eq!(done.state, DeliveryState::Done);
        assert!(done.event.payload.is_null(), "sensitive payload cleared");
        db.close().await.ok();
        if let Some(name) = pg {
            let url = std::env::var("TEST_DATABASE_URL").expect("url");
            let admin = Database::connect(url).await.expect("connect");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .ok();
        }
    }
}
