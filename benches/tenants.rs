//! Many tenants syncing at once: the operator's memory and throughput. Prints
//! figures, asserts nothing.
//!
//! A loopback control plane (etcd + kube-apiserver, as the demo starts it), one
//! vendor sandbox process per tenant (each tenant is its own vendor account;
//! their memory is not the operator's), and ONE `ats-operator run` process
//! watching all namespaces. Each tenant gets a namespace with a labelled
//! Secret, an `AtsConnection`, a `ScoringProfile` and an `AtsSync` (schedule
//! 1h, so each syncs once; write-back on; every job status in scope). The
//! operator starts once all are in place, and its memory (`/proc/PID/status`
//! `VmRSS`, sampled every 50 ms, and `VmHWM` at the end) is followed until every
//! `AtsSync` has finished a sync (`Synced` True and `status.lastSync` set).
//!
//! Vendors (`BENCH_VENDORS`, default `greenhouse,workable`): tenants are
//! Greenhouse (write-back `both`: a note and a custom field), except one in ten
//! Workable (`both`: a comment and a custom attribute; one detail request per
//! candidate) and, when `lever` is listed, one in ten Lever (`note`). Sandbox
//! rate limits are off: the measure is memory, not the vendors' limits. Lever
//! is not in the default mix because its client paces itself at Lever's
//! documented 10 requests/s whatever the sandbox allows (55 s for 200
//! applications, so roughly 9 minutes for 2,000), and would set the wall time.
//!
//! Run: `cargo bench --bench tenants`. Environment:
//! - `BENCH_TENANTS` (50), `BENCH_TENANT_APPLICATIONS` (2000 per tenant),
//! - `BENCH_CONCURRENT_SYNCS` (10, the operator's default `--max-concurrent-syncs`),
//! - `BENCH_VENDORS` (`greenhouse,workable`; `greenhouse` alone, or add `lever`),
//! - `BENCH_DEADLINE_SECS` (3600): figures are printed, partial, at this deadline.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ats_operator::api::{AtsConnection, AtsSync, ScoringProfile, conditions};
use ats_operator::model::VendorKind;
use common::{Sandbox, json, proc_mib, sample_rss};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// The operator's flags besides `--max-concurrent-syncs` and `--ledger-path`.
/// (`--custom-endpoint-namespaces=`: connections in every namespace may name
/// the sandboxes' loopback URLs.)
const OPERATOR_FLAGS: &[&str] = &[
    "--allow-private-endpoints",
    "--custom-endpoint-namespaces=",
    "--leader-elect=false",
];

const SECRET: &str = "ats-credentials";
const SYNC: &str = "bench";
const FIELD_MANAGER: &str = "bench";

fn env_or(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The vendor of tenant `i` (of those `listed`), its Secret keys and its write-back.
fn vendor_of(i: usize, listed: &[String]) -> (VendorKind, &'static [&'static str], Value) {
    let has = |v: &str| listed.iter().any(|l| l == v);
    match i % 10 {
        4 if has("lever") => (
            VendorKind::Lever,
            &["clientId", "clientSecret", "refreshToken"],
            json!({"mode": "note"}),
        ),
        9 if has("workable") => (VendorKind::Workable, &["apiKey"], json!({"mode": "both"})),
        _ => (
            VendorKind::Greenhouse,
            &["clientId", "clientSecret"],
            json!({"mode": "both"}),
        ),
    }
}

struct Tenant {
    ns: String,
    vendor: VendorKind,
    sandbox: Sandbox,
    /// Applications in the sync's scope, as the sandbox lists them.
    in_scope: u64,
}

