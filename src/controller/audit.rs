//! The `BiasAudit` reconciler: when due, reads the audited syncs' decisions
//! for the period from the ledger, the candidates' self-identification from
//! each sync's vendor (through the sync's own connection: the same
//! credential resolution and endpoint guard), joins them in memory, computes
//! the LL144 audit, writes the report to the ConfigMap `<audit>-report`
//! (owned by the audit) and the verdict to status. Demographic data is
//! dropped when the reconcile ends: it is never logged, stored or scored.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tracing::{info, warn};

use super::credentials::SecretStore;
use super::resolve::{self, Problem};
use super::status::ts;
use super::{Context, ControllerError, MANAGER};
use crate::api::audit::{AuditOutcome, BandCutoff, PASSED, reason as audit_reason};
use crate::api::conditions::{Condition, READY, reason};
use crate::api::{
    AtsConnection, AtsSync, BiasAudit, BiasAuditSpec, BiasAuditStatus, LabelPolicy, ScoringProfile,
};
use crate::audit::report::{self, Report};
use crate::audit::{AuditConfig, Demographics, Outcome, Sample};
use crate::sync::decide;
use crate::vendors::CredentialStore;

/// Pure: the period audited, `[from, to]`.
pub fn period(
    spec: &BiasAuditSpec,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let parse = |field: &str, v: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        v.as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s.trim())
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| format!("spec.period.{field}: {s:?} is not an RFC 3339 time: {e}"))
            })
            .transpose()
    };
    let to = parse("to", &spec.period.to)?.unwrap_or(now).min(now);
    let from = match (parse("from", &spec.period.from)?, spec.period.last_days) {
        (Some(_), Some(_)) => {
            return Err("spec.period: give from/to or lastDays, not both".into());
        }
        (Some(f), None) => f,
        (None, days) => to - chrono::Duration::days(i64::from(days.unwrap_or(365).clamp(1, 3660))),
    };
    if from > to {
        return Err("spec.period: from is after to".into());
    }
    Ok((from, to))
}

/// Pure: the audit's settings for the maths.
pub fn config(spec: &BiasAuditSpec) -> AuditConfig {
    AuditConfig {
        outcome: match spec.outcome {
            AuditOutcome::ScoringRate => Outcome::ScoringRate {
                unknown_in_median: spec.unknown_in_median,
            },
            AuditOutcome::SelectionRate => Outcome::SelectionRate,
            AuditOutcome::RecruiterSelectionRate => Outcome::RecruiterSelectionRate,
        },
        exclude_under_2_percent: spec
            .exclude_under2_percent
            .as_ref()
            .map(|e| e.justification.trim().to_string())
            .filter(|j| !j.is_empty()),
        significance_level: spec.significance_level.filter(|l| *l > 0.0 && *l < 1.0),
    }
}

/// Pure: whether a band (as the ledger writes it) is at or above the cut-off.
pub fn selected(band: &str, cutoff: BandCutoff) -> bool {
    let rank = |b: &str| match b {
        "strong_fit" => 3,
        "good_fit" => 2,
        "moderate_fit" => 1,
        _ => 0,
    };
    let min = match cutoff {
        BandCutoff::StrongFit => 3,
        BandCutoff::GoodFit => 2,
        BandCutoff::ModerateFit => 1,
    };
    rank(band) >= min
}

/// What a recruiter last decided about an application, for a
/// recruiter-selection audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecruiterDecision {
    /// Advanced to a later stage or hired: selected to move forward.
    Selected,
    /// Rejected by the company.
    NotSelected,
    /// The candidate withdrew: not the employer's decision, left out.
    Withdrawn,
    /// No decision yet (or a rejection undone): left out.
    Undecided,
}

/// Pure: the decision from the ledger's latest outcome (its category and
/// the reason's category, as recorded from the vendor's webhooks).
pub fn recruiter_decision(category: Option<&str>, reason: Option<&str>) -> RecruiterDecision {
    match (category, reason) {
        (Some("advanced" | "hired"), _) => RecruiterDecision::Selected,
        (Some("rejected"), Some("withdrew")) => RecruiterDecision::Withdrawn,
        (Some("rejected"), _) => RecruiterDecision::NotSelected,
        _ => RecruiterDecision::Undecided,
    }
}

