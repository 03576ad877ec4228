//! Webhooks end to end, against the real kube-apiserver: the sandboxes send
//! signed deliveries to the operator's HTTP port as the vendors do; the
//! operator records them before answering, processes them through the sync
//! worker and writes back exactly once.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use ats_operator::api::AtsSync;
use ats_operator::ledger::Ledger;
use reqwest::Method;
use serde_json::{Value, json};
use support::tenant::{self, Setup, Tenant, control, get, small};
use support::webhooks::{fast_retries, greenhouse_with_webhook, hook_url, webhooks};
use support::{Operator, free_port};

const DEADLINE: Duration = Duration::from_secs(60);

/// Waits until `pred` holds for the sync's status.
async fn wait_status(t: &Tenant, what: &str, pred: impl Fn(&AtsSync) -> bool) -> AtsSync {
    tenant::wait_for_sync(&t.syncs(), tenant::SYNC, DEADLINE, what, pred).await
}

/// New applications in scope, created in the sandbox (which sends their
/// webhooks); those out of scope are dropped.
async fn new_applications(t: &Tenant, count: usize) -> Vec<String> {
    let before: HashSet<String> = t.in_scope().await.into_iter().collect();
    t.control("applications", json!({"count": count})).await;
    t.in_scope()
        .await
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect()
}

