//! Webhook deliveries and recruiters' outcomes, in the ledger.
//!
//! A verified delivery is recorded for every `AtsSync` of its connection in
//! one transaction before the operator answers 202 ([`Ledger::accept_delivery`]),
//! deduplicated per sync by the vendor's delivery id (vendors retry for
//! hours), and stays pending until the sync's worker finishes it: a restart
//! in between loses nothing. Each sync's queue is bounded: past
//! `max_pending` unprocessed deliveries the delivery is refused
//! ([`LedgerError::QueueFull`], a 503) and the vendor retries.
//!
//! Stage changes and rejections are recorded as outcomes beside the
//! application's decisions ([`Ledger::record_outcome`]), for the bias audit
//! ([`Ledger::decisions_with_outcomes`]) and the export.
//!
//! Only ids, times, categories and hashes are stored: the [`Delivery`] holds
//! nothing else (no body, no personal data). An erased application's
//! deliveries and outcomes are pseudonymized with its other rows.

use chrono::{DateTime, Utc};

use super::{Ledger, LedgerError, corrupt, pseudonym};
use crate::webhooks::{Delivery, Event, Outcome, OutcomeCategory};

/// Longest delivery id kept: Greenhouse's event ids, Lever's tokens and a
/// sha256 are far shorter; a longer one is not a vendor's.
pub const MAX_DELIVERY_ID_CHARS: usize = 256;
/// Most applications one delivery may name (Greenhouse's `delete_candidate`
/// lists the person's applications): each costs a row.
pub const MAX_APPLICATIONS_PER_DELIVERY: usize = 1_000;
/// Longest stage or reason category kept (a vendor's stage id or name).
pub const MAX_CATEGORY_CHARS: usize = 200;

/// What [`Ledger::accept_delivery`] made of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Recorded for at least one sync (the others already had it): 202.
    New,
    /// Every sync already had it, with the same body (a vendor's retry): 202.
    Duplicate,
    /// A sync has this delivery id with another body (a replayed Lever
    /// token): nothing was recorded; refuse it.
    Replayed,
}

/// An unprocessed delivery, as [`Ledger::pending_deliveries`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingDelivery {
    /// The ledger's own number for it: stable, increasing with arrival.
    pub seq: i64,
    pub delivery: Delivery,
}

impl PendingDelivery {
    /// Its applications were erased after it arrived: their ids are
    /// pseudonyms now, and there is nothing to fetch.
    pub fn erased(&self) -> bool {
        self.delivery
            .event
            .application_ids
            .iter()
            .any(|a| a.starts_with(pseudonym::PREFIX))
    }
}

/// How the worker finished a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryResult {
    Processed,
    /// Not acted on, with the reason's category (`outOfScope`, `stale`,
    /// `erased`...): a category, never a vendor's text.
    Skipped(&'static str),
}

/// A sync's deliveries since its first one (retention does not lower them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Recorded as new.
    pub accepted: u64,
    /// Retries of a delivery already recorded.
    pub duplicates: u64,
    pub processed: u64,
    pub skipped: u64,
    /// Accepted and not yet finished.
    pub pending: u64,
    /// When the vendor last reached the sync (new or duplicate).
    pub last_received_at: Option<DateTime<Utc>>,
}

/// A recruiter's decision about an application, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeRecord {
    pub sync_key: String,
    pub application_id: String,
    /// The delivery that reported it (its dedup key).
    pub delivery_id: String,
    pub outcome: Outcome,
    /// By the vendor's clock, when it says.
    pub occurred_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
}

impl OutcomeRecord {
    /// When it happened: the vendor's time, else when it was recorded (what
    /// "latest" is ordered by).
    pub fn at(&self) -> DateTime<Utc> {
        self.occurred_at.unwrap_or(self.recorded_at)
    }
}

