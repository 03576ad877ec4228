//! Pulls come in bounded batches, and a full sync of an unchanged tenant
//! costs list requests only: per-record details (Workable candidate details,
//! Greenhouse resume downloads, Lever resumes) are fetched again only for
//! records that changed, and all of them again when what decides (the
//! profile) changed. The pipeline runs against
//! each vendor's sandbox; the sandbox's request counts are the evidence.

use std::collections::BTreeMap;

use ats_operator::ledger::Ledger;
use ats_operator::model::{JobStatus, VendorKind};
use ats_operator::sandbox::{self, SandboxOptions};
use ats_operator::sync::SyncSpec;
use ats_operator::sync::pipeline::{self, RunInput};
use ats_operator::vendors;
use serde_json::{Value, json};
use support::spec;

mod support;

/// The sandbox's `/_sandbox/credentials` as a sync spec whose every run is full.
fn spec(vendor: VendorKind, creds: &Value, keys: &[&str]) -> SyncSpec {
    let mut spec = spec::sync(
        spec::described(vendor, creds, keys),
        ("tenant", vendor.as_str()),
        "p",
        vec![JobStatus::Open],
    );
    spec.write_back.dry_run = true;
    spec.full_sync_every = std::time::Duration::ZERO;
    spec
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json")
}

/// Requests per route since `before`, API routes only.
fn delta(before: &Value, after: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (k, v) in after["requests"].as_object().into_iter().flatten() {
        if k.contains("/_sandbox") {
            continue;
        }
        let n = v.as_u64().unwrap_or(0) - before["requests"][k].as_u64().unwrap_or(0);
        if n > 0 {
            out.insert(k.clone(), n);
        }
    }
    out
}

/// The routes that fetch one record's details, by vendor.
fn detail_routes(vendor: VendorKind) -> &'static [&'static str] {
    match vendor {
        VendorKind::Workable => &["GET /spi/v3/candidates/{id}", "GET /candidates/{id}"],
        VendorKind::Greenhouse => &["GET /files/{id}/{filename}"],
        VendorKind::Lever => &[
            "GET /v1/opportunities/{id}/resumes",
            "GET /opportunities/{id}/resumes",
        ],
        _ => &[],
    }
}

fn details(d: &BTreeMap<String, u64>, vendor: VendorKind) -> u64 {
    d.iter()
        .filter(|(k, _)| detail_routes(vendor).contains(&k.as_str()))
        .map(|(_, n)| n)
        .sum()
}

/// A sandbox of `applications`, the spec and client for it.
async fn tenant(
    vendor: VendorKind,
    keys: &[&str],
    applications: usize,
) -> (
    sandbox::RunningSandbox,
    reqwest::Client,
    SyncSpec,
    std::sync::Arc<dyn vendors::AtsClient>,
) {
    let sb = sandbox::start(
        vendor,
        "127.0.0.1:0".parse().expect("addr"),
        SandboxOptions {
            applications,
            jobs: 3,
            rate_limit: None,
            ..Default::default()
        },
    )
    .await
    .expect("sandbox");
    let http = reqwest::Client::new();
    let creds = get(&http, format!("{}/_sandbox/credentials", sb.base_url)).await;
    let spec = spec(vendor, &creds, keys);
    let client = vendors::connect(&spec.connection, None).expect("client");
    (sb, http, spec, client)
}

