use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use nexus_kernel::{Actor, FixedClock, Page, PageRequest, Permission, Role, UserId};

use super::*;
use crate::{FunnelCounts, MockMetricsStore, MockSaltStore, MockVisitorHasher, VisitorHash};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0)
        .single()
        .expect("instant")
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn browser() -> Visitor {
    Visitor {
        client: "203.0.113.7".to_owned(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Firefox/121.0".to_owned(),
        site: None,
    }
}

fn pageview(path: &str) -> RawEvent {
    RawEvent {
        kind: "pageview".to_owned(),
        path: path.to_owned(),
        ..RawEvent::default()
    }
}

fn salts() -> MockSaltStore {
    let mut salts = MockSaltStore::new();
    salts
        .expect_salt_for()
        .returning(|d| Ok(DailySalt::new(d.to_string().into_bytes())));
    salts
}

fn hasher() -> MockVisitorHasher {
    let mut hasher = MockVisitorHasher::new();
    hasher.expect_hash().returning(|salt, _, _| {
        let tag = if salt.as_bytes() == b"2026-03-10" {
            "a"
        } else {
            "b"
        };
        VisitorHash::from_hex(&tag.repeat(64)).expect("hash")
    });
    hasher
}

fn service(store: MockMetricsStore, salts: MockSaltStore) -> AnalyticsService {
    AnalyticsService::new(
        Arc::new(store),
        Arc::new(salts),
        Arc::new(hasher()),
        Arc::new(FixedClock(now())),
    )
}

fn actor(role: Role) -> Actor {
    let row: &'static [Permission] = match role {
        Role::Admin | Role::Manager | Role::Editor => &[ANALYTICS_READ],
        Role::Cso | Role::Customer => &[],
    };
    Actor::new(UserId::new(), role, row)
}

fn range() -> DateRange {
    DateRange::new(day("2026-03-01"), day("2026-03-03")).expect("range")
}

#[tokio::test]
async fn a_valid_batch_is_stored_in_one_call_with_each_events_day_hash() {
    let mut store = MockMetricsStore::new();
    store
        .expect_insert()
        .times(1)
        .withf(|rows| {
            rows.len() == 2
                && rows[0].day == day("2026-03-10")
                && rows[0].visitor.as_str() == "a".repeat(64)
                && rows[1].day == day("2026-03-09")
                && rows[1].visitor.as_str() == "b".repeat(64)
        })
        .returning(|_| Ok(()));
    let mut late = pageview("/late");
    late.occurred_at = Some("2026-03-09T23:30:00Z".to_owned());

    let outcome = service(store, salts())
        .ingest(&[pageview("/"), late], &browser())
        .await
        .expect("accepted");

    assert_eq!(
        outcome,
        Ingested {
            stored: 2,
            dropped: 0
        }
    );
}

#[tokio::test]
async fn an_invalid_event_refuses_the_whole_batch_naming_its_index() {
    let mut store = MockMetricsStore::new();
    store.expect_insert().never();
    let batch = [
        pageview("/"),
        pageview("/"),
        pageview("/"),
        pageview("relative"),
    ];

    let result = service(store, salts()).ingest(&batch, &browser()).await;

    let Err(AnalyticsError::InvalidBatch(problems)) = result else {
        panic!("expected InvalidBatch, got {result:?}");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "events[3].path");
}

