//! Retention: decisions, their events and recruiters' outcomes are kept for a
//! configured number of days (three years by default, the longest
//! record-keeping duty the scoring notes name), then pruned, at start and
//! daily after; processed webhook deliveries as long.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::Ledger;

/// `--ledger-retention-days` by default: three years.
pub const DEFAULT_RETENTION_DAYS: u32 = 1095;

/// How often the running operator prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Rows deleted per transaction: a prune never holds writers up for long.
pub(super) const PRUNE_CHUNK: u32 = 5_000;

/// What a prune removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub decisions: u64,
    pub events: u64,
    /// Deletion records and the tombstones (write states) of applications
    /// deleted before the cut-off.
    pub deletions: u64,
    pub tombstones: u64,
    /// Recruiters' outcomes recorded before the cut-off.
    pub outcomes: u64,
    /// Webhook deliveries finished before the cut-off (pending ones stay).
    pub deliveries: u64,
}

impl Pruned {
    /// In the order of the ledger's prune statements; the third from last
    /// (the deliveries' application rows) is not reported.
    pub(super) fn from_counts(
        [
            decisions,
            events,
            deletions,
            tombstones,
            outcomes,
            _,
            deliveries,
        ]: [u64; 7],
    ) -> Self {
        Pruned {
            decisions,
            events,
            deletions,
            tombstones,
            outcomes,
            deliveries,
        }
    }
}

/// Pure: the oldest time still kept at `now`; `None` (0 days) keeps everything.
pub fn cutoff(now: DateTime<Utc>, retention_days: u32) -> Option<DateTime<Utc>> {
    if retention_days == 0 {
        return None;
    }
    chrono::Duration::try_days(i64::from(retention_days)).and_then(|d| now.checked_sub_signed(d))
}

/// Prunes now and then every `every`, until the task is dropped. A failed
/// prune is logged and tried again at the next turn: it never stops syncs.
pub async fn prune_periodically(ledger: Arc<Ledger>, retention_days: u32, every: Duration) {
    loop {
        if let Some(before) = cutoff(Utc::now(), retention_days) {
            match ledger.prune(before).await {
                Ok(p) => info!(
                    before = %before,
                    decisions = p.decisions,
                    events = p.events,
                    deletions = p.deletions,
                    tombstones = p.tombstones,
                    outcomes = p.outcomes,
                    deliveries = p.deliveries,
                    "ledger retention applied"
                ),
                Err(e) => warn!(error = %e, "ledger retention failed; trying again later"),
            }
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cutoff_is_the_retention_before_now() {
        let now = Utc.with_ymd_and_hms(2029, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(
            cutoff(now, DEFAULT_RETENTION_DAYS),
            Some(Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap())
        );
        assert_eq!(
            cutoff(now, 1),
            Some(Utc.with_ymd_and_hms(2029, 2, 28, 12, 0, 0).unwrap())
        );
        assert_eq!(cutoff(now, 0), None, "0 keeps everything");
        assert_eq!(
            cutoff(now, u32::MAX),
            None,
            "beyond chrono's range: nothing to prune"
        );
    }
}
