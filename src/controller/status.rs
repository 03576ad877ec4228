//! Status of an `AtsSync`, derived from one in-memory view that both the
//! reconciler and the worker update. Rendering is pure; publishing applies it by
//! server-side apply only when it differs from what was last applied.

use chrono::{DateTime, SecondsFormat, Utc};

use super::resolve::Problem;
use crate::api::conditions::{self, Condition, reason};
use crate::api::{AtsSyncStatus, SyncCounts};
use crate::model::VendorKind;
use crate::sync::decide::SuspiciousDeletions;

/// What the operator knows of one sync.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncView {
    pub generation: Option<i64>,
    pub vendor: Option<VendorKind>,
    /// Whether the endpoints are the vendor's own, so their words may be shown.
    pub quotes_vendor_text: bool,
    /// Why no worker runs (bad spec, missing Secret), from the reconciler.
    pub problem: Option<Problem>,
    pub suspended: bool,
    /// The last run's failure, if it failed.
    pub run_problem: Option<Problem>,
    pub has_run: bool,
    pub last_sync_time: Option<DateTime<Utc>>,
    pub last_successful_sync_time: Option<DateTime<Utc>>,
    pub next_sync_time: Option<DateTime<Utc>>,
    pub watermark: Option<DateTime<Utc>>,
    pub last_counts: Option<SyncCounts>,
    pub totals: Option<SyncCounts>,
    pub last_handled_sync_request: Option<String>,
    pub first_sync_time: Option<DateTime<Utc>>,
    /// The worker panicked and restarts (cleared by its next run).
    pub worker_failure: Option<String>,
    /// The last run's first failed write (the run itself completed).
    pub write_failure: Option<String>,
    /// A full sync's deletions held back until the user confirms.
    pub held_deletions: Option<SuspiciousDeletions>,
    /// Job-description checks of the jobs the last run that pulled jobs saw.
    pub job_ads: Option<crate::api::job_ads::JobAdFindings>,
    /// Webhook deliveries of the sync's connection (when it has a webhook).
    pub webhooks: Option<crate::api::WebhookStatus>,
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn summary(c: &SyncCounts) -> String {
    format!(
        "Last sync saw {} applications in {} jobs: {} scored, {} unchanged, {} written back, {} failed, {} abandoned",
        c.applications_seen, c.jobs, c.scored, c.unchanged, c.written_back, c.failed, c.abandoned
    )
}

/// Pure: whether a sync that should have run by now has not: its next run is
/// later than the schedule allows by another interval (at least 5 minutes).
pub fn overdue(view: &SyncView, now: DateTime<Utc>) -> Option<String> {
    let (last, next) = (view.last_sync_time?, view.next_sync_time?);
    let grace = (next - last).max(chrono::Duration::minutes(5));
    (now > next + grace).then(|| {
        format!(
            "The last sync finished at {}; the next was due at {} and has not run (the \
             operator may be overloaded: see its concurrency limit)",
            ts(last),
            ts(next)
        )
    })
}

/// Pure: the conditions the view implies at `now` (without transition times).
pub fn conditions_for(view: &SyncView, now: DateTime<Utc>) -> Vec<Condition> {
    use conditions::{READY, STALLED, SYNCED};
    let not_stalled = || {
        Condition::new(
            STALLED,
            false,
            reason::NO_PROBLEM,
            "No problem needs your attention",
        )
    };
    let failing = |p: &Problem| {
        vec![
            Condition::new(READY, false, p.reason, p.message.clone()),
            Condition::new(SYNCED, false, p.reason, p.message.clone()),
            if p.stalled {
                Condition::new(STALLED, true, p.reason, p.message.clone())
            } else {
                not_stalled()
            },
        ]
    };
    if let Some(p) = &view.problem {
        return failing(p);
    }
    if view.suspended {
        return vec![
            Condition::new(
                READY,
                true,
                reason::SUSPENDED,
                "Sync is suspended (spec.suspend)",
            ),
            Condition::new(
                SYNCED,
                false,
                reason::SUSPENDED,
                "Sync is suspended (spec.suspend)",
            ),
            not_stalled(),
        ];
    }
    if let Some(message) = &view.worker_failure {
        return vec![
            Condition::new(READY, false, reason::WORKER_FAILED, message.clone()),
            Condition::new(SYNCED, false, reason::WORKER_FAILED, message.clone()),
            not_stalled(),
        ];
    }
    if let Some(p) = &view.run_problem {
        return failing(p);
    }
    if !view.has_run {
        let msg = "Waiting for the first sync to finish";
        return vec![
            Condition::new(READY, false, reason::PENDING, msg),
            Condition::new(SYNCED, false, reason::PENDING, msg),
            not_stalled(),
        ];
    }
    let msg = view.last_counts.as_ref().map(summary).unwrap_or_default();
    // The sync works, so Ready stays true; Synced says what needs a look.
    let synced = if let Some(late) = overdue(view, now) {
        Condition::new(SYNCED, false, reason::OVERDUE, late)
    } else if let Some(h) = &view.held_deletions {
        Condition::new(SYNCED, true, reason::SUSPICIOUS_DELETIONS, h.message())
    } else if let Some(e) = &view.write_failure {
        Condition::new(
            SYNCED,
            true,
            reason::WRITES_FAILING,
            format!("{msg}. Writes that failed are retried on their own; the first error: {e}"),
        )
    } else {
        Condition::new(SYNCED, true, reason::SYNCED, msg.clone())
    };
    vec![
        Condition::new(READY, true, reason::SYNCED, msg),
        synced,
        not_stalled(),
    ]
}

