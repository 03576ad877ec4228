//! A sync worker's webhook work: the deliveries its ledger holds are planned
//! ([`super::deliveries::plan`]), their outcomes recorded, erasures done, and
//! the applications they name fetched, scored and written back by one
//! targeted run ([`super::targeted`]); then each delivery is finished. The
//! worker calls [`drain`] when signalled, after each scheduled run and when
//! it starts (what a restart left between 202 and processing).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::Utc;

use super::SyncSpec;
use super::deliveries::{self, Plan};
use super::pipeline::{RunInput, RunReport, SyncError};
use super::targeted::{self, Outcome};
use crate::ledger::{DeliveryResult, Ledger, PendingDelivery};
use crate::vendors::{AtsClient, VendorError};
use crate::webhooks::{EventKind, parse};
use tracing::warn;

/// Deliveries taken from the ledger at once.
const BATCH: u32 = 100;

/// What one drain did.
#[derive(Clone, Debug, Default)]
pub struct DrainReport {
    /// Deliveries finished (processed or skipped).
    pub finished: usize,
    /// For each finished delivery, the time from its acceptance to now.
    pub waited: Vec<Duration>,
    /// Counts as a run counts them.
    pub run: RunReport,
    /// Deliveries left for later (their application could not be read).
    pub left: usize,
}

/// Pure: how a delivery ends, given the plan and the targeted run's outcome
/// per application; `None` leaves it pending (an application the vendor's
/// answer lacked: the next drain tries again).
pub fn result(
    p: &PendingDelivery,
    plan: &Plan,
    outcomes: &BTreeMap<String, Outcome>,
) -> Option<DeliveryResult> {
    let e = &p.delivery.event;
    if matches!(e.kind, EventKind::Ping | EventKind::Ignored) {
        return Some(DeliveryResult::Skipped("ignored"));
    }
    if p.erased() {
        return Some(DeliveryResult::Skipped("erased"));
    }
    let mut all_skipped = !e.application_ids.is_empty();
    for app in &e.application_ids {
        if plan.erase.contains(app) {
            all_skipped = false;
            continue;
        }
        match outcomes.get(app) {
            Some(Outcome::Incomplete) => return None,
            Some(Outcome::Skipped) => {}
            _ => all_skipped = false,
        }
    }
    Some(if all_skipped {
        DeliveryResult::Skipped("outOfScope")
    } else {
        DeliveryResult::Processed
    })
}

/// Processes the sync's pending deliveries until none is left (or only
/// those that must wait). A vendor or ledger error ends the drain: what it
/// did is recorded, the rest stays pending.
pub async fn drain(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    input: &RunInput,
) -> Result<DrainReport, SyncError> {
    let lkey = spec.key.ledger_key();
    let mut out = DrainReport::default();
    let mut waiting: std::collections::HashSet<String> = Default::default();
    loop {
        let pending: Vec<PendingDelivery> = ledger
            .pending_deliveries(&lkey, BATCH.saturating_add(waiting.len() as u32))
            .await?
            .into_iter()
            .filter(|p| !waiting.contains(&p.delivery.id))
            .collect();
        if pending.is_empty() {
            break;
        }
        let batch: Vec<_> = pending.iter().map(|p| p.delivery.clone()).collect();
        let plan = deliveries::plan(&batch);
        let now = Utc::now();
        if !plan.erase.is_empty() {
            out.run.counts.deleted += ledger
                .record_erasures(&lkey, &plan.erase, "deleted or anonymized (webhook)")
                .await?;
        }
        let reasons = rejection_reasons(client, &plan).await?;
        for o in &plan.outcomes {
            ledger
                .record_outcome(
                    &lkey,
                    &o.application_id,
                    &o.delivery_id,
                    &parse::resolve_reason(&o.outcome, &reasons),
                    o.occurred_at,
                )
                .await?;
        }
        let mut outcomes = BTreeMap::new();
        if !plan.fetch.is_empty() {
            let t = targeted::run_for_applications(client, ledger, spec, now, input, &plan.fetch)
                .await?;
            absorb(&mut out.run, &t.run);
            outcomes = t.outcomes;
        }
        let done = Utc::now();
        for p in &pending {
            match result(p, &plan, &outcomes) {
                Some(r) => {
                    if ledger
                        .finish_delivery(&lkey, &p.delivery.id, done, r)
                        .await?
                    {
                        out.finished += 1;
                        out.waited
                            .push((done - p.delivery.received_at).to_std().unwrap_or_default());
                    }
                }
                None => {
                    waiting.insert(p.delivery.id.clone());
                }
            }
        }
    }
    out.left = waiting.len();
    Ok(out)
}

