//! Exactly once under real operations, against the real kube-apiserver and the
//! vendor sandboxes, asserting per application what the sandbox received:
//! two replicas and a killed leader (every vendor), a lost ledger, a job closed
//! and reopened, a suspicious full sync, a write the vendor keeps rejecting,
//! `dryRun` as an emergency stop, and a profile edit.

mod support;

use std::time::Duration;

use ats_operator::api::{
    AtsSync, CONFIRM_DELETIONS_ANNOTATION, ScoringProfile, SyncCounts, conditions,
};
use k8s_openapi::api::events::v1::Event as KubeEvent;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use support::tenant::*;
use support::{OperatorProcess, TEST_LEASE_SECONDS};

async fn wait_for(what: &str, mut pred: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    while !pred().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A Greenhouse tenant of forty whose vendor allows `per_second` requests, so
/// that writes land slowly enough to act while they do.
async fn paced_tenant(per_second: u64) -> Tenant {
    let t = Tenant::new(Setup::greenhouse(), forty()).await;
    t.rate_limit(json!({"requests": per_second, "window_seconds": 1}))
        .await;
    t
}

/// Every application in scope carries exactly the notes its ledger implies: one
/// per change of score or band, none twice.
async fn assert_notes_match_ledger(t: &Tenant, ledger: &std::path::Path) -> usize {
    let l = ats_operator::ledger::Ledger::open(ledger).expect("ledger");
    assert_notes_match(t, &l).await
}

async fn assert_notes_match(t: &Tenant, ledger: &ats_operator::ledger::Ledger) -> usize {
    let key = format!("{}/{SYNC}", t.ns);
    let ids = t.in_scope().await;
    for id in &ids {
        let w = t.writes(id).await;
        let expected = support::expected_notes_in(ledger, &key, id).await;
        assert!(expected >= 1, "application {id} was never decided");
        assert_eq!(w.notes, expected, "application {id}: {w:?}");
    }
    ids.len()
}

fn last(s: &AtsSync) -> SyncCounts {
    s.status
        .clone()
        .unwrap_or_default()
        .last_sync
        .unwrap_or_default()
}

/// Where the two replicas keep their ledgers.
#[derive(Clone)]
enum Ledgers {
    /// A SQLite file each (the default backend).
    OwnFiles,
    /// One PostgreSQL database both use: the standby takes over the record.
    SharedPostgres(String),
}

impl Ledgers {
    fn start(&self, t: &Tenant, id: &str) -> OperatorProcess {
        let file = t.ledger.with_file_name(format!("ledger-{id}.db"));
        match self {
            Ledgers::OwnFiles => OperatorProcess::start(&t.ns, &file, id),
            Ledgers::SharedPostgres(url) => OperatorProcess::start_with(
                &t.ns,
                &file,
                id,
                &[
                    "--allow-private-endpoints",
                    "--custom-endpoint-namespaces=",
                    "--ledger-backend",
                    "postgres",
                    "--ledger-database-url",
                    url,
                ],
            ),
        }
    }

    /// The ledger that decided what the survivor `id` wrote.
    async fn open(&self, t: &Tenant, id: &str) -> ats_operator::ledger::Ledger {
        match self {
            Ledgers::OwnFiles => ats_operator::ledger::Ledger::open(
                &t.ledger.with_file_name(format!("ledger-{id}.db")),
            )
            .expect("ledger"),
            Ledgers::SharedPostgres(url) => ats_operator::ledger::Ledger::connect_postgres(url)
                .await
                .expect("the shared ledger"),
        }
    }
}

/// Two `ats-operator run` processes (a Deployment with two replicas, or a
/// rolling update's overlap), with their own ledgers or one shared PostgreSQL
/// ledger: one leads, the other stands by. The leader is killed mid write-back;
/// the standby takes over within the Lease duration, adopts what already
/// landed and finishes. Then applications change over several sync periods,
/// with the killed replica back as standby: every change is written once,
/// nothing twice, and only by the leader.
async fn two_replicas_and_a_killed_leader(setup: Setup) {
    two_replicas_with(setup, Ledgers::OwnFiles).await
}

async fn two_replicas_with(setup: Setup, ledgers: Ledgers) {
    let t = Tenant::new(setup, forty()).await;
    t.rate_limit(t.setup.tight_limit.clone()).await;
    t.apply_spec(json!({"schedule": "5s"})).await;
    let mut a = Some(ledgers.start(&t, "a"));
    let mut b = Some(ledgers.start(&t, "b"));

    t.first_writes(3, Duration::from_millis(100)).await;
    let leader = support::lease::lease_holder(&t.client, &t.ns)
        .await
        .expect("a leader");
    let killed = std::time::Instant::now();
    match leader.as_str() {
        "a" => a.take().unwrap().kill(),
        _ => b.take().unwrap().kill(),
    }
    let standby = if leader == "a" { "b" } else { "a" };
    wait_for("the standby to take over", async || {
        support::lease::lease_holder(&t.client, &t.ns)
            .await
            .as_deref()
            == Some(standby)
    })
    .await;
    let took = killed.elapsed();
    assert!(
        took <= Duration::from_secs(TEST_LEASE_SECONDS + 2),
        "takeover took {took:?}"
    );
    eprintln!("takeover after SIGKILL: {took:?}");
    t.synced().await;
    let record = ledgers.open(&t, standby).await;
    let n = assert_notes_match(&t, &record).await;
    t.assert_written(|_| 1).await;

    // The killed replica comes back (as Kubernetes restarts it), as the standby.
    if a.is_none() {
        a = Some(ledgers.start(&t, "a"));
    } else {
        b = Some(ledgers.start(&t, "b"));
    }
    let ids = t.in_scope().await;
    for round in 0..3 {
        let changed: Vec<String> = ids.iter().skip(round * 4).take(4).cloned().collect();
        t.control("touch", json!({"application_ids": changed}))
            .await;
        let before = t.syncs().get(SYNC).await.unwrap();
        let seen = before.status.and_then(|s| s.last_sync_time);
        // Two sync periods.
        for _ in 0..2 {
            let seen = seen.clone();
            t.wait("a periodic sync", |s| {
                let st = s.status.clone().unwrap_or_default();
                st.last_sync_time.is_some() && st.last_sync_time != seen
            })
            .await;
        }
        assert_eq!(assert_notes_match(&t, &record).await, n);
    }
    assert_eq!(
        support::lease::lease_holder(&t.client, &t.ns)
            .await
            .as_deref(),
        Some(standby),
        "leadership moved without a reason"
    );
    // SIGTERM: the leader releases the Lease on its way out.
    let leader = if standby == "a" { a.take() } else { b.take() }.unwrap();
    // Waited for off the runtime: the sandbox on it answers the writes in flight.
    let status = tokio::task::spawn_blocking(move || leader.terminate())
        .await
        .unwrap();
    assert!(status.success());
    wait_for("the Lease released or taken over", async || {
        support::lease::lease_holder(&t.client, &t.ns)
            .await
            .as_deref()
            != Some(standby)
    })
    .await;
    drop((a, b));
}

/// The ledger file is deleted between two runs: the operator finds its notes
/// in the ATS by their marker (or, where only the field is written, the
/// field's value in the pull) and writes none twice.
async fn lost_ledger(mode: &str) {
    let mut setup = Setup::greenhouse();
    setup.write_back = json!({"mode": mode});
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = t.start_operator();
    t.synced().await;
    let expect_notes = usize::from(mode != "customField");
    let n = t.assert_written(|_| expect_notes).await;
    op.stop().await;
    let before = t.stats().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", t.ledger.display()));
    }
    let op = t.start_operator();
    let c = t.sync_now("after-ledger-loss").await;
    assert_eq!(c.scored as usize, n, "a new ledger re-decides everything");
    assert_eq!(c.written_back, 0, "{c:?}");
    let after = t.stats().await;
    assert_eq!(after["notes_created"], before["notes_created"]);
    assert_eq!(after["application_patches"], before["application_patches"]);
    t.assert_written(|_| expect_notes).await;
    op.stop().await;
}

