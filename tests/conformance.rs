//! One conformance suite for every vendor: the same scenarios run against each
//! vendor's client and sandbox, with the operator in-process on a real
//! kube-apiserver. A vendor is done when it passes every scenario.
//!
//! The suite only uses what every sandbox serves (the control API documented in
//! `src/sandbox/mod.rs`) and what every user sees (status, the Secret), so a new
//! vendor adds one `Setup` and one `conformance!` line.

mod support;

use std::time::Duration;

use ats_operator::api::SYNC_REQUESTED_ANNOTATION;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use support::Operator;
use support::tenant::*;

/// A small tenant, synced once by the operator in-process.
async fn synced(setup: Setup) -> (Tenant, Operator) {
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = t.start_operator();
    t.synced().await;
    (t, op)
}

/// A tenant of forty under the vendor's tight limit, the operator started.
async fn under_tight_limit(setup: Setup) -> (Tenant, Operator) {
    let t = Tenant::new(setup, forty()).await;
    t.rate_limit(t.setup.tight_limit.clone()).await;
    t.apply("24h").await;
    let op = t.start_operator();
    (t, op)
}

/// First sync: everything in scope scored and written once; status tells it;
/// rotated credentials (Lever) are saved back to the Secret.
async fn first_full_sync(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = t.start_operator();
    let s = t.synced().await;
    let n = t.assert_written(|_| 1).await;
    let st = s.status.unwrap();
    let last = st.last_sync.unwrap();
    assert_eq!(last.scored as usize, n);
    assert_eq!(last.written_back as usize, n);
    assert_eq!(st.vendor.as_deref(), Some(t.setup.vendor.as_str()));
    assert!(st.watermark.is_some() && st.next_sync_time.is_some());
    if t.setup.secret_keys.contains(&"refreshToken") {
        // The refresh token rotated at the vendor and the Secret holds the new one.
        let current = get(
            &t.http,
            &format!("{}/_sandbox/credentials", t.sandbox.base_url),
        )
        .await["secret"]["refreshToken"]
            .clone();
        let secret = t.secrets().get(SECRET).await.unwrap();
        let stored = secret.data.unwrap_or_default()["refreshToken"].0.clone();
        assert_ne!(current, t.creds["secret"]["refreshToken"], "no rotation");
        assert_eq!(
            Some(String::from_utf8(stored).unwrap().as_str()),
            current.as_str()
        );
    }
    // Nothing changed: nothing scored, nothing written.
    let notes_before = t.stats().await["notes_created"].clone();
    let again = t.sync_now("again").await;
    assert_eq!((again.scored, again.written_back), (0, 0));
    assert_eq!(t.stats().await["notes_created"], notes_before);
    op.stop().await;
}

/// An incremental sync picks up exactly the changed records.
async fn incremental_sync(setup: Setup) {
    let (t, op) = synced(setup).await;
    let ids = t.in_scope().await;
    let touched: Vec<String> = ids.iter().take(2).cloned().collect();
    t.control("touch", json!({"application_ids": touched}))
        .await;
    let c = t.sync_now("after-touch").await;
    // Exactly the changed records are re-scored: the touched ones, plus other
    // applications of the same person where the vendor shares a candidate
    // across jobs (Greenhouse). Each gets a new note only when its score or
    // band changed.
    assert!(c.scored as usize >= touched.len(), "{c:?}");
    assert!(c.scored <= 4, "more than the changed records: {c:?}");
    let key = format!("{}/{SYNC}", t.ns);
    let mut renoted = 0;
    for id in &ids {
        let w = t.writes(id).await;
        let expected = support::expected_notes(&t.ledger, &key, id).await;
        assert_eq!(w.notes, expected, "application {id}: {w:?}");
        renoted += expected - 1;
    }
    assert_eq!(c.written_back as usize, renoted, "{c:?}");
    // New applications are picked up too.
    let added = t.control("applications", json!({"count": 3})).await;
    let c = t.sync_now("after-add").await;
    assert_eq!(
        c.scored as usize,
        added["application_ids"].as_array().unwrap().len(),
        "{c:?}"
    );
    op.stop().await;
}

