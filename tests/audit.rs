//! A bias audit end to end, against the real kube-apiserver and the
//! Greenhouse sandbox: a sync scores applications under a profile that waits
//! for an audit (notes, no score field); a `BiasAudit` over it writes the
//! LL144 report to a ConfigMap and flags the sandbox's built-in disparity;
//! once the disparity is gone the audit passes and the score field follows.

mod support;

use std::time::Duration;

use ats_operator::api::{BiasAudit, ScoringProfile};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use reqwest::Method;
use serde_json::{Value, json};
use support::tenant::*;
use support::webhooks::greenhouse_with_webhook;

const AUDIT: &str = "ll144";

fn opts() -> ats_operator::sandbox::SandboxOptions {
    ats_operator::sandbox::SandboxOptions {
        applications: 400,
        jobs: 6,
        ..small()
    }
}

async fn wait_audit(t: &Tenant, what: &str, pred: impl Fn(&BiasAudit) -> bool) -> BiasAudit {
    let api = Api::<BiasAudit>::namespaced(t.client.clone(), &t.ns);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let a = api.get(AUDIT).await.expect("audit");
        if pred(&a) {
            return a;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            a.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn condition(a: &BiasAudit, t: &str) -> Option<(String, String)> {
    a.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == t)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

async fn score_fields(t: &Tenant) -> (usize, usize, usize) {
    let ids = t.in_scope().await;
    let (mut notes, mut fields) = (0, 0);
    for id in &ids {
        let w = t.writes(id).await;
        notes += usize::from(w.notes > 0);
        fields += usize::from(w.custom_field.is_some());
    }
    (ids.len(), notes, fields)
}

#[tokio::test]
async fn audit_flags_the_disparity_and_gates_the_labels() {
    let t = Tenant::new(Setup::greenhouse(), opts()).await;
    t.apply("24h").await;
    // The fixtures write labels without an audit; this profile waits for one.
    Api::<ScoringProfile>::namespaced(t.client.clone(), &t.ns)
        .patch(
            "profile",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"labels": "auditPassed"}})),
        )
        .await
        .unwrap();
    let _op = t.start_operator();
    t.synced().await;
    let (apps, notes, fields) = score_fields(&t).await;
    assert!(apps > 100, "{apps} applications in scope");
    assert_eq!(
        (notes, fields),
        (apps, 0),
        "notes, but no score field before an audit"
    );

    apply_audit(
        &t,
        json!({
            "syncs": [SYNC],
            "outcome": "scoringRate",
            "unknownInMedian": true,
            "excludeUnder2Percent": {"justification": "Categories under 2% of a few hundred applicants are too small for a meaningful ratio."},
            // Small intersectional cells: flag what is also significant (UGESP 1607.4(D)).
            "significanceLevel": 0.05,
            "distributionDate": "2026-01-05",
        }),
    )
    .await;
    let audits = Api::<BiasAudit>::namespaced(t.client.clone(), &t.ns);
    let a = wait_audit(&t, "the first audit", |a| {
        condition(a, "Ready").is_some_and(|(s, _)| s == "True")
    })
    .await;
    let st = a.status.clone().unwrap();
    assert_eq!(
        condition(&a, "Passed"),
        Some(("False".into(), "AdverseImpact".into()))
    );
    assert!(
        st.flagged_categories.iter().any(|c| c == "Sex: Female"),
        "{:?}",
        st.flagged_categories
    );
    let sample = st.sample_size.unwrap();
    assert!(
        sample > 100 && sample as usize <= apps,
        "{sample} of {apps}"
    );
    assert_eq!(st.profiles, ["profile"]);

    // The report: JSON and the published summary's Markdown, owned by the audit.
    let cm = Api::<ConfigMap>::namespaced(t.client.clone(), &t.ns)
        .get(&format!("{AUDIT}-report"))
        .await
        .unwrap();
    let owner = &cm.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("BiasAudit", AUDIT)
    );
    let data = cm.data.unwrap();
    let report: Value = serde_json::from_str(&data["report.json"]).unwrap();
    assert_eq!(report["result"]["sampleSize"], json!(sample));
    let dims = report["result"]["dimensions"].as_array().unwrap();
    assert_eq!(dims.len(), 3);
    assert!(dims.iter().all(|d| d["unknown"].as_u64().is_some()));
    assert_eq!(dims[2]["rows"].as_array().unwrap().len(), 14);
    let md = &data["report.md"];
    println!("{md}");
    for needle in [
        "Date of audit:",
        "Distribution date of the tool:** 2026-01-05",
        "Number of individuals in the unknown category (Sex):",
        "| Female **(below 0.80)** |",
        "Impact ratio",
        "excluded from the impact ratios",
    ] {
        assert!(md.contains(needle), "{needle} missing from\n{md}");
    }
    // Counts, never people: no candidate name or application id in the report.
    let apps_json = get(
        &t.http,
        &format!("{}/_sandbox/applications", t.sandbox.base_url),
    )
    .await;
    let first = id_str(&apps_json[0]["id"]);
    assert!(!data["report.json"].contains(&first) && !md.contains(&first));
    let (_, _, fields) = score_fields(&t).await;
    assert_eq!(fields, 0, "a failed audit opens no labels");

    // The disparity removed, the audit re-run (a spec change): it passes, and
    // the sync writes the score field.
    control(
        &t.http,
        &t.sandbox,
        Method::PUT,
        "demographics",
        json!({"disparity": 0}),
    )
    .await;
    audits
        .patch(
            AUDIT,
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"distributionDate": "2026-01-06"}})),
        )
        .await
        .unwrap();
    let a = wait_audit(&t, "a passing audit", |a| {
        condition(a, "Passed").is_some_and(|(s, _)| s == "True")
            || a.status.as_ref().is_some_and(|s| {
                s.observed_generation == a.metadata.generation
                    && condition(a, "Passed").is_some_and(|(s, _)| s == "False")
                    && !s.flagged_categories.iter().any(|c| c == "Sex: Female")
            })
    })
    .await;
    assert_eq!(
        condition(&a, "Passed"),
        Some(("True".into(), "NoAdverseImpact".into())),
        "{:?}",
        a.status
    );
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (apps, _, fields) = score_fields(&t).await;
        if fields == apps {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{fields} of {apps} score fields"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The field, not a second note.
    for id in t.in_scope().await {
        assert_eq!(t.writes(&id).await.notes, 1, "{id}");
    }
}