#[tokio::test]
async fn lost_ledger_writes_nothing_twice() {
    lost_ledger("both").await
}

#[tokio::test]
async fn lost_ledger_field_only_writes_nothing_twice() {
    lost_ledger("customField").await
}

/// A job leaves the scope (closed under `jobStatuses: [open]`) and comes back:
/// its applications are tombstoned, not forgotten, and get no second note.
#[tokio::test]
async fn job_closed_and_reopened_gets_no_second_note() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    t.apply_spec(json!({"fullSyncInterval": "0s", "deletionGuardPercent": 60}))
        .await;
    let op = t.start_operator();
    t.synced().await;
    t.assert_written(|_| 1).await;
    // The job is open, so all its applications are among the open ones.
    let open = t.open_applications().await;
    let job = id_str(&open[0]["job_id"]);
    let of_job = open.iter().filter(|a| id_str(&a["job_id"]) == job).count() as u64;
    let written = t.notes_created().await;
    t.control(&format!("jobs/{job}/status"), json!({"status": "closed"}))
        .await;
    let c = t.sync_now("closed").await;
    assert_eq!(c.deleted, of_job, "{c:?}");
    t.control(&format!("jobs/{job}/status"), json!({"status": "open"}))
        .await;
    let c = t.sync_now("reopened").await;
    assert_eq!((c.scored, c.written_back), (0, 0), "{c:?}");
    assert_eq!(t.notes_created().await, written);
    t.assert_written(|_| 1).await;
    op.stop().await;
}