/// Pure: how long until the audit is due again; `None`: now (never run, the
/// spec changed, or `every` has passed).
pub fn wait(
    status: Option<&BiasAuditStatus>,
    generation: Option<i64>,
    every: Duration,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let st = status?;
    if st.observed_generation != generation {
        return None;
    }
    // The last attempt failed (a vendor outage, a missing sync): try again
    // now; `finish` spaces the retries.
    if st
        .conditions
        .iter()
        .any(|c| c.type_ == READY && !c.is_true() && !settled(&c.reason))
    {
        return None;
    }
    let last = st
        .last_audit_time
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())?
        .with_timezone(&Utc);
    let due = last + chrono::Duration::from_std(every).ok()?;
    (due > now).then(|| (due - now).to_std().unwrap_or(Duration::ZERO))
}

/// Reasons an audit ends with that another try soon would not change (the
/// vendor has no API for self-identification). Retried at `every`.
fn settled(reason: &str) -> bool {
    reason == audit_reason::DEMOGRAPHICS_UNAVAILABLE
}

/// Pure: the syncs an audit names or selects, and the names it gives that do not exist.
pub fn select_syncs<'a>(
    spec: &BiasAuditSpec,
    syncs: &'a [AtsSync],
) -> (Vec<&'a AtsSync>, Vec<String>) {
    let by_label = |s: &AtsSync| {
        !spec.sync_selector.is_empty()
            && spec
                .sync_selector
                .iter()
                .all(|(k, v)| s.labels().get(k) == Some(v))
    };
    let chosen: Vec<&AtsSync> = syncs
        .iter()
        .filter(|s| spec.syncs.contains(&s.name_any()) || by_label(s))
        .collect();
    let missing = spec
        .syncs
        .iter()
        .filter(|n| !syncs.iter().any(|s| &s.name_any() == *n))
        .cloned()
        .collect();
    (chosen, missing)
}

/// What the gate reads of one audit: (profiles covered, passed, when).
type AuditRecord<'a> = (&'a [String], bool, Option<DateTime<Utc>>);

/// Pure: whether a profile's labels may be written, from the audits of its
/// namespace (see [`decide::labels_allowed`]).
pub fn labels_allowed(
    audits: &[BiasAudit],
    profile: &str,
    policy: LabelPolicy,
    now: DateTime<Utc>,
) -> bool {
    let records: Vec<AuditRecord> = audits
        .iter()
        .filter_map(|a| a.status.as_ref())
        .map(|st| {
            let at = st
                .last_audit_time
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            (st.profiles.as_slice(), st.passed(), at)
        })
        .collect();
    decide::labels_allowed(policy, decide::last_audit(records, profile), now)
}

fn every(spec: &BiasAuditSpec) -> Result<Duration, String> {
    crate::sync::schedule::parse_interval(spec.every.trim())
        .filter(|d| *d >= Duration::from_secs(60))
        .ok_or_else(|| {
            format!(
                "spec.every: {:?} is not an interval of at least 1m, such as 24h",
                spec.every
            )
        })
}

