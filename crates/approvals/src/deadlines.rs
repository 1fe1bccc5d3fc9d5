//! Approval deadlines: when a submitted response must be decided, when its approvers are
//! warned, and the business hours the clock runs in.
//!
//! A [`DeadlinePolicy`] turns the instant a response is submitted into a [`Deadline`]: the
//! response is due `limit` of working time later, and its approvers are warned `warn_before`
//! of working time before that. Without [`BusinessHours`] every hour is a working hour.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// When a pending response should be decided, and when its approvers are warned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// Approvers are warned from this instant on.
    pub warn_at: DateTime<Utc>,
    /// The response is overdue from this instant on (ADMIN is told).
    pub due_at: DateTime<Utc>,
}

/// Which stage of a deadline the worker acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadlineStage {
    /// `warn_at` passed, `due_at` not yet: the approvers are warned (once).
    Warning,
    /// `due_at` passed: ADMIN is told (once).
    Escalation,
}

/// A response whose deadline reached a stage, as the worker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueResponse {
    /// The response.
    pub response_id: crate::ResponseId,
    /// Its deadline.
    pub deadline: Deadline,
}

/// Working hours: the days of the week and the daily window (in a fixed UTC offset) in
/// which a deadline's clock runs. Written `Mon-Fri 09:00-17:00 +05:30`: days as a range or
/// a comma list (`Mon,Wed,Fri`), the window, then an optional offset (UTC when left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    /// Working days, Monday first.
    days: [bool; 7],
    /// Start of the working window, local time.
    open: NaiveTime,
    /// End of the working window, local time (after `open`).
    close: NaiveTime,
    /// The offset local times are in.
    offset: FixedOffset,
}

/// A business-hours text that does not follow `Mon-Fri 09:00-17:00 +05:30`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "business hours must look like `Mon-Fri 09:00-17:00 +05:30` (days, a window that ends after it starts, an optional UTC offset): {0}"
)]
pub struct InvalidBusinessHours(String);

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(name: &str) -> Option<usize> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(name.trim()))
}

fn parse_days(text: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    for part in text.split(',') {
        if let Some((from, to)) = part.split_once('-') {
            let (from, to) = (day_index(from)?, day_index(to)?);
            if from > to {
                return None;
            }
            days[from..=to].iter_mut().for_each(|d| *d = true);
        } else {
            days[day_index(part)?] = true;
        }
    }
    Some(days)
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

impl FromStr for BusinessHours {
    type Err = InvalidBusinessHours;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| InvalidBusinessHours(why.to_owned());
        let words: Vec<&str> = s.split_whitespace().collect();
        let (days, window, offset) = match words.as_slice() {
            [days, window] => (*days, *window, None),
            [days, window, offset] => (*days, *window, Some(*offset)),
            _ => return Err(bad("expected days, a window and an optional offset")),
        };
        let days = parse_days(days).ok_or_else(|| bad("unknown days"))?;
        let (open, close) = window
            .split_once('-')
            .ok_or_else(|| bad("the window is `HH:MM-HH:MM`"))?;
        let time = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| bad("bad time"));
        let (open, close) = (time(open)?, time(close)?);
        if close <= open {
            return Err(bad("the window must end after it starts"));
        }
        let offset = match offset {
            None => FixedOffset::east_opt(0).ok_or_else(|| bad("offset"))?,
            Some(o) => parse_offset(o).ok_or_else(|| bad("the offset is like +05:30"))?,
        };
        Ok(Self {
            days,
            open,
            close,
            offset,
        })
    }
}

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> = DAY_NAMES
            .iter()
            .zip(self.days)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect();
        write!(
            f,
            "{} {}-{} {}",
            days.join(","),
            self.open.format("%H:%M"),
            self.close.format("%H:%M"),
            self.offset
        )
    }
}

