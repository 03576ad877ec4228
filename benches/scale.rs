//! 1,000 `AtsSync`s on one operator: the controller's cost, not the vendors'.
//! Prints figures, asserts nothing.
//!
//! A loopback control plane (etcd + kube-apiserver), a few Greenhouse sandbox
//! processes, and ONE `ats-operator run` process (release build, leader
//! election on, as a Deployment runs it) watching all namespaces. Tenants are
//! namespaces, each with a labelled Secret, an `AtsConnection` (to one of the
//! sandboxes, in turn), a `ScoringProfile` and several `AtsSync`s, each over
//! one job of the sandbox (a few applications each; write-back `note`), so
//! each application gets one note per tenant. Everything exists before the
//! operator starts.
//!
//! Printed: the operator's peak memory (`VmHWM`, and `VmRSS` sampled every
//! 100 ms), the time from its start until every `AtsSync` is `Ready`, and the
//! kube-apiserver's own count of requests (`apiserver_request_total` on its
//! `/metrics`, read with the admin token) by verb and resource over a steady
//! window after all are Ready, per sync and hour. The bench sends nothing to
//! the API server in that window; the control plane's own requests, counted
//! over a window of the same length before the operator starts, are
//! subtracted. Last, the operator gets SIGTERM and the time it takes to exit
//! is printed.
//!
//! Run: `cargo bench --bench scale`. Environment:
//! - `BENCH_SYNCS` (1000), `BENCH_SYNCS_PER_TENANT` (10),
//! - `BENCH_SANDBOXES` (4), `BENCH_SANDBOX_APPLICATIONS` (40 over 10 jobs),
//! - `BENCH_SCHEDULE` (`1h`: a tenth to a fifth of the syncs run again in the window),
//! - `BENCH_STEADY_SECS` (600: one period of the controller's own requeue),
//! - `BENCH_DEADLINE_SECS` (1800) for all to be Ready.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ats_operator::api::{AtsConnection, AtsSync, ScoringProfile, conditions};
use common::{Sandbox, json, proc_mib, sample_rss};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

const SECRET: &str = "ats-credentials";
const FIELD_MANAGER: &str = "bench";

fn env_or(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A sandbox, what it hands a tenant, and the ids of its open jobs.
struct Vendor {
    sandbox: Sandbox,
    creds: Value,
    jobs: Vec<String>,
}

async fn vendor(i: usize, apps: usize, jobs: usize) -> Vendor {
    let sandbox = common::start_sized_sandbox("greenhouse", apps, jobs, "off", 42 + i as u64).await;
    let creds = json(&format!("{}/_sandbox/credentials", sandbox.base)).await;
    let listed = json(&format!("{}/_sandbox/applications", sandbox.base)).await;
    let mut open: Vec<String> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["job_status"] == "open")
        .map(|a| match &a["job_id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    open.sort();
    open.dedup();
    Vendor {
        sandbox,
        creds,
        jobs: open,
    }
}

/// A tenant's namespace, Secret, connection and profile, and its `syncs`.
async fn apply_tenant(client: &Client, ns: &str, v: &Vendor, syncs: usize, schedule: &str) {
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).expect("namespace"),
        )
        .await
        .expect("create namespace");
    let data: BTreeMap<&str, &Value> = ["clientId", "clientSecret"]
        .iter()
        .map(|k| (*k, &v.creds["secret"][*k]))
        .collect();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": SECRET, "namespace": ns, "labels": {"ats.dev/credentials": "true"}},
        "stringData": data,
    }))
    .expect("secret");
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .expect("create secret");
    let c = &v.creds["connection"];
    let conn: AtsConnection = serde_json::from_value(json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "AtsConnection",
        "metadata": {"name": "ats", "namespace": ns},
        "spec": {
            "vendor": "greenhouse",
            "baseUrl": c["baseUrl"],
            "tokenUrl": c["tokenUrl"],
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
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    Api::<AtsConnection>::namespaced(client.clone(), ns)
        .patch("ats", &pp, &Patch::Apply(&conn))
        .await
        .expect("apply connection");
    Api::<ScoringProfile>::namespaced(client.clone(), ns)
        .patch(&profile.name_any(), &pp, &Patch::Apply(&profile))
        .await
        .expect("apply profile");
    let api = Api::<AtsSync>::namespaced(client.clone(), ns);
    for k in 0..syncs {
        let name = format!("sync-{k:02}");
        let job = &v.jobs[k % v.jobs.len()];
        let sync: AtsSync = serde_json::from_value(json!({
            "apiVersion": "ats.dev/v1alpha1", "kind": "AtsSync",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "connectionRef": {"name": "ats"},
                "scoringProfileRef": {"name": "profile"},
                "schedule": schedule,
                "scope": {"jobStatuses": ["open"], "jobIds": [job]},
                "writeBack": {"mode": "note"},
                "fullSyncInterval": "24h",
            },
        }))
        .expect("sync");
        api.patch(&name, &pp, &Patch::Apply(&sync))
            .await
            .expect("apply sync");
    }
}