/// A full sync that suddenly misses 60% of the applications records no
/// deletion, says why, and records them once the user confirms.
#[tokio::test]
async fn suspicious_full_sync_holds_deletions_until_confirmed() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    t.apply("0s").await;
    let op = t.start_operator();
    let s = t.synced().await;
    let known = last(&s).scored;
    let ids = t.in_scope().await;
    let gone: Vec<String> = ids.iter().take(ids.len() * 6 / 10).cloned().collect();
    t.control("delete", json!({"application_ids": gone})).await;
    let c = t.sync_now("after-outage").await;
    assert_eq!(c.deleted, 0, "{c:?}");
    let s = t.syncs().get(SYNC).await.unwrap();
    let synced = cond(&s, conditions::SYNCED).unwrap();
    assert_eq!(synced.reason, "SuspiciousDeletions", "{synced:?}");
    assert!(
        synced
            .message
            .contains(&format!("{} of {known}", gone.len())),
        "{synced:?}"
    );
    assert!(is(&s, "Ready", "True", "Synced"));
    // Confirmed with the count the status names.
    let patch = json!({"metadata": {"annotations": {CONFIRM_DELETIONS_ANNOTATION: gone.len().to_string()}}});
    t.syncs()
        .patch(SYNC, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let c = t.sync_now("confirmed").await;
    assert_eq!(c.deleted as usize, gone.len(), "{c:?}");
    let s = t.syncs().get(SYNC).await.unwrap();
    assert!(is(&s, "Synced", "True", "Synced"), "{:?}", s.status);
    op.stop().await;
}

