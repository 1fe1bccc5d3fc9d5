//! The date range of a report.

use chrono::NaiveDate;

/// The longest range a report covers, in days (both ends included).
pub const MAX_RANGE_DAYS: i64 = 366;

/// Why a range was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRange {
    /// `to` is before `from`.
    #[error("`to` must not be before `from`")]
    Reversed,
    /// More than [`MAX_RANGE_DAYS`] days.
    #[error("a range covers at most 366 days")]
    TooLong,
}

/// UTC days from `from` to `to`, both included, at most [`MAX_RANGE_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    /// A range of whole UTC days.
    ///
    /// # Errors
    /// [`InvalidRange`] when `to` is before `from` or the range is longer than 366 days.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, InvalidRange> {
        if to < from {
            return Err(InvalidRange::Reversed);
        }
        if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(InvalidRange::TooLong);
        }
        Ok(Self { from, to })
    }

    /// The first day.
    #[must_use]
    pub const fn from(&self) -> NaiveDate {
        self.from
    }

    /// The last day.
    #[must_use]
    pub const fn to(&self) -> NaiveDate {
        self.to
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_range_of_up_to_366_days_is_accepted_and_lists_every_day() {
        let one = DateRange::new(day("2026-03-01"), day("2026-03-01")).expect("one day");
        assert_eq!(one.days().count(), 1);
        let leap = DateRange::new(day("2024-01-01"), day("2024-12-31")).expect("366 days");
        assert_eq!(leap.days().count(), 366);
        let short = DateRange::new(day("2026-02-27"), day("2026-03-02")).expect("range");
        let days: Vec<_> = short.days().map(|d| d.to_string()).collect();
        assert_eq!(
            days,
            ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
        );
    }

    #[test]
    fn a_reversed_or_too_long_range_is_refused() {
        assert_eq!(
            DateRange::new(day("2026-03-02"), day("2026-03-01")),
            Err(InvalidRange::Reversed)
        );
        assert_eq!(
            DateRange::new(day("2024-01-01"), day("2025-01-01")),
            Err(InvalidRange::TooLong)
        );
    }
}