pub async fn reconcile(
    audit: Arc<BiasAudit>,
    ctx: Arc<Context>,
) -> Result<Action, ControllerError> {
    let ns = audit.namespace().ok_or(ControllerError::NoNamespace)?;
    let name = audit.name_any();
    let now = Utc::now();
    let previous = audit.status.clone().unwrap_or_default();
    let generation = audit.metadata.generation;
    let fail = |reason: &str, message: String| {
        let mut st = previous.clone();
        st.conditions = crate::api::conditions::merge(
            &previous.conditions,
            vec![Condition::new(READY, false, reason, message)],
            &ts(now),
            generation,
        );
        st.observed_generation = generation;
        st
    };
    let every = match every(&audit.spec) {
        Ok(e) => e,
        Err(m) => {
            return finish(
                &ctx,
                &name,
                &ns,
                &previous,
                fail(reason::INVALID_SPEC, m),
                None,
            )
            .await;
        }
    };
    if let Some(w) = wait(audit.status.as_ref(), generation, every, now) {
        return Ok(Action::requeue(w));
    }
    let (from, to) = match period(&audit.spec, now) {
        Ok(p) => p,
        Err(m) => {
            return finish(
                &ctx,
                &name,
                &ns,
                &previous,
                fail(reason::INVALID_SPEC, m),
                None,
            )
            .await;
        }
    };
    let all_syncs = Api::<AtsSync>::namespaced(ctx.client.clone(), &ns)
        .list(&ListParams::default())
        .await?
        .items;
    let (chosen, missing) = select_syncs(&audit.spec, &all_syncs);
    if chosen.is_empty() {
        let m = if missing.is_empty() {
            "no AtsSync named in spec.syncs or matching spec.syncSelector".to_string()
        } else {
            format!("AtsSync {} not found in namespace {ns}", missing.join(", "))
        };
        return finish(
            &ctx,
            &name,
            &ns,
            &previous,
            fail(reason::REFERENCE_NOT_FOUND, m),
            Some(every),
        )
        .await;
    }

    // Each sync's profile, and the demographics through its connection.
    let mut profiles: BTreeSet<String> = audit.spec.profiles.iter().cloned().collect();
    let mut audited: BTreeMap<String, String> = BTreeMap::new(); // sync -> vendor
    let mut limitations = Vec::new();
    let mut demographics: HashMap<(String, String), Demographics> = HashMap::new();
    let mut decisions: HashMap<(String, String), (u8, String, RecruiterDecision)> = HashMap::new();
    let mut clients = Vec::new();
    for sync in &chosen {
        let sname = sync.name_any();
        let profile_name = &sync.spec.scoring_profile_ref.name;
        if !audit.spec.profiles.is_empty() && !audit.spec.profiles.contains(profile_name) {
            continue;
        }
        if audit.spec.profiles.is_empty() {
            profiles.insert(profile_name.clone());
        }
        let connection = Api::<AtsConnection>::namespaced(ctx.client.clone(), &ns)
            .get_opt(&sync.spec.connection_ref.name)
            .await?;
        let profile = Api::<ScoringProfile>::namespaced(ctx.client.clone(), &ns)
            .get_opt(profile_name)
            .await?;
        let secret = match &connection {
            Some(c) => {
                super::credentials::fetch_secret(&ctx.client, &ns, &c.spec.auth.secret_name).await?
            }
            None => None,
        };
        let custom = connection
            .as_ref()
            .is_some_and(super::policy::uses_custom_endpoints);
        let policy = ctx.admin.policy_for(&ctx.client, &ns, custom).await?;
        let spec = match resolve::resolve_sync(
            sync,
            connection.as_ref(),
            profile.as_ref(),
            secret.as_ref(),
            &policy,
        ) {
            Ok(s) => s,
            Err(p) => {
                let m = format!("AtsSync {sname}: {}", p.message);
                return finish(&ctx, &name, &ns, &previous, fail(p.reason, m), Some(every)).await;
            }
        };
        let store = connection.as_ref().and_then(|c| {
            SecretStore::for_connection(ctx.client.clone(), c)
                .ok()
                .map(|s| Arc::new(s) as Arc<dyn CredentialStore>)
        });
        let client = match ctx.clients.client(&ns, &spec.connection, store) {
            Ok(c) => c,
            Err(e) => {
                let p = Problem::from_vendor(
                    spec.connection.vendor.as_str(),
                    &e,
                    spec.connection.quotes_vendor_text(),
                );
                return finish(
                    &ctx,
                    &name,
                    &ns,
                    &previous,
                    fail(p.reason, p.message),
                    Some(every),
                )
                .await;
            }
        };
        audited.insert(sname.clone(), spec.connection.vendor.to_string());
        clients.push((sname, spec, client));
    }

    // The latest decision of each application in the period, per sync.
    let mut rows = ctx.ledger.export(&ns, Some(from));
    while let Some(row) = rows.next().await {
        let row = row?;
        if row.decided_at > to || !audited.contains_key(&row.sync) || row.erased {
            continue;
        }
        let recruiter = recruiter_decision(
            row.recruiter_decision.as_deref(),
            row.recruiter_reason.as_deref(),
        );
        decisions.insert(
            (row.sync.clone(), row.application_id.clone()),
            (row.score, row.band.clone(), recruiter),
        );
    }
    for (sname, spec, client) in &clients {
        let ids: Vec<String> = decisions
            .keys()
            .filter(|(s, _)| s == sname)
            .map(|(_, a)| a.clone())
            .collect();
        if ids.is_empty() {
            continue;
        }
        match client.demographics(&ids).await {
            Ok(Some(found)) => {
                demographics.extend(found.into_iter().map(|(app, d)| ((sname.clone(), app), d)));
            }
            Ok(None) => limitations.push(format!(
                "{} has no API for voluntary self-identification: the decisions of AtsSync {sname} are not in this audit",
                spec.connection.vendor
            )),
            Err(e) => {
                let p = Problem::from_vendor(spec.connection.vendor.as_str(), &e, spec.connection.quotes_vendor_text());
                return finish(&ctx, &name, &ns, &previous, fail(p.reason, p.message), Some(every)).await;
            }
        }
    }

    let cutoff = audit.spec.band_cutoff;
    let mut samples = Vec::with_capacity(demographics.len());
    let by_recruiters = audit.spec.outcome == AuditOutcome::RecruiterSelectionRate;
    let (mut without, mut undecided, mut withdrawn) = (0u64, 0u64, 0u64);
    for (key, (score, band, recruiter)) in &decisions {
        let Some(d) = demographics.get(key) else {
            without += 1;
            continue;
        };
        let selected = if by_recruiters {
            match recruiter {
                RecruiterDecision::Selected => true,
                RecruiterDecision::NotSelected => false,
                RecruiterDecision::Withdrawn => {
                    withdrawn += 1;
                    continue;
                }
                RecruiterDecision::Undecided => {
                    undecided += 1;
                    continue;
                }
            }
        } else {
            selected(band, cutoff)
        };
        samples.push(Sample {
            score: u32::from(*score),
            selected,
            demographics: *d,
        });
    }
    drop(demographics);
    let profiles: Vec<String> = profiles.into_iter().collect();
    if samples.is_empty() {
        let (r, m) = if by_recruiters && limitations.is_empty() && undecided + withdrawn > 0 {
            (
                audit_reason::NO_DATA,
                format!(
                    "no recruiter decision on the applications scored between {} and {} \
                     ({undecided} undecided, {withdrawn} withdrawn): decisions come from the \
                     vendor's webhooks (spec.webhooks of the AtsSync)",
                    ts(from),
                    ts(to)
                ),
            )
        } else if limitations.is_empty() {
            (
                audit_reason::NO_DATA,
                format!(
                    "no decision with a self-identification record between {} and {}",
                    ts(from),
                    ts(to)
                ),
            )
        } else {
            (
                audit_reason::DEMOGRAPHICS_UNAVAILABLE,
                limitations.join("; "),
            )
        };
        let mut st = fail(r, m);
        st.profiles = profiles;
        return finish(&ctx, &name, &ns, &previous, st, Some(every)).await;
    }
    let result = crate::audit::audit(&samples, &config(&audit.spec));
    let vendors: BTreeSet<&String> = audited.values().collect();
    let report = Report {
        audit: format!("{ns}/{name}"),
        audit_date: ts(now),
        period_from: ts(from),
        period_to: ts(to),
        syncs: audited.keys().cloned().collect(),
        profiles: profiles.clone(),
        data_source: format!(
            "the scores recorded in the operator's decision ledger (latest decision per application){}, \
             joined in memory with the candidates' voluntary self-identification from {} by application id",
            if by_recruiters {
                " with the recruiters' latest decisions the vendor's webhooks reported"
            } else {
                ""
            },
            vendors.into_iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        distribution_date: audit.spec.distribution_date.clone(),
        without_demographics: without,
        undecided,
        withdrawn,
        limitations,
        result,
    };
    let passed = report.result.passed();
    let cm = report_config_map(&audit, &report)?;
    Api::<ConfigMap>::namespaced(ctx.client.clone(), &ns)
        .patch(
            &cm.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&cm),
        )
        .await?;
    let flagged = report.result.flagged.clone();
    let (preason, pmessage) = if passed {
        (
            audit_reason::NO_ADVERSE_IMPACT,
            "no category has an impact ratio below 0.80".to_string(),
        )
    } else {
        (
            audit_reason::ADVERSE_IMPACT,
            format!("impact ratio below 0.80: {}", flagged.join("; ")),
        )
    };
    let conditions = crate::api::conditions::merge(
        &previous.conditions,
        vec![
            Condition::new(
                READY,
                true,
                audit_reason::AUDITED,
                format!("{} applicants audited", report.result.sample_size),
            ),
            Condition::new(PASSED, passed, preason, pmessage),
        ],
        &ts(now),
        generation,
    );
    let status = BiasAuditStatus {
        conditions,
        observed_generation: generation,
        last_audit_time: Some(ts(now)),
        profiles,
        flagged_categories: flagged,
        sample_size: Some(report.result.sample_size),
        report: Some(cm.name_any()),
    };
    info!(audit = %name, passed, sample = report.result.sample_size, "bias audit computed");
    finish(&ctx, &name, &ns, &previous, status, Some(every)).await
}