/// Applies the audit `AUDIT` with `spec`.
async fn apply_audit(t: &Tenant, spec: Value) {
    let audit: BiasAudit = serde_json::from_value(json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "BiasAudit",
        "metadata": {"name": AUDIT, "namespace": t.ns},
        "spec": spec,
    }))
    .unwrap();
    Api::<BiasAudit>::namespaced(t.client.clone(), &t.ns)
        .patch(
            AUDIT,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&audit),
        )
        .await
        .unwrap();
}

/// The default audit over the tenant's sync, for 30 days.
fn last_30_days() -> Value {
    json!({"syncs": [SYNC], "significanceLevel": 0.05, "period": {"lastDays": 30}})
}

/// The tenant's profile waits for an audit.
async fn gate_labels(t: &Tenant) {
    Api::<ScoringProfile>::namespaced(t.client.clone(), &t.ns)
        .patch(
            "profile",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"labels": "auditPassed"}})),
        )
        .await
        .unwrap();
}

/// Lever: EEO responses from `/eeo/responses/pii`; band tags wait for the audit.
#[tokio::test]
async fn lever_audit_reads_eeo_responses_and_tags_wait() {
    let t = Tenant::new(
        Setup::lever(),
        ats_operator::sandbox::SandboxOptions {
            applications: 240,
            jobs: 4,
            ..small()
        },
    )
    .await;
    t.apply("24h").await;
    gate_labels(&t).await;
    let _op = t.start_operator();
    t.synced().await;
    let ids = t.in_scope().await;
    assert!(ids.len() > 50, "{} in scope", ids.len());
    for id in &ids {
        let w = t.writes(id).await;
        assert!(w.notes == 1 && w.band_tags.is_empty(), "{id}: {w:?}");
    }
    apply_audit(&t, last_30_days()).await;
    let a = wait_audit(&t, "the audit", |a| condition(a, "Ready").is_some()).await;
    assert_eq!(
        condition(&a, "Ready"),
        Some(("True".into(), "Audited".into())),
        "{:?}",
        a.status
    );
    let st = a.status.unwrap();
    assert!(
        st.flagged_categories.iter().any(|c| c == "Sex: Female"),
        "{st:?}"
    );
    assert!(
        st.sample_size
            .is_some_and(|n| n as usize <= ids.len() && n > 50),
        "{st:?}"
    );

    // Without the disparity the audit passes, and the band tags follow: the
    // notes already there do not stand for them.
    control(
        &t.http,
        &t.sandbox,
        Method::PUT,
        "demographics",
        json!({"disparity": 0}),
    )
    .await;
    Api::<BiasAudit>::namespaced(t.client.clone(), &t.ns)
        .patch(
            AUDIT,
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"distributionDate": "2026-02-01"}})),
        )
        .await
        .unwrap();
    let a = wait_audit(&t, "the second audit", |a| {
        a.status.as_ref().is_some_and(|s| {
            s.observed_generation == a.metadata.generation
                && !s.flagged_categories.iter().any(|c| c == "Sex: Female")
        }) && condition(a, "Passed").is_some()
    })
    .await;
    assert_eq!(
        condition(&a, "Passed"),
        Some(("True".into(), "NoAdverseImpact".into())),
        "{:?}",
        a.status
    );
    let deadline = tokio::time::Instant::now() + DEADLINE;
    for id in &ids {
        loop {
            let w = t.writes(id).await;
            if w.band_tags.len() == 1 {
                assert_eq!(w.notes, 1, "{id}: the tag, not a second note: {w:?}");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{id}: {w:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Workable has no API for self-identification: the audit says so, and
/// the profile's labels stay closed.
#[tokio::test]
async fn workable_has_no_demographics_api() {
    let t = Tenant::new(Setup::workable(), small()).await;
    t.apply("24h").await;
    gate_labels(&t).await;
    let _op = t.start_operator();
    t.synced().await;
    apply_audit(&t, last_30_days()).await;
    let a = wait_audit(&t, "the audit", |a| condition(a, "Ready").is_some()).await;
    assert_eq!(
        condition(&a, "Ready"),
        Some(("False".into(), "DemographicsUnavailable".into()))
    );
    let message = &a.status.as_ref().unwrap().conditions[0].message;
    assert!(message.contains("workable has no API"), "{message}");
    assert_eq!(condition(&a, "Passed"), None);
    for id in t.in_scope().await {
        let w = t.writes(&id).await;
        assert!(
            w.notes == 1 && w.band_tags.is_empty() && w.custom_field.is_none(),
            "{id}: {w:?}"
        );
    }
}

/// The vendor clients read every application's answers through the
/// vendors' paging (Greenhouse: `application_ids` in batches of 50; Lever:
/// 100 a page and signed offsets), and an unauthenticated request gets nothing.
#[tokio::test]
async fn clients_read_self_identification_through_paging_and_auth() {
    use ats_operator::model::VendorKind;
    use support::spec::described;
    for (vendor, keys) in [
        (VendorKind::Greenhouse, &["clientId", "clientSecret"][..]),
        (VendorKind::Lever, &["apiKey"][..]),
    ] {
        let opts = ats_operator::sandbox::SandboxOptions {
            applications: 230,
            jobs: 3,
            rate_limit: None,
            ..Default::default()
        };
        let (sandbox, http, creds) = start_sandbox(vendor, opts).await;
        let cfg = described(vendor, &creds, keys);
        let client = ats_operator::vendors::connect(&cfg, None).expect("client");
        let apps = get(
            &http,
            &format!("{}/_sandbox/applications", sandbox.base_url),
        )
        .await;
        let ids: Vec<String> = apps
            .as_array()
            .unwrap()
            .iter()
            .map(|a| id_str(&a["id"]))
            .collect();
        assert!(ids.len() >= 230, "{vendor}: {}", ids.len());
        let found = client
            .demographics(&ids)
            .await
            .expect("demographics")
            .expect("an API");
        assert_eq!(
            found.len(),
            ids.len(),
            "{vendor}: one record per application"
        );
        let known_sex = found.values().filter(|d| d.sex.is_some()).count();
        let known_race = found.values().filter(|d| d.race.is_some()).count();
        // Most answer; some decline or skip (the unknown category).
        assert!(
            known_sex * 100 > ids.len() * 75 && known_sex < ids.len(),
            "{vendor}: {known_sex}"
        );
        assert!(
            known_race * 100 > ids.len() * 70 && known_race < ids.len(),
            "{vendor}: {known_race}"
        );
        let stats = get(&http, &format!("{}/_sandbox/stats", sandbox.base_url)).await;
        let pages = match vendor {
            VendorKind::Greenhouse => stats["requests"]["GET /v3/eeoc"].as_u64(),
            _ => stats["requests"]["GET /v1/eeo/responses/pii"].as_u64(),
        };
        assert!(pages.is_some_and(|n| n >= 3), "{vendor}: {stats}");
        // A subset asks for that subset only.
        let some = client.demographics(&ids[..7]).await.unwrap().unwrap();
        assert_eq!(some.len(), 7, "{vendor}");
        let path = match vendor {
            VendorKind::Greenhouse => "/v3/eeoc",
            _ => "/v1/eeo/responses/pii",
        };
        let r = http
            .get(format!("{}{path}", sandbox.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{vendor}: unauthenticated {path}");
    }
    // Workable: no API for it.
    let (sandbox, _http, creds) = start_sandbox(VendorKind::Workable, small()).await;
    let cfg = described(VendorKind::Workable, &creds, &["apiKey"]);
    let client = ats_operator::vendors::connect(&cfg, None).expect("client");
    assert!(
        client
            .demographics(&["1".to_string()])
            .await
            .unwrap()
            .is_none()
    );
    drop(sandbox);
}

/// Recruiters' decisions, reported by Greenhouse's webhooks, audited: the
/// recruiter advances the better half of the scored applications and rejects
/// the rest (one candidate withdraws, a tenth wait), so the sandbox's built-in
/// disparity reaches the decisions and the audit flags it; the report names
/// what it left out.
#[tokio::test]
async fn recruiters_decisions_from_webhooks_are_audited() {
    let (t, _op, _port) = greenhouse_with_webhook(opts(), |_| {}).await;
    // The applications still in process (the others were decided before the
    // webhooks existed: the ledger has no decision for them).
    let listed = get(
        &t.http,
        &format!("{}/_sandbox/applications", t.sandbox.base_url),
    )
    .await;
    let stage_of: std::collections::HashMap<String, String> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "in_process")
        .map(|a| {
            (
                id_str(&a["id"]),
                a["stage_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let in_scope = t.in_scope().await;
    let mut scored = Vec::new();
    for id in in_scope.iter().filter(|id| stage_of.contains_key(*id)) {
        let score = t.writes(id).await.custom_field.and_then(|v| v.as_f64());
        scored.push((score.expect("the score field (labels: always)"), id.clone()));
    }
    assert!(
        scored.len() > 100,
        "{} applications in process",
        scored.len()
    );
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let waiting = scored.len() / 10;
    let decided = &scored[..scored.len() - waiting];
    let half = decided.len() / 2;
    for (i, (_, id)) in decided.iter().enumerate() {
        let stage = if stage_of[id] == "Technical Interview" {
            "Onsite Interview"
        } else {
            "Technical Interview"
        };
        let (path, body) = if i == half {
            (
                format!("applications/{id}/reject"),
                json!({"reason": "withdrew"}),
            )
        } else if i < half {
            (format!("applications/{id}/stage"), json!({"stage": stage}))
        } else {
            (
                format!("applications/{id}/reject"),
                json!({"reason": "underqualified"}),
            )
        };
        t.control(&path, body).await;
    }
    // Every decision recorded (one delivery each, processed).
    let ledger = ats_operator::ledger::Ledger::open(&t.ledger).unwrap();
    let key = format!("{}/{SYNC}", t.ns);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let mut recorded = 0;
        for (_, id) in decided {
            recorded += usize::from(!ledger.outcomes(&key, id).await.unwrap().is_empty());
        }
        if recorded == decided.len() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{recorded} of {} decisions recorded",
            decided.len()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    apply_audit(
        &t,
        json!({"syncs": [SYNC], "outcome": "recruiterSelectionRate"}),
    )
    .await;
    let a = wait_audit(&t, "the audit of recruiters' decisions", |a| {
        condition(a, "Ready").is_some_and(|(s, _)| s == "True")
    })
    .await;
    let st = a.status.clone().unwrap();
    assert!(
        st.flagged_categories.iter().any(|c| c == "Sex: Female"),
        "{:?}",
        st.flagged_categories
    );
    let cm = Api::<ConfigMap>::namespaced(t.client.clone(), &t.ns)
        .get(&format!("{AUDIT}-report"))
        .await
        .unwrap();
    let data = cm.data.unwrap();
    let report: Value = serde_json::from_str(&data["report.json"]).unwrap();
    assert_eq!(
        report["result"]["outcome"]["kind"],
        "recruiterSelectionRate"
    );
    assert_eq!(report["withdrawn"], json!(1));
    // Those waiting or decided before the webhooks, and those without a
    // self-identification record, are left out.
    let undecided = report["undecided"].as_u64().unwrap();
    let without = report["withoutDemographics"].as_u64().unwrap();
    let sample = report["result"]["sampleSize"].as_u64().unwrap();
    assert!(undecided >= waiting as u64 / 2, "{undecided} undecided");
    assert_eq!(
        sample + undecided + without + 1,
        in_scope.len() as u64,
        "{report}"
    );
    // Among those audited, the selected are exactly the advanced.
    let positive: u64 = report["result"]["dimensions"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["positive"].as_u64().unwrap())
        .sum::<u64>()
        + report["result"]["dimensions"][0]["unknownPositive"]
            .as_u64()
            .unwrap();
    assert!(
        positive > 0 && positive <= half as u64,
        "{positive} of {half}"
    );
    let md = &data["report.md"];
    println!("{md}");
    for needle in [
        "Selection rate (recruiters' decisions)",
        "withdrawn by the candidate",
        "recruiters' latest decisions the vendor's webhooks reported",
        "| Female **(below 0.80)** |",
    ] {
        assert!(md.contains(needle), "{needle} missing from\n{md}");
    }
}
