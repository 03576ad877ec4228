//! Sync benchmark: prints figures, asserts nothing.
//!
//! A Greenhouse sandbox with 10,000 applications runs as a separate process (so the
//! memory figure is the operator's own); the sync pipeline runs here, with the real
//! vendor client and a SQLite ledger.
//!
//! 1. Full sync, rate limit off, write-back on: throughput.
//! 2. The same sync again: nothing changed, nothing written.
//! 3. Full sync with Greenhouse's limit (50 requests / 30 s), write-back off:
//!    wall time over the rate-limit lower bound (goal: at most 1.1).
//!
//! 4. Lever (token bucket 10/s, bursts of 20) and Workable (10 per 10 s, or
//!    `BENCH_WORKABLE_LIMIT` such as `100/10`) full syncs, write-back off: wall
//!    time over each limit's lower bound. Sizes: `BENCH_LEVER_APPLICATIONS`,
//!    `BENCH_WORKABLE_APPLICATIONS` (default 2,000 each; 10,000 takes Lever about
//!    17 minutes and Workable, at its real limit, hours).
//!
//! 5. Greenhouse, first sync with write-back on (a note and a custom field per
//!    application, so writes dominate) under a limit scaled to run in minutes
//!    (`BENCH_WRITEBACK_LIMIT`, default `250/10`: Greenhouse v3 counts per 10 s; `BENCH_WRITEBACK_APPLICATIONS`,
//!    default 2,000): wall time over the rate-limit lower bound (goal: at most 1.1).
//! 6. Leader takeover: two `ats-operator run` processes on a loopback
//!    kube-apiserver; the leader is killed (SIGKILL); time until the standby
//!    holds the Lease (15 s Lease by default), over `BENCH_TAKEOVER_ROUNDS` rounds.
//!
//! Run: `cargo bench --bench sync_throughput` (env `BENCH_APPLICATIONS` to resize;
//! `BENCH_ONLY=writeback,takeover,throughput,vendors` runs only the named parts:
//! `throughput` is 1-3, `vendors` is 4).

mod common;
#[path = "../tests/support/lease.rs"]
mod lease;
#[path = "../tests/support/spec.rs"]
mod spec;

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use ats_operator::api::WriteBackMode;
use ats_operator::ledger::Ledger;
use ats_operator::model::{BlindCandidate, JobStatus, VendorKind};
use ats_operator::scoring;
use ats_operator::sync::SyncSpec;
use ats_operator::sync::pipeline;
use ats_operator::vendors::{self, ConnectionConfig};
use common::{Sandbox, api_requests, json, start_sandbox, start_vendor_sandbox};
use serde_json::Value;

/// The Greenhouse sandbox `sb` (with its `/_sandbox/credentials`), writing back as `mode`.
fn spec(sb: &Sandbox, creds: &Value, mode: WriteBackMode, name: &str) -> SyncSpec {
    let mut spec = bench_spec(spec::greenhouse(&sb.base, creds), name);
    spec.write_back.mode = mode;
    spec
}

/// A sync spec for any vendor, from the sandbox's `secret` and `connection`.
fn vendor_spec(vendor: VendorKind, creds: &Value, keys: &[&str], name: &str) -> SyncSpec {
    let mut spec = bench_spec(spec::described(vendor, creds, keys), name);
    spec.write_back.mode = WriteBackMode::None;
    spec
}

/// `bench/name` over jobs of every status.
fn bench_spec(connection: ConnectionConfig, name: &str) -> SyncSpec {
    let statuses = vec![JobStatus::Open, JobStatus::Closed, JobStatus::Draft];
    spec::sync(connection, ("bench", name), "bench", statuses)
}

/// `REQUESTS/SECONDS` as numbers.
fn parse_limit(arg: &str) -> (u64, u64) {
    arg.split_once('/')
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
        .expect("limit")
}

/// One timed sync of `spec` against the sandbox: seconds, the report, the
/// sandbox's stats and its API request count.
async fn timed_sync(
    ledger: &Ledger,
    sb: &Sandbox,
    spec: &SyncSpec,
) -> (f64, pipeline::RunReport, Value, u64) {
    let client = vendors::connect(&spec.connection, None).expect("client");
    let t = Instant::now();
    let r = pipeline::run_once(
        client.as_ref(),
        ledger,
        spec,
        chrono::Utc::now(),
        &pipeline::RunInput::default(),
    )
    .await
    .expect("sync");
    let secs = t.elapsed().as_secs_f64();
    let stats = json(&format!("{}/_sandbox/stats", sb.base)).await;
    let n = api_requests(&stats);
    (secs, r, stats, n)
}

/// Lower bound of `n` requests under a fixed window: the first window opens
/// with the first request, so the last of ceil(n / limit) windows starts after
/// all the others.
fn window_bound(n: u64, limit: u64, window: u64) -> f64 {
    (n.div_ceil(limit).saturating_sub(1) * window) as f64
}