/// The ConfigMap `<audit>-report`, owned by the audit (deleted with it).
fn report_config_map(audit: &BiasAudit, report: &Report) -> Result<ConfigMap, ControllerError> {
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| ControllerError::Finalizer(format!("serialising the report: {e}")))?;
    let mut labels = crate::api::managed_labels();
    labels.insert("ats.dev/bias-audit".into(), audit.name_any());
    Ok(ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(format!("{}-report", audit.name_any())),
            namespace: audit.namespace(),
            labels: Some(labels),
            owner_references: audit.controller_owner_ref(&()).map(|o| vec![o]),
            ..Default::default()
        },
        data: Some(BTreeMap::from([
            ("report.json".to_string(), json),
            ("report.md".to_string(), report::markdown(report)),
        ])),
        ..Default::default()
    })
}

async fn finish(
    ctx: &Context,
    name: &str,
    ns: &str,
    previous: &BiasAuditStatus,
    status: BiasAuditStatus,
    every: Option<Duration>,
) -> Result<Action, ControllerError> {
    if &status != previous {
        super::apply_status::<BiasAudit>(&ctx.client, name, ns, &status).await?;
    }
    if let Some(c) = status
        .conditions
        .iter()
        .find(|c| c.type_ == READY && !c.is_true())
    {
        warn!(audit = %name, reason = %c.reason, "bias audit not computed");
        // Retry soon unless the spec must change first or a retry would not help.
        if c.reason != reason::INVALID_SPEC && !settled(&c.reason) {
            return Ok(Action::requeue(Duration::from_secs(60)));
        }
    }
    Ok(match every {
        Some(e) => Action::requeue(e),
        None => Action::await_change(),
    })
}

