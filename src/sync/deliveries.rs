//! What a sync worker does with the webhook deliveries its ledger holds:
//! which applications to erase, which outcomes to record, which applications
//! to fetch and score. Pure; the worker carries the plan out.
//!
//! Deliveries come ordered per application by the event's own time (the
//! ledger's order). An application is fetched once per batch whatever the
//! number of its deliveries: the fetch reads its current state, so the order
//! of deliveries matters only for what is recorded (outcomes keep their own
//! times) and for erasure: an application whose latest event erased it is not
//! fetched again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::webhooks::{Delivery, EventKind, Outcome};

/// One outcome to record beside the application's score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeToRecord {
    pub application_id: String,
    pub delivery_id: String,
    pub outcome: Outcome,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Applications whose data the operator must erase.
    pub erase: Vec<String>,
    pub outcomes: Vec<OutcomeToRecord>,
    /// Applications to fetch, score and write back (each once).
    pub fetch: Vec<String>,
    /// Deliveries that need nothing (ignored events): finished as skipped.
    pub nothing: Vec<String>,
}

/// The plan for `deliveries` (in the ledger's order).
pub fn plan(deliveries: &[Delivery]) -> Plan {
    let mut out = Plan::default();
    // Per application: the kind of its latest event (by occurred_at, then
    // arrival order for equal or missing times).
    let mut latest: BTreeMap<&str, (Option<DateTime<Utc>>, usize, EventKind)> = BTreeMap::new();
    for (i, d) in deliveries.iter().enumerate() {
        let kind = d.event.kind;
        if matches!(kind, EventKind::Ping | EventKind::Ignored) {
            out.nothing.push(d.id.clone());
            continue;
        }
        for app in &d.event.application_ids {
            let key = (d.event.occurred_at, i, kind);
            latest
                .entry(app.as_str())
                .and_modify(|k| {
                    if (key.0, key.1) >= (k.0, k.1) {
                        *k = key;
                    }
                })
                .or_insert(key);
            if kind == EventKind::Outcome
                && let Some(o) = &d.event.outcome
            {
                out.outcomes.push(OutcomeToRecord {
                    application_id: app.clone(),
                    delivery_id: d.id.clone(),
                    outcome: o.clone(),
                    occurred_at: d.event.occurred_at,
                });
            }
        }
    }
    let mut erase = BTreeSet::new();
    for (app, (_, _, kind)) in latest {
        if kind == EventKind::Erased {
            erase.insert(app.to_string());
        } else {
            out.fetch.push(app.to_string());
        }
    }
    // An erased application's outcomes are not recorded: nothing of it stays.
    out.outcomes.retain(|o| !erase.contains(&o.application_id));
    out.erase = erase.into_iter().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VendorKind;
    use crate::webhooks::{Event, OutcomeCategory};

    fn at(s: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(1_800_000_000 + s, 0)
    }

    fn d(id: &str, kind: EventKind, apps: &[&str], t: Option<DateTime<Utc>>) -> Delivery {
        Delivery {
            id: id.into(),
            vendor: VendorKind::Greenhouse,
            body_sha256: format!("sha-{id}"),
            event: Event {
                name: "x".into(),
                kind,
                application_ids: apps.iter().map(|a| a.to_string()).collect(),
                candidate_id: None,
                occurred_at: t,
                outcome: (kind == EventKind::Outcome).then(|| Outcome {
                    category: OutcomeCategory::Rejected,
                    stage: None,
                    reason_category: Some("rejected".into()),
                    reason_id: None,
                }),
            },
            received_at: Utc::now(),
        }
    }

    #[test]
    fn each_application_is_fetched_once_and_outcomes_recorded() {
        let p = plan(&[
            d("1", EventKind::ApplicationChanged, &["a"], at(1)),
            d("2", EventKind::Outcome, &["a"], at(2)),
            d("3", EventKind::ApplicationChanged, &["b"], at(1)),
            d("4", EventKind::Ignored, &[], at(1)),
        ]);
        assert_eq!(p.fetch, vec!["a", "b"]);
        assert_eq!(p.outcomes.len(), 1);
        assert_eq!(p.outcomes[0].delivery_id, "2");
        assert_eq!(p.nothing, vec!["4"]);
        assert!(p.erase.is_empty());
    }

    #[test]
    fn the_latest_event_by_its_own_time_decides_erasure() {
        // Arrives first but happened last: the erasure wins.
        let p = plan(&[
            d("1", EventKind::Erased, &["a"], at(5)),
            d("2", EventKind::Outcome, &["a"], at(2)),
        ]);
        assert_eq!(p.erase, vec!["a"]);
        assert!(p.fetch.is_empty());
        assert!(
            p.outcomes.is_empty(),
            "nothing of an erased application stays"
        );
        // Erased, then a new application event after it: fetched again.
        let p = plan(&[
            d("1", EventKind::Erased, &["a"], at(1)),
            d("2", EventKind::ApplicationChanged, &["a"], at(3)),
        ]);
        assert_eq!(p.fetch, vec!["a"]);
        assert!(p.erase.is_empty());
        // No times: arrival order.
        let p = plan(&[
            d("1", EventKind::ApplicationChanged, &["a"], None),
            d("2", EventKind::Erased, &["a", "c"], None),
        ]);
        assert_eq!(p.erase, vec!["a", "c"]);
    }
}