fn ready(s: &AtsSync) -> bool {
    s.status
        .as_ref()
        .and_then(|st| conditions::find(&st.conditions, conditions::READY))
        .is_some_and(|c| c.is_true())
}

/// `apiserver_request_total` by (verb, resource[/subresource]), from the
/// kube-apiserver's `/metrics` (Prometheus text).
async fn requests(client: &Client) -> BTreeMap<(String, String), f64> {
    let req = http::Request::get("/metrics")
        .body(Vec::new())
        .expect("request");
    let text = client.request_text(req).await.expect("apiserver /metrics");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split("\",")
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap_or_default()
        };
        let mut resource = label("resource");
        let sub = label("subresource");
        if !sub.is_empty() {
            resource = format!("{resource}/{sub}");
        }
        let v: f64 = value.trim().parse().unwrap_or(0.0);
        *out.entry((label("verb"), resource)).or_default() += v;
    }
    out
}

fn diff(
    a: &BTreeMap<(String, String), f64>,
    b: &BTreeMap<(String, String), f64>,
) -> BTreeMap<(String, String), f64> {
    b.iter()
        .map(|(k, v)| (k.clone(), v - a.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: run with `cargo bench --bench scale`");
        return;
    }
    let n_syncs = env_or("BENCH_SYNCS", 1_000);
    let per_tenant = env_or("BENCH_SYNCS_PER_TENANT", 10).max(1);
    let n_sandboxes = env_or("BENCH_SANDBOXES", 4).max(1);
    let apps = env_or("BENCH_SANDBOX_APPLICATIONS", 40);
    let schedule = std::env::var("BENCH_SCHEDULE").unwrap_or_else(|_| "1h".into());
    let steady = Duration::from_secs(env_or("BENCH_STEADY_SECS", 600) as u64);
    let deadline = Duration::from_secs(env_or("BENCH_DEADLINE_SECS", 1_800) as u64);
    let tenants = n_syncs.div_ceil(per_tenant);
    let bench_started = Instant::now();

    let (cluster, client) = match common::control_plane().await {
        Ok(c) => c,
        Err(e) => panic!("scale: no control plane ({e}); scripts/setup.sh installs it"),
    };
    let mut vendors = Vec::new();
    for i in 0..n_sandboxes {
        vendors.push(vendor(i, apps, 10).await);
    }
    assert!(
        vendors.iter().all(|v| !v.jobs.is_empty()),
        "a sandbox without open jobs"
    );

    let t = Instant::now();
    let made = futures::stream::iter(0..tenants)
        .map(|i| {
            let (client, v, schedule) = (&client, &vendors[i % n_sandboxes], &schedule);
            let syncs = per_tenant.min(n_syncs - i * per_tenant);
            async move {
                apply_tenant(client, &format!("scale-{i:04}"), v, syncs, schedule).await;
                syncs
            }
        })
        .buffer_unordered(8)
        .fold(0usize, |a, n| async move { a + n })
        .await;
    println!(
        "scale benchmark: {made} AtsSyncs in {tenants} tenants ({per_tenant} each, one job of \
         {apps} applications over 10 jobs each, schedule {schedule}), {n_sandboxes} Greenhouse \
         sandboxes, rate limits off; created in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The control plane's own requests, for as long as the steady window.
    let idle0 = requests(&client).await;
    tokio::time::sleep(steady.min(Duration::from_secs(120))).await;
    let idle = diff(&idle0, &requests(&client).await);
    let idle_secs = steady.min(Duration::from_secs(120)).as_secs_f64();

    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("operator.log");
    let metrics_addr = format!("127.0.0.1:{}", common::free_port());
    let at_start = requests(&client).await;
    let started = Instant::now();
    let mut operator = common::operator(
        &cluster,
        &dir.path().join("ledger.db"),
        &[
            "--allow-private-endpoints",
            "--custom-endpoint-namespaces=",
            "--lease-namespace",
            "default",
            "--metrics-addr",
            &metrics_addr,
        ],
    )
    .env("RUST_LOG", "info,kube=warn,hyper=warn")
    .stderr(File::create(&log_path).expect("operator log"))
    .stdout(File::create(dir.path().join("operator.out")).expect("operator out"))
    .spawn()
    .expect("operator");
    let pid = operator.id();
    let stop = Arc::new(AtomicBool::new(false));
    let peak_kib = Arc::new(AtomicU64::new(0));
    let sampler = sample_rss(
        pid,
        Duration::from_millis(100),
        stop.clone(),
        peak_kib.clone(),
    );

    let syncs: Api<AtsSync> = Api::all(client.clone());
    let mut all_ready = None;
    let mut last_count = 0;
    let mut half = None;
    while started.elapsed() < deadline {
        if let Ok(Some(status)) = operator.try_wait() {
            panic!("the operator exited ({status}); see {}", log_path.display());
        }
        if let Ok(list) = syncs.list(&ListParams::default()).await {
            last_count = list.items.iter().filter(|s| ready(s)).count();
            if half.is_none() && last_count * 2 >= made {
                half = Some(started.elapsed());
            }
            if last_count == made {
                all_ready = Some(started.elapsed());
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let rss_ready = proc_mib(pid, "VmRSS").unwrap_or(f64::NAN);
    let to_ready = diff(&at_start, &requests(&client).await);
    match all_ready {
        Some(t) => println!(
            "  all {made} Ready {:.1} s after the operator started (half at {:.1} s)",
            t.as_secs_f64(),
            half.unwrap_or_default().as_secs_f64()
        ),
        None => println!(
            "  NOT all Ready within {} s: {last_count} of {made}",
            deadline.as_secs()
        ),
    }

    // The bench's own polling (LIST atssyncs) aside.
    let first: Vec<String> = to_ready
        .iter()
        .filter(|((verb, resource), _)| !(verb == "LIST" && resource == "atssyncs"))
        .filter(|(_, n)| **n >= 1.0)
        .map(|((verb, resource), n)| format!("{verb} {resource} {:.2}", n / made as f64))
        .collect();
    println!(
        "  API-server requests per sync from the operator's start until all Ready (the \
         bench's LIST atssyncs aside): {}",
        first.join(", ")
    );

    // Steady state: nothing changes; the bench asks the API server nothing.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let m0 = requests(&client).await;
    tokio::time::sleep(steady).await;
    let m1 = requests(&client).await;
    let window = diff(&m0, &m1);
    let hours = steady.as_secs_f64() / 3600.0;
    println!(
        "  API-server requests in a steady window of {} s (the control plane's own \
         subtracted), per sync and hour:",
        steady.as_secs()
    );
    let mut total = 0.0;
    // A few watches re-established (the operator's, and the control plane's
    // own at random times) are summed into one line.
    let mut few = 0.0;
    for ((verb, resource), n) in &window {
        let own = idle
            .get(&(verb.clone(), resource.clone()))
            .copied()
            .unwrap_or(0.0)
            * steady.as_secs_f64()
            / idle_secs;
        let n = (n - own).max(0.0);
        if n < 0.5 {
            continue;
        }
        total += n;
        if n < 10.0 {
            few += n;
            continue;
        }
        println!(
            "    {verb:<7} {resource:<28} {n:>7.0} in the window  {:>8.3} per sync per hour",
            n / made as f64 / hours
        );
    }
    println!(
        "    other   {:<28} {few:>7.0} in the window  {:>8.3} per sync per hour",
        "(fewer than 10 each)",
        few / made as f64 / hours
    );
    println!(
        "    all     {:<28} {total:>7.0} in the window  {:>8.3} per sync per hour ({:.2} per second)",
        "",
        total / made as f64 / hours,
        total / steady.as_secs_f64()
    );

    let hwm = proc_mib(pid, "VmHWM").unwrap_or(f64::NAN);
    // SIGTERM: how long the operator takes to stop with every worker running.
    let term = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exit = loop {
        if let Ok(Some(s)) = operator.try_wait() {
            break Some(s);
        }
        if term.elapsed() > Duration::from_secs(60) {
            let _ = operator.kill();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    println!(
        "  operator memory: peak RSS {hwm:.1} MiB (VmHWM; sampled VmRSS peak {:.1} MiB), \
         {rss_ready:.1} MiB when all were Ready (goal: under 256 MiB)",
        peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!(
        "  SIGTERM to exit: {:.1} s ({})",
        term.elapsed().as_secs_f64(),
        exit.map(|s| s.to_string())
            .unwrap_or_else(|| "did not exit in 60 s; killed".into())
    );
    let mut notes = 0;
    for v in &vendors {
        let stats = json(&format!("{}/_sandbox/stats", v.sandbox.base)).await;
        notes += stats["notes_created"].as_u64().unwrap_or(0);
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let count = |level: &str| log.lines().filter(|l| l.contains(level)).count();
    println!(
        "  notes written: {notes}; operator log: {} warnings, {} errors",
        count(" WARN "),
        count(" ERROR ")
    );
    for l in log.lines().filter(|l| l.contains(" ERROR ")).take(3) {
        println!("    {l}");
    }
    println!(
        "bench total {:.1} s (set-up included)",
        bench_started.elapsed().as_secs_f64()
    );
    drop(vendors);
    drop(cluster);
}
