//! How hard a request is retried, and the jittered backoff between attempts.

use std::time::Duration;

use rand::Rng;

/// How hard a request is retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Backoff base: the first retry waits up to this long.
    pub base: Duration,
    /// Backoff ceiling for one wait.
    pub cap: Duration,
    /// Attempts in total for 5xx, resets and timeouts.
    pub max_attempts: u32,
    /// A `Retry-After` longer than this is not waited out; the caller gets `RateLimited`.
    pub max_retry_after: Duration,
    /// How many 429s one request waits out before giving up.
    pub rate_limit_retries: u32,
    /// The wait after a 429 without a usable `Retry-After`.
    pub default_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
            max_attempts: 6,
            max_retry_after: Duration::from_secs(300),
            rate_limit_retries: 10,
            default_retry_after: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The largest wait before retry number `retry` (0-based): `min(cap, base * 2^retry)`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// "Full jitter": uniform in `[0, ceiling]`, so clients that failed together
    /// do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        full_jitter(self.backoff_ceiling(retry), &mut rand::thread_rng())
    }
}

/// A uniform draw in `[0, ceiling]` (milliseconds).
pub fn full_jitter(ceiling: Duration, rng: &mut impl Rng) -> Duration {
    let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.gen_range(0..=ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ceiling(0), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(400));
        assert_eq!(p.backoff_ceiling(5), Duration::from_millis(6400));
        assert_eq!(p.backoff_ceiling(6), Duration::from_secs(10));
        assert_eq!(p.backoff_ceiling(40), Duration::from_secs(10));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for retry in 0..10 {
            for _ in 0..200 {
                let d = full_jitter(p.backoff_ceiling(retry), &mut rng);
                assert!(d <= p.backoff_ceiling(retry));
            }
            assert!(p.backoff(retry) <= p.cap);
        }
        // Jitter actually spreads.
        let samples: std::collections::HashSet<_> = (0..50)
            .map(|_| full_jitter(Duration::from_secs(1), &mut rng))
            .collect();
        assert!(samples.len() > 10);
    }
}
