//! Raw events (`metric_events`), their roll-up into the daily tables and the reports.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::NaiveDate;
use nexus_analytics::{
    AnalyticsError, CampaignStats, DateRange, DayStats, EventKind, EventName, FunnelCounts,
    MetricEvent, MetricsStore, PageStats, ReferrerStats, UtmValue,
};
use nexus_kernel::{Page, PageRequest, Unexpected};
use nexus_sea_support::{begin_write, unexpected};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::sql::{statement, tuples};

/// Raw events, roll-up and reports on one database. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaMetricsStore {
    db: DatabaseConnection,
}

impl SeaMetricsStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        statement(self.db.get_database_backend(), sql, values)
    }
}

/// Rows per multi-row statement of the roll-up (at most 4 columns each: far below both
/// backends' limits on bound values).
const CHUNK: usize = 1000;

fn opt(value: Option<&UtmValue>) -> Value {
    value.map(|v| v.as_str().to_owned()).into()
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, Unexpected> {
    row.try_get("", column)
        .map_err(|e| Unexpected::new(format!("reading metrics column {column}"), e))
}

fn count(row: &QueryResult, column: &str) -> Result<u64, Unexpected> {
    let n: i64 = get(row, column)?;
    u64::try_from(n).map_err(|e| Unexpected::new(format!("metrics column {column} is negative"), e))
}

/// One raw event, as the roll-up reads it.
struct RawRow {
    id: Uuid,
    visitor: String,
    day: String,
    kind: String,
    name: Option<String>,
    path: String,
    referrer: Option<String>,
    source: Option<String>,
    medium: Option<String>,
    campaign: Option<String>,
}

impl RawRow {
    fn read(row: &QueryResult) -> Result<Self, Unexpected> {
        Ok(Self {
            id: get(row, "id")?,
            visitor: get(row, "visitor_hash")?,
            day: get(row, "day")?,
            kind: get(row, "kind")?,
            name: get(row, "name")?,
            path: get(row, "path")?,
            referrer: get(row, "referrer_host")?,
            source: get(row, "utm_source")?,
            medium: get(row, "utm_medium")?,
            campaign: get(row, "utm_campaign")?,
        })
    }
}

/// What a claimed batch adds to the daily tables. Ordered maps, so every roll-up writes
/// keys in the same order and two concurrent ones cannot deadlock on each other's rows.
#[derive(Default)]
struct Rollup {
    /// (day, scope, key, visitor): `page`/path, `site`/"" (any page view), `event`/name.
    visitors: BTreeSet<(String, &'static str, String, String)>,
    paths: BTreeMap<(String, String), u64>,
    totals: BTreeMap<String, u64>,
    referrers: BTreeMap<(String, String), u64>,
    events: BTreeMap<(String, String), u64>,
    utm: BTreeMap<(String, String, String, String), u64>,
}

impl Rollup {
    fn add(&mut self, row: RawRow) {
        if row.kind == EventKind::Event.as_str() {
            let name = row.name.unwrap_or_default();
            self.visitors
                .insert((row.day.clone(), "event", name.clone(), row.visitor));
            *self.events.entry((row.day, name)).or_default() += 1;
            return;
        }
        self.visitors.insert((
            row.day.clone(),
            "page",
            row.path.clone(),
            row.visitor.clone(),
        ));
        self.visitors
            .insert((row.day.clone(), "site", String::new(), row.visitor));
        *self.paths.entry((row.day.clone(), row.path)).or_default() += 1;
        *self.totals.entry(row.day.clone()).or_default() += 1;
        if let Some(host) = row.referrer {
            *self.referrers.entry((row.day.clone(), host)).or_default() += 1;
        }
        if row.source.is_some() || row.medium.is_some() || row.campaign.is_some() {
            let key = (
                row.day,
                row.source.unwrap_or_default(),
                row.medium.unwrap_or_default(),
                row.campaign.unwrap_or_default(),
            );
            *self.utm.entry(key).or_default() += 1;
        }
    }
}

fn big(n: u64) -> Value {
    i64::try_from(n).unwrap_or(i64::MAX).into()
}

#[async_trait]
impl MetricsStore for SeaMetricsStore {
    async fn insert(&self, events: &[MetricEvent]) -> Result<(), AnalyticsError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut values = Vec::with_capacity(events.len() * 14);
        for e in events {
            let ev = &e.event;
            values.extend([
                e.id.into(),
                e.visitor.as_str().to_owned().into(),
                e.day.to_string().into(),
                ev.kind.as_str().to_owned().into(),
                ev.name.as_ref().map(|n| n.as_str().to_owned()).into(),
                ev.path.as_str().to_owned().into(),
                ev.referrer.as_ref().map(|h| h.as_str().to_owned()).into(),
                opt(ev.utm.source.as_ref()),
                opt(ev.utm.medium.as_ref()),
                opt(ev.utm.campaign.as_ref()),
                opt(ev.utm.term.as_ref()),
                opt(ev.utm.content.as_ref()),
                e.created_at.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO metric_events (id, visitor_hash, day, kind, name, path, referrer_host, \
             utm_source, utm_medium, utm_campaign, utm_term, utm_content, created_at) VALUES {}",
            tuples(events.len(), 13)
        );
        self.db
            .execute_raw(self.stmt(&sql, values))
            .await
            .map_err(unexpected("storing metric events"))?;
        Ok(())
    }

    async fn roll_up(&self, batch: u32) -> Result<u64, AnalyticsError> {
        let backend = self.db.get_database_backend();
        let txn = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a metrics roll-up"))?;
        // PostgreSQL: rows another roll-up holds are skipped, not waited for, so two
        // workers share the backlog. SQLite: `BEGIN IMMEDIATE` already lets one writer in.
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let claim = format!(
            "SELECT id, visitor_hash, day, kind, name, path, referrer_host, utm_source, \
             utm_medium, utm_campaign FROM metric_events ORDER BY id LIMIT ?{lock}"
        );
        let rows = txn
            .query_all_raw(statement(backend, &claim, vec![i64::from(batch).into()]))
            .await
            .map_err(unexpected("claiming metric events"))?;
        if rows.is_empty() {
            txn.commit()
                .await
                .map_err(unexpected("ending an empty metrics roll-up"))?;
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut rollup = Rollup::default();
        for row in &rows {
            let raw = RawRow::read(row)?;
            ids.push(raw.id);
            rollup.add(raw);
        }

        // Visitors first: only the hashes not yet in the day's set are new, so a visitor
        // counts once per day however many roll-ups see them.
        let mut fresh: BTreeMap<(String, &'static str, String), u64> = BTreeMap::new();
        let visitors: Vec<_> = rollup.visitors.into_iter().collect();
        for chunk in visitors.chunks(CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for (day, scope, key, hash) in chunk {
                values.extend([
                    day.clone().into(),
                    (*scope).to_owned().into(),
                    key.clone().into(),
                    hash.clone().into(),
                ]);
            }
            let sql = format!(
                "INSERT INTO metric_visitors (day, scope, key, visitor_hash) VALUES {} \
                 ON CONFLICT (day, scope, key, visitor_hash) DO NOTHING RETURNING day, scope, key",
                tuples(chunk.len(), 4)
            );
            let inserted = txn
                .query_all_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("adding to the metrics visitor sets"))?;
            for row in &inserted {
                let scope: String = get(row, "scope")?;
                let scope = match scope.as_str() {
                    "page" => "page",
                    "site" => "site",
                    _ => "event",
                };
                *fresh
                    .entry((get(row, "day")?, scope, get(row, "key")?))
                    .or_default() += 1;
            }
        }
        let new_visitors = |day: &str, scope: &'static str, key: &str| {
            fresh
                .get(&(day.to_owned(), scope, key.to_owned()))
                .copied()
                .unwrap_or(0)
        };

        let paths: Vec<_> = rollup.paths.into_iter().collect();
        for chunk in paths.chunks(CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for ((day, path), views) in chunk {
                values.extend([
                    day.clone().into(),
                    path.clone().into(),
                    big(*views),
                    big(new_visitors(day, "page", path)),
                ]);
            }
            let sql = format!(
                "INSERT INTO metric_daily_paths (day, path, views, visitors) VALUES {} \
                 ON CONFLICT (day, path) DO UPDATE SET \
                 views = metric_daily_paths.views + excluded.views, \
                 visitors = metric_daily_paths.visitors + excluded.visitors",
                tuples(chunk.len(), 4)
            );
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("rolling up page views"))?;
        }
        if !rollup.totals.is_empty() {
            let mut values = Vec::new();
            for (day, views) in &rollup.totals {
                values.extend([
                    day.clone().into(),
                    big(*views),
                    big(new_visitors(day, "site", "")),
                ]);
            }
            let sql = format!(
                "INSERT INTO metric_daily_totals (day, views, visitors) VALUES {} \
                 ON CONFLICT (day) DO UPDATE SET \
                 views = metric_daily_totals.views + excluded.views, \
                 visitors = metric_daily_totals.visitors + excluded.visitors",
                tuples(rollup.totals.len(), 3)
            );
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("rolling up daily totals"))?;
        }
        let referrers: Vec<_> = rollup.referrers.into_iter().collect();
        for chunk in referrers.chunks(CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 3);
            for ((day, host), views) in chunk {
                values.extend([day.clone().into(), host.clone().into(), big(*views)]);
            }
            let sql = format!(
                "INSERT INTO metric_daily_referrers (day, referrer_host, views) VALUES {} \
                 ON CONFLICT (day, referrer_host) DO UPDATE SET \
                 views = metric_daily_referrers.views + excluded.views",
                tuples(chunk.len(), 3)
            );
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("rolling up referrers"))?;
        }
        let events: Vec<_> = rollup.events.into_iter().collect();
        for chunk in events.chunks(CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for ((day, name), n) in chunk {
                values.extend([
                    day.clone().into(),
                    name.clone().into(),
                    big(*n),
                    big(new_visitors(day, "event", name)),
                ]);
            }
            let sql = format!(
                "INSERT INTO metric_daily_events (day, name, count, visitors) VALUES {} \
                 ON CONFLICT (day, name) DO UPDATE SET \
                 count = metric_daily_events.count + excluded.count, \
                 visitors = metric_daily_events.visitors + excluded.visitors",
                tuples(chunk.len(), 4)
            );
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("rolling up events"))?;
        }
        let utm: Vec<_> = rollup.utm.into_iter().collect();
        for chunk in utm.chunks(CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 5);
            for ((day, source, medium, campaign), views) in chunk {
                values.extend([
                    day.clone().into(),
                    source.clone().into(),
                    medium.clone().into(),
                    campaign.clone().into(),
                    big(*views),
                ]);
            }
            let sql = format!(
                "INSERT INTO metric_daily_utm (day, source, medium, campaign, views) VALUES {} \
                 ON CONFLICT (day, source, medium, campaign) DO UPDATE SET \
                 views = metric_daily_utm.views + excluded.views",
                tuples(chunk.len(), 5)
            );
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("rolling up campaigns"))?;
        }
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM metric_events WHERE id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let values = chunk.iter().map(|id| (*id).into()).collect();
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(unexpected("deleting rolled-up metric events"))?;
        }
        txn.commit()
            .await
            .map_err(unexpected("committing a metrics roll-up"))?;
        Ok(ids.len() as u64)
    }

    async fn purge_visitors_before(&self, day: NaiveDate) -> Result<u64, AnalyticsError> {
        let done = self
            .db
            .execute_raw(self.stmt(
                "DELETE FROM metric_visitors WHERE day < ?",
                vec![day.to_string().into()],
            ))
            .await
            .map_err(unexpected("deleting old metrics visitor sets"))?;
        Ok(done.rows_affected())
    }

    async fn top_pages(
        &self,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<PageStats>, AnalyticsError> {
        let total = self
            .total(
                "SELECT COUNT(*) AS n FROM (SELECT path FROM metric_daily_paths \
                 WHERE day >= ? AND day <= ? GROUP BY path) g",
                range,
            )
            .await?;
        let rows = self
            .page_rows(
                "SELECT path, CAST(SUM(views) AS BIGINT) AS views, \
                 CAST(SUM(visitors) AS BIGINT) AS visitors FROM metric_daily_paths \
                 WHERE day >= ? AND day <= ? GROUP BY path \
                 ORDER BY CAST(SUM(views) AS BIGINT) DESC, path ASC LIMIT ? OFFSET ?",
                range,
                page,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(PageStats {
                    path: get(r, "path")?,
                    views: count(r, "views")?,
                    visitors: count(r, "visitors")?,
                })
            })
            .collect::<Result<_, Unexpected>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn top_referrers(
        &self,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<ReferrerStats>, AnalyticsError> {
        let total = self
            .total(
                "SELECT COUNT(*) AS n FROM (SELECT referrer_host FROM metric_daily_referrers \
                 WHERE day >= ? AND day <= ? GROUP BY referrer_host) g",
                range,
            )
            .await?;
        let rows = self
            .page_rows(
                "SELECT referrer_host, CAST(SUM(views) AS BIGINT) AS views \
                 FROM metric_daily_referrers WHERE day >= ? AND day <= ? \
                 GROUP BY referrer_host \
                 ORDER BY CAST(SUM(views) AS BIGINT) DESC, referrer_host ASC LIMIT ? OFFSET ?",
                range,
                page,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(ReferrerStats {
                    host: get(r, "referrer_host")?,
                    views: count(r, "views")?,
                })
            })
            .collect::<Result<_, Unexpected>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn campaigns(
        &self,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Page<CampaignStats>, AnalyticsError> {
        let total = self
            .total(
                "SELECT COUNT(*) AS n FROM (SELECT source, medium, campaign FROM metric_daily_utm \
                 WHERE day >= ? AND day <= ? GROUP BY source, medium, campaign) g",
                range,
            )
            .await?;
        let rows = self
            .page_rows(
                "SELECT source, medium, campaign, CAST(SUM(views) AS BIGINT) AS views \
                 FROM metric_daily_utm WHERE day >= ? AND day <= ? \
                 GROUP BY source, medium, campaign \
                 ORDER BY CAST(SUM(views) AS BIGINT) DESC, source ASC, medium ASC, campaign ASC \
                 LIMIT ? OFFSET ?",
                range,
                page,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(CampaignStats {
                    source: get(r, "source")?,
                    medium: get(r, "medium")?,
                    campaign: get(r, "campaign")?,
                    views: count(r, "views")?,
                })
            })
            .collect::<Result<_, Unexpected>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn daily_totals(&self, range: DateRange) -> Result<Vec<DayStats>, AnalyticsError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT day, views, visitors FROM metric_daily_totals \
                 WHERE day >= ? AND day <= ? ORDER BY day",
                bounds(range),
            ))
            .await
            .map_err(unexpected("loading daily metric totals"))?;
        rows.iter()
            .map(|r| {
                let day: String = get(r, "day")?;
                Ok(DayStats {
                    day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|e| {
                        Unexpected::new("metric_daily_totals row has an invalid day", e)
                    })?,
                    views: count(r, "views")?,
                    visitors: count(r, "visitors")?,
                })
            })
            .collect::<Result<_, Unexpected>>()
            .map_err(Into::into)
    }

    async fn funnel_counts(&self, range: DateRange) -> Result<FunnelCounts, AnalyticsError> {
        let viewers = self
            .total(
                "SELECT CAST(COALESCE(SUM(visitors), 0) AS BIGINT) AS n FROM metric_daily_totals \
                 WHERE day >= ? AND day <= ?",
                range,
            )
            .await?;
        let mut values = bounds(range);
        values.extend([
            EventName::ADD_TO_CART.to_owned().into(),
            EventName::PURCHASE.to_owned().into(),
        ]);
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT name, CAST(SUM(visitors) AS BIGINT) AS n FROM metric_daily_events \
                 WHERE day >= ? AND day <= ? AND name IN (?, ?) GROUP BY name",
                values,
            ))
            .await
            .map_err(unexpected("loading the metrics funnel"))?;
        let mut counts = FunnelCounts {
            viewers,
            ..FunnelCounts::default()
        };
        for row in &rows {
            let name: String = get(row, "name")?;
            let n = count(row, "n")?;
            if name == EventName::ADD_TO_CART {
                counts.carts = n;
            } else if name == EventName::PURCHASE {
                counts.purchases = n;
            }
        }
        Ok(counts)
    }
}

fn bounds(range: DateRange) -> Vec<Value> {
    vec![
        range.from().to_string().into(),
        range.to().to_string().into(),
    ]
}

impl SeaMetricsStore {
    async fn total(&self, sql: &str, range: DateRange) -> Result<u64, AnalyticsError> {
        let row = self
            .db
            .query_one_raw(self.stmt(sql, bounds(range)))
            .await
            .map_err(unexpected("counting metric rows"))?
            .ok_or_else(|| Unexpected::msg("a count returned no row"))?;
        Ok(count(&row, "n")?)
    }

    async fn page_rows(
        &self,
        sql: &str,
        range: DateRange,
        page: PageRequest,
    ) -> Result<Vec<QueryResult>, AnalyticsError> {
        let mut values = bounds(range);
        values.extend([
            i64::from(page.limit()).into(),
            i64::try_from(page.offset()).unwrap_or(i64::MAX).into(),
        ]);
        Ok(self
            .db
            .query_all_raw(self.stmt(sql, values))
            .await
            .map_err(unexpected("loading a metrics report"))?)
    }
}