#[tokio::test]
async fn an_empty_batch_or_one_of_more_than_fifty_is_refused() {
    for size in [0, MAX_BATCH + 1] {
        let mut store = MockMetricsStore::new();
        store.expect_insert().never();
        let batch = vec![pageview("/"); size];
        let result = service(store, salts()).ingest(&batch, &browser()).await;
        assert!(
            matches!(&result, Err(AnalyticsError::InvalidBatch(p)) if p[0].field == "events"),
            "{size}: {result:?}"
        );
    }
    let mut store = MockMetricsStore::new();
    store.expect_insert().times(1).returning(|_| Ok(()));
    let full = vec![pageview("/"); MAX_BATCH];
    assert!(
        service(store, salts())
            .ingest(&full, &browser())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_bots_batch_is_dropped_without_storing_or_hashing() {
    let mut store = MockMetricsStore::new();
    store.expect_insert().never();
    let mut salts = MockSaltStore::new();
    salts.expect_salt_for().never();
    let bot = Visitor {
        user_agent: "Mozilla/5.0 (compatible; Googlebot/2.1)".to_owned(),
        ..browser()
    };

    let outcome = service(store, salts)
        .ingest(&[pageview("/"), pageview("/a")], &bot)
        .await
        .expect("accepted");

    assert_eq!(
        outcome,
        Ingested {
            stored: 0,
            dropped: 2
        }
    );
}

#[tokio::test]
async fn the_days_salt_is_asked_for_once_per_day_and_cached() {
    let mut store = MockMetricsStore::new();
    store.expect_insert().returning(|_| Ok(()));
    let mut salts = MockSaltStore::new();
    salts
        .expect_salt_for()
        .times(1)
        .returning(|d| Ok(DailySalt::new(d.to_string().into_bytes())));
    let service = service(store, salts);

    for _ in 0..3 {
        service
            .ingest(&[pageview("/"), pageview("/b")], &browser())
            .await
            .expect("accepted");
    }
}

#[tokio::test]
async fn a_roll_up_drains_full_batches_then_purges_days_before_yesterday() {
    let mut store = MockMetricsStore::new();
    let mut seq = mockall::Sequence::new();
    store
        .expect_roll_up()
        .times(2)
        .in_sequence(&mut seq)
        .returning(|batch| Ok(u64::from(batch)));
    store
        .expect_roll_up()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(7));
    store
        .expect_purge_visitors_before()
        .withf(|d| *d == day("2026-03-09"))
        .times(1)
        .returning(|_| Ok(0));
    let mut salts = MockSaltStore::new();
    salts
        .expect_purge_before()
        .withf(|d| *d == day("2026-03-09"))
        .times(1)
        .returning(|_| Ok(1));

    let total = service(store, salts).roll_up().await.expect("rolled up");

    assert_eq!(total, 2 * u64::from(ROLLUP_BATCH) + 7);
}

#[tokio::test]
async fn reports_need_analytics_read() {
    for role in [Role::Cso, Role::Customer] {
        let mut store = MockMetricsStore::new();
        store.expect_top_pages().never();
        let result = service(store, salts())
            .pages(&actor(role), range(), PageRequest::default())
            .await;
        assert!(matches!(result, Err(AnalyticsError::Forbidden)), "{role}");
    }
    for role in [Role::Editor, Role::Manager, Role::Admin] {
        let mut store = MockMetricsStore::new();
        store.expect_top_pages().returning(|_, request| {
            Ok(Page {
                items: vec![],
                total: 0,
                request,
            })
        });
        let result = service(store, salts())
            .pages(&actor(role), range(), PageRequest::default())
            .await;
        assert!(result.is_ok(), "{role}");
    }
}

#[tokio::test]
async fn the_trend_lists_every_day_of_the_range_with_zeros_filled() {
    let mut store = MockMetricsStore::new();
    store.expect_daily_totals().returning(|_| {
        Ok(vec![DayStats {
            day: day("2026-03-02"),
            views: 5,
            visitors: 2,
        }])
    });

    let trend = service(store, salts())
        .trend(&actor(Role::Editor), range())
        .await
        .expect("trend");

    let numbers: Vec<(String, u64, u64)> = trend
        .iter()
        .map(|d| (d.day.to_string(), d.views, d.visitors))
        .collect();
    assert_eq!(
        numbers,
        [
            ("2026-03-01".to_owned(), 0, 0),
            ("2026-03-02".to_owned(), 5, 2),
            ("2026-03-03".to_owned(), 0, 0)
        ]
    );
}

#[tokio::test]
async fn conversions_compute_the_rates_of_the_stores_counts() {
    let mut store = MockMetricsStore::new();
    store.expect_funnel_counts().returning(|_| {
        Ok(FunnelCounts {
            viewers: 10,
            carts: 4,
            purchases: 1,
        })
    });

    let funnel = service(store, salts())
        .conversions(&actor(Role::Manager), range())
        .await
        .expect("funnel");

    assert_eq!(funnel.counts.carts, 4);
    assert!((funnel.cart_rate - 0.4).abs() < 1e-9);
    assert!((funnel.purchase_rate - 0.25).abs() < 1e-9);
    assert!((funnel.conversion_rate - 0.1).abs() < 1e-9);
}