/// One application's score and what the recruiter decided: the input of a
/// selection rate computed from recruiters' decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoredOutcome {
    pub sync_key: String,
    pub application_id: String,
    /// The latest decision in the period.
    pub score: u8,
    pub band: String,
    pub decided_at: DateTime<Utc>,
    /// The candidate was deleted or anonymized: the id is a pseudonym.
    pub erased: bool,
    /// The latest outcome, whenever it was recorded; `None` before any.
    pub outcome: Option<OutcomeRecord>,
}

/// A delivery checked and encoded for the backends.
#[derive(Clone)]
pub(super) struct NewDelivery {
    pub id: String,
    pub vendor: &'static str,
    pub body_sha256: String,
    /// The [`Event`] as JSON: ids, times and categories.
    pub event: String,
    /// What orders it: its first application ('' for none), then the
    /// event's time (when it has one, else its arrival).
    pub application_id: String,
    pub order_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub application_ids: Vec<String>,
}

impl NewDelivery {
    /// Pure: refuses what no vendor sends (the endpoint bounds bodies, but
    /// the ledger does not trust it to).
    pub(super) fn new(d: &Delivery) -> Result<Self, LedgerError> {
        if d.id.is_empty() || d.id.chars().count() > MAX_DELIVERY_ID_CHARS {
            return Err(LedgerError::BadArgument(format!(
                "a delivery id must have 1 to {MAX_DELIVERY_ID_CHARS} characters"
            )));
        }
        if d.event.application_ids.len() > MAX_APPLICATIONS_PER_DELIVERY {
            return Err(LedgerError::BadArgument(format!(
                "a delivery names {} applications, more than {MAX_APPLICATIONS_PER_DELIVERY}",
                d.event.application_ids.len()
            )));
        }
        let mut event = d.event.clone();
        if let Some(o) = event.outcome.as_mut() {
            o.stage = o.stage.as_deref().map(category);
            o.reason_category = o.reason_category.as_deref().map(category);
            o.reason_id = o.reason_id.as_deref().map(category);
        }
        let mut application_ids = event.application_ids.clone();
        application_ids.sort();
        application_ids.dedup();
        Ok(NewDelivery {
            id: d.id.clone(),
            vendor: d.vendor.as_str(),
            body_sha256: d.body_sha256.clone(),
            application_id: event.application_ids.first().cloned().unwrap_or_default(),
            order_at: event.occurred_at.unwrap_or(d.received_at),
            received_at: d.received_at,
            event: serde_json::to_string(&event)?,
            application_ids,
        })
    }
}

/// A stage or reason category as kept: bounded.
fn category(s: &str) -> String {
    s.chars().take(MAX_CATEGORY_CHARS).collect()
}

/// Sync keys in one order, each once: every transaction takes the rows of
/// several syncs in the same order, so two never wait on each other.
pub(super) fn sync_order(sync_keys: &[String]) -> Vec<String> {
    let mut keys = sync_keys.to_vec();
    keys.sort();
    keys.dedup();
    keys
}

/// A stored delivery read back.
pub(super) fn pending(
    seq: i64,
    id: String,
    vendor: &str,
    body_sha256: String,
    event: &str,
    received_at: DateTime<Utc>,
) -> Result<PendingDelivery, LedgerError> {
    let event: Event = serde_json::from_str(event)?;
    Ok(PendingDelivery {
        seq,
        delivery: Delivery {
            id,
            vendor: super::parse_vendor(vendor)?,
            body_sha256,
            event,
            received_at,
        },
    })
}

/// The stored `result` and skip reason of a finished delivery.
pub(super) fn result_columns(r: DeliveryResult) -> (&'static str, Option<&'static str>) {
    match r {
        DeliveryResult::Processed => ("processed", None),
        DeliveryResult::Skipped(why) => ("skipped", Some(why)),
    }
}

/// The stored columns of an outcome: category, stage, reason.
pub(super) fn outcome_columns(o: &Outcome) -> (&'static str, Option<String>, Option<String>) {
    (
        o.category.as_str(),
        o.stage.as_deref().map(category),
        o.reason_category.as_deref().map(category),
    )
}

