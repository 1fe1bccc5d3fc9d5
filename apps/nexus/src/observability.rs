//! Prometheus metrics: the process-wide recorder, what the HTTP layer records, and the
//! gauges computed when `/metrics` is scraped. Every metric and its labels are listed in
//! `docs/operations.md`.
//!
//! The recorder of the `metrics` facade is process-global. It is installed once
//! ([`handle`]); anything in the process (the rate limiter, the response cache) records through
//! the facade and shows up in the same text.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nexus_outbox::DeliveryStore;
use nexus_sea_support::DatabaseConnection;

/// Requests by route template, method and status.
pub const HTTP_REQUESTS: &str = "nexus_http_requests_total";
/// Request latency by route template, method and status (seconds).
pub const HTTP_DURATION: &str = "nexus_http_request_duration_seconds";
/// Requests being served now.
pub const HTTP_IN_FLIGHT: &str = "nexus_http_requests_in_flight";
/// Database pool connections by state (`in_use`, `idle`).
pub const DB_POOL_CONNECTIONS: &str = "nexus_db_pool_connections";
/// The most connections the pool opens.
pub const DB_POOL_MAX: &str = "nexus_db_pool_max_connections";
/// Outbox deliveries by state (`pending`, `running`, `dead`).
pub const OUTBOX_DELIVERIES: &str = "nexus_outbox_deliveries";
/// How long the oldest delivery of a state has been due (seconds).
pub const OUTBOX_OLDEST_AGE: &str = "nexus_outbox_oldest_due_age_seconds";
/// Dead deliveries (dead letters awaiting an administrator).
pub const OUTBOX_DEAD: &str = "nexus_outbox_dead_deliveries";
/// 1 when the last scrape could read the outbox backlog, 0 when it could not.
pub const OUTBOX_BACKLOG_UP: &str = "nexus_outbox_backlog_up";
/// Razorpay webhook events by event type and outcome.
pub const WEBHOOK_EVENTS: &str = "nexus_webhook_events_total";
/// Always 1, labelled with the build.
pub const BUILD_INFO: &str = "nexus_build_info";
/// Rejections by the abuse limits, by limit (recorded by the rate limiter).
pub const RATE_LIMIT_REJECTIONS: &str = "nexus_rate_limit_rejections_total";

/// Reads of a cache of public answers, by cache and outcome (`hit`, `miss`, `bypass`).
pub const CACHE_REQUESTS: &str = "nexus_cache_requests_total";

/// The route label of a request that matched no route: unknown paths never become labels.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets (seconds): 5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// How often histograms are compacted (`run_upkeep`).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The Prometheus handle of this process, installing the recorder on first use (with the
/// build info and the metric descriptions) and starting its upkeep thread. If another
/// recorder was installed first (an embedding program), this one still renders, but only
/// what is recorded through it directly: nothing, so the cause is logged.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &LATENCY_BUCKETS);
        let handle = match builder {
            Ok(builder) => match builder.install_recorder() {
                Ok(handle) => handle,
                Err(err) => {
                    tracing::error!(error = %err, "the metrics recorder could not be installed");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            },
            Err(err) => {
                tracing::error!(error = %err, "the metrics buckets were refused");
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        describe();
        gauge!(
            BUILD_INFO,
            "version" => env!("CARGO_PKG_VERSION"),
            "profile" => if cfg!(debug_assertions) { "debug" } else { "release" },
        )
        .set(1.0);
        let upkeep = handle.clone();
        // Histograms grow until compacted; a thread keeps that off the request path.
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "the metrics upkeep thread could not start");
        }
        handle
    })
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route template, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by route template, method and status"
    );
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being served");
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database pool connections by state (in_use, idle)"
    );
    describe_gauge!(DB_POOL_MAX, "Most connections the database pool opens");
    describe_gauge!(
        OUTBOX_DELIVERIES,
        "Outbox deliveries by state (pending, running, dead)"
    );
    describe_gauge!(
        OUTBOX_OLDEST_AGE,
        metrics::Unit::Seconds,
        "How long the oldest delivery of each state has been due"
    );
    describe_gauge!(OUTBOX_DEAD, "Dead deliveries awaiting an administrator");
    describe_gauge!(
        OUTBOX_BACKLOG_UP,
        "1 when the last scrape read the outbox backlog, 0 when it failed"
    );
    describe_counter!(
        WEBHOOK_EVENTS,
        "Razorpay webhook events by event type and outcome"
    );
    describe_gauge!(BUILD_INFO, "Always 1, labelled with the build");
    describe_counter!(
        RATE_LIMIT_REJECTIONS,
        "Requests refused by an abuse limit, by limit"
    );
    describe_counter!(
        CACHE_REQUESTS,
        "Reads of a cache of public answers by cache and outcome (hit, miss, bypass)"
    );
}