/// Lever and Workable under their own limits: wall time over the lower bound.
async fn vendor_limited(ledger: &Ledger, vendor: VendorKind, apps: usize) {
    let (limit_arg, keys): (&str, &[&str]) = match vendor {
        // Lever: a token bucket, 10/s steady, bursts of 20.
        VendorKind::Lever => ("10/1", &["apiKey"]),
        // Workable: 10 per 10 s for account tokens; BENCH_WORKABLE_LIMIT scales it.
        _ => ("10/10", &["apiKey"]),
    };
    let limit_arg = match vendor {
        VendorKind::Workable => std::env::var("BENCH_WORKABLE_LIMIT").unwrap_or(limit_arg.into()),
        _ => limit_arg.to_string(),
    };
    let (n_lim, window) = parse_limit(&limit_arg);
    let sb = start_vendor_sandbox(vendor.as_str(), apps, &limit_arg).await;
    let creds = json(&format!("{}/_sandbox/credentials", sb.base)).await;
    let spec = vendor_spec(vendor, &creds, keys, &format!("{vendor}-limited"));
    let (secs, r, stats, n) = timed_sync(ledger, &sb, &spec).await;
    let bound = match vendor {
        // A bucket starts full (burst 2x the per-second rate), then refills.
        VendorKind::Lever => {
            let rate = n_lim as f64 / window as f64;
            (n as f64 - 2.0 * rate).max(0.0) / rate
        }
        _ => window_bound(n, n_lim, window),
    };
    let ratio = if bound > 0.0 { secs / bound } else { f64::NAN };
    println!(
        "{vendor} full sync ({apps} applications), limit {limit_arg}: {:>7.2} s  lower bound {:.0} s  ratio {:.3}  ({} API requests, {} rate-limited, scored {})",
        secs, bound, ratio, n, stats["rate_limited"], r.counts.scored
    );
}

