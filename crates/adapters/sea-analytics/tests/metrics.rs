//! `SeaMetricsStore` and `SeaSaltStore` on every backend (SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set): exact roll-ups, visitor dedup across roll-ups, deletion of
//! raw rows, two concurrent roll-ups, the reports and salt rotation.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use nexus_analytics::{
    DateRange, MetricEvent, MetricsStore, NewEvent, RawEvent, SaltStore, VisitorHash,
};
use nexus_kernel::PageRequest;
use nexus_migration::Migrator;
use nexus_sea_analytics::{SeaMetricsStore, SeaSaltStore};
use nexus_sea_support::testing::{TestDb, backends, count_rows};
use uuid::Uuid;

async fn databases() -> Vec<TestDb> {
    backends::<Migrator>().await
}

fn noon(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
        .single()
        .expect("instant")
}

fn date(day: u32) -> NaiveDate {
    noon(day).date_naive()
}

fn visitor(n: u32) -> VisitorHash {
    VisitorHash::from_hex(&format!("{n:064x}")).expect("hash")
}

/// An event of `visitor` on March `day`: a page view of `path`, or the event `name`.
fn event(day: u32, who: u32, raw: RawEvent) -> MetricEvent {
    let event = NewEvent::parse(&raw, noon(day), None).expect("valid event");
    MetricEvent {
        id: Uuid::now_v7(),
        visitor: visitor(who),
        day: date(day),
        event,
        created_at: noon(day),
    }
}

fn view(day: u32, who: u32, path: &str) -> MetricEvent {
    event(
        day,
        who,
        RawEvent {
            kind: "pageview".to_owned(),
            path: path.to_owned(),
            ..RawEvent::default()
        },
    )
}

fn named(day: u32, who: u32, name: &str) -> MetricEvent {
    event(
        day,
        who,
        RawEvent {
            kind: "event".to_owned(),
            name: Some(name.to_owned()),
            path: "/checkout".to_owned(),
            ..RawEvent::default()
        },
    )
}

fn range(from: u32, to: u32) -> DateRange {
    DateRange::new(date(from), date(to)).expect("range")
}

async fn drain(store: &SeaMetricsStore) -> u64 {
    let mut total = 0;
    loop {
        let n = store.roll_up(1000).await.expect("roll-up");
        total += n;
        if n == 0 {
            return total;
        }
    }
}

#[tokio::test]
async fn two_roll_ups_on_one_day_count_each_visitor_once_and_delete_the_raw_rows() {
    for t in databases().await {
        let store = SeaMetricsStore::new(t.db.clone());
        store
            .insert(&[view(5, 1, "/a"), view(5, 2, "/a"), view(5, 1, "/a")])
            .await
            .expect("insert");
        assert_eq!(store.roll_up(1000).await.expect("first roll-up"), 3);
        assert_eq!(count_rows(&t.db, "metric_events").await, 0);

        store
            .insert(&[view(5, 1, "/a"), view(5, 3, "/a"), view(5, 2, "/b")])
            .await
            .expect("insert");
        assert_eq!(store.roll_up(1000).await.expect("second roll-up"), 3);
        assert_eq!(count_rows(&t.db, "metric_events").await, 0);

        let pages = store
            .top_pages(range(5, 5), PageRequest::default())
            .await
            .expect("pages");
        let got: Vec<(String, u64, u64)> = pages
            .items
            .iter()
            .map(|p| (p.path.clone(), p.views, p.visitors))
            .collect();
        assert_eq!(
            got,
            [("/a".to_owned(), 5, 3), ("/b".to_owned(), 1, 1)],
            "{}",
            if t.is_postgres() {
                "postgres"
            } else {
                "sqlite"
            }
        );
        assert_eq!(pages.total, 2);
        let trend = store.daily_totals(range(1, 31)).await.expect("trend");
        assert_eq!(trend.len(), 1);
        assert_eq!(
            (trend[0].day, trend[0].views, trend[0].visitors),
            (date(5), 6, 3)
        );
    }
}

#[tokio::test]
async fn a_visitor_on_two_days_counts_on_each_and_reports_sum_the_days() {
    for t in databases().await {
        let store = SeaMetricsStore::new(t.db.clone());
        store
            .insert(&[view(5, 1, "/a"), view(6, 1, "/a"), view(6, 2, "/a")])
            .await
            .expect("insert");
        drain(&store).await;
        let pages = store
            .top_pages(range(5, 6), PageRequest::default())
            .await
            .expect("pages");
        assert_eq!((pages.items[0].views, pages.items[0].visitors), (3, 3));
        let only_sixth = store
            .top_pages(range(6, 6), PageRequest::default())
            .await
            .expect("pages");
        assert_eq!(only_sixth.items[0].visitors, 2);
    }
}

