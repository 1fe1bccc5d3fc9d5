use chrono::{DateTime, Utc};

/// Tells the time. Services take a clock so that expiry rules can be tested.
pub trait Clock: Send + Sync {
    /// The current instant, UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to microseconds (what every supported database stores).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        let micros = now.timestamp_micros();
        DateTime::from_timestamp_micros(micros).unwrap_or(now)
    }
}

/// A clock that always answers the same instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

impl Default for FixedClock {
    fn default() -> Self {
        Self(DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default())
    }
}
