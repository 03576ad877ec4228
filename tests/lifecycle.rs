//! The operator's life on a real cluster, against the real kube-apiserver and
//! the vendor sandboxes: shards that split tenants (and the default shard that
//! owns the unlabelled ones), a SIGTERM in the middle
//! of a sync, and uninstalling (no finalizer keeps an object behind).

mod support;

use std::time::{Duration, Instant};

use ats_operator::api::{AtsConnection, AtsSync, FINALIZER, ScoringProfile};
use ats_operator::sandbox::SandboxOptions;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use support::OperatorProcess;
use support::lease::{lease_holder, lease_holder_named};
use support::tenant::*;

async fn wait_for(what: &str, mut pred: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !pred().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The operator's log, without its colours.
fn log_of(op: &OperatorProcess) -> String {
    let raw = std::fs::read_to_string(&op.log).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence ends with a letter (`\x1b[2m`).
            for e in chars.by_ref() {
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the operator's log shows a worker of the tenant in `ns`.
fn ran(log: &str, ns: &str) -> bool {
    log.lines()
        .any(|l| l.contains(&format!("tenant={ns}")) && l.contains("worker started"))
}

/// Labels a tenant's sync, then its connection and profile.
async fn label(t: &Tenant, shard: Option<&str>) {
    let patch = json!({"metadata": {"labels": {"ats.dev/shard": shard}}});
    let pp = PatchParams::default();
    t.syncs()
        .patch(SYNC, &pp, &Patch::Merge(&patch))
        .await
        .unwrap();
    Api::<AtsConnection>::namespaced(t.client.clone(), &t.ns)
        .patch("ats", &pp, &Patch::Merge(&patch))
        .await
        .unwrap();
    Api::<ScoringProfile>::namespaced(t.client.clone(), &t.ns)
        .patch("profile", &pp, &Patch::Merge(&patch))
        .await
        .unwrap();
}

/// `--shard default` owns the unlabelled tenants and never a labelled one;
/// the labelled one belongs to its own shard. Both operators watch every
/// namespace, narrowed to this test's tenants by a run label ANDed with the
/// shard's selector (other tests' unlabelled tenants share the API server).
#[tokio::test]
async fn the_default_shard_owns_the_unlabelled_tenants() {
    let run = format!("{:08x}", rand::random::<u32>());
    let named = format!("n-{run}");
    let mut unlabelled = Tenant::new(Setup::greenhouse(), small()).await;
    unlabelled.labels = json!({"ats.dev/test-run": run});
    unlabelled.apply("24h").await;
    let mut labelled = Tenant::new(Setup::workable(), small()).await;
    labelled.labels = json!({"ats.dev/test-run": run, "ats.dev/shard": named});
    labelled.apply("24h").await;
    let lease_ns = unlabelled.ns.clone();
    let dir = tempfile::tempdir().unwrap();
    let selector = format!("ats.dev/test-run={run}");
    let start = |shard: &str| {
        OperatorProcess::start_all(
            &lease_ns,
            &dir.path().join(format!("ledger-{shard}.db")),
            shard,
            &[
                "--allow-private-endpoints",
                "--custom-endpoint-namespaces=",
                "--watch-label-selector",
                &selector,
                "--shard",
                shard,
            ],
        )
    };
    let (op_default, op_named) = (start("default"), start(&named));
    for t in [&unlabelled, &labelled] {
        t.synced().await;
        t.assert_written(|_| 1).await;
    }
    let (log_d, log_n) = (log_of(&op_default), log_of(&op_named));
    assert!(
        ran(&log_d, &unlabelled.ns),
        "the default shard never ran it"
    );
    assert!(
        !ran(&log_n, &unlabelled.ns),
        "a named shard ran an unlabelled tenant"
    );
    assert!(
        ran(&log_n, &labelled.ns),
        "shard {named} never ran its tenant"
    );
    assert!(
        !ran(&log_d, &labelled.ns),
        "the default shard ran a labelled tenant"
    );
    for (shard, holder) in [("default", "default"), (named.as_str(), named.as_str())] {
        let lease = format!("ats-operator-leader-{shard}");
        wait_for("each shard to hold its own Lease", async || {
            lease_holder_named(&unlabelled.client, &lease_ns, &lease)
                .await
                .as_deref()
                == Some(holder)
        })
        .await;
    }
    drop((op_default, op_named));
}

/// Two shards (two operator processes watching every namespace, `--shard`)
/// split four labelled tenants: each tenant is synced by its shard alone,
/// each shard leads on its own Lease. A connection moved to the other shard
/// stops its sync with `ShardMismatch`; the whole tenant moved, the other
/// shard takes it over and writes nothing twice.
#[tokio::test]
async fn two_shards_split_labelled_tenants() {
    let suffix = format!("{:08x}", rand::random::<u32>());
    let (a, b) = (format!("a-{suffix}"), format!("b-{suffix}"));
    let mut tenants = Vec::new();
    for (i, setup) in [
        Setup::greenhouse(),
        Setup::workable(),
        Setup::greenhouse(),
        Setup::workable(),
    ]
    .into_iter()
    .enumerate()
    {
        let mut t = Tenant::new(setup, small()).await;
        let shard = if i < 2 { &a } else { &b };
        t.labels = json!({"ats.dev/shard": shard});
        t.apply("24h").await;
        tenants.push((shard.clone(), t));
    }
    let lease_ns = tenants[0].1.ns.clone();
    let dir = tempfile::tempdir().unwrap();
    let start = |shard: &str| {
        OperatorProcess::start_all(
            &lease_ns,
            &dir.path().join(format!("ledger-{shard}.db")),
            shard,
            &[
                "--allow-private-endpoints",
                "--custom-endpoint-namespaces=",
                "--shard",
                shard,
            ],
        )
    };
    let (op_a, op_b) = (start(&a), start(&b));

    for (_, t) in &tenants {
        t.synced().await;
        t.assert_written(|_| 1).await;
    }
    for shard in [&a, &b] {
        let lease = format!("ats-operator-leader-{shard}");
        wait_for("each shard to hold its own Lease", async || {
            lease_holder_named(&tenants[0].1.client, &lease_ns, &lease)
                .await
                .as_deref()
                == Some(shard.as_str())
        })
        .await;
    }
    assert_eq!(
        lease_holder(&tenants[0].1.client, &lease_ns).await,
        None,
        "a shard used the unsharded Lease"
    );
    let (log_a, log_b) = (log_of(&op_a), log_of(&op_b));
    for (shard, t) in &tenants {
        let (mine, other) = if shard == &a {
            (&log_a, &log_b)
        } else {
            (&log_b, &log_a)
        };
        assert!(ran(mine, &t.ns), "{} not synced by shard {shard}", t.ns);
        assert!(!ran(other, &t.ns), "{} synced by the other shard", t.ns);
    }

    // A whole tenant moves to shard b: shard a stops its worker, shard b
    // takes over (its own ledger: it adopts the notes already in the ATS).
    let (_, moved) = &tenants[0];
    label(moved, Some(&b)).await;
    wait_for("shard a to stop the moved tenant's worker", async || {
        log_of(&op_a).lines().any(|l| {
            l.contains(&format!("tenant={}", moved.ns)) && l.contains("sync gone; worker stopped")
        })
    })
    .await;
    moved.sync_now("moved-to-b").await;
    assert!(ran(&log_of(&op_b), &moved.ns), "shard b never ran it");
    moved.assert_written(|_| 1).await;

    // A connection alone moves to shard b: shard a does not run its sync.
    let (_, split) = &tenants[1];
    Api::<AtsConnection>::namespaced(split.client.clone(), &split.ns)
        .patch(
            "ats",
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"labels": {"ats.dev/shard": b}}})),
        )
        .await
        .unwrap();
    let s = split
        .wait("ShardMismatch", not_ready("ShardMismatch"))
        .await;
    let msg = message(&s, "Ready");
    assert!(
        msg.contains(&b) && msg.contains(&a),
        "the message names both shards: {msg}"
    );
    drop((op_a, op_b));
}

