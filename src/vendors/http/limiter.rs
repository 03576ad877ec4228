//! The per-connection rate limiter: the vendor's window, a client-side budget
//! and a token bucket, and the pause after a 429.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::HeaderMap;

use super::headers::{RateLimitInfo, rate_limit_info};

/// One limiter per connection, shared by all its requests. It honours the
/// vendor's rate-limit headers and, optionally, a client-side fixed-window
/// budget and a token bucket. Without any of them `acquire` is one uncontended
/// lock.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<LimiterState>,
    /// Never sleep longer than this on a vendor's word (guards against clock skew).
    max_wait: Duration,
}

#[derive(Debug)]
struct LimiterState {
    /// Requests left in the vendor's window, counted down locally between responses.
    remaining: Option<u32>,
    reset_at: Option<Instant>,
    /// After a 429 every request of the connection waits, not only the one refused.
    blocked_until: Option<Instant>,
    window: Option<FixedBudget>,
    bucket: Option<TokenBucket>,
}

#[derive(Debug)]
struct FixedBudget {
    requests: u32,
    window: Duration,
    start: Option<Instant>,
    used: u32,
}

#[derive(Debug)]
struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

/// What holds a request back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hold {
    /// After a 429: the vendor's `Retry-After`.
    RetryAfter,
    /// The vendor's rate-limit headers said none remain until the window resets.
    VendorWindow,
    /// The connection's own budget (`rateLimit`) or the client's token bucket.
    ClientBudget,
}

impl Hold {
    pub const ALL: [Hold; 3] = [Hold::RetryAfter, Hold::VendorWindow, Hold::ClientBudget];

    pub fn as_str(self) -> &'static str {
        match self {
            Hold::RetryAfter => "retry_after",
            Hold::VendorWindow => "vendor_window",
            Hold::ClientBudget => "client_budget",
        }
    }
}

/// How long one acquisition waited, by what held it (for the metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waited([Duration; 3]);

impl Waited {
    fn add(&mut self, hold: Hold, d: Duration) {
        let slot = &mut self.0[hold as usize];
        *slot = slot.saturating_add(d);
    }

    pub fn get(&self, hold: Hold) -> Duration {
        self.0[hold as usize]
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(None, None)
    }
}

