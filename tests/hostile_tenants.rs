//! One operator process, many tenants on the real kube-apiserver: six tenants
//! point at a hostile vendor (one misbehaviour each) beside two healthy ones.
//! The operator never exits, its memory stays bounded, the healthy tenants keep
//! syncing on schedule, and each hostile tenant's status says what is wrong in
//! words a user can act on, without quoting what the endpoint sent.
//!
//! Its own test binary: the operator watches every namespace, narrowed to this
//! test's resources by `--watch-label-selector`.

mod support;

use std::sync::atomic::Ordering;

use ats_operator::api::AtsSync;
use serde_json::json;
use support::OperatorProcess;
use support::hostile::{self, Mode};
use support::tenant::*;

/// A status message that names the problem, checked per mode.
fn names_the_problem(mode: Mode, reason: &str, msg: &str) -> bool {
    match mode {
        Mode::EndlessBody => msg.contains("larger than"),
        Mode::TokenRedirect => msg.contains("redirect"),
        Mode::AbsurdTimes => reason == "RateLimited" && msg.contains("wait 3600s"),
        Mode::NotJson => msg.contains("not JSON"),
        Mode::SelfLink => msg.contains("pages") || msg.contains("loop"),
        Mode::HugeHeaders => msg.contains("header"),
    }
}

fn problem(s: &AtsSync) -> Option<(String, String)> {
    ["Synced", "Ready"].iter().find_map(|t| {
        cond(s, t)
            .filter(|c| c.status == "False")
            .map(|c| (c.reason, c.message))
    })
}

fn runs(s: &AtsSync) -> Option<String> {
    s.status.as_ref().and_then(|st| st.last_sync_time.clone())
}

#[tokio::test]
async fn a_hostile_vendor_beside_healthy_tenants() {
    let shard = format!("hostile-{:08x}", rand::random::<u32>());
    let labels = json!({"ats.dev/shard": shard});

    let mut healthy = Vec::new();
    for setup in [Setup::greenhouse(), Setup::workable()] {
        let mut t = Tenant::new(setup, small()).await;
        t.labels = labels.clone();
        t.apply_spec(json!({"schedule": "15s"})).await;
        healthy.push(t);
    }
    let modes = [
        Mode::EndlessBody,
        Mode::TokenRedirect,
        Mode::AbsurdTimes,
        Mode::NotJson,
        Mode::SelfLink,
        Mode::HugeHeaders,
    ];
    let mut hostile = Vec::new();
    for mode in modes {
        let vendor = hostile::start(mode).await;
        let mut t = Tenant::new(Setup::greenhouse(), small()).await;
        t.labels = labels.clone();
        t.creds["connection"]["baseUrl"] = json!(vendor.base_url);
        t.creds["connection"]["tokenUrl"] = json!(format!("{}/token", vendor.base_url));
        t.apply_spec(json!({"schedule": "15s"})).await;
        hostile.push((mode, vendor, t));
    }

    let lease_ns = healthy[0].ns.clone();
    let selector = format!("--watch-label-selector=ats.dev/shard={shard}");
    let mut op = OperatorProcess::start_all(
        &lease_ns,
        &healthy[0].ledger,
        "shared",
        &[
            "--allow-private-endpoints",
            "--custom-endpoint-namespaces=",
            &selector,
        ],
    );

    // Each hostile tenant's status names its problem.
    for (mode, vendor, t) in &hostile {
        let s = t
            .wait(&format!("{mode:?} named in status"), |s| {
                problem(s).is_some_and(|(r, m)| names_the_problem(*mode, &r, &m))
            })
            .await;
        let (reason, msg) = problem(&s).unwrap_or_default();
        eprintln!("{mode:?}: {reason}: {msg}");
        assert!(
            !msg.contains("captive portal"),
            "endpoint text quoted: {msg}"
        );
        let secret = t.creds["secret"]["clientSecret"].as_str().unwrap_or("?");
        assert!(!msg.contains(secret), "a secret in status: {msg}");
        assert!(
            vendor.requests.load(Ordering::SeqCst) > 0,
            "{mode:?} never asked"
        );
        assert_eq!(
            vendor.stolen.load(Ordering::SeqCst),
            0,
            "{mode:?}: a redirect was followed"
        );
    }

    // The healthy tenants sync, and sync again on schedule, all the while.
    for t in &healthy {
        let first = t.synced().await;
        let first_run = runs(&first);
        t.wait("a second scheduled sync", |s| {
            synced_true(s) && runs(s).is_some() && runs(s) != first_run
        })
        .await;
        t.assert_written(|_| 1).await;
    }
    assert!(
        op.running(),
        "the operator exited; see {}",
        op.log.display()
    );
    let peak = op.peak_rss_kib().unwrap_or(0);
    eprintln!("operator peak memory: {} MiB", peak / 1024);
    // Six hostile tenants, among them endless bodies cut at 32 MiB: bounded,
    // where reading them unbounded took 800 MB. The bound includes the skills
    // taxonomy (a 16 MiB automaton, about 50 MiB more while it is built once).
    assert!(peak > 0 && peak < 384 * 1024, "peak RSS {peak} KiB");
    let log = std::fs::read_to_string(&op.log).unwrap_or_default();
    assert!(!log.contains("panicked"), "a panic in the log");
    for (_, _, t) in &hostile {
        let secret = t.creds["secret"]["clientSecret"].as_str().unwrap_or("?");
        assert!(!log.contains(secret), "a secret in the log");
    }
}