/// SIGTERM to the leader in the middle of a rate-limited write-back of 120
/// applications: it exits within the termination grace period and releases
/// its Lease on the way out, so the standby takes over at once, not after
/// the Lease expires; the standby finishes, and every application carries
/// exactly one note.
#[tokio::test]
async fn sigterm_mid_sync_releases_the_lease_and_loses_or_repeats_no_write() {
    let t = Tenant::new(
        Setup::greenhouse(),
        SandboxOptions {
            applications: 120,
            ..small()
        },
    )
    .await;
    t.rate_limit(json!({"requests": 10, "window_seconds": 1}))
        .await;
    t.apply("24h").await;
    let dir = t.ledger.parent().unwrap().to_path_buf();
    let ledger = |id: &str| dir.join(format!("ledger-{id}.db"));
    let mut a = Some(OperatorProcess::start(&t.ns, &ledger("a"), "a"));
    let mut b = Some(OperatorProcess::start(&t.ns, &ledger("b"), "b"));
    t.first_writes(10, Duration::from_millis(100)).await;
    let leader = lease_holder(&t.client, &t.ns).await.expect("a leader");
    let standby = if leader == "a" { "b" } else { "a" };
    let op = if leader == "a" { a.take() } else { b.take() }.unwrap();
    let log = op.log.clone();
    let notes_at_term = t.notes_created().await;
    let term = Instant::now();
    // Waited for off the runtime: the sandbox on it must go on answering
    // the writes in flight.
    let status = tokio::task::spawn_blocking(move || op.terminate())
        .await
        .unwrap();
    let exited = term.elapsed();
    eprintln!("SIGTERM to exit: {exited:?} ({status}); {notes_at_term} notes written by then");
    assert!(status.success(), "{status}");
    assert!(
        exited < Duration::from_secs(30),
        "not within the grace period: {exited:?}"
    );
    let stopping = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        stopping.contains("leader Lease released"),
        "no release in the log"
    );
    assert!(
        !stopping.contains("writes still in flight"),
        "the writes in flight were cut off"
    );
    // Released, not left to expire: the old leader no longer holds it.
    assert_ne!(
        lease_holder(&t.client, &t.ns).await.as_deref(),
        Some(leader.as_str()),
        "the Lease still names the stopped leader"
    );
    wait_for("the standby to take over", async || {
        lease_holder(&t.client, &t.ns).await.as_deref() == Some(standby)
    })
    .await;
    let took = term.elapsed();
    eprintln!("takeover after SIGTERM: {took:?}");
    // The Lease (6 s) did not have to expire: it was released.
    assert!(
        took < exited + Duration::from_secs(support::TEST_LEASE_SECONDS),
        "takeover took {took:?}"
    );
    t.synced().await;
    assert!(
        t.notes_created().await > notes_at_term,
        "the standby wrote nothing: a weak test"
    );
    t.assert_written(|_| 1).await;
    drop((a, b));
}