impl RateLimiter {
    /// `budget`: at most `requests` per `window`, counted from the window's first
    /// request. `bucket`: `(requests per second, burst)`.
    pub fn new(budget: Option<(u32, Duration)>, bucket: Option<(f64, u32)>) -> Self {
        RateLimiter {
            state: Mutex::new(LimiterState {
                remaining: None,
                reset_at: None,
                blocked_until: None,
                window: budget
                    .filter(|(n, w)| *n > 0 && !w.is_zero())
                    .map(|(requests, window)| FixedBudget {
                        requests,
                        window,
                        start: None,
                        used: 0,
                    }),
                bucket: bucket
                    .filter(|(r, b)| *r > 0.0 && *b > 0)
                    .map(|(per_second, burst)| TokenBucket {
                        per_second,
                        burst: f64::from(burst),
                        tokens: f64::from(burst),
                        last: Instant::now(),
                    }),
            }),
            // The vendor's hold-off as announced (clamped like every vendor
            // time), so a long one is reported, not slept: see `acquire_within`.
            max_wait: super::headers::MAX_VENDOR_WAIT,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self) {
        let _ = self.acquire_within(Duration::MAX).await;
    }

    /// As [`RateLimiter::acquire`], unless the vendor told us to hold off for
    /// longer than `max_hold_off`: then `Err` with how long. Waits are slept
    /// in short slices, so a hold-off announced meanwhile (by a concurrent
    /// request's answer) is noticed too. `Ok` says how long it waited, and for what.
    pub async fn acquire_within(&self, max_hold_off: Duration) -> Result<Waited, Duration> {
        let mut waited = Waited::default();
        self.acquire_counting(max_hold_off, &mut waited)
            .await
            .map(|()| waited)
    }

    /// As [`RateLimiter::acquire_within`], adding its waits to `waited`
    /// whether or not it ends in a hold-off too long to wait.
    pub async fn acquire_counting(
        &self,
        max_hold_off: Duration,
        waited: &mut Waited,
    ) -> Result<(), Duration> {
        loop {
            if let Some(h) = self.held_off().filter(|h| *h > max_hold_off) {
                return Err(h);
            }
            match self.reserve(Instant::now()) {
                None => return Ok(()),
                Some((d, hold)) => {
                    tracing::debug!(wait_ms = d.as_millis() as u64, "waiting for rate limit");
                    let started = Instant::now();
                    tokio::time::sleep(d.min(Duration::from_secs(1))).await;
                    waited.add(hold, started.elapsed());
                }
            }
        }
    }

    /// Reserves a request slot at `now`, or says how long to wait first.
    #[cfg(test)]
    fn try_reserve(&self, now: Instant) -> Option<Duration> {
        self.reserve(now).map(|(d, _)| d)
    }

    /// As `try_reserve`, with what holds the request back.
    fn reserve(&self, now: Instant) -> Option<(Duration, Hold)> {
        let mut s = self.lock();
        let max_wait = self.max_wait;
        if let Some(until) = s.blocked_until {
            if now < until {
                return Some((until - now, Hold::RetryAfter));
            }
            s.blocked_until = None;
        }
        // The vendor's window, as last reported.
        if let Some(reset) = s.reset_at
            && now >= reset
        {
            s.reset_at = None;
            s.remaining = None;
        }
        if s.remaining == Some(0) {
            if let Some(reset) = s.reset_at {
                return Some(((reset - now).min(max_wait), Hold::VendorWindow));
            }
            // Exhausted with no reset time: let the vendor's 429 say how long.
            s.remaining = None;
        }
        if let Some(w) = &mut s.window {
            let start = match w.start {
                Some(st) if now < st + w.window => st,
                _ => {
                    w.used = 0;
                    w.start = Some(now);
                    now
                }
            };
            if w.used >= w.requests {
                return Some((start + w.window - now, Hold::ClientBudget));
            }
        }
        if let Some(b) = &mut s.bucket {
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * b.per_second).min(b.burst);
            b.last = now;
            if b.tokens < 1.0 {
                let d = Duration::from_secs_f64((1.0 - b.tokens) / b.per_second);
                return Some((d, Hold::ClientBudget));
            }
        }
        // Every limit agreed: count the request everywhere.
        if let Some(w) = &mut s.window {
            w.used += 1;
        }
        if let Some(b) = &mut s.bucket {
            b.tokens -= 1.0;
        }
        if let Some(r) = &mut s.remaining {
            *r = r.saturating_sub(1);
        }
        None
    }

    /// Holds every request back for `d` (after a 429).
    /// How long the vendor told us to hold off (a 429's `Retry-After`, or an
    /// exhausted window until its reset), without taking a slot.
    pub fn held_off(&self) -> Option<Duration> {
        let now = Instant::now();
        let s = self.lock();
        let blocked = s.blocked_until.filter(|u| *u > now).map(|u| u - now);
        let window = s
            .reset_at
            .filter(|r| s.remaining == Some(0) && *r > now)
            .map(|r| r - now);
        blocked.max(window)
    }

    pub fn block_for(&self, d: Duration) {
        let until = Instant::now() + d.min(self.max_wait);
        let mut s = self.lock();
        s.blocked_until = s.blocked_until.max(Some(until));
    }

