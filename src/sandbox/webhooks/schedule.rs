//! When each vendor tries a failed delivery again. Pure.
//!
//! - Greenhouse (documented): 7 attempts over about 15 hours, the retries
//!   after 1, 15, 60, 120, 240 and 480 minutes.
//! - Lever (documented only as "five times, waiting longer and longer"): the
//!   first attempt and 5 retries; the waits are this sandbox's choice,
//!   quadrupling from a minute (1, 4, 16, 64, 256 minutes).
//! - Workable (undocumented): this sandbox's choice, 6 retries doubling from
//!   a minute (1, 2, 4, 8, 16, 32 minutes).
//!
//! Success is any 2xx for every vendor (Workable's docs say "200"; the
//! sandbox treats every 2xx as success, as receivers answering 202 expect).

use std::time::Duration;

use crate::model::VendorKind;

const fn min(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

const GREENHOUSE: [Duration; 6] = [min(1), min(15), min(60), min(120), min(240), min(480)];
const LEVER: [Duration; 5] = [min(1), min(4), min(16), min(64), min(256)];
const WORKABLE: [Duration; 6] = [min(1), min(2), min(4), min(8), min(16), min(32)];

/// The waits before each retry: attempt `n + 2` follows attempt `n + 1` by
/// `retries(v)[n]`; the number of attempts is one more than its length.
pub fn retries(vendor: VendorKind) -> &'static [Duration] {
    match vendor {
        VendorKind::Greenhouse => &GREENHOUSE,
        VendorKind::Lever => &LEVER,
        _ => &WORKABLE,
    }
}

/// Attempts in all, the first included.
pub fn attempts(vendor: VendorKind) -> u32 {
    retries(vendor).len() as u32 + 1
}

/// The wait after failed attempt `attempt` (1-based) at time scale `scale`;
/// `None` once the attempts are spent.
pub fn next_wait(vendor: VendorKind, attempt: u32, scale: f64) -> Option<Duration> {
    let i = usize::try_from(attempt.checked_sub(1)?).ok()?;
    let d = retries(vendor).get(i)?;
    Some(scaled(*d, scale))
}

/// `d` times `scale`, bounded (a scale is validated to be positive and finite).
pub fn scaled(d: Duration, scale: f64) -> Duration {
    let secs = d.as_secs_f64() * scale;
    if secs.is_finite() && secs > 0.0 {
        Duration::from_secs_f64(secs.min(86_400.0 * 30.0))
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greenhouse_tries_seven_times_over_fifteen_hours() {
        assert_eq!(attempts(VendorKind::Greenhouse), 7);
        let total: Duration = retries(VendorKind::Greenhouse).iter().sum();
        assert_eq!(total, min(15 * 60 + 16));
        assert_eq!(attempts(VendorKind::Lever), 6);
        let lever = retries(VendorKind::Lever);
        assert!(lever.windows(2).all(|w| w[0] < w[1]), "longer and longer");
        assert_eq!(
            next_wait(VendorKind::Lever, 1, 0.001),
            Some(Duration::from_millis(60))
        );
        assert_eq!(next_wait(VendorKind::Lever, 6, 1.0), None);
        assert_eq!(next_wait(VendorKind::Lever, 0, 1.0), None);
        assert_eq!(scaled(min(1), f64::NAN), Duration::ZERO);
    }
}