/// An application deleted in the ATS between scoring and writing: the rest of
/// the sync and later syncs go on; its write is abandoned after its attempts,
/// visible in status and Events, and Ready stays true.
#[tokio::test]
async fn write_rejected_for_good_is_abandoned_and_blocks_nothing() {
    let t = paced_tenant(4).await;
    t.apply_spec(json!({"writeBack": {"maxAttempts": 2}})).await;
    let op = t.start_operator();
    t.first_writes(2, Duration::from_millis(100)).await;
    // Greenhouse pulls by candidate, then id: the last of that order is written
    // last, so delete it before then.
    let victim = t
        .open_applications()
        .await
        .iter()
        .map(|a| (a["candidate_id"].as_i64().unwrap(), id_str(&a["id"])))
        .max()
        .unwrap()
        .1;
    let ids = t.in_scope().await;
    assert_eq!(t.writes(&victim).await.notes, 0, "written already");
    t.control("delete", json!({"application_ids": [victim.clone()]}))
        .await;
    let s = t.synced().await;
    let c = last(&s);
    assert_eq!(c.failed, 1, "{c:?}");
    assert!(is(&s, "Ready", "True", "Synced"), "{:?}", s.status);
    assert_eq!(
        cond(&s, conditions::SYNCED).unwrap().reason,
        "WritesFailing"
    );
    for id in ids.iter().filter(|i| **i != victim) {
        assert_eq!(t.writes(id).await.notes, 1, "application {id}");
    }
    t.rate_limit(json!({"disabled": true})).await;
    let c = t.sync_now("second-attempt").await;
    assert_eq!(c.abandoned, 1, "{c:?}");
    let s = t.syncs().get(SYNC).await.unwrap();
    assert_eq!(s.status.unwrap().totals.unwrap().abandoned, 1);
    let events = Api::<KubeEvent>::namespaced(t.client.clone(), &t.ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("WriteAbandoned")
                && e.type_.as_deref() == Some("Warning")
                && e.note.as_deref().is_some_and(|n| n.contains(&victim))),
        "no WriteAbandoned event"
    );
    // Later syncs go on and never retry it.
    let c = t.sync_now("third").await;
    assert_eq!((c.failed, c.abandoned), (0, 0), "{c:?}");
    op.stop().await;
}

/// `dryRun` switched on while writes are pending: nothing is written, not even
/// the pending ones; switched off, each application is written once.
#[tokio::test]
async fn dry_run_stops_pending_writes() {
    let t = paced_tenant(5).await;
    t.apply("24h").await;
    let op = t.start_operator();
    t.first_writes(3, Duration::from_millis(100)).await;
    op.stop().await;
    let at_stop = t.notes_created().await;
    let patches_at_stop = t.stats().await["application_patches"].clone();
    t.apply_spec(json!({"writeBack": {"dryRun": true}})).await;
    let op = t.start_operator();
    let c = t.sync_now("dry").await;
    assert_eq!(c.written_back, 0, "{c:?}");
    assert_eq!(t.notes_created().await, at_stop);
    assert_eq!(t.stats().await["application_patches"], patches_at_stop);
    t.rate_limit(json!({"disabled": true})).await;
    t.apply("24h").await;
    t.sync_now("wet").await;
    t.assert_written(|_| 1).await;
    op.stop().await;
}

