//! API rate limits: the fixed window Greenhouse (30 s) and Workable (10 s)
//! use, Lever's token bucket, and the headers that report them.
//!
//! A window opens with the first request after the previous window ended, so a
//! client that counts from its own first request has a well-defined lower
//! bound on when its budget refills.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, header};

use super::errors::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub requests: u32,
    pub window: Duration,
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No limit is configured.
    Unlimited,
    Allowed {
        limit: u32,
        remaining: u32,
        /// Window end, epoch seconds rounded up.
        reset_epoch: u64,
    },
    Limited {
        limit: u32,
        reset_epoch: u64,
        /// Whole seconds until the window ends, rounded up, at least 1.
        retry_after: u64,
    },
}

/// How a vendor names its rate-limit headers.
#[derive(Clone, Copy, Debug)]
pub struct RateHeaders {
    pub limit: &'static str,
    pub remaining: &'static str,
    pub reset: &'static str,
    /// Whether a refused request says when to retry (`Retry-After`).
    pub retry_after: bool,
}

impl Decision {
    /// Stamps `names` for this decision. A `Retry-After` already there (an
    /// injected 429's) is kept.
    pub fn stamp(self, headers: &mut HeaderMap, names: RateHeaders) {
        let (limit, remaining, reset) = match self {
            Decision::Unlimited => return,
            Decision::Allowed {
                limit,
                remaining,
                reset_epoch,
            } => (limit, remaining, reset_epoch),
            Decision::Limited {
                limit, reset_epoch, ..
            } => (limit, 0, reset_epoch),
        };
        headers.insert(names.limit, HeaderValue::from(limit));
        headers.insert(names.remaining, HeaderValue::from(remaining));
        headers.insert(names.reset, HeaderValue::from(reset));
        if let Decision::Limited { retry_after, .. } = self
            && names.retry_after
            && !headers.contains_key(header::RETRY_AFTER)
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
    }

    /// The request admitted, or with `refusal` (given the seconds to wait) when
    /// it is limited: what [`Gate::admit`](super::guard::Gate::admit) returns.
    pub fn admit(
        self,
        refusal: impl FnOnce(u64) -> ApiError,
    ) -> Result<Decision, (Decision, ApiError)> {
        match self {
            Decision::Limited { retry_after, .. } => Err((self, refusal(retry_after))),
            _ => Ok(self),
        }
    }

    /// The same window with its budget spent (a 429 says so, whatever was counted).
    pub fn exhausted(self) -> Decision {
        match self {
            Decision::Allowed {
                limit, reset_epoch, ..
            } => Decision::Allowed {
                limit,
                remaining: 0,
                reset_epoch,
            },
            other => other,
        }
    }
}

#[derive(Debug)]
pub struct FixedWindow {
    limit: Option<Limit>,
    window_start: Option<Instant>,
    count: u32,
}

impl FixedWindow {
    pub fn new(limit: Option<Limit>) -> Self {
        FixedWindow {
            limit,
            window_start: None,
            count: 0,
        }
    }

    pub fn limit(&self) -> Option<Limit> {
        self.limit
    }

    /// Replaces the limit and starts afresh.
    pub fn set_limit(&mut self, limit: Option<Limit>) {
        self.limit = limit;
        self.window_start = None;
        self.count = 0;
    }

    pub fn check(&mut self) -> Decision {
        self.check_at(Instant::now(), SystemTime::now())
    }

    /// Counts one request at `now` (`wall` is the same moment on the wall clock).
    pub fn check_at(&mut self, now: Instant, wall: SystemTime) -> Decision {
        let Some(limit) = self.limit else {
            return Decision::Unlimited;
        };
        let start = match self.window_start {
            Some(s) if now < s + limit.window => s,
            _ => {
                self.window_start = Some(now);
                self.count = 0;
                now
            }
        };
        let left = (start + limit.window).saturating_duration_since(now);
        let reset_epoch = ceil_secs(
            wall.duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_add(left),
        );
        if self.count < limit.requests {
            self.count += 1;
            Decision::Allowed {
                limit: limit.requests,
                remaining: limit.requests - self.count,
                reset_epoch,
            }
        } else {
            Decision::Limited {
                limit: limit.requests,
                reset_epoch,
                retry_after: ceil_secs(left).max(1),
            }
        }
    }
}

pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Token bucket, as Lever documents its limit: `limit.requests` per
/// `limit.window` steady, with bursts of up to `burst` requests.
#[derive(Debug)]
pub struct TokenBucket {
    limit: Option<Limit>,
    burst: u32,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket; `burst` is raised to at least one request.
    pub fn new(limit: Option<Limit>, burst: u32) -> Self {
        let burst = burst.max(1);
        TokenBucket {
            limit,
            burst,
            tokens: f64::from(burst),
            last: None,
        }
    }

    pub fn limit(&self) -> Option<Limit> {
        self.limit
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Replaces the limit and refills the bucket.
    pub fn set_limit(&mut self, limit: Option<Limit>, burst: u32) {
        *self = TokenBucket::new(limit, burst);
    }

    /// Takes one token; false when the bucket is empty (or true when off).
    pub fn try_acquire(&mut self) -> bool {
        self.try_acquire_at(Instant::now())
    }

    pub fn try_acquire_at(&mut self, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        if let Some(last) = self.last {
            let rate = f64::from(limit.requests) / limit.window.as_secs_f64().max(1e-9);
            let refill = now.saturating_duration_since(last).as_secs_f64() * rate;
            self.tokens = (self.tokens + refill).min(f64::from(self.burst));
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_opens_on_first_request_after_the_last_one_ended() {
        let mut w = FixedWindow::new(Some(Limit {
            requests: 2,
            window: Duration::from_secs(30),
        }));
        let t0 = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(matches!(
            w.check_at(t0, wall),
            Decision::Allowed {
                remaining: 1,
                reset_epoch: 1_030,
                ..
            }
        ));
        assert!(matches!(
            w.check_at(t0 + Duration::from_secs(1), wall + Duration::from_secs(1)),
            Decision::Allowed { remaining: 0, .. }
        ));
        let d = w.check_at(
            t0 + Duration::from_millis(10_500),
            wall + Duration::from_millis(10_500),
        );
        assert_eq!(
            d,
            Decision::Limited {
                limit: 2,
                reset_epoch: 1_030,
                retry_after: 20
            }
        );
        // Long after the window: a new one starts at this request.
        let d = w.check_at(t0 + Duration::from_secs(95), wall + Duration::from_secs(95));
        assert_eq!(
            d,
            Decision::Allowed {
                limit: 2,
                remaining: 1,
                reset_epoch: 1_125
            }
        );
    }

    #[test]
    fn bucket_bursts_then_refills_at_the_steady_rate() {
        let mut b = TokenBucket::new(
            Some(Limit {
                requests: 10,
                window: Duration::from_secs(1),
            }),
            20,
        );
        let t0 = Instant::now();
        assert!((0..20).all(|_| b.try_acquire_at(t0)));
        assert!(!b.try_acquire_at(t0));
        // 10/s: one token back after 100 ms, not before.
        assert!(!b.try_acquire_at(t0 + Duration::from_millis(50)));
        assert!(b.try_acquire_at(t0 + Duration::from_millis(150)));
        assert!(!b.try_acquire_at(t0 + Duration::from_millis(160)));
        // Never more than the burst, however long it rested.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..30).filter(|_| b.try_acquire_at(later)).count(), 20);
        let mut off = TokenBucket::new(None, 0);
        assert!((0..1000).all(|_| off.try_acquire()));
    }

    #[test]
    fn unlimited_when_off() {
        let mut w = FixedWindow::new(None);
        assert_eq!(w.check(), Decision::Unlimited);
    }
}
