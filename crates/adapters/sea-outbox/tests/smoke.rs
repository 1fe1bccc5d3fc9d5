//! The outbox tables on every backend: an event appended in a committed transaction is
//! delivered later by a fresh store; a rolled-back one delivers nothing; a sensitive
//! payload is cleared once its delivery ended.

use std::sync::Arc;

use chrono::{Duration, Utc};
use nexus_outbox::{
    DeliveryState, DeliveryStore, EventEnvelope, MockSubscriber, RoutesHandle, SubscriberRegistry,
    Subscription,
};
use nexus_sea_outbox::SeaDeliveryStore;
use nexus_sea_support::{Transactions, append_events, scope_request_id};
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

#[tokio::test]
async fn a_unit_of_work_writes_its_events_exactly_when_it_commits() {
    for (db, _dir, pg) in databases().await {
        let mut sub = MockSubscriber::new();
        sub.expect_name().return_const("test.mail");
        sub.expect_subscriptions()
            .returning(|| vec![Subscription::to::<CodeIssued>()]);
        let mut registry = SubscriberRegistry::new();
        registry.register(Arc::new(sub)).expect("register");
        let now = Utc::now();
        let clock: Arc<dyn nexus_kernel::Clock> = Arc::new(nexus_kernel::FixedClock(now));
        let event = |code: &str| {
            EventEnvelope::new(&CodeIssued { code: code.into() }, now).expect("encode")
        };

        // Recorded before the routes exist: the commit refuses and nothing is written.
        let routes = RoutesHandle::new();
        let transactions = Transactions::new(db.clone(), routes.clone(), clock.clone());
        let mut early = transactions.begin().await.expect("begin");
        early.record(event("0"));
        assert!(early.commit().await.is_err(), "{pg:?}");
        assert!(routes.install(registry.shared_routes()));

        let mut dropped = transactions.begin().await.expect("begin");
        dropped.record(event("1"));
        drop(dropped);
        let mut kept = transactions.begin().await.expect("begin");
        let kept_event = event("2");
        kept.record(kept_event.clone());
        assert_eq!(kept.recorded().len(), 1);
        kept.commit().await.expect("commit");

        let store = SeaDeliveryStore::new(db.clone());
        let claimed = store
            .claim("w", now + Duration::seconds(1), Duration::seconds(30), 10)
            .await
            .expect("claim");
        let ids: Vec<_> = claimed.iter().map(|d| d.event.id).collect();
        assert_eq!(ids, [kept_event.id], "{pg:?}");
        assert_eq!(claimed[0].subscriber, "test.mail");
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