impl BusinessHours {
    /// The instant `work` of working time after `start`. Time outside the working window
    /// does not count; a start outside it counts from the next opening. (Parsed hours always
    /// have a working day; the loop's bound of fifty years only guards against one without.)
    #[must_use]
    pub fn add_working(&self, start: DateTime<Utc>, work: Duration) -> DateTime<Utc> {
        let mut remaining = work.max(Duration::zero());
        let mut local = start.with_timezone(&self.offset);
        for _ in 0..(366 * 50) {
            let date = local.date_naive();
            let weekday = date.weekday().num_days_from_monday() as usize;
            if self.days[weekday] {
                let open = self.at(date, self.open);
                let close = self.at(date, self.close);
                if local < close {
                    let begin = local.max(open);
                    let available = close - begin;
                    if remaining <= available {
                        return (begin + remaining).with_timezone(&Utc);
                    }
                    remaining -= available;
                }
            }
            let next = date.succ_opt().unwrap_or(date);
            local = self.at(next, NaiveTime::MIN);
        }
        start + work
    }

    fn at(&self, date: chrono::NaiveDate, time: NaiveTime) -> DateTime<FixedOffset> {
        // A fixed offset has no gaps or folds: every local time is one instant.
        let utc = date.and_time(time) - Duration::seconds(i64::from(self.offset.local_minus_utc()));
        DateTime::from_naive_utc_and_offset(utc, self.offset)
    }
}

/// How long a submitted response may wait for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePolicy {
    limit: Duration,
    warn_before: Duration,
    hours: Option<BusinessHours>,
}

/// A deadline policy the settings should refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDeadlinePolicy {
    /// The limit is zero or negative.
    #[error("an approval deadline must be positive")]
    Limit,
    /// The warning comes before the response could be submitted.
    #[error("the warning must come less than the deadline before it")]
    Warning,
}

impl DeadlinePolicy {
    /// Responses are due `limit` of working time after submission, approvers are warned
    /// `warn_before` of working time before that, and `hours` (when given) says which time
    /// is working time.
    ///
    /// # Errors
    /// `Limit` unless `limit` is positive; `Warning` unless `0 <= warn_before < limit`.
    pub fn new(
        limit: Duration,
        warn_before: Duration,
        hours: Option<BusinessHours>,
    ) -> Result<Self, InvalidDeadlinePolicy> {
        if limit <= Duration::zero() {
            return Err(InvalidDeadlinePolicy::Limit);
        }
        if warn_before < Duration::zero() || warn_before >= limit {
            return Err(InvalidDeadlinePolicy::Warning);
        }
        Ok(Self {
            limit,
            warn_before,
            hours,
        })
    }

    /// The deadline of a response submitted at `submitted_at`.
    #[must_use]
    pub fn schedule(&self, submitted_at: DateTime<Utc>) -> Deadline {
        let add = |work: Duration| match &self.hours {
            Some(hours) => hours.add_working(submitted_at, work),
            None => submitted_at + work,
        };
        Deadline {
            warn_at: add(self.limit - self.warn_before),
            due_at: add(self.limit),
        }
    }

    /// The working time a response may wait.
    #[must_use]
    pub const fn limit(&self) -> Duration {
        self.limit
    }

    /// How long before the deadline approvers are warned.
    #[must_use]
    pub const fn warn_before(&self) -> Duration {
        self.warn_before
    }

    /// The business hours, when the clock only runs in them.
    #[must_use]
    pub const fn hours(&self) -> Option<&BusinessHours> {
        self.hours.as_ref()
    }
}