/// A profile edit on a tenant where nothing else changes (Workable, notes
/// only: writing a comment does not touch the candidate) re-scores every
/// application in the next sync; only those whose score or band changed get a
/// new note.
#[tokio::test]
async fn profile_edit_rescores_everything_and_renotes_only_changes() {
    let mut setup = Setup::workable();
    setup.write_back = json!({"mode": "note"});
    setup.custom_field = false;
    setup.band_tag = false;
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = t.start_operator();
    let s = t.synced().await;
    let n = last(&s).scored;
    let before = s.status.clone().unwrap().last_sync_time;
    let profiles = Api::<ScoringProfile>::namespaced(t.client.clone(), &t.ns);
    let patch = json!({"spec": {"weights": {"skills": 10, "experience": 70}}});
    profiles
        .patch("profile", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let s = t
        .wait("re-scoring after the profile edit", |s| {
            let st = s.status.clone().unwrap_or_default();
            st.last_sync_time != before
                && st
                    .last_sync
                    .is_some_and(|c| c.scored == n && c.unchanged == 0)
        })
        .await;
    let c = last(&s);
    let total = assert_notes_match_ledger(&t, &t.ledger).await;
    assert_eq!(total as u64, n);
    assert!(c.written_back > 0, "the edit changed no score: a weak test");
    assert!(c.written_back < n, "every score changed: a weak test");
    let key = format!("{}/{SYNC}", t.ns);
    let mut renoted = None;
    for id in t.in_scope().await {
        if support::expected_notes(&t.ledger, &key, &id).await == 2 {
            renoted = Some(id);
            break;
        }
    }
    let notes: Value = get(
        &t.http,
        &format!(
            "{}/_sandbox/applications/{}/writes",
            t.sandbox.base_url,
            renoted.unwrap()
        ),
    )
    .await;
    let newest = notes["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .any(|b| b.contains("Scoring profile: profile (generation 2)"));
    assert!(
        newest,
        "the new note names the profile and its generation: {notes}"
    );
    op.stop().await;
}

/// The operator is killed (SIGKILL) in the middle of a rate-limited full sync
/// of 2,000 Workable candidates (one detail request each) and restarted: the
/// sync resumes from its checkpoint, and the vendor requests of both runs stay
/// within 1.1 times those of an uninterrupted one.
#[tokio::test]
async fn interrupted_full_sync_resumes_from_its_checkpoint() {
    let big = || support::sandbox::unlimited(2_000, 8);
    let spec = json!({"writeBack": {"dryRun": true}});
    // The uninterrupted run, unlimited (request counts do not depend on pacing).
    let calm = Tenant::new(Setup::workable(), big()).await;
    calm.apply_spec(spec.clone()).await;
    let op = calm.start_operator();
    let s = calm.synced().await;
    let n = last(&s).scored;
    let uninterrupted = calm.api_requests().await;
    op.stop().await;
    assert!(n > 1_000, "{n}");

    let t = Tenant::new(Setup::workable(), big()).await;
    t.rate_limit(json!({"requests": 150, "window_seconds": 1}))
        .await;
    t.apply_spec(spec).await;
    let first = OperatorProcess::start(&t.ns, &t.ledger, "first");
    wait_for("the sync to be under way", async || {
        t.api_requests().await > uninterrupted * 2 / 5
    })
    .await;
    first.kill();
    let at_kill = t.api_requests().await;
    let _second = OperatorProcess::start(&t.ns, &t.ledger, "first");
    let s = t.synced().await;
    let total = t.api_requests().await;
    let resumed = last(&s);
    eprintln!(
        "uninterrupted {uninterrupted} requests; interrupted at {at_kill}, {total} in all \
         ({:.3}x); the resumed run scored {}",
        total as f64 / uninterrupted as f64,
        resumed.scored
    );
    assert!(
        resumed.scored < n,
        "the second run started over: {resumed:?}"
    );
    assert!(
        total * 10 <= uninterrupted * 11,
        "{total} requests against {uninterrupted} uninterrupted"
    );
    let key = format!("{}/{SYNC}", t.ns);
    let ledger = ats_operator::ledger::Ledger::open(&t.ledger).unwrap();
    assert_eq!(
        ledger.totals(&key).await.unwrap().scored,
        n,
        "each scored once"
    );
    assert!(
        ledger.checkpoint(&key).await.unwrap().is_none(),
        "checkpoint left behind"
    );
}

macro_rules! replicas {
    ($($vendor:ident),*) => {
        mod two_replicas {
            use super::*;
            $(
                #[tokio::test]
                async fn $vendor() {
                    super::two_replicas_and_a_killed_leader(Setup::$vendor()).await
                }
            )*
        }
    };
}

replicas!(greenhouse, lever, workable);

/// Two replicas sharing one PostgreSQL ledger (the chart's `ledger.backend:
/// postgres`): the standby takes over the leader's record, not only the ATS's
/// markers.
#[tokio::test]
async fn two_replicas_sharing_a_postgres_ledger() {
    let url = support::postgres::database_url();
    two_replicas_with(Setup::greenhouse(), Ledgers::SharedPostgres(url)).await
}
