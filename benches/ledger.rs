//! Ledger benchmark: prints figures, asserts nothing.
//!
//! For each backend (SQLite, the default, with `synchronous=FULL`; PostgreSQL,
//! a local server from Debian's packages with fsync on, as in production):
//!
//! 1. Decisions recorded per second the way the pipeline records them:
//!    transactions of `pipeline::DECISION_BATCH` decisions, then each
//!    decision's write marked written, in transactions of up to
//!    `pipeline::SETTLE_BATCH` (goal: at least 5,000/s on SQLite). Also the
//!    two phases alone, and marks one per transaction (what every write cost
//!    before outcomes were grouped).
//! 2. Bytes on disk per 100,000 decisions: the SQLite file with its WAL;
//!    PostgreSQL's `pg_total_relation_size` of the ledger's tables (indexes
//!    and TOAST included).
//! 3. Webhook deliveries: accepted (one transaction each, as the endpoint
//!    records one before its 202) and finished (one each, as the worker
//!    does), per second and the latency of an accept (p50, p99).
//!
//! Run: `cargo bench --bench ledger` (`BENCH_LEDGER_DECISIONS`, default
//! 100,000, 0 skips them; `BENCH_LEDGER_DELIVERIES`, default 2,000;
//! `BENCH_LEDGER_BACKENDS=sqlite,postgres`).

use std::time::{Duration, Instant};

use ats_operator::devdb::{DevPostgres, DevPostgresOptions};
use ats_operator::ledger::{
    Acceptance, Attempt, Decision, DecisionOutcome, DeliveryResult, Ledger, Settlement,
};
use ats_operator::model::{Band, ComponentScores, Score, VendorKind};
use ats_operator::sync::pipeline::{DECISION_BATCH, SETTLE_BATCH};
use ats_operator::webhooks::{Delivery, Event, EventKind};
use chrono::Utc;

const SYNC: &str = "tenant-bench/greenhouse-open-jobs";

/// A decision as the pipeline records one: the scorer's usual explanation
/// lengths, vendor-shaped ids, hex keys and fingerprints.
fn decision(i: usize) -> Decision {
    let hex = |n: usize, len: usize| format!("{:0len$x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    Decision {
        sync_key: SYNC.into(),
        tenant: "tenant-bench".into(),
        vendor: VendorKind::Greenhouse,
        application_id: format!("{}", 90_000_000 + i),
        candidate_id: format!("{}", 70_000_000 + i),
        job_id: format!("{}", 4_000_000 + i % 40),
        fingerprint: hex(i, 64),
        profile_generation: 3,
        score: Score {
            score: (i % 101) as u8,
            components: ComponentScores {
                skills: Some((i % 97) as u8),
                experience: Some((i % 89) as u8),
                title: Some(60),
                education: None,
                semantic: None,
            },
            strengths: vec![
                "Has all 6 required skills: User Research, Sketch, Prototyping, Figma, Usability Testing, Interaction Design".into(),
                "7 years of relevant experience (5 asked)".into(),
                "Current title matches: Senior Product Designer".into(),
            ],
            gaps: vec!["Missing nice-to-have skills: Roadmapping, Scrum".into()],
            band: Band::GoodFit,
            evidence: vec![],
            requirements_found: true,
            summary: String::new(),
            candidate_summary: String::new(),
            semantic_model: None,
        },
        write_key: hex(i, 20),
        outcome: DecisionOutcome::ToWrite,
        decided_at: Utc::now(),
        settings: "3f2a9c0d1e4b5a6f".into(),
    }
}

fn written(d: &Decision) -> Settlement {
    Settlement {
        application_id: d.application_id.clone(),
        write_key: d.write_key.clone(),
        result: Attempt::Written {
            mark: format!(
                "{}|{}|3f2a9c0d1e4b5a6f",
                d.score.score,
                d.score.band.as_str()
            ),
            adopted: false,
        },
    }
}

fn per_sec(n: usize, secs: f64) -> String {
    format!("{:>8.0}/s", n as f64 / secs.max(1e-9))
}