impl Default for DeadlinePolicy {
    /// 24 hours round the clock, with a warning 4 hours before.
    fn default() -> Self {
        Self {
            limit: Duration::hours(24),
            warn_before: Duration::hours(4),
            hours: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a valid instant")
            .with_timezone(&Utc)
    }

    fn office() -> BusinessHours {
        "Mon-Fri 09:00-17:00 +05:30".parse().expect("valid hours")
    }

    #[test]
    fn business_hours_parse_ranges_lists_and_offsets() {
        let h = office();
        assert_eq!(h.to_string(), "mon,tue,wed,thu,fri 09:00-17:00 +05:30");
        let h: BusinessHours = "mon,wed,FRI 08:30-12:00".parse().expect("valid");
        assert_eq!(h.to_string(), "mon,wed,fri 08:30-12:00 +00:00");
        for bad in [
            "",
            "Mon-Fri",
            "Fri-Mon 09:00-17:00",
            "Mon-Fri 17:00-09:00",
            "Mon-Fri 09:00-09:00",
            "Mon-Fry 09:00-17:00",
            "Mon-Fri 9-17",
            "Mon-Fri 09:00-17:00 0530",
            "Mon-Fri 09:00-17:00 +15:00",
            "Mon-Fri 09:00-17:00 +05:30 extra",
        ] {
            assert!(bad.parse::<BusinessHours>().is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn round_the_clock_deadlines_add_plain_time() {
        let policy = DeadlinePolicy::default();
        let at = utc("2026-12-04T10:00:00Z");
        let d = policy.schedule(at);
        assert_eq!(d.warn_at, utc("2026-12-05T06:00:00Z"));
        assert_eq!(d.due_at, utc("2026-12-05T10:00:00Z"));
    }

    #[test]
    fn the_clock_runs_only_in_business_hours() {
        // 8 working hours, warned 2 working hours before.
        let policy = DeadlinePolicy::new(Duration::hours(8), Duration::hours(2), Some(office()))
            .expect("valid policy");
        // Friday 15:00 in +05:30 = 09:30Z: 2 hours left on Friday, 6 on Monday.
        let d = policy.schedule(utc("2026-12-04T09:30:00Z"));
        // Monday 13:00 +05:30 = 07:30Z (4 hours into Monday: 2 + 4 = 6 before the warning).
        assert_eq!(d.warn_at, utc("2026-12-07T07:30:00Z"));
        // Monday 15:00 +05:30 = 09:30Z.
        assert_eq!(d.due_at, utc("2026-12-07T09:30:00Z"));
    }

    #[test]
    fn a_submission_outside_hours_counts_from_the_next_opening() {
        let hours = office();
        // Saturday noon local: counts from Monday 09:00 local (03:30Z).
        let start = utc("2026-12-05T06:30:00Z");
        assert_eq!(
            hours.add_working(start, Duration::minutes(30)),
            utc("2026-12-07T04:00:00Z")
        );
        // Before opening on a working day: from that day's opening.
        let early = utc("2026-12-07T01:00:00Z"); // 06:30 local, Monday
        assert_eq!(
            hours.add_working(early, Duration::hours(1)),
            utc("2026-12-07T04:30:00Z")
        );
        // Exactly the rest of the day ends at closing, not at the next opening.
        let late = utc("2026-12-07T10:30:00Z"); // 16:00 local
        assert_eq!(
            hours.add_working(late, Duration::hours(1)),
            utc("2026-12-07T11:30:00Z")
        );
    }

    #[test]
    fn long_deadlines_span_weeks() {
        let hours = office();
        // 40 working hours = one working week, from Monday opening to Friday closing.
        let monday = utc("2026-12-07T03:30:00Z");
        assert_eq!(
            hours.add_working(monday, Duration::hours(40)),
            utc("2026-12-11T11:30:00Z")
        );
        assert_eq!(
            hours.add_working(monday, Duration::hours(41)),
            utc("2026-12-14T04:30:00Z")
        );
    }

    #[test]
    fn bad_policies_are_refused() {
        let h = Duration::hours;
        assert_eq!(
            DeadlinePolicy::new(h(0), h(0), None),
            Err(InvalidDeadlinePolicy::Limit)
        );
        assert_eq!(
            DeadlinePolicy::new(h(4), h(4), None),
            Err(InvalidDeadlinePolicy::Warning)
        );
        assert_eq!(
            DeadlinePolicy::new(h(4), h(-1), None),
            Err(InvalidDeadlinePolicy::Warning)
        );
        assert!(DeadlinePolicy::new(h(4), h(0), None).is_ok());
    }
}