    /// Takes in a response's rate-limit headers.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some(info) = rate_limit_info(headers, Utc::now()) else {
            return;
        };
        self.observe_info(info, Instant::now());
    }

    fn observe_info(&self, info: RateLimitInfo, now: Instant) {
        let mut s = self.lock();
        let reset_at = info.reset_in.map(|d| now + d.min(self.max_wait));
        // Responses of concurrent requests arrive out of order: within the same
        // window the smallest `remaining` is the freshest.
        let same_window = match (s.reset_at, reset_at) {
            (Some(a), Some(b)) => a.max(b) - a.min(b) < Duration::from_secs(1),
            _ => false,
        };
        s.remaining = Some(match (same_window, s.remaining) {
            (true, Some(r)) => r.min(info.remaining),
            _ => info.remaining,
        });
        if reset_at.is_some() || !same_window {
            s.reset_at = reset_at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_long_hold_off_fails_fast_a_short_one_is_waited() {
        let l = RateLimiter::default();
        l.observe_info(
            RateLimitInfo {
                limit: Some(50),
                remaining: 0,
                reset_in: Some(Duration::from_secs(3600)),
            },
            Instant::now(),
        );
        let held = l
            .acquire_within(Duration::from_secs(300))
            .await
            .unwrap_err();
        assert!(held > Duration::from_secs(3590), "{held:?}");
        let short = RateLimiter::default();
        short.block_for(Duration::from_millis(50));
        assert!(short.acquire_within(Duration::from_secs(300)).await.is_ok());
    }

    #[test]
    fn limiter_waits_for_reset_when_exhausted() {
        let l = RateLimiter::default();
        let now = Instant::now();
        let info = RateLimitInfo {
            limit: Some(2),
            remaining: 1,
            reset_in: Some(Duration::from_secs(10)),
        };
        assert_eq!(l.try_reserve(now), None);
        l.observe_info(info, now);
        // One left: taken locally, then the next must wait for the reset.
        assert_eq!(l.try_reserve(now), None);
        let w = l.try_reserve(now).unwrap();
        assert!(w > Duration::from_secs(9) && w <= Duration::from_secs(10));
        // A stale response of the same window does not give budget back.
        l.observe_info(info, now);
        assert!(l.try_reserve(now).is_some());
        assert_eq!(l.try_reserve(now + Duration::from_secs(11)), None);
    }

    #[test]
    fn limiter_fixed_window_and_bucket() {
        let l = RateLimiter::new(Some((2, Duration::from_secs(30))), None);
        let t0 = Instant::now();
        assert_eq!(l.try_reserve(t0), None);
        assert_eq!(l.try_reserve(t0), None);
        assert_eq!(
            l.try_reserve(t0 + Duration::from_secs(5)),
            Some(Duration::from_secs(25))
        );
        assert_eq!(l.try_reserve(t0 + Duration::from_secs(30)), None);

        let b = RateLimiter::new(None, Some((10.0, 2)));
        let t0 = Instant::now();
        assert_eq!(b.try_reserve(t0), None);
        assert_eq!(b.try_reserve(t0), None);
        let w = b.try_reserve(t0).unwrap();
        assert!(w <= Duration::from_millis(100), "{w:?}");
        assert_eq!(b.try_reserve(t0 + Duration::from_millis(150)), None);
    }

    #[tokio::test]
    async fn waits_are_told_by_what_held_them() {
        let l = RateLimiter::new(Some((1, Duration::from_millis(50))), None);
        assert_eq!(l.acquire_within(Duration::MAX).await, Ok(Waited::default()));
        let w = l.acquire_within(Duration::MAX).await.unwrap();
        assert!(
            w.get(Hold::ClientBudget) >= Duration::from_millis(40),
            "{w:?}"
        );
        assert_eq!(w.get(Hold::RetryAfter), Duration::ZERO);
        let l = RateLimiter::default();
        l.block_for(Duration::from_millis(30));
        let w = l.acquire_within(Duration::MAX).await.unwrap();
        assert!(
            w.get(Hold::RetryAfter) >= Duration::from_millis(20),
            "{w:?}"
        );
        let now = Instant::now();
        l.observe_info(
            RateLimitInfo {
                limit: Some(5),
                remaining: 0,
                reset_in: Some(Duration::from_secs(10)),
            },
            now,
        );
        assert_eq!(l.reserve(now).map(|(_, h)| h), Some(Hold::VendorWindow));
    }

    #[tokio::test]
    async fn a_budget_below_the_bucket_paces_to_the_budget() {
        let l = RateLimiter::new(Some((3, Duration::from_millis(100))), Some((1000.0, 20)));
        let t = Instant::now();
        for _ in 0..10 {
            l.acquire().await;
        }
        // 3 per window: the 10th request goes out in the fourth window.
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
    }
}