#[tokio::test]
async fn events_referrers_and_campaigns_roll_up_into_the_funnel_and_breakdowns() {
    for t in databases().await {
        let store = SeaMetricsStore::new(t.db.clone());
        let mut tagged = RawEvent {
            kind: "pageview".to_owned(),
            path: "/landing?utm_source=news&utm_medium=email&utm_campaign=spring".to_owned(),
            referrer: Some("https://www.google.com/search?q=x".to_owned()),
            ..RawEvent::default()
        };
        let from_google = event(5, 1, tagged.clone());
        tagged.referrer = Some("https://duckduckgo.com/".to_owned());
        let from_ddg = event(5, 2, tagged.clone());
        let from_google_again = event(5, 3, {
            let mut r = tagged.clone();
            r.referrer = Some("https://google.com/".to_owned());
            r.path = "/".to_owned();
            r
        });
        store
            .insert(&[
                from_google,
                from_ddg,
                from_google_again,
                named(5, 1, "add_to_cart"),
                named(5, 1, "add_to_cart"),
                named(5, 2, "add_to_cart"),
                named(5, 1, "purchase"),
            ])
            .await
            .expect("insert");
        drain(&store).await;

        let funnel = store.funnel_counts(range(5, 5)).await.expect("funnel");
        assert_eq!((funnel.viewers, funnel.carts, funnel.purchases), (3, 2, 1));

        let referrers = store
            .top_referrers(range(5, 5), PageRequest::default())
            .await
            .expect("referrers");
        let got: Vec<(String, u64)> = referrers
            .items
            .iter()
            .map(|r| (r.host.clone(), r.views))
            .collect();
        assert_eq!(
            got,
            [
                ("google.com".to_owned(), 2),
                ("duckduckgo.com".to_owned(), 1)
            ]
        );

        let campaigns = store
            .campaigns(range(5, 5), PageRequest::default())
            .await
            .expect("campaigns");
        assert_eq!(campaigns.total, 1);
        let c = &campaigns.items[0];
        assert_eq!(
            (
                c.source.as_str(),
                c.medium.as_str(),
                c.campaign.as_str(),
                c.views
            ),
            ("news", "email", "spring", 2)
        );
    }
}

#[tokio::test]
async fn reports_are_paginated_with_an_exact_total() {
    for t in databases().await {
        let store = SeaMetricsStore::new(t.db.clone());
        let events: Vec<_> = (0..25).map(|i| view(5, i, &format!("/p{i:02}"))).collect();
        store.insert(&events).await.expect("insert");
        drain(&store).await;
        let second = store
            .top_pages(range(5, 5), PageRequest::new(Some(2), Some(10)))
            .await
            .expect("pages");
        assert_eq!(second.total, 25);
        assert_eq!(second.items.len(), 10);
        assert_eq!(second.items[0].path, "/p10", "ties are ordered by path");
    }
}

#[tokio::test]
async fn two_concurrent_roll_ups_count_exactly() {
    for t in databases().await {
        let store = SeaMetricsStore::new(t.db.clone());
        // 3,000 page views by 40 visitors over 7 paths, in batches of 50.
        let mut expected_views = 0u64;
        for batch in 0..60u32 {
            let events: Vec<_> = (0..50u32)
                .map(|i| {
                    let n = batch * 50 + i;
                    view(5, n % 40, &format!("/p{}", n % 7))
                })
                .collect();
            expected_views += events.len() as u64;
            store.insert(&events).await.expect("insert");
        }
        let (a, b) = tokio::join!(
            async {
                let mut total = 0;
                loop {
                    let n = store.roll_up(200).await.expect("roll-up a");
                    total += n;
                    if n == 0 {
                        break total;
                    }
                }
            },
            async {
                let other = SeaMetricsStore::new(t.db.clone());
                let mut total = 0;
                loop {
                    let n = other.roll_up(200).await.expect("roll-up b");
                    total += n;
                    if n == 0 {
                        break total;
                    }
                }
            }
        );
        assert_eq!(
            a + b,
            expected_views,
            "{}",
            if t.is_postgres() {
                "postgres"
            } else {
                "sqlite"
            }
        );
        assert_eq!(count_rows(&t.db, "metric_events").await, 0);
        let trend = store.daily_totals(range(5, 5)).await.expect("trend");
        assert_eq!((trend[0].views, trend[0].visitors), (3000, 40));
        let pages = store
            .top_pages(range(5, 5), PageRequest::default())
            .await
            .expect("pages");
        let views: u64 = pages.items.iter().map(|p| p.views).sum();
        assert_eq!(views, 3000);
        // Each of the 7 paths is seen by every visitor whose numbers hit it: n % 40 and
        // n % 7 cover all pairs (40 and 7 are coprime, 3,000 > 280).
        assert!(pages.items.iter().all(|p| p.visitors == 40));
    }
}

#[tokio::test]
async fn old_visitor_sets_and_salts_are_deleted_and_a_days_salt_is_stable() {
    for t in databases().await {
        let store = SeaMetricsStore::new(t.db.clone());
        store
            .insert(&[view(3, 1, "/"), view(4, 1, "/"), view(5, 1, "/")])
            .await
            .expect("insert");
        drain(&store).await;
        assert!(count_rows(&t.db, "metric_visitors").await >= 6);
        store
            .purge_visitors_before(date(4))
            .await
            .expect("purge visitors");
        assert_eq!(
            count_rows(&t.db, "metric_visitors").await,
            4,
            "days 4 and 5 stay"
        );

        let salts = SeaSaltStore::new(t.db.clone());
        let third = salts.salt_for(date(3)).await.expect("salt");
        assert_eq!(third.as_bytes().len(), 32);
        assert_eq!(
            salts.salt_for(date(3)).await.expect("salt"),
            third,
            "stable"
        );
        let fourth = salts.salt_for(date(4)).await.expect("salt");
        assert_ne!(fourth, third, "each day has its own salt");
        salts.salt_for(date(5)).await.expect("salt");

        assert_eq!(salts.purge_before(date(4)).await.expect("purge"), 1);
        assert_eq!(count_rows(&t.db, "metric_salts").await, 2);
        let again = salts.salt_for(date(3)).await.expect("salt");
        assert_ne!(again, third, "a deleted salt is never seen again");
    }
}
