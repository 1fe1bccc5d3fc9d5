//! How long a failed delivery waits before its next attempt.

use chrono::Duration;
use uuid::Uuid;

/// Exponential backoff with "equal jitter": attempt `n` waits a random-looking time between
/// half and all of `base * 2^(n-1)`, capped at `max`.
///
/// Equal jitter (rather than full jitter) keeps every delay at or above `base / 2`, so a
/// failing mail server is never hammered, while still spreading out deliveries that failed
/// together. The jitter is derived from a seed instead of a random number generator, so
/// the domain needs no `rand` crate and tests can predict the exact delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before the second attempt (before jitter). A negative value counts as zero.
    pub base: Duration,
    /// Largest delay (before jitter). A value below `base` counts as `base`.
    pub max: Duration,
}

impl RetryPolicy {
    /// The delay after `attempts` attempts have failed (`attempts` counts the one that just
    /// failed; `0` is treated as `1`). The result lies in `[capped / 2, capped]` where
    /// `capped = min(base * 2^(attempts-1), max)`; it never overflows, however large
    /// `attempts` is, and the same `jitter_seed` always gives the same delay.
    #[must_use]
    pub fn next_delay(&self, attempts: u32, jitter_seed: u64) -> Duration {
        let base = millis(self.base);
        let max = millis(self.max).max(base);
        let factor = 1_u64
            .checked_shl(attempts.saturating_sub(1))
            .unwrap_or(u64::MAX);
        let capped = base.saturating_mul(factor).min(max);
        let half = capped / 2;
        // `capped <= i64::MAX`, so `spread + 1` cannot overflow.
        let spread = capped - half;
        let jitter = mix(jitter_seed) % (spread + 1);
        Duration::milliseconds(i64::try_from(half + jitter).unwrap_or(i64::MAX))
    }

    /// A jitter seed for the `attempt` of the delivery or job `id`: stable across runs and
    /// processes (so a retried computation gives the same delay) and different between
    /// deliveries that failed together.
    #[must_use]
    pub fn jitter_seed(id: Uuid, attempt: u32) -> u64 {
        let (high, low) = id.as_u64_pair();
        mix(high ^ mix(low) ^ u64::from(attempt).rotate_left(32))
    }
}

/// Non-negative whole milliseconds of `d` (negative durations count as zero).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.num_milliseconds()).unwrap_or(0)
}

/// SplitMix64's finaliser: spreads the bits of `x` so that nearby seeds give unrelated values.
const fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base_secs: i64, max_secs: i64) -> RetryPolicy {
        RetryPolicy {
            base: Duration::seconds(base_secs),
            max: Duration::seconds(max_secs),
        }
    }

    /// The un-jittered delay the policy aims at for `attempts`.
    fn capped(policy: &RetryPolicy, attempts: u32) -> Duration {
        let exp = policy.base * 2_i32.pow(attempts.saturating_sub(1));
        exp.min(policy.max)
    }

    #[test]
    fn delays_stay_between_half_and_all_of_the_exponential_target() {
        let policy = policy(10, 3_600);
        for attempts in 1..=12 {
            let target = capped(&policy, attempts);
            for seed in 0..500 {
                let delay = policy.next_delay(attempts, seed);
                assert!(
                    delay >= target / 2,
                    "attempt {attempts} seed {seed}: {delay} < {target}/2"
                );
                assert!(
                    delay <= target,
                    "attempt {attempts} seed {seed}: {delay} > {target}"
                );
            }
        }
    }

    #[test]
    fn delays_grow_exponentially_until_the_cap() {
        let policy = policy(10, 10_000);
        // The lowest delay of attempt n+1 is the highest of attempt n: averages must double.
        let average = |attempts: u32| -> i64 {
            (0..2_000_u64)
                .map(|seed| policy.next_delay(attempts, seed).num_milliseconds())
                .sum::<i64>()
                / 2_000
        };
        let (first, second, third) = (average(1), average(2), average(3));
        assert!(
            (7_000..=8_000).contains(&first),
            "attempt 1 averages {first} ms"
        );
        assert!(
            (14_000..=16_000).contains(&second),
            "attempt 2 averages {second} ms"
        );
        assert!(
            (28_000..=32_000).contains(&third),
            "attempt 3 averages {third} ms"
        );
    }

    #[test]
    fn delays_never_exceed_the_cap() {
        let policy = policy(10, 60);
        for attempts in 4..=40 {
            for seed in 0..200 {
                let delay = policy.next_delay(attempts, seed);
                assert!(delay <= Duration::seconds(60));
                assert!(delay >= Duration::seconds(30));
            }
        }
    }

    #[test]
    fn the_first_retry_is_never_sooner_than_half_the_base() {
        let policy = policy(10, 60);
        let shortest = (0..10_000)
            .map(|seed| policy.next_delay(1, seed))
            .min()
            .expect("some delays");
        assert!(shortest >= Duration::seconds(5));
        assert!(
            shortest < Duration::milliseconds(5_100),
            "jitter should reach near the floor, got {shortest}"
        );
    }

    #[test]
    fn zero_attempts_is_treated_as_the_first_attempt() {
        let policy = policy(10, 60);
        assert_eq!(policy.next_delay(0, 42), policy.next_delay(1, 42));
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let policy = policy(10, 3_600);
        for attempts in [63, 64, 65, 1_000, u32::MAX] {
            let delay = policy.next_delay(attempts, u64::MAX);
            assert!(delay <= Duration::seconds(3_600));
            assert!(delay >= Duration::seconds(1_800));
        }
    }

    #[test]
    fn a_huge_base_and_cap_do_not_overflow() {
        let policy = RetryPolicy {
            base: Duration::MAX,
            max: Duration::MAX,
        };
        let delay = policy.next_delay(u32::MAX, 7);
        assert!(delay >= Duration::MAX / 2);
    }

    #[test]
    fn the_same_seed_gives_the_same_delay() {
        let policy = policy(10, 3_600);
        assert_eq!(policy.next_delay(5, 1_234), policy.next_delay(5, 1_234));
    }

    #[test]
    fn different_seeds_spread_the_delays() {
        let policy = policy(10, 3_600);
        let distinct: std::collections::BTreeSet<_> =
            (0..100).map(|seed| policy.next_delay(3, seed)).collect();
        assert!(
            distinct.len() > 90,
            "only {} distinct delays out of 100",
            distinct.len()
        );
    }

    #[test]
    fn a_cap_below_the_base_counts_as_the_base() {
        let policy = policy(10, 1);
        let delay = policy.next_delay(3, 99);
        assert!(delay >= Duration::seconds(5));
        assert!(delay <= Duration::seconds(10));
    }

    #[test]
    fn a_negative_base_gives_no_delay() {
        let policy = RetryPolicy {
            base: Duration::seconds(-10),
            max: Duration::seconds(-1),
        };
        assert_eq!(policy.next_delay(3, 99), Duration::zero());
    }

    #[test]
    fn jitter_seeds_differ_between_deliveries_and_attempts_but_not_between_calls() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            RetryPolicy::jitter_seed(a, 1),
            RetryPolicy::jitter_seed(a, 1)
        );
        assert_ne!(
            RetryPolicy::jitter_seed(a, 1),
            RetryPolicy::jitter_seed(a, 2)
        );
        assert_ne!(
            RetryPolicy::jitter_seed(a, 1),
            RetryPolicy::jitter_seed(b, 1)
        );
    }
}