/// The label of an HTTP method: the standard ones by name, anything else `OTHER`, so a
/// client cannot invent label values.
#[must_use]
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method as M;
    match *method {
        M::GET => "GET",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        M::TRACE => "TRACE",
        M::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Counts one finished request and its latency under its route template.
pub fn record_request(method: &'static str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// One request in flight: counted up when made, down when dropped (also when the client
/// goes away and the request's future is dropped mid-way).
#[derive(Debug)]
pub struct InFlight(());

impl InFlight {
    /// Counts a request in.
    #[must_use]
    pub fn start() -> Self {
        gauge!(HTTP_IN_FLIGHT).increment(1.0);
        Self(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(HTTP_IN_FLIGHT).decrement(1.0);
    }
}

/// The Razorpay event types counted by name; any other (or an unreadable body) is `other`,
/// so an unsigned request cannot invent label values.
const WEBHOOK_TYPES: [&str; 4] = [
    "payment.captured",
    "payment.failed",
    "order.paid",
    "refund.processed",
];

/// The type label of a webhook body: its `event` field when it is a known type.
#[must_use]
pub fn webhook_type(body: &[u8]) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Head {
        event: String,
    }
    serde_json::from_slice::<Head>(body)
        .ok()
        .and_then(|head| WEBHOOK_TYPES.into_iter().find(|t| *t == head.event))
        .unwrap_or("other")
}

/// Counts one webhook event by type and outcome (a fixed set of snake_case words).
pub fn record_webhook(kind: &'static str, outcome: &'static str) {
    counter!(WEBHOOK_EVENTS, "type" => kind, "outcome" => outcome).increment(1);
}

/// Sets the gauges read at scrape time: the database pool and the outbox backlog (one
/// grouped, indexed count). A backlog that cannot be read leaves its gauges as they were
/// and sets [`OUTBOX_BACKLOG_UP`] to 0; the scrape still answers.
pub async fn collect(db: &DatabaseConnection, deliveries: &dyn DeliveryStore) {
    if let Some(pool) = nexus_sea_support::db::pool_stats(db) {
        gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(pool.in_use()));
        gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(pool.idle));
        gauge!(DB_POOL_MAX).set(f64::from(pool.max));
    }
    match deliveries.backlog().await {
        Ok(backlog) => {
            let now = Utc::now();
            for entry in backlog {
                let state = entry.state.as_str().to_ascii_lowercase();
                // Counts of a database fit an f64 exactly far beyond any real backlog.
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "a gauge is an f64; counts stay far below 2^53"
                )]
                let count = entry.count as f64;
                let age = entry.oldest_age(now).to_std().unwrap_or_default();
                gauge!(OUTBOX_DELIVERIES, "state" => state.clone()).set(count);
                gauge!(OUTBOX_OLDEST_AGE, "state" => state).set(age.as_secs_f64());
                if entry.state == nexus_outbox::DeliveryState::Dead {
                    gauge!(OUTBOX_DEAD).set(count);
                }
            }
            gauge!(OUTBOX_BACKLOG_UP).set(1.0);
        }
        Err(err) => {
            tracing::warn!(error = %err, "the outbox backlog could not be read for metrics");
            gauge!(OUTBOX_BACKLOG_UP).set(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_webhook_types_become_labels() {
        assert_eq!(
            webhook_type(br#"{"event":"payment.captured","payload":{}}"#),
            "payment.captured"
        );
        assert_eq!(webhook_type(br#"{"event":"made.up.by.anyone"}"#), "other");
        assert_eq!(webhook_type(b"not json"), "other");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let odd = actix_web::http::Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(method_label(&actix_web::http::Method::PATCH), "PATCH");
    }
}