/// Deleted applications are detected: from the vendor's deletion list, or by a full sync.
async fn deletes_detected(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    let full = if t.setup.lists_deletions { "24h" } else { "0s" };
    t.apply(full).await;
    let op = t.start_operator();
    t.synced().await;
    let ids = t.in_scope().await;
    t.control("delete", json!({"application_ids": [ids[0].clone()]}))
        .await;
    let c = t.sync_now("after-delete").await;
    assert_eq!(c.deleted, 1, "{c:?}");
    assert_eq!(c.scored, 0, "{c:?}");
    let c = t.sync_now("after-delete-again").await;
    assert_eq!(c.deleted, 0, "deleted counted twice: {c:?}");
    op.stop().await;
}

/// The vendor's rate limit is reached mid-sync and honoured: the sync completes,
/// nothing is scored twice or skipped.
async fn rate_limit_honoured(setup: Setup) {
    let (t, op) = under_tight_limit(setup).await;
    let s = t.synced().await;
    let n = t.assert_written(|_| 1).await;
    assert_eq!(s.status.unwrap().last_sync.unwrap().scored as usize, n);
    op.stop().await;
}

/// Access tokens expire mid-sync and are refreshed; nothing is lost.
/// Generated only for vendors whose access tokens expire (not Workable's account tokens).
async fn token_expiry_mid_sync(setup: Setup) {
    assert!(
        setup.tokens_expire,
        "generated for a vendor without expiring tokens"
    );
    // Slow enough that the sync is still running when tokens expire.
    let (t, op) = under_tight_limit(setup).await;
    t.first_writes(3, Duration::from_millis(50)).await;
    let tokens_before = t.stats().await["token_requests"].as_u64().unwrap_or(0);
    t.control("tokens/expire", json!({})).await;
    t.synced().await;
    t.assert_written(|_| 1).await;
    assert!(
        t.stats().await["token_requests"].as_u64().unwrap_or(0) > tokens_before,
        "no refresh after expiry"
    );
    op.stop().await;
}

/// A burst of 5xx is retried; the sync completes without duplicates.
async fn server_errors_retried(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    for (status, count) in [(503, 3), (500, 2)] {
        t.control("faults", json!({"status": status, "count": count}))
            .await;
    }
    t.apply("24h").await;
    let op = t.start_operator();
    t.synced().await;
    t.assert_written(|_| 1).await;
    assert!(t.stats().await["faults_injected"].as_u64().unwrap_or(0) >= 5);
    op.stop().await;
}

