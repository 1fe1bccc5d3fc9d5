//! A month of page metrics: page views, referrers, campaigns and the view → cart → purchase
//! funnel for the last 30 days, rolled up as the worker does.
//!
//! The public ingestion counts an event for today or yesterday only, so the older days are
//! written through the metrics store (the port the ingestion writes to) and then rolled up
//! by the analytics service. Visitors are made-up hashes: no address or user agent exists.

use chrono::{Duration, NaiveDate, Utc};
use nexus_analytics::{DateRange, MetricEvent, MetricsStore as _, NewEvent, RawEvent, VisitorHash};
use nexus_sea_analytics::SeaMetricsStore;
use nexus_sea_support::DatabaseConnection;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::pages::PAGES;
use super::products::PRODUCTS;
use super::{Context as _, Seeder, Tally, rng};
use crate::cli::CliError;

/// Days of metrics, ending today.
pub(crate) const DAYS: i64 = 30;

/// Events written per statement.
const BATCH: usize = 500;

/// A campaign: `utm_source`, `utm_medium`, `utm_campaign`.
type Campaign = (&'static str, &'static str, &'static str);

/// Where visitors come from: referrer, and the campaign of some.
const SOURCES: [(Option<&str>, Option<Campaign>); 8] = [
    (None, None),
    (None, None),
    (Some("https://www.google.com/"), None),
    (Some("https://www.google.co.in/"), None),
    (Some("https://duckduckgo.com/"), None),
    (
        Some("https://www.instagram.com/"),
        Some(("instagram", "social", "diwali-sale")),
    ),
    (
        Some("https://www.linkedin.com/"),
        Some(("linkedin", "social", "b2b-templates")),
    ),
    (None, Some(("newsletter", "email", "monthly-digest"))),
];

/// Writes and rolls up the last [`DAYS`] days of metrics, unless any of them has views.
pub(super) async fn seed(
    seeder: &mut Seeder<'_>,
    db: &DatabaseConnection,
) -> Result<Tally, CliError> {
    let admin = seeder.staff()?.admin();
    let now = Utc::now();
    let today = now.date_naive();
    let first = today - Duration::days(DAYS - 1);
    let range = DateRange::new(first, today).ctx("a date range")?;
    let trend = seeder
        .state
        .analytics
        .trend(&admin, range)
        .await
        .ctx("reading the metrics")?;
    if trend.iter().any(|d| d.views > 0) {
        return Ok(Tally {
            created: 0,
            skipped: trend.iter().filter(|d| d.views > 0).count(),
        });
    }
    let mut paths: Vec<String> = vec!["/".into(), "/products".into()];
    paths.extend(PRODUCTS.iter().map(|p| format!("/products/{}", p.0)));
    paths.extend(PAGES.iter().skip(1).map(|p| format!("/{}", p.0)));
    let mut rng = rng("metrics");
    let mut events = Vec::new();
    for offset in 0..DAYS {
        let day = first + Duration::days(offset);
        // More visitors on weekdays, and a store growing over the month.
        let weekday = chrono::Datelike::weekday(&day).num_days_from_monday();
        let visitors = 30 + offset as usize + if weekday < 5 { 15 } else { 0 } + rng.usize(..15);
        for visitor in 0..visitors {
            let hash = visitor_hash(day, visitor)?;
            let (referrer, campaign) = SOURCES[rng.usize(..SOURCES.len())];
            let mut at = day
                .and_hms_opt(rng.u32(3..22), rng.u32(..60), rng.u32(..60))
                .map(|t| t.and_utc())
                .ok_or_else(|| CliError::Refused("seed: a time of day".into()))?;
            let views = 1 + rng.usize(..4);
            for n in 0..views {
                let path = if n == 0 && rng.bool() {
                    "/".to_owned()
                } else {
                    paths[rng.usize(..paths.len())].clone()
                };
                let raw = RawEvent {
                    kind: "pageview".into(),
                    name: None,
                    path,
                    referrer: (n == 0).then(|| referrer.map(str::to_owned)).flatten(),
                    utm_source: campaign.map(|c| c.0.to_owned()),
                    utm_medium: campaign.map(|c| c.1.to_owned()),
                    utm_campaign: campaign.map(|c| c.2.to_owned()),
                    utm_term: None,
                    utm_content: None,
                    occurred_at: None,
                };
                events.push(event(&raw, &hash, day, at.min(now))?);
                at += Duration::seconds(20 + i64::from(rng.u32(..120)));
            }
            if rng.u8(..5) == 0 {
                for (name, path) in [("add_to_cart", "/cart"), ("purchase", "/checkout")] {
                    let raw = RawEvent {
                        kind: "event".into(),
                        name: Some(name.into()),
                        path: path.into(),
                        referrer: None,
                        utm_source: None,
                        utm_medium: None,
                        utm_campaign: None,
                        utm_term: None,
                        utm_content: None,
                        occurred_at: None,
                    };
                    events.push(event(&raw, &hash, day, at.min(now))?);
                    at += Duration::seconds(60);
                    if rng.u8(..3) != 0 {
                        break;
                    }
                }
            }
        }
    }
    let store = SeaMetricsStore::new(db.clone());
    for chunk in events.chunks(BATCH) {
        store.insert(chunk).await.ctx("storing page metrics")?;
    }
    seeder
        .state
        .analytics
        .roll_up()
        .await
        .ctx("rolling the page metrics up")?;
    Ok(Tally {
        created: events.len(),
        skipped: 0,
    })
}

/// A made-up visitor of `day`, in the shape of the real hash.
fn visitor_hash(day: NaiveDate, n: usize) -> Result<VisitorHash, CliError> {
    let digest = Sha256::digest(format!("nexus-seed-visitor|{day}|{n}").as_bytes());
    VisitorHash::from_hex(&hex::encode(digest)).ctx("a visitor hash")
}

/// `raw` as received at `at`, counted for `day`.
fn event(
    raw: &RawEvent,
    visitor: &VisitorHash,
    day: NaiveDate,
    at: chrono::DateTime<Utc>,
) -> Result<MetricEvent, CliError> {
    let event = NewEvent::parse(raw, at, None).map_err(|problems| {
        let fields: Vec<_> = problems.iter().map(|(field, _)| *field).collect();
        CliError::Refused(format!("seed: a metric event: {}", fields.join(", ")))
    })?;
    Ok(MetricEvent {
        id: Uuid::now_v7(),
        visitor: visitor.clone(),
        day,
        event,
        created_at: at,
    })
}
