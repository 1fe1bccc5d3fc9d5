#![doc = include_str!("../README.md")]

mod bots;
mod error;
mod model;
pub mod permissions;
mod ports;
mod range;
mod service;

pub use bots::{BOT_MARKERS, is_bot};
pub use error::{AnalyticsError, FieldProblem};
pub use model::{
    CampaignStats, DailySalt, DayStats, EventKind, EventName, Funnel, FunnelCounts, InvalidValue,
    MetricEvent, NewEvent, PagePath, PageStats, RawEvent, ReferrerHost, ReferrerStats, Utm,
    UtmValue, VisitorHash,
};
pub use ports::{MetricsStore, SaltStore, VisitorHasher};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockMetricsStore, MockSaltStore, MockVisitorHasher};
pub use range::{DateRange, InvalidRange, MAX_RANGE_DAYS};
pub use service::{AnalyticsService, Ingested, MAX_BATCH, ROLLUP_BATCH, Visitor};