/// Expired or revoked credentials surface as the right condition, without secrets.
async fn revoked_credentials(setup: Setup) {
    let (t, op) = synced(setup).await;
    t.control(t.setup.revoke, json!({})).await;
    t.control("tokens/expire", json!({})).await;
    let patch = json!({"metadata": {"annotations": {SYNC_REQUESTED_ANNOTATION: "after-revoke"}}});
    t.syncs()
        .patch(SYNC, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let reason = t.setup.revoked_reason;
    let s = t
        .wait(reason, |s| {
            is(s, "Ready", "False", reason) && is(s, "Stalled", "True", reason)
        })
        .await;
    let text = format!("{:?}", s.status);
    for v in t.creds["secret"].as_object().unwrap().values() {
        let v = v.as_str().unwrap_or_default();
        assert!(
            v.len() < 6 || !text.contains(v),
            "a secret leaked into status"
        );
    }
    op.stop().await;
}

/// Write-back happens exactly once across an operator restart mid-write.
async fn exactly_once_across_restart(setup: Setup) {
    let (t, op) = under_tight_limit(setup).await;
    t.first_writes(3, Duration::from_millis(20)).await;
    op.stop().await;
    let at_stop = t.stats().await["notes_created"].as_u64().unwrap();
    let op = t.start_operator();
    t.synced().await;
    let n = t.assert_written(|_| 1).await;
    assert!(at_stop < n as u64, "stopped too late to test anything");
    op.stop().await;
}

/// Applications fetched by id, as a webhook names them
/// (`AtsClient::pull_applications`): each in scope with its candidate, resume
/// and job exactly as the batch pull maps them (same scoring fingerprint and
/// version); a touched one as it is now; one deleted, and an id the vendor
/// never had, reported deleted; those of jobs out of scope reported so; more
/// ids than one request takes (50) fetched in chunks.
async fn pull_applications_by_id(setup: Setup) {
    use ats_operator::model::{BlindCandidate, ChangeSet, JobStatus};
    use ats_operator::scoring::fingerprint;
    use ats_operator::vendors::PullScope;

    // Eight jobs: the seventh is closed.
    let opts = ats_operator::sandbox::SandboxOptions {
        applications: 60,
        jobs: 8,
        ..small()
    };
    let t = Tenant::new(setup, opts).await;
    let conn = support::spec::described(t.setup.vendor, &t.creds, t.setup.secret_keys);
    let client = ats_operator::vendors::connect(&conn, None).unwrap();
    let scope = PullScope {
        job_statuses: vec![JobStatus::Open],
        job_ids: vec![],
    };
    let url = format!("{}/_sandbox/applications", t.sandbox.base_url);
    let all = get(&t.http, &url).await.as_array().unwrap().clone();
    let ids_where = |open: bool| -> Vec<String> {
        all.iter()
            .filter(|a| (a["job_status"] == "open") == open)
            .map(|a| id_str(&a["id"]))
            .collect()
    };
    let (open, closed) = (ids_where(true), ids_where(false));
    assert!(
        all.len() > 50 && !closed.is_empty(),
        "one chunk, or nothing out of scope"
    );
    let fp = |c: &ChangeSet, id: &str| {
        let app = c.applications.iter().find(|a| a.id == id).expect("fetched");
        let job = c.jobs.iter().find(|j| j.id == app.job_id).expect("its job");
        let cand = c
            .candidates
            .iter()
            .find(|x| x.id == app.candidate_id)
            .expect("its candidate");
        (
            fingerprint(job, &BlindCandidate::from_candidate(cand), app),
            app.updated_at,
        )
    };

    let (touched, gone) = (open[0].clone(), open[1].clone());
    let before = client
        .pull_applications(std::slice::from_ref(&touched), &scope)
        .await
        .unwrap();
    t.control("touch", json!({"application_ids": [touched]}))
        .await;
    t.control("delete", json!({"application_ids": [gone]}))
        .await;
    let pulled = client.pull(None, &scope).await.unwrap();

    let mut ids: Vec<String> = all.iter().map(|a| id_str(&a["id"])).collect();
    ids.push("no-such-application".into());
    ids.push(touched.clone());
    let got = client.pull_applications(&ids, &scope).await.unwrap();

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(got.deleted_application_ids.clone()),
        sorted(vec![gone.clone(), "no-such-application".into()])
    );
    assert_eq!(
        sorted(got.out_of_scope_application_ids.clone()),
        sorted(closed)
    );
    let fetched: Vec<String> = got.applications.iter().map(|a| a.id.clone()).collect();
    let expected: Vec<String> = open.iter().filter(|id| **id != gone).cloned().collect();
    assert_eq!(sorted(fetched), sorted(expected.clone()), "each once");
    for id in &expected {
        assert_eq!(fp(&got, id), fp(&pulled, id), "application {id}");
    }
    assert_ne!(
        fp(&got, &touched),
        fp(&before, &touched),
        "the touch is seen"
    );
    assert!(got.high_watermark.is_none() && got.resume_after.is_none());
}

/// The common scenarios, plus the named ones that apply to this vendor only.
macro_rules! conformance {
    ($vendor:ident $(, $extra:ident)*) => {
        mod $vendor {
            use super::*;

            conformance!(@tests $vendor:
                first_full_sync,
                incremental_sync,
                deletes_detected,
                rate_limit_honoured,
                server_errors_retried,
                revoked_credentials,
                exactly_once_across_restart,
                pull_applications_by_id
                $(, $extra)*
            );
        }
    };
    (@tests $vendor:ident: $($scenario:ident),*) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                super::$scenario(Setup::$vendor()).await
            }
        )*
    };
}

conformance!(greenhouse, token_expiry_mid_sync);
conformance!(lever, token_expiry_mid_sync);
conformance!(workable);