/// Pure: the full status, keeping transition times of unchanged conditions.
pub fn render(view: &SyncView, previous: &[Condition], now: DateTime<Utc>) -> AtsSyncStatus {
    AtsSyncStatus {
        conditions: conditions::merge(
            previous,
            conditions_for(view, now),
            &ts(now),
            view.generation,
        ),
        observed_generation: view.generation,
        vendor: view.vendor.map(|v| v.to_string()),
        last_sync_time: view.last_sync_time.map(ts),
        last_successful_sync_time: view.last_successful_sync_time.map(ts),
        next_sync_time: if view.problem.is_some() || view.suspended {
            None
        } else {
            view.next_sync_time.map(ts)
        },
        watermark: view.watermark.map(ts),
        last_sync: view.last_counts.clone(),
        totals: view.totals.clone(),
        last_handled_sync_request: view.last_handled_sync_request.clone(),
        first_sync_time: view.first_sync_time.map(ts),
        job_ads: view.job_ads.clone(),
        webhooks: view.webhooks.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn first_sync_pending_then_ready() {
        let mut v = SyncView {
            generation: Some(1),
            ..Default::default()
        };
        let s1 = render(&v, &[], at("2026-11-23T10:00:00Z"));
        let ready = conditions::find(&s1.conditions, "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "Pending")
        );
        v.has_run = true;
        v.last_counts = Some(SyncCounts {
            scored: 3,
            ..Default::default()
        });
        let s2 = render(&v, &s1.conditions, at("2026-11-23T10:01:00.000Z"));
        let ready = conditions::find(&s2.conditions, "Ready").unwrap();
        assert!(ready.is_true());
        assert_eq!(ready.last_transition_time, "2026-11-23T10:01:00.000Z");
        // Rendering the same view again changes nothing: no status write.
        assert_eq!(render(&v, &s2.conditions, at("2026-11-23T10:09:00Z")), s2);
    }

    #[test]
    fn stalled_problem() {
        let v = SyncView {
            problem: Some(Problem {
                reason: reason::INVALID_SPEC,
                message: "spec.schedule: bad".into(),
                stalled: true,
            }),
            next_sync_time: Some(at("2026-11-23T10:00:00Z")),
            ..Default::default()
        };
        let s = render(&v, &[], at("2026-11-23T10:00:00Z"));
        let stalled = conditions::find(&s.conditions, "Stalled").unwrap();
        assert!(stalled.is_true());
        assert_eq!(stalled.reason, "InvalidSpec");
        assert!(s.next_sync_time.is_none());
    }

    #[test]
    fn synced_says_what_needs_a_look_while_ready_stays_true() {
        let t = at("2026-11-23T10:00:00Z");
        let mut v = SyncView {
            has_run: true,
            last_sync_time: Some(t),
            next_sync_time: Some(t + chrono::Duration::minutes(15)),
            last_counts: Some(SyncCounts::default()),
            write_failure: Some("vendor rejected the request (404)".into()),
            ..Default::default()
        };
        let reason_of = |v: &SyncView, now| {
            let c = conditions_for(v, now);
            let get = |n| conditions::find(&c, n).map(|c| (c.status.clone(), c.reason.clone()));
            (get("Ready").unwrap(), get("Synced").unwrap())
        };
        let soon = t + chrono::Duration::minutes(1);
        let (ready, synced) = reason_of(&v, soon);
        assert_eq!(ready, ("True".into(), "Synced".into()));
        assert_eq!(synced, ("True".into(), "WritesFailing".into()));
        v.held_deletions = Some(SuspiciousDeletions {
            absent: 24,
            known: 40,
        });
        assert_eq!(reason_of(&v, soon).1.1, "SuspiciousDeletions");
        // Overdue: the next run is late by another interval.
        assert!(overdue(&v, t + chrono::Duration::minutes(29)).is_none());
        assert!(overdue(&v, t + chrono::Duration::minutes(31)).is_some());
        let (ready, synced) = reason_of(&v, t + chrono::Duration::hours(1));
        assert_eq!(ready.0, "True");
        assert_eq!(synced, ("False".into(), "Overdue".into()));
        // A panicked worker is not ready until it runs again.
        v.worker_failure = Some("the sync worker failed unexpectedly".into());
        assert_eq!(
            reason_of(&v, soon).0,
            ("False".into(), "WorkerFailed".into())
        );
    }
}