/// Whether the sync's profile may have labels written, read from the
/// namespace's audits now. A cluster without the `BiasAudit` CRD has no audits.
pub async fn labels_allowed_now(
    client: &kube::Client,
    ns: &str,
    profile: &str,
    policy: LabelPolicy,
) -> Result<bool, ControllerError> {
    if policy == LabelPolicy::Always {
        return Ok(true);
    }
    let audits = match Api::<BiasAudit>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
    {
        Ok(l) => l.items,
        Err(kube::Error::Api(s)) if s.code == 404 => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(labels_allowed(&audits, profile, policy, Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::audit::AuditPeriod;
    use chrono::TimeZone;

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, 0, 0, 0).single().unwrap()
    }

    #[test]
    fn periods() {
        let mut spec = BiasAuditSpec::default();
        let now = at(5);
        assert_eq!(
            period(&spec, now).unwrap(),
            (now - chrono::Duration::days(365), now)
        );
        spec.period = AuditPeriod {
            last_days: Some(30),
            ..Default::default()
        };
        assert_eq!(
            period(&spec, now).unwrap().0,
            now - chrono::Duration::days(30)
        );
        spec.period = AuditPeriod {
            from: Some("2026-12-01T00:00:00Z".into()),
            to: Some("2026-12-03T00:00:00Z".into()),
            last_days: None,
        };
        assert_eq!(period(&spec, now).unwrap(), (at(1), at(3)));
        spec.period.last_days = Some(3);
        assert!(period(&spec, now).is_err());
        spec.period = AuditPeriod {
            from: Some("2026-12-04T00:00:00Z".into()),
            to: Some("2026-12-03T00:00:00Z".into()),
            last_days: None,
        };
        assert!(period(&spec, now).is_err());
        spec.period = AuditPeriod {
            from: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(period(&spec, now).unwrap_err().contains("spec.period.from"));
    }

    #[test]
    fn recruiters_decisions_as_selections() {
        use RecruiterDecision::*;
        for (category, reason, want) in [
            (Some("advanced"), None, Selected),
            (Some("hired"), None, Selected),
            (Some("rejected"), Some("rejected"), NotSelected),
            (Some("rejected"), Some("other"), NotSelected),
            (Some("rejected"), None, NotSelected),
            (Some("rejected"), Some("withdrew"), Withdrawn),
            (Some("unrejected"), None, Undecided),
            (None, None, Undecided),
            (Some("something new"), None, Undecided),
        ] {
            assert_eq!(
                recruiter_decision(category, reason),
                want,
                "{category:?} {reason:?}"
            );
        }
    }

    #[test]
    fn bands_at_or_above_the_cutoff_are_selected() {
        assert!(selected("strong_fit", BandCutoff::GoodFit));
        assert!(selected("good_fit", BandCutoff::GoodFit));
        assert!(!selected("moderate_fit", BandCutoff::GoodFit));
        assert!(selected("moderate_fit", BandCutoff::ModerateFit));
        assert!(!selected("weak_fit", BandCutoff::ModerateFit));
        assert!(!selected("good_fit", BandCutoff::StrongFit));
    }

    #[test]
    fn due_when_never_run_changed_or_stale() {
        let now = at(5);
        let day = Duration::from_secs(86_400);
        assert_eq!(wait(None, Some(1), day, now), None);
        let st = BiasAuditStatus {
            observed_generation: Some(1),
            last_audit_time: Some(ts(now - chrono::Duration::hours(1))),
            ..Default::default()
        };
        assert_eq!(
            wait(Some(&st), Some(1), day, now),
            Some(Duration::from_secs(23 * 3600))
        );
        assert_eq!(wait(Some(&st), Some(2), day, now), None);
        let failed = BiasAuditStatus {
            conditions: vec![Condition::new(READY, false, "VendorUnavailable", "down")],
            ..st.clone()
        };
        assert_eq!(wait(Some(&failed), Some(1), day, now), None);
        let old = BiasAuditStatus {
            last_audit_time: Some(ts(now - chrono::Duration::days(2))),
            ..st
        };
        assert_eq!(wait(Some(&old), Some(1), day, now), None);
    }

    #[test]
    fn syncs_by_name_and_label() {
        let sync = |name: &str, team: &str| {
            let mut s = AtsSync::new(name, Default::default());
            s.metadata.labels = Some(BTreeMap::from([("team".to_string(), team.to_string())]));
            s
        };
        let all = vec![sync("a", "x"), sync("b", "y"), sync("c", "y")];
        let mut spec = BiasAuditSpec {
            syncs: vec!["a".into(), "zz".into()],
            ..Default::default()
        };
        let (chosen, missing) = select_syncs(&spec, &all);
        assert_eq!(
            chosen.iter().map(|s| s.name_any()).collect::<Vec<_>>(),
            ["a"]
        );
        assert_eq!(missing, ["zz"]);
        spec.sync_selector = BTreeMap::from([("team".to_string(), "y".to_string())]);
        let (chosen, _) = select_syncs(&spec, &all);
        assert_eq!(chosen.len(), 3);
    }

    #[test]
    fn gate_reads_the_audits_status() {
        let now = at(5);
        let audit = |passed: bool, profiles: &[&str]| {
            let mut a = BiasAudit::new("a", Default::default());
            a.status = Some(BiasAuditStatus {
                conditions: vec![Condition::new(PASSED, passed, "x", "x")],
                last_audit_time: Some(ts(now - chrono::Duration::days(1))),
                profiles: profiles.iter().map(|p| p.to_string()).collect(),
                ..Default::default()
            });
            a
        };
        assert!(labels_allowed(
            &[audit(true, &["p"])],
            "p",
            LabelPolicy::AuditPassed,
            now
        ));
        assert!(!labels_allowed(
            &[audit(false, &["p"])],
            "p",
            LabelPolicy::AuditPassed,
            now
        ));
        assert!(!labels_allowed(
            &[audit(true, &["q"])],
            "p",
            LabelPolicy::AuditPassed,
            now
        ));
        assert!(labels_allowed(&[], "p", LabelPolicy::Always, now));
        assert!(!labels_allowed(&[], "p", LabelPolicy::AuditPassed, now));
    }
}
