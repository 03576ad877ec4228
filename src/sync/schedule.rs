//! When a sync runs: a fixed interval (`30s`, `15m`, `2h`, `1d`) or a cron expression.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Every(Duration),
    Cron(Box<cron::Schedule>),
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("spec.schedule: {0}")]
pub struct ScheduleError(String);

/// Intervals shorter than this would hammer the vendor for no gain.
const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// Intervals longer than this are a typo, not a schedule (and would overflow
/// time arithmetic long before they mattered).
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 86_400);

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule, ScheduleError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ScheduleError("must not be empty".into()));
        }
        if let Some(d) = parse_interval(s) {
            if d < MIN_INTERVAL {
                return Err(ScheduleError(format!(
                    "interval {s:?} is shorter than the minimum of {}s",
                    MIN_INTERVAL.as_secs()
                )));
            }
            if d > MAX_INTERVAL {
                return Err(ScheduleError(format!(
                    "interval {s:?} is longer than the maximum of 366d"
                )));
            }
            return Ok(Schedule::Every(d));
        }
        let fields = s.split_whitespace().count();
        // Kubernetes users write five-field cron; the cron crate wants seconds first.
        let expr = match fields {
            5 => format!("0 {s}"),
            6 | 7 => s.to_string(),
            _ => {
                return Err(ScheduleError(format!(
                    "{s:?} is neither an interval such as 15m nor a five-field cron expression"
                )));
            }
        };
        cron::Schedule::from_str(&expr)
            .map(|c| Schedule::Cron(Box::new(c)))
            .map_err(|e| ScheduleError(format!("invalid cron expression {s:?}: {e}")))
    }

    /// About how long between runs (a cron schedule: between its next two runs).
    pub fn nominal_interval(&self) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(c) => {
                let mut next = c.upcoming(Utc);
                match (next.next(), next.next()) {
                    (Some(a), Some(b)) => (b - a).to_std().unwrap_or(Duration::from_secs(3600)),
                    _ => Duration::from_secs(3600),
                }
            }
        }
    }

    /// The next run strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Every(d) => {
                after + chrono::Duration::from_std(*d).unwrap_or(chrono::Duration::hours(1))
            }
            Schedule::Cron(c) => c
                .after(&after)
                .next()
                .unwrap_or(after + chrono::Duration::days(365)),
        }
    }
}

pub fn parse_interval(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(
            Schedule::parse("15m").unwrap(),
            Schedule::Every(Duration::from_secs(900))
        );
        assert_eq!(
            Schedule::parse("2h").unwrap(),
            Schedule::Every(Duration::from_secs(7200))
        );
        assert!(Schedule::parse("1s").is_err());
        assert!(Schedule::parse("").is_err());
        assert!(Schedule::parse("15 minutes").is_err());
        // Bounded: no overflow, a clear message.
        assert!(
            Schedule::parse("367d")
                .unwrap_err()
                .to_string()
                .contains("366d")
        );
        assert!(Schedule::parse("99999999999999999999d").is_err());
        assert!(Schedule::parse("18446744073709551615s").is_err());
    }

    #[test]
    fn cron_five_fields() {
        let s = Schedule::parse("*/10 * * * *").unwrap();
        let t = DateTime::parse_from_rfc3339("2026-11-23T10:03:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(s.next_after(t).to_rfc3339(), "2026-11-23T10:10:00+00:00");
        let err = Schedule::parse("61 * * * *").unwrap_err();
        assert!(err.to_string().starts_with("spec.schedule: invalid cron"));
    }
}