/// 5: a first sync with write-back on, under a limit: the writes dominate.
async fn writeback_limited(ledger: &Ledger) {
    // Greenhouse v3 counts per 10 s window and reports its reset in whole seconds,
    // so the window stays 10 s and the count is scaled up.
    let limit_arg = std::env::var("BENCH_WRITEBACK_LIMIT").unwrap_or("250/10".into());
    let apps: usize = std::env::var("BENCH_WRITEBACK_APPLICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let (limit, window) = parse_limit(&limit_arg);
    let sb = start_sandbox(apps, &limit_arg).await;
    let creds = json(&format!("{}/_sandbox/credentials", sb.base)).await;
    let spec = spec(&sb, &creds, WriteBackMode::Both, "writeback-limited");
    let (secs, r, stats, n) = timed_sync(ledger, &sb, &spec).await;
    let bound = window_bound(n, limit, window);
    println!(
        "first sync with write-back, {limit_arg}: {:>7.2} s  lower bound {:.0} s  ratio {:.3}  ({} API requests, {} rate-limited, scored {}, written back {}, notes {})",
        secs,
        bound,
        secs / bound.max(1.0),
        n,
        stats["rate_limited"],
        r.counts.scored,
        r.counts.written_back,
        stats["notes_created"]
    );
}

/// 6: leader takeover after SIGKILL, on a loopback control plane.
async fn takeover() {
    let rounds: usize = std::env::var("BENCH_TAKEOVER_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let (cluster, client) = match common::control_plane().await {
        Ok(c) => c,
        Err(e) => {
            println!("leader takeover: skipped, no control plane ({e})");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |id: &str| {
        common::operator(
            &cluster,
            &dir.path().join(format!("{id}.db")),
            &["--namespace", "default", "--lease-namespace", "default"],
        )
        .env("POD_NAME", id)
        .spawn()
        .expect("operator")
    };
    let holder = || lease::lease_holder(&client, "default");
    let mut procs: HashMap<String, Child> = HashMap::new();
    let mut times = Vec::new();
    for round in 0..rounds {
        for id in [format!("a{round}"), format!("b{round}")] {
            if procs.len() < 2 && !procs.contains_key(&id) {
                procs.insert(id.clone(), start(&id));
            }
        }
        let leader = loop {
            if let Some(h) = holder().await.filter(|h| procs.contains_key(h)) {
                break h;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Let the standby settle into waiting.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut child = procs.remove(&leader).expect("leader process");
        let _ = child.kill();
        let _ = child.wait();
        let killed = Instant::now();
        loop {
            if holder()
                .await
                .is_some_and(|h| h != leader && procs.contains_key(&h))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        times.push(killed.elapsed().as_secs_f64());
    }
    for (_, mut c) in procs {
        let _ = c.kill();
        let _ = c.wait();
    }
    let max = times.iter().cloned().fold(0.0, f64::max);
    println!(
        "leader takeover after SIGKILL (15 s Lease, 10 s renew deadline): {} rounds, {:?} s, max {:.1} s",
        times.len(),
        times
            .iter()
            .map(|t| (t * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        max
    );
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("sync_throughput: run with `cargo bench --bench sync_throughput`");
        return;
    }
    let apps: usize = std::env::var("BENCH_APPLICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::open(&dir.path().join("ledger.db")).expect("ledger");
    let only = std::env::var("BENCH_ONLY").ok();
    let part = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|p| p == name))
    };
    if part("writeback") {
        writeback_limited(&ledger).await;
    }
    if part("takeover") {
        takeover().await;
    }
    if !part("throughput") && !part("vendors") {
        return;
    }
    println!("sync benchmark: {apps} applications, Greenhouse v3 sandbox");

    // 1 and 2: no rate limit, write-back on.
    if part("throughput") {
        let sb = start_sandbox(apps, "off").await;
        let creds = json(&format!("{}/_sandbox/credentials", sb.base)).await;
        let spec = spec(&sb, &creds, WriteBackMode::Both, "unlimited");
        let client = vendors::connect(&spec.connection, None).expect("client");

        // Stage figures: the pull alone, and scoring alone on what it returned.
        let t = Instant::now();
        let cs = client.pull(None, &spec.scope).await.expect("pull");
        let pull_secs = t.elapsed().as_secs_f64();
        let jobs: HashMap<_, _> = cs.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
        let cands: HashMap<_, _> = cs.candidates.iter().map(|c| (c.id.as_str(), c)).collect();
        let t = Instant::now();
        let mut n = 0u32;
        let mut asks = HashMap::new();
        for a in &cs.applications {
            if let (Some(j), Some(c)) = (
                jobs.get(a.job_id.as_str()),
                cands.get(a.candidate_id.as_str()),
            ) {
                let blind = BlindCandidate::from_candidate(c);
                let ask = asks
                    .entry(j.id.as_str())
                    .or_insert_with(|| scoring::job::analyze(j, &spec.profile));
                std::hint::black_box(scoring::score_with(ask, j, &blind, &spec.profile, 2026));
                n += 1;
            }
        }
        let score_secs = t.elapsed().as_secs_f64();
        println!(
            "stages: pull {:.2} s ({} applications, {} candidates with resumes), scoring {:.2} s ({:.0} µs per application)",
            pull_secs,
            cs.applications.len(),
            cs.candidates.len(),
            score_secs,
            score_secs * 1e6 / f64::from(n.max(1))
        );
        drop(cs);

        let (secs, r, _, requests) = timed_sync(&ledger, &sb, &spec).await;
        println!(
            "full sync, no rate limit:    {:>7.2} s  {:>8.0} applications/s  (seen {}, scored {}, written back {}, {} API requests)",
            secs,
            r.counts.applications_seen as f64 / secs,
            r.counts.applications_seen,
            r.counts.scored,
            r.counts.written_back,
            requests
        );
        let (secs2, r2, _, _) = timed_sync(&ledger, &sb, &spec).await;
        println!(
            "unchanged re-sync:           {:>7.2} s  (scored {}, written back {})",
            secs2, r2.counts.scored, r2.counts.written_back
        );
    }

    // 3: Greenhouse's limit, reads only (20,000 writes at 50 / 30 s would take hours).
    if part("throughput") {
        let (limit, window) = (50u64, 30u64);
        let sb = start_sandbox(apps, &format!("{limit}/{window}")).await;
        let creds = json(&format!("{}/_sandbox/credentials", sb.base)).await;
        let spec = spec(&sb, &creds, WriteBackMode::None, "limited");
        let (secs, r, stats, n) = timed_sync(&ledger, &sb, &spec).await;
        let bound = window_bound(n, limit, window);
        let ratio = if bound > 0.0 { secs / bound } else { f64::NAN };
        println!(
            "full sync, {limit} req / {window} s:   {:>7.2} s  lower bound {:.0} s  ratio {:.3}  ({} API requests, {} rate-limited, scored {})",
            secs, bound, ratio, n, stats["rate_limited"], r.counts.scored
        );
    }
    if !part("vendors") && only.is_some() {
        return;
    }
    // 4: Lever and Workable. Their limits make 10,000 applications take long
    // (Lever ~17 min, Workable ~3 h at 10/10 s), so sizes are separate.
    let size = |var: &str, default: usize| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    vendor_limited(
        &ledger,
        VendorKind::Lever,
        size("BENCH_LEVER_APPLICATIONS", 2_000),
    )
    .await;
    vendor_limited(
        &ledger,
        VendorKind::Workable,
        size("BENCH_WORKABLE_APPLICATIONS", 2_000),
    )
    .await;
    println!(
        "peak memory (VmHWM) of the operator side: {:.1} MiB",
        common::proc_mib(std::process::id(), "VmHWM").unwrap_or(0.0)
    );
}