fn parse_category(s: &str) -> Result<OutcomeCategory, LedgerError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| corrupt("outcome category", s))
}

/// An outcome's columns as a backend reads them.
pub(super) struct OutcomeColumns {
    pub delivery_id: String,
    pub category: String,
    pub stage: Option<String>,
    pub reason_category: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
}

impl OutcomeColumns {
    pub(super) fn record(
        self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<OutcomeRecord, LedgerError> {
        Ok(OutcomeRecord {
            sync_key: sync_key.to_string(),
            application_id: application_id.to_string(),
            delivery_id: self.delivery_id,
            outcome: Outcome {
                category: parse_category(&self.category)?,
                stage: self.stage,
                reason_category: self.reason_category,
                reason_id: None,
            },
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
        })
    }
}

/// A row of the audit's query, as a backend reads it.
pub(super) fn scored(
    sync_key: &str,
    application_id: String,
    score: i64,
    band: String,
    decided_at: DateTime<Utc>,
    outcome: Option<OutcomeColumns>,
) -> Result<ScoredOutcome, LedgerError> {
    Ok(ScoredOutcome {
        sync_key: sync_key.to_string(),
        score: u8::try_from(score).map_err(|_| corrupt("score", &score.to_string()))?,
        band,
        decided_at,
        erased: application_id.starts_with(pseudonym::PREFIX),
        outcome: outcome
            .map(|o| o.record(sync_key, &application_id))
            .transpose()?,
        application_id,
    })
}

/// Pure: the stored event of a delivery naming an erased application, with
/// that application's id and the candidate's replaced by their pseudonyms.
pub(super) fn erased_event(
    key: &str,
    event: &str,
    application_id: &str,
    pseudonym_id: &str,
) -> Result<String, LedgerError> {
    let mut e: Event = serde_json::from_str(event)?;
    for a in &mut e.application_ids {
        if a == application_id {
            *a = pseudonym_id.to_string();
        }
    }
    if let Some(c) = e
        .candidate_id
        .as_mut()
        .filter(|c| !c.starts_with(pseudonym::PREFIX))
    {
        *c = pseudonym::pseudonym(key, "candidate", c)?;
    }
    Ok(serde_json::to_string(&e)?)
}

/// What both backends implement for webhooks; [`Ledger`] forwards to it.
#[async_trait::async_trait]
pub(super) trait WebhookStore: Send + Sync {
    /// `sync_keys` in [`sync_order`], not empty; `max_pending` above 0.
    async fn accept_delivery(
        &self,
        sync_keys: &[String],
        d: &NewDelivery,
        max_pending: u32,
    ) -> Result<Acceptance, LedgerError>;
    async fn pending_deliveries(
        &self,
        sync_key: &str,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>, LedgerError>;
    async fn finish_delivery(
        &self,
        sync_key: &str,
        delivery_id: &str,
        at: DateTime<Utc>,
        result: DeliveryResult,
    ) -> Result<bool, LedgerError>;
    async fn delivery_counts(&self, sync_key: &str) -> Result<DeliveryCounts, LedgerError>;
    async fn record_outcome(&self, o: &OutcomeRecord) -> Result<bool, LedgerError>;
    async fn outcomes(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<OutcomeRecord>, LedgerError>;
    async fn decisions_with_outcomes(
        &self,
        tenant: &str,
        sync_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScoredOutcome>, LedgerError>;
}

impl Ledger {
    /// Records a verified delivery for each sync that uses its connection, in
    /// one transaction, before the operator answers 202. Deduplicated per
    /// sync by the delivery id: a retry is a [`Acceptance::Duplicate`], the
    /// same id with another body a [`Acceptance::Replayed`] (nothing
    /// recorded). Refused with [`LedgerError::QueueFull`] (nothing recorded,
    /// for any sync) when a sync already has `max_pending` unprocessed
    /// deliveries; a retry of a delivery already held is still a duplicate
    /// (`max_pending` 0 refuses everything). The caller answers a connection without syncs itself.
    pub async fn accept_delivery(
        &self,
        sync_keys: &[String],
        d: &Delivery,
        max_pending: u32,
    ) -> Result<Acceptance, LedgerError> {
        let keys = sync_order(sync_keys);
        if keys.is_empty() {
            return Err(LedgerError::BadArgument(
                "a delivery must be accepted for at least one sync".into(),
            ));
        }
        let new = NewDelivery::new(d)?;
        if max_pending == 0 {
            return Err(LedgerError::QueueFull {
                sync_key: keys[0].clone(),
                max_pending,
            });
        }
        self.store.accept_delivery(&keys, &new, max_pending).await
    }

    /// Up to `limit` unprocessed deliveries of the sync, in the order to
    /// process them: grouped by application (its first application), the
    /// application whose oldest delivery arrived first comes first, and each
    /// application's deliveries in the order of the events' own times (the
    /// vendor's `occurred_at`, else the arrival), then arrival, then id.
    pub async fn pending_deliveries(
        &self,
        sync_key: &str,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>, LedgerError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.store.pending_deliveries(sync_key, limit).await
    }

    /// Marks a delivery done. Returns whether it was pending (false: finished
    /// before, or unknown): the first result stands.
    pub async fn finish_delivery(
        &self,
        sync_key: &str,
        delivery_id: &str,
        at: DateTime<Utc>,
        result: DeliveryResult,
    ) -> Result<bool, LedgerError> {
        self.store
            .finish_delivery(sync_key, delivery_id, at, result)
            .await
    }

    pub async fn delivery_counts(&self, sync_key: &str) -> Result<DeliveryCounts, LedgerError> {
        self.store.delivery_counts(sync_key).await
    }

    /// Records a recruiter's decision beside the application's score.
    /// Deduplicated by the delivery that reported it: returns false for a
    /// delivery already recorded for the application.
    pub async fn record_outcome(
        &self,
        sync_key: &str,
        application_id: &str,
        delivery_id: &str,
        outcome: &Outcome,
        occurred_at: Option<DateTime<Utc>>,
    ) -> Result<bool, LedgerError> {
        let o = OutcomeRecord {
            sync_key: sync_key.to_string(),
            application_id: application_id.to_string(),
            delivery_id: delivery_id.chars().take(MAX_DELIVERY_ID_CHARS).collect(),
            outcome: outcome.clone(),
            occurred_at,
            recorded_at: Utc::now(),
        };
        self.store.record_outcome(&o).await
    }

    /// The application's outcomes, oldest first (by [`OutcomeRecord::at`]).
    pub async fn outcomes(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<OutcomeRecord>, LedgerError> {
        self.store.outcomes(sync_key, application_id).await
    }

    /// For audits: per application of the tenant's `sync_keys` decided in
    /// [`from`, `to`), its latest decision's score and band there and its
    /// latest outcome (by [`OutcomeRecord::at`]), by sync then application.
    pub async fn decisions_with_outcomes(
        &self,
        tenant: &str,
        sync_keys: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScoredOutcome>, LedgerError> {
        let mut out = Vec::new();
        for sync_key in sync_order(sync_keys) {
            out.extend(
                self.store
                    .decisions_with_outcomes(tenant, &sync_key, from, to)
                    .await?,
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VendorKind;
    use crate::webhooks::EventKind;
    use chrono::TimeZone;

    fn delivery(apps: &[&str]) -> Delivery {
        Delivery {
            id: "ev-1".into(),
            vendor: VendorKind::Lever,
            body_sha256: "ab".repeat(32),
            event: Event {
                name: "candidateStageChange".into(),
                kind: EventKind::Outcome,
                application_ids: apps.iter().map(|a| a.to_string()).collect(),
                candidate_id: Some("c-1".into()),
                occurred_at: None,
                outcome: Some(Outcome {
                    category: OutcomeCategory::Advanced,
                    stage: Some("s".repeat(300)),
                    reason_category: None,
                    reason_id: None,
                }),
            },
            received_at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_delivery_is_ordered_by_its_first_application_and_its_time() {
        let mut d = delivery(&["a2", "a1", "a2"]);
        let n = NewDelivery::new(&d).unwrap();
        assert_eq!(n.application_id, "a2");
        assert_eq!(n.application_ids, ["a1", "a2"]);
        assert_eq!(n.order_at, d.received_at, "no vendor time: its arrival");
        let stored: Event = serde_json::from_str(&n.event).unwrap();
        let stage = stored.outcome.unwrap().stage.unwrap();
        assert_eq!(stage.len(), MAX_CATEGORY_CHARS);
        let t = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
        d.event.occurred_at = Some(t);
        assert_eq!(NewDelivery::new(&d).unwrap().order_at, t);
        assert_eq!(NewDelivery::new(&delivery(&[])).unwrap().application_id, "");
    }

    #[test]
    fn what_no_vendor_sends_is_refused() {
        let mut d = delivery(&["a1"]);
        d.id = String::new();
        assert!(NewDelivery::new(&d).is_err());
        d.id = "x".repeat(MAX_DELIVERY_ID_CHARS + 1);
        assert!(NewDelivery::new(&d).is_err());
        let many: Vec<String> = (0..=MAX_APPLICATIONS_PER_DELIVERY)
            .map(|i| i.to_string())
            .collect();
        let mut d = delivery(&[]);
        d.event.application_ids = many;
        let e = NewDelivery::new(&d).err().unwrap().to_string();
        assert!(e.contains("1001 applications"), "{e}");
    }

    #[test]
    fn erasing_replaces_the_application_and_the_candidate() {
        let n = NewDelivery::new(&delivery(&["a1", "a2"])).unwrap();
        let out = erased_event("k", &n.event, "a1", "anon-1").unwrap();
        let e: Event = serde_json::from_str(&out).unwrap();
        assert_eq!(e.application_ids, ["anon-1", "a2"]);
        let c = e.candidate_id.clone().unwrap();
        assert!(c.starts_with(pseudonym::PREFIX) && !c.contains("c-1"));
        // Erasing the second application keeps the candidate's pseudonym.
        let again: Event =
            serde_json::from_str(&erased_event("k", &out, "a2", "anon-2").unwrap()).unwrap();
        assert_eq!(again.application_ids, ["anon-1", "anon-2"]);
        assert_eq!(again.candidate_id.unwrap(), c);
    }

    #[test]
    fn sync_keys_are_taken_in_one_order() {
        let keys = ["b", "a", "b"].map(String::from);
        assert_eq!(sync_order(&keys), ["a", "b"]);
    }

    /// The pending query groups only the applications of the `limit` oldest
    /// deliveries: every group that reaches the first `limit` rows of the
    /// full order is among them. Checked against the full order on queues of
    /// every shape up to 7 deliveries over 3 applications.
    #[test]
    fn the_head_holds_every_group_that_comes_first() {
        fn full_order(apps: &[u8]) -> Vec<usize> {
            let mut idx: Vec<usize> = (0..apps.len()).collect();
            let first = |a: u8| apps.iter().position(|&x| x == a).unwrap_or(0);
            idx.sort_by_key(|&i| (first(apps[i]), i));
            idx
        }
        for len in 1..=7u32 {
            for code in 0..3u32.pow(len) {
                let apps: Vec<u8> = (0..len).map(|i| (code / 3u32.pow(i) % 3) as u8).collect();
                let order = full_order(&apps);
                for limit in 1..=apps.len() {
                    let head: std::collections::HashSet<u8> =
                        apps[..limit].iter().copied().collect();
                    for &i in &order[..limit] {
                        assert!(head.contains(&apps[i]), "{apps:?} limit {limit}");
                    }
                }
            }
        }
    }
}