/// The tenant's namespace, Secret, connection, profile and sync.
async fn apply_tenant(
    client: &Client,
    ns: &str,
    vendor: VendorKind,
    keys: &[&str],
    write_back: Value,
    creds: &Value,
) {
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).expect("namespace"),
        )
        .await
        .expect("create namespace");
    let data: BTreeMap<&str, &Value> = keys.iter().map(|k| (*k, &creds["secret"][*k])).collect();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": SECRET, "namespace": ns, "labels": {"ats.dev/credentials": "true"}},
        "stringData": data,
    }))
    .expect("secret");
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .expect("create secret");
    let c = &creds["connection"];
    let conn: AtsConnection = serde_json::from_value(json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "AtsConnection",
        "metadata": {"name": "ats", "namespace": ns},
        "spec": {
            "vendor": vendor.as_str(),
            "baseUrl": c["baseUrl"],
            "tokenUrl": c["tokenUrl"],
            "subdomain": c["subdomain"],
            "auth": {"secretName": SECRET, "sub": c["sub"]},
        }
    }))
    .expect("connection");
    let (_, mut profile, _) =
        ats_operator::demo::example_resources("http://x", "http://x").expect("example profile");
    profile.metadata.namespace = Some(ns.to_string());
    profile.metadata.name = Some("profile".into());
    // Labels without a bias audit, as the figures were measured.
    profile.spec.labels = ats_operator::api::LabelPolicy::Always;
    let sync: AtsSync = serde_json::from_value(json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "AtsSync",
        "metadata": {"name": SYNC, "namespace": ns},
        "spec": {
            "connectionRef": {"name": "ats"},
            "scoringProfileRef": {"name": "profile"},
            "schedule": "1h",
            "scope": {"jobStatuses": ["open", "closed", "draft"]},
            "writeBack": write_back,
            "fullSyncInterval": "24h",
        },
    }))
    .expect("sync");
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    Api::<AtsConnection>::namespaced(client.clone(), ns)
        .patch("ats", &pp, &Patch::Apply(&conn))
        .await
        .expect("apply connection");
    Api::<ScoringProfile>::namespaced(client.clone(), ns)
        .patch(&profile.name_any(), &pp, &Patch::Apply(&profile))
        .await
        .expect("apply profile");
    Api::<AtsSync>::namespaced(client.clone(), ns)
        .patch(SYNC, &pp, &Patch::Apply(&sync))
        .await
        .expect("apply sync");
}

/// A sync counts as done once it finished one sync: `Synced` True and `lastSync` set.
fn finished(s: &AtsSync) -> bool {
    let Some(st) = &s.status else { return false };
    st.last_sync.is_some()
        && conditions::find(&st.conditions, conditions::SYNCED).is_some_and(|c| c.is_true())
}