async fn unchanged_full_sync_costs_lists_only(vendor: VendorKind, keys: &[&str]) {
    let (sb, http, mut spec, client) = tenant(vendor, keys, 30).await;
    let ledger = Ledger::open_in_memory().expect("ledger");
    let now = chrono::Utc::now;
    let stats = || get(&http, format!("{}/_sandbox/stats", sb.base_url));

    let s0 = stats().await;
    let first = pipeline::run_once(client.as_ref(), &ledger, &spec, now(), &RunInput::default())
        .await
        .expect("first run");
    let s1 = stats().await;
    let first_details = details(&delta(&s0, &s1), vendor);
    assert!(first.counts.scored > 0, "{vendor:?}: nothing scored");
    assert!(first_details > 0, "{vendor:?}: {:?}", delta(&s0, &s1));

    // Unchanged: a full sync lists, and fetches no detail.
    let second = pipeline::run_once(client.as_ref(), &ledger, &spec, now(), &RunInput::default())
        .await
        .expect("second run");
    let s2 = stats().await;
    let d2 = delta(&s1, &s2);
    assert!(second.full, "{vendor:?}: not a full sync");
    assert_eq!(details(&d2, vendor), 0, "{vendor:?}: {d2:?}");
    assert_eq!(second.counts.scored, 0, "{vendor:?}");
    assert_eq!(
        second.counts.applications_seen, first.counts.applications_seen,
        "{vendor:?}: a skipped record still counts as seen"
    );
    assert_eq!(
        second.counts.deleted, 0,
        "{vendor:?}: skipped taken as deleted"
    );
    eprintln!(
        "{vendor:?}: first full sync {} requests ({first_details} details), unchanged full sync {} requests",
        delta(&s0, &s1).values().sum::<u64>(),
        d2.values().sum::<u64>()
    );

    // Two records change: exactly their details are fetched, and re-scored.
    let touched = http
        .post(format!("{}/_sandbox/touch", sb.base_url))
        .json(&json!({"count": 2}))
        .send()
        .await
        .expect("touch");
    assert!(touched.status().is_success());
    let third = pipeline::run_once(client.as_ref(), &ledger, &spec, now(), &RunInput::default())
        .await
        .expect("third run");
    let s3 = stats().await;
    let d3 = delta(&s2, &s3);
    assert!(third.counts.scored >= 1, "{vendor:?}: change missed");
    assert!(
        (1..=2).contains(&details(&d3, vendor)),
        "{vendor:?}: {d3:?}"
    );

    // What decides changed: everything is fetched and scored again.
    spec.profile_generation = 2;
    spec.profile_identity = "p/2".into();
    spec.profile.weights.skills += 5;
    let fourth = pipeline::run_once(client.as_ref(), &ledger, &spec, now(), &RunInput::default())
        .await
        .expect("fourth run");
    let s4 = stats().await;
    assert_eq!(
        details(&delta(&s3, &s4), vendor),
        first_details,
        "{vendor:?}: a changed profile must see every record"
    );
    assert_eq!(fourth.counts.scored, first.counts.scored, "{vendor:?}");
}

#[tokio::test]
async fn workable_unchanged_full_sync_costs_lists_only() {
    unchanged_full_sync_costs_lists_only(VendorKind::Workable, &["apiKey"]).await;
}

#[tokio::test]
async fn greenhouse_unchanged_full_sync_costs_lists_only() {
    unchanged_full_sync_costs_lists_only(VendorKind::Greenhouse, &["clientId", "clientSecret"])
        .await;
}

#[tokio::test]
async fn lever_unchanged_full_sync_costs_lists_only() {
    unchanged_full_sync_costs_lists_only(VendorKind::Lever, &["apiKey"]).await;
}

/// A pull comes in bounded batches that together are the whole pull, each
/// with the candidates of its applications, and resumes after a batch.
async fn batches_cover_the_pull_and_resume(vendor: VendorKind, keys: &[&str]) {
    use futures::StreamExt;
    // The sandbox lives as long as its binding.
    let (_sb, _http, spec, client) = tenant(vendor, keys, 260).await;
    let whole = client.pull(None, &spec.scope).await.expect("pull");
    let mut ids: Vec<String> = whole.applications.iter().map(|a| a.id.clone()).collect();
    ids.sort();

    let known = vendors::NothingKnown;
    let batches: Vec<_> = client
        .pull_batches(None, &spec.scope, None, &known)
        .collect()
        .await;
    assert!(
        batches.len() >= 2,
        "{vendor:?}: {} batch(es)",
        batches.len()
    );
    let mut seen = Vec::new();
    for b in &batches {
        let b = b.as_ref().expect("batch");
        assert!(
            b.applications.len() <= 2 * vendors::batches::BATCH,
            "{vendor:?}"
        );
        let cands: std::collections::HashSet<&str> =
            b.candidates.iter().map(|c| c.id.as_str()).collect();
        for a in &b.applications {
            assert!(
                cands.contains(a.candidate_id.as_str()),
                "{vendor:?}: {}",
                a.id
            );
        }
        seen.extend(b.applications.iter().map(|a| a.id.clone()));
    }
    seen.sort();
    assert_eq!(seen, ids, "{vendor:?}: the batches are not the pull");

    // Resumed after the first batch: exactly the rest.
    let first = batches[0].as_ref().expect("batch");
    let after = first.resume_after.clone().expect("a resume token");
    let rest: Vec<_> = client
        .pull_batches(None, &spec.scope, Some(after), &known)
        .collect()
        .await;
    let mut resumed: Vec<String> = first.applications.iter().map(|a| a.id.clone()).collect();
    for b in rest {
        resumed.extend(b.expect("batch").applications.into_iter().map(|a| a.id));
    }
    resumed.sort();
    assert_eq!(
        resumed, ids,
        "{vendor:?}: resuming lost or repeated records"
    );
}

#[tokio::test]
async fn greenhouse_pulls_in_batches() {
    batches_cover_the_pull_and_resume(VendorKind::Greenhouse, &["clientId", "clientSecret"]).await;
}

#[tokio::test]
async fn lever_pulls_in_batches() {
    batches_cover_the_pull_and_resume(VendorKind::Lever, &["apiKey"]).await;
}

#[tokio::test]
async fn workable_pulls_in_batches() {
    batches_cover_the_pull_and_resume(VendorKind::Workable, &["apiKey"]).await;
}