/// Waits until each of `ids` has exactly one note; fails on a second.
async fn one_note_each(t: &Tenant, ids: &[String], within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut done = true;
        for id in ids {
            let n = t.writes(id).await.notes;
            assert!(n <= 1, "application {id} has {n} notes");
            done &= n == 1;
        }
        if done {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every new application was written back within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sandbox_deliveries(t: &Tenant) -> Value {
    get(
        &t.http,
        &format!("{}/_sandbox/webhooks/deliveries", t.sandbox.base_url),
    )
    .await
}

#[tokio::test]
async fn greenhouse_changes_arrive_by_webhook_and_are_written_once() {
    let (t, op, _port) = greenhouse_with_webhook(small(), |_| {}).await;
    let ids = new_applications(&t, 6).await;
    assert!(!ids.is_empty(), "no new application in scope");
    one_note_each(&t, &ids, Duration::from_secs(20)).await;
    let s = wait_status(&t, "deliveries processed", |s| {
        let w = webhooks(s);
        w.accepted >= ids.len() as u64 && w.pending == 0 && w.processed >= ids.len() as u64
    })
    .await;
    assert!(webhooks(&s).last_delivery_time.is_some());
    // The sandbox saw each delivery answered at once (200: Greenhouse
    // retries anything else).
    let d = sandbox_deliveries(&t).await;
    let attempts = d["attempts"].as_array().unwrap();
    assert!(
        attempts
            .iter()
            .filter(|a| a["event"] == "new_candidate_application")
            .all(|a| a["status"] == 200 && a["attempt"] == 1),
        "{d}"
    );

    // The same news again (a new delivery id) and the schedule: no second note.
    for id in &ids {
        t.control(
            "webhooks/emit",
            json!({"event": "new_candidate_application", "applicationId": id}),
        )
        .await;
    }
    t.sync_now("after-webhooks").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in &ids {
        assert_eq!(t.writes(id).await.notes, 1, "application {id}");
    }

    // A recruiter's decisions are recorded beside the score.
    let first = &ids[0];
    // Any stage but the one it is in (the sandbox refuses a move to the same).
    let mut moved = false;
    for stage in [1, 2] {
        let r = t
            .http
            .post(format!(
                "{}/_sandbox/applications/{first}/stage",
                t.sandbox.base_url
            ))
            .json(&json!({ "stage": stage }))
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            moved = true;
            break;
        }
    }
    assert!(moved, "the application could not be moved");
    t.control(
        &format!("applications/{first}/reject"),
        json!({"reason": "withdrew"}),
    )
    .await;
    let key = format!("{}/{}", t.ns, tenant::SYNC);
    let ledger = Ledger::open(&t.ledger).unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let outcomes = loop {
        let o = ledger.outcomes(&key, first).await.unwrap();
        if o.len() >= 2 {
            break o;
        }
        assert!(tokio::time::Instant::now() < deadline, "outcomes: {o:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let cats: Vec<&str> = outcomes
        .iter()
        .map(|o| o.outcome.category.as_str())
        .collect();
    assert_eq!(cats, ["advanced", "rejected"]);
    assert_eq!(
        outcomes[1].outcome.reason_category.as_deref(),
        Some("withdrew")
    );
    // Still one note: a stage change does not change the score.
    assert_eq!(t.writes(first).await.notes, 1);

    // The candidate is deleted in the ATS: what the operator held goes.
    t.control(&format!("applications/{first}/delete_candidate"), json!({}))
        .await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !ledger.outcomes(&key, first).await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "outcomes kept after deletion"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ledger.decisions(&key, first).await.unwrap().is_empty());
    op.stop().await;
}

#[tokio::test]
async fn forged_malformed_oversized_and_unknown_deliveries_change_nothing() {
    let (t, op, port) =
        greenhouse_with_webhook(small(), |o| o.webhook_body_limit = 64 * 1024).await;
    let http = reqwest::Client::new();
    let notes_before = t.notes_created().await;
    let body = br#"{"action":"new_candidate_application","payload":{"application":{"id":1}}}"#;
    let post = |url: String, sig: Option<String>, body: Vec<u8>| {
        let http = http.clone();
        async move {
            let mut r = http
                .post(url)
                .header("content-type", "application/json")
                .header("greenhouse-event-id", "forged-1");
            if let Some(s) = sig {
                r = r.header("signature", s);
            }
            let r = r.body(body).send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (status, v)
        }
    };
    let sign = |key: &str, body: &[u8]| {
        use hmac::{Hmac, Mac};
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        m.update(body);
        format!("sha256 {}", hex::encode(m.finalize().into_bytes()))
    };
    let url = hook_url(&t, port);
    let (st, v) = post(url.clone(), Some(sign("wrong-secret", body)), body.to_vec()).await;
    assert_eq!((st, v["reason"].as_str()), (401, Some("BadSignature")));
    let (st, v) = post(url.clone(), None, body.to_vec()).await;
    assert_eq!((st, v["reason"].as_str()), (401, Some("MissingSignature")));
    let junk = b"not json at all".to_vec();
    let (st, v) = post(url.clone(), Some(sign("whsec-greenhouse", &junk)), junk).await;
    assert_eq!((st, v["reason"].as_str()), (400, Some("Malformed")));
    let big = vec![b' '; 65 * 1024];
    let (st, v) = post(url.clone(), Some(sign("whsec-greenhouse", &big)), big).await;
    assert_eq!((st, v["reason"].as_str()), (413, Some("TooLarge")));
    let other = format!("http://127.0.0.1:{port}/webhooks/{}/nope", t.ns);
    let (st, v) = post(other, Some(sign("whsec-greenhouse", body)), body.to_vec()).await;
    assert_eq!((st, v["reason"].as_str()), (404, Some("UnknownConnection")));
    // No answer holds the secret.
    let (_, v) = post(url.clone(), Some(sign("x", body)), body.to_vec()).await;
    assert!(!v.to_string().contains("whsec-greenhouse"));

    let s = wait_status(&t, "refusals counted", |s| {
        let r = webhooks(s).refused;
        r.get("BadSignature") == Some(&2)
            && r.get("MissingSignature") == Some(&1)
            && r.get("Malformed") == Some(&1)
            && r.get("TooLarge") == Some(&1)
    })
    .await;
    assert_eq!(webhooks(&s).accepted, 0, "{:?}", webhooks(&s));
    assert_eq!(t.notes_created().await, notes_before);
    op.stop().await;
}

#[tokio::test]
async fn a_burst_beyond_the_queue_is_refused_then_retried_and_processed_once() {
    // A queue of two per sync: a burst of new applications overflows it.
    let (t, op, _port) = greenhouse_with_webhook(small(), |o| o.webhook_max_pending = 2).await;
    // Retries a little slower (Greenhouse's seven attempts over about 55 s),
    // so the burst finds room again well before the vendor gives up.
    control(
        &t.http,
        &t.sandbox,
        Method::PUT,
        "webhook_timing",
        json!({"scale": 0.001}),
    )
    .await;
    // Twelve deliveries at once (the sandbox posts up to 16 in parallel).
    let ids = new_applications(&t, 12).await;
    assert!(ids.len() >= 3, "too few new applications in scope: {ids:?}");
    one_note_each(&t, &ids, Duration::from_secs(60)).await;
    let d = sandbox_deliveries(&t).await;
    let refused = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == 503)
        .count();
    assert!(refused > 0, "no delivery was refused with 503: {d}");
    let s = wait_status(&t, "all processed", |s| webhooks(s).pending == 0).await;
    assert!(
        webhooks(&s).refused.get("QueueFull").copied().unwrap_or(0) > 0,
        "{:?}",
        webhooks(&s)
    );
    op.stop().await;
}

#[tokio::test]
async fn a_restart_between_acceptance_and_processing_loses_nothing() {
    let (t, op, port) = greenhouse_with_webhook(small(), |_| {}).await;
    // The vendor cannot serve applications: deliveries are accepted (the
    // ledger has them) but not processed.
    t.control(
        "faults",
        json!({"status": 500, "count": 100000, "path_prefix": "/v3/applications"}),
    )
    .await;
    let ids = new_applications(&t, 4).await;
    assert!(!ids.is_empty());
    let s = wait_status(&t, "deliveries accepted, pending", |s| {
        let w = webhooks(s);
        w.accepted >= ids.len() as u64 && w.pending >= ids.len() as u64
    })
    .await;
    assert_eq!(webhooks(&s).processed, 0);
    op.stop().await;
    control(&t.http, &t.sandbox, Method::DELETE, "faults", json!({})).await;
    // A new operator (same ledger) processes what the old one accepted.
    let op = Operator::serving(&t.client, &t.ns, &t.ledger, port, |_| {});
    one_note_each(&t, &ids, Duration::from_secs(30)).await;
    wait_status(&t, "nothing pending", |s| webhooks(s).pending == 0).await;
    op.stop().await;
}

fn lever_body(token: &str, key: &str, triggered_at: i64, opportunity: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    m.update(format!("{token}{triggered_at}").as_bytes());
    let signature = hex::encode(m.finalize().into_bytes());
    serde_json::to_vec(&json!({
        "triggeredAt": triggered_at,
        "event": "applicationCreated",
        "data": {"opportunityId": opportunity, "candidateId": opportunity},
        "token": token,
        "signature": signature,
    }))
    .unwrap()
}

/// The first application in scope that takes the recruiter change `action`
/// (`hire`, `reject`): some are decided already, as in real data.
async fn first_accepting(t: &Tenant, action: &str, body: Value) -> String {
    for id in t.in_scope().await {
        let r = t
            .http
            .post(format!(
                "{}/_sandbox/applications/{id}/{action}",
                t.sandbox.base_url
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            return id;
        }
    }
    panic!("no application in scope takes {action}")
}

#[tokio::test]
async fn lever_webhooks_are_registered_verified_and_removed_with_the_sync() {
    let t = Tenant::new(Setup::lever(), small()).await;
    let port = free_port();
    t.apply_spec(
        json!({"webhooks": {"enabled": true, "publicBaseUrl": format!("http://127.0.0.1:{port}")}}),
    )
    .await;
    let op = Operator::serving(&t.client, &t.ns, &t.ledger, port, |_| {});
    t.synced().await;
    fast_retries(&t).await;
    let s = wait_status(&t, "webhooks registered", |s| {
        !webhooks(s).registered.is_empty()
    })
    .await;
    assert_eq!(
        webhooks(&s).url.as_deref(),
        Some(hook_url(&t, port).as_str())
    );
    let synced: AtsSync = t.syncs().get(tenant::SYNC).await.unwrap();
    assert!(
        synced
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"ats.dev/webhooks".to_string())
    );
    // The signing tokens Lever returned are in a Secret the sync owns.
    let tokens = t
        .secrets()
        .get(&format!("{}-webhook-tokens", tenant::SYNC))
        .await
        .unwrap();
    assert_eq!(
        tokens.metadata.owner_references.unwrap_or_default()[0].kind,
        "AtsSync"
    );
    let data = tokens.data.unwrap_or_default();
    assert_eq!(data.len(), webhooks(&s).registered.len());

    // A new opportunity arrives signed by one of those tokens, and is written once.
    let ids = new_applications(&t, 4).await;
    assert!(!ids.is_empty());
    one_note_each(&t, &ids, Duration::from_secs(30)).await;

    // Lever's signature does not cover the body: a token seen before with
    // another body is a replay, and an old triggeredAt is stale.
    let key = String::from_utf8(data.values().next().unwrap().0.clone()).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let http = reqwest::Client::new();
    let send = |body: Vec<u8>| {
        let (http, url) = (http.clone(), hook_url(&t, port));
        async move {
            let r = http
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, v) = send(lever_body("tok-a", &key, now, &ids[0])).await;
    assert_eq!(st, 202, "{v}");
    let (st, v) = send(lever_body("tok-a", &key, now, &ids[0])).await;
    assert_eq!((st, v["duplicate"].as_bool()), (202, Some(true)), "{v}");
    let other = ids.get(1).unwrap_or(&ids[0]);
    let forged = lever_body("tok-c", "not-the-token", now, other);
    let (st, v) = send(forged).await;
    assert_eq!(
        (st, v["reason"].as_str()),
        (401, Some("BadSignature")),
        "{v}"
    );
    let replay = {
        // Same token and signature, another opportunity: the body differs.
        let mut b: Value =
            serde_json::from_slice(&lever_body("tok-a", &key, now, &ids[0])).unwrap();
        b["data"]["opportunityId"] = json!(other);
        b["data"]["candidateId"] = json!("someone-else");
        serde_json::to_vec(&b).unwrap()
    };
    let (st, v) = send(replay).await;
    assert_eq!((st, v["reason"].as_str()), (401, Some("Replayed")), "{v}");
    let stale = now - 10 * 60 * 1000;
    let (st, v) = send(lever_body("tok-b", &key, stale, &ids[0])).await;
    assert_eq!((st, v["reason"].as_str()), (401, Some("Stale")), "{v}");
    for id in &ids {
        assert_eq!(t.writes(id).await.notes, 1);
    }

    // Lever archives a hired candidate too, and its archive event names the
    // reason by id only: resolved through /archive_reasons, both events
    // record a hire. A withdrawal keeps its category.
    let hired = first_accepting(&t, "hire", json!({})).await;
    let withdrew = first_accepting(&t, "reject", json!({"reason": "withdrew"})).await;
    let ledger = Ledger::open(&t.ledger).unwrap();
    let key = format!("{}/{}", t.ns, tenant::SYNC);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let (hires, withdrawal) = loop {
        let h = ledger.outcomes(&key, &hired).await.unwrap();
        let w = ledger.outcomes(&key, &withdrew).await.unwrap();
        if h.len() == 2 && !w.is_empty() {
            break (h, w);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "outcomes not recorded: {h:?} {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for o in &hires {
        assert_eq!(o.outcome.category.as_str(), "hired", "{o:?}");
    }
    let w = &withdrawal.last().unwrap().outcome;
    assert_eq!(
        (w.category.as_str(), w.reason_category.as_deref()),
        ("rejected", Some("withdrew"))
    );

    // Deleting the sync removes the registrations, then the finalizer.
    t.syncs()
        .delete(tenant::SYNC, &Default::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while t.syncs().get_opt(tenant::SYNC).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sync was not released"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = sandbox_deliveries(&t).await["attempts"]
        .as_array()
        .map_or(0, Vec::len);
    t.control("applications", json!({"count": 2})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = sandbox_deliveries(&t).await["attempts"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(before, after, "Lever still sends to a removed webhook");
    op.stop().await;
}