/// The finalizer of earlier versions is removed from existing syncs; a sync
/// deleted while the operator runs stops its worker, and one deleted while
/// no operator runs (uninstalled) goes at once.
#[tokio::test]
async fn syncs_delete_with_or_without_the_operator() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    t.apply_spec(json!({"schedule": "5s"})).await;
    // As an earlier version left it.
    t.syncs()
        .patch(
            SYNC,
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"finalizers": [FINALIZER]}})),
        )
        .await
        .unwrap();
    let op = t.start_operator();
    t.synced().await;
    let finalizers = |s: &AtsSync| s.metadata.finalizers.clone().unwrap_or_default();
    t.wait("the old finalizer removed", |s| finalizers(s).is_empty())
        .await;

    // Deleted while the operator runs: gone, and its worker (every 5 s) stops.
    t.syncs()
        .delete(SYNC, &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the sync gone", async || {
        t.syncs().get_opt(SYNC).await.unwrap().is_none()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = t.api_requests().await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        t.api_requests().await,
        before,
        "the deleted sync's worker still syncs"
    );

    // Deleted and created again at once (the same spec): the new object is
    // synced, not left to the old one's worker and status.
    t.apply("24h").await;
    let old = t.synced().await;
    t.syncs()
        .delete(SYNC, &DeleteParams::default())
        .await
        .unwrap();
    t.apply("24h").await;
    let new = t.synced().await;
    assert_ne!(new.metadata.uid, old.metadata.uid);

    // Uninstalled: the operator is gone, the sync is deleted all the same.
    op.stop().await;
    let s = t.syncs().get(SYNC).await.unwrap();
    assert!(finalizers(&s).is_empty(), "{:?}", finalizers(&s));
    t.syncs()
        .delete(SYNC, &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the sync gone without an operator", async || {
        t.syncs().get_opt(SYNC).await.unwrap().is_none()
    })
    .await;
}