/// Why a sync is not done, for the deadline's report.
fn state_of(s: &AtsSync) -> String {
    let st = s.status.clone().unwrap_or_default();
    st.conditions
        .iter()
        .map(|c| format!("{}={} {}: {}", c.type_, c.status, c.reason, c.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("tenants: run with `cargo bench --bench tenants`");
        return;
    }
    let tenants = env_or("BENCH_TENANTS", 50);
    let apps = env_or("BENCH_TENANT_APPLICATIONS", 2_000);
    let concurrent = env_or("BENCH_CONCURRENT_SYNCS", 10);
    let deadline = Duration::from_secs(env_or("BENCH_DEADLINE_SECS", 3_600) as u64);
    let vendors: Vec<String> = std::env::var("BENCH_VENDORS")
        .unwrap_or_else(|_| "greenhouse,workable".into())
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    let bench_started = Instant::now();

    let (cluster, client) = match common::control_plane().await {
        Ok(c) => c,
        Err(e) => {
            println!("tenants: skipped, no control plane ({e})");
            return;
        }
    };

    // The sandboxes, a few at a time (each generates its data at start).
    let t = Instant::now();
    let mut ts: Vec<Tenant> = Vec::with_capacity(tenants);
    for i in 0..tenants {
        let (vendor, keys, write_back) = vendor_of(i, &vendors);
        let sandbox =
            common::start_seeded_sandbox(vendor.as_str(), apps, "off", 42 + i as u64).await;
        let creds = json(&format!("{}/_sandbox/credentials", sandbox.base)).await;
        let listed = json(&format!("{}/_sandbox/applications", sandbox.base)).await;
        let in_scope = listed.as_array().map(Vec::len).unwrap_or(0) as u64;
        let ns = format!("tenant-{i:03}");
        apply_tenant(&client, &ns, vendor, keys, write_back, &creds).await;
        ts.push(Tenant {
            ns,
            vendor,
            sandbox,
            in_scope,
        });
    }
    let sandbox_rss: f64 = ts
        .iter()
        .filter_map(|t| proc_mib(t.sandbox.child.id(), "VmRSS"))
        .sum();
    let mut by_vendor: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &ts {
        *by_vendor.entry(t.vendor.as_str()).or_default() += 1;
    }
    println!(
        "tenants benchmark: {tenants} tenants x {apps} applications ({by_vendor:?}), one sandbox process each (RSS {sandbox_rss:.0} MiB together), rate limits off; set up in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // One operator, all namespaces.
    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("operator.log");
    let concurrent_arg = concurrent.to_string();
    let mut args: Vec<&str> = OPERATOR_FLAGS.to_vec();
    args.extend(["--max-concurrent-syncs", &concurrent_arg]);
    let started = Instant::now();
    let mut operator: Child = common::operator(&cluster, &dir.path().join("ledger.db"), &args)
        .stderr(File::create(&log_path).expect("operator log"))
        .spawn()
        .expect("operator");
    let pid = operator.id();
    let stop = Arc::new(AtomicBool::new(false));
    let peak_kib = Arc::new(AtomicU64::new(0));
    let sampler = sample_rss(
        pid,
        Duration::from_millis(50),
        stop.clone(),
        peak_kib.clone(),
    );

    let syncs: Api<AtsSync> = Api::all(client.clone());
    let mut done_at: BTreeMap<String, f64> = BTreeMap::new();
    let mut last: Vec<AtsSync> = Vec::new();
    let mut operator_exit = None;
    while done_at.len() < tenants && started.elapsed() < deadline {
        if let Ok(Some(status)) = operator.try_wait() {
            operator_exit = Some(status);
            break;
        }
        if let Ok(list) = syncs.list(&ListParams::default()).await {
            for s in &list.items {
                if finished(s) {
                    done_at
                        .entry(s.namespace().unwrap_or_default())
                        .or_insert_with(|| started.elapsed().as_secs_f64());
                }
            }
            last = list.items;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let rss_at_done = proc_mib(pid, "VmRSS").unwrap_or(f64::NAN);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_later = proc_mib(pid, "VmRSS").unwrap_or(f64::NAN);
    let hwm = proc_mib(pid, "VmHWM").unwrap_or(f64::NAN);
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let _ = operator.kill();
    let _ = operator.wait();

    // What the sandboxes received, and what the statuses say.
    let mut notes = 0u64;
    let mut expected_notes = 0u64;
    let mut requests = 0u64;
    for t in &ts {
        let stats = json(&format!("{}/_sandbox/stats", t.sandbox.base)).await;
        notes += stats["notes_created"].as_u64().unwrap_or(0);
        requests += common::api_requests(&stats);
        expected_notes += t.in_scope;
    }
    let (mut seen, mut scored, mut written, mut failed) = (0u64, 0u64, 0u64, 0u64);
    for s in &last {
        if let Some(c) = s.status.as_ref().and_then(|st| st.last_sync.as_ref()) {
            seen += c.applications_seen;
            scored += c.scored;
            written += c.written_back;
            failed += c.failed;
        }
    }
    let mut times: Vec<f64> = done_at.values().copied().collect();
    times.sort_by(f64::total_cmp);

    if let Some(status) = operator_exit {
        println!("the operator exited early ({status})");
    }
    if done_at.len() < tenants {
        println!(
            "NOT all synced within {} s: {} of {tenants}",
            deadline.as_secs(),
            done_at.len()
        );
        for s in last.iter().filter(|s| !finished(s)).take(5) {
            println!("  {}: {}", s.namespace().unwrap_or_default(), state_of(s));
        }
    }
    let total_apps = (tenants * apps) as f64;
    println!(
        "--max-concurrent-syncs {concurrent}: {} of {tenants} tenants synced, {apps} applications each",
        done_at.len()
    );
    println!(
        "  wall time until all synced: {wall:.1} s  ({:.0} applications/s overall; first sync done at {:.1} s, median {:.1} s)",
        total_apps / wall,
        percentile(&times, 0.0),
        percentile(&times, 0.5)
    );
    println!(
        "  operator memory: peak RSS {:.1} MiB (sampled {:.1} MiB), RSS when all synced {rss_at_done:.1} MiB, 5 s later {rss_later:.1} MiB",
        hwm,
        peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!(
        "  statuses: seen {seen}, scored {scored}, written back {written}, failed {failed}; {requests} vendor API requests"
    );
    println!(
        "  notes the sandboxes report: {notes} (expected {expected_notes} = applications in scope summed{})",
        if notes == expected_notes {
            ""
        } else {
            " -- MISMATCH"
        }
    );
    for (vendor, n) in &by_vendor {
        let mut t: Vec<f64> = ts
            .iter()
            .filter(|t| t.vendor.as_str() == *vendor)
            .filter_map(|t| done_at.get(&t.ns).copied())
            .collect();
        t.sort_by(f64::total_cmp);
        println!(
            "  {vendor}: {} of {n} synced, done at median {:.1} s, last {:.1} s",
            t.len(),
            percentile(&t, 0.5),
            percentile(&t, 1.0)
        );
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warnings = log.lines().filter(|l| l.contains(" WARN ")).count();
    let errors = log.lines().filter(|l| l.contains(" ERROR ")).count();
    println!("  operator log: {warnings} warnings, {errors} errors");
    for l in log.lines().filter(|l| l.contains(" ERROR ")).take(3) {
        println!("    {l}");
    }
    println!(
        "bench total {:.1} s (set-up included)",
        bench_started.elapsed().as_secs_f64()
    );
    drop(ts);
    drop(cluster);
}