/// The vendor's rejection reasons when an outcome of `plan` names one by id
/// only (Lever). Without permission to read them, the reason stays unknown
/// (rejected, no category); another failure leaves the deliveries for a retry.
async fn rejection_reasons(
    client: &dyn AtsClient,
    plan: &Plan,
) -> Result<HashMap<String, parse::ReasonInfo>, SyncError> {
    if !plan.outcomes.iter().any(|o| o.outcome.reason_id.is_some()) {
        return Ok(HashMap::new());
    }
    match client.rejection_reasons().await {
        Ok(r) => Ok(r.unwrap_or_default()),
        Err(e @ VendorError::Forbidden(_)) => {
            warn!(error = %e, "rejection reasons not readable; rejections recorded without a reason category");
            Ok(HashMap::new())
        }
        Err(e) => Err(e.into()),
    }
}

fn absorb(into: &mut RunReport, r: &RunReport) {
    let (a, b) = (&mut into.counts, &r.counts);
    a.applications_seen += b.applications_seen;
    a.scored += b.scored;
    a.unchanged += b.unchanged;
    a.written_back += b.written_back;
    a.failed += b.failed;
    a.deleted += b.deleted;
    a.abandoned += b.abandoned;
    a.superseded += b.superseded;
    into.abandoned.extend(r.abandoned.iter().cloned());
    if into.write_failure.is_none() {
        into.write_failure.clone_from(&r.write_failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VendorKind;
    use crate::webhooks::{Delivery, Event};

    fn pending(id: &str, kind: EventKind, apps: &[&str]) -> PendingDelivery {
        PendingDelivery {
            seq: 1,
            delivery: Delivery {
                id: id.into(),
                vendor: VendorKind::Lever,
                body_sha256: "x".into(),
                event: Event {
                    name: "e".into(),
                    kind,
                    application_ids: apps.iter().map(|a| a.to_string()).collect(),
                    candidate_id: None,
                    occurred_at: None,
                    outcome: None,
                },
                received_at: Utc::now(),
            },
        }
    }

    #[test]
    fn each_delivery_ends_by_what_became_of_its_applications() {
        let plan = Plan {
            erase: vec!["gone".into()],
            ..Default::default()
        };
        let outcomes = BTreeMap::from([
            ("a".to_string(), Outcome::Written { adopted: false }),
            ("out".to_string(), Outcome::Skipped),
            ("half".to_string(), Outcome::Incomplete),
        ]);
        let r = |k, apps: &[&str]| result(&pending("d", k, apps), &plan, &outcomes);
        assert_eq!(
            r(EventKind::ApplicationChanged, &["a"]),
            Some(DeliveryResult::Processed)
        );
        assert_eq!(
            r(EventKind::ApplicationChanged, &["out"]),
            Some(DeliveryResult::Skipped("outOfScope"))
        );
        assert_eq!(
            r(EventKind::Outcome, &["out", "a"]),
            Some(DeliveryResult::Processed)
        );
        assert_eq!(
            r(EventKind::Erased, &["gone"]),
            Some(DeliveryResult::Processed)
        );
        assert_eq!(r(EventKind::ApplicationChanged, &["half"]), None);
        assert_eq!(
            r(EventKind::Ignored, &[]),
            Some(DeliveryResult::Skipped("ignored"))
        );
        let erased = pending("d", EventKind::ApplicationChanged, &["pseudo:abc"]);
        let erased = PendingDelivery {
            delivery: Delivery {
                event: Event {
                    application_ids: vec![format!("{}abc", crate::ledger::pseudonym::PREFIX)],
                    ..erased.delivery.event.clone()
                },
                ..erased.delivery.clone()
            },
            ..erased
        };
        assert_eq!(
            result(&erased, &plan, &outcomes),
            Some(DeliveryResult::Skipped("erased"))
        );
    }
}