async fn bench(name: &str, ledger: &Ledger, n: usize) {
    let decisions: Vec<Decision> = (0..n).map(decision).collect();
    let settlements: Vec<Settlement> = decisions.iter().map(written).collect();

    let started = Instant::now();
    for chunk in decisions.chunks(DECISION_BATCH) {
        ledger.record_decisions(chunk).await.expect("record");
    }
    let record = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for chunk in settlements.chunks(SETTLE_BATCH) {
        ledger.settle(SYNC, chunk).await.expect("settle");
    }
    let settle = started.elapsed().as_secs_f64();
    let size = ledger.size_bytes().await.expect("size");

    // What marking cost when every write was its own transaction.
    let sample = n.min(1_000);
    let again: Vec<Decision> = (n..n + sample).map(decision).collect();
    for chunk in again.chunks(DECISION_BATCH) {
        ledger.record_decisions(chunk).await.expect("record");
    }
    let started = Instant::now();
    for d in &again {
        ledger
            .mark_written(SYNC, &d.application_id, &d.write_key, "m", false)
            .await
            .expect("mark");
    }
    let one_by_one = started.elapsed().as_secs_f64();

    println!("{name}:");
    println!(
        "  recorded and marked written: {} ({n} decisions in {:.2} s; transactions of {DECISION_BATCH}, then of {SETTLE_BATCH})",
        per_sec(n, record + settle),
        record + settle
    );
    println!("  recording alone:             {}", per_sec(n, record));
    println!("  marking alone:               {}", per_sec(n, settle));
    println!(
        "  marking one per transaction: {} ({sample} writes)",
        per_sec(sample, one_by_one)
    );
    println!(
        "  on disk: {:.1} MiB per 100,000 decisions ({} bytes per decision)",
        size as f64 * 100_000.0 / n as f64 / (1024.0 * 1024.0),
        size / n as u64
    );
}

/// A delivery as Greenhouse sends one for a stage change: an event id, a
/// body hash, one application, the vendor's time.
fn delivery(i: usize) -> Delivery {
    Delivery {
        id: format!(
            "{:032x}",
            (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        ),
        vendor: VendorKind::Greenhouse,
        body_sha256: format!("{:064x}", i),
        event: Event {
            name: "candidate_stage_change".into(),
            kind: EventKind::ApplicationChanged,
            // A few deliveries per application, as recruiters move people on.
            application_ids: vec![format!("{}", 90_000_000 + i / 3)],
            candidate_id: Some(format!("{}", 70_000_000 + i / 3)),
            occurred_at: Some(Utc::now()),
            outcome: None,
        },
        received_at: Utc::now(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

async fn bench_deliveries(name: &str, ledger: &Ledger, n: usize) {
    let syncs = vec![SYNC.to_string()];
    let deliveries: Vec<Delivery> = (0..n).map(delivery).collect();
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for d in &deliveries {
        let t = Instant::now();
        let a = ledger
            .accept_delivery(&syncs, d, u32::MAX)
            .await
            .expect("accept");
        latencies.push(t.elapsed());
        assert_eq!(a, Acceptance::New);
    }
    let accept = started.elapsed().as_secs_f64();
    latencies.sort();
    // The worker's loop: a page of pending deliveries, each finished.
    let started = Instant::now();
    let mut finished = 0;
    loop {
        let page = ledger.pending_deliveries(SYNC, 100).await.expect("pending");
        if page.is_empty() {
            break;
        }
        for p in &page {
            ledger
                .finish_delivery(SYNC, &p.delivery.id, Utc::now(), DeliveryResult::Processed)
                .await
                .expect("finish");
            finished += 1;
        }
    }
    let finish = started.elapsed().as_secs_f64();
    assert_eq!(finished, n);
    // Retries: each a duplicate.
    let sample = n.min(1_000);
    let started = Instant::now();
    for d in &deliveries[..sample] {
        ledger
            .accept_delivery(&syncs, d, u32::MAX)
            .await
            .expect("retry");
    }
    let retry = started.elapsed().as_secs_f64();

    println!("{name}, webhook deliveries:");
    println!(
        "  accepted and finished:       {} ({n} deliveries in {:.2} s; a transaction each)",
        per_sec(n, accept + finish),
        accept + finish
    );
    println!(
        "  accepting alone:             {} (p50 {:.2} ms, p99 {:.2} ms per accept)",
        per_sec(n, accept),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    println!(
        "  finishing alone:             {} (pages of 100 pending)",
        per_sec(n, finish)
    );
    println!(
        "  duplicates (retries):        {} ({sample})",
        per_sec(sample, retry)
    );
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("ledger: run with `cargo bench --bench ledger`");
        return;
    }
    let n: usize = std::env::var("BENCH_LEDGER_DECISIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let deliveries: usize = std::env::var("BENCH_LEDGER_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let backends =
        std::env::var("BENCH_LEDGER_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = Ledger::open(&dir.path().join("ledger.db")).expect("SQLite ledger");
        let name = "SQLite (WAL, synchronous=FULL)";
        if n > 0 {
            bench(name, &ledger, n).await;
        }
        if deliveries > 0 {
            bench_deliveries(name, &ledger, deliveries).await;
        }
    }
    if backends.contains("postgres") {
        let server = DevPostgres::start(DevPostgresOptions {
            durable: true,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
        let url = server.create_database("ledger_bench").expect("database");
        let ledger = Ledger::connect_postgres(&url)
            .await
            .expect("PostgreSQL ledger");
        let name = "PostgreSQL (local, fsync on)";
        if n > 0 {
            bench(name, &ledger, n).await;
        }
        if deliveries > 0 {
            bench_deliveries(name, &ledger, deliveries).await;
        }
    }
}
