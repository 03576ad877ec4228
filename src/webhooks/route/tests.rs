//! The route on loopback with an in-memory [`Intake`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::webhooks::verify::replay_verdict;

const GH_SECRET: &str = "gh-secret-never-logged";
const LEVER_SECRET: &str = "lever-token-never-logged";
const WK_SECRET: &str = "wk-token-never-logged";
/// In every body sent: must appear in no answer and no log line.
const CANARY: &str = "Canary McPersonaldata";

#[derive(Default)]
struct Fake {
    leader: Mutex<Option<Leader>>,
    keys: HashMap<(String, String), ConnectionKeys>,
    /// The ledger: delivery id → body sha256.
    ledger: Mutex<HashMap<String, String>>,
    accepted: Mutex<Vec<Delivery>>,
    refusals: Mutex<Vec<Refusal>>,
    queue_full: AtomicBool,
}

impl Fake {
    fn new(leader: Leader) -> Arc<Self> {
        let mut keys = HashMap::new();
        let mut add = |conn: &str, vendor, ks: &[&str]| {
            keys.insert(
                ("tenant-a".to_string(), conn.to_string()),
                ConnectionKeys {
                    vendor,
                    keys: ks.iter().map(|k| SecretValue::new(*k)).collect(),
                },
            );
        };
        add("gh", VendorKind::Greenhouse, &[GH_SECRET]);
        add(
            "lever",
            VendorKind::Lever,
            &["older-webhook-token", LEVER_SECRET],
        );
        add("wk", VendorKind::Workable, &[WK_SECRET]);
        add("ashby", VendorKind::Ashby, &["x"]);
        add("nokeys", VendorKind::Greenhouse, &[]);
        Arc::new(Fake {
            leader: Mutex::new(Some(leader)),
            keys,
            ..Fake::default()
        })
    }

    fn accepted(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }

    fn refusals(&self) -> Vec<Refusal> {
        self.refusals.lock().unwrap().clone()
    }
}

#[async_trait]
impl Intake for Fake {
    async fn leader(&self) -> Leader {
        self.leader
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Leader::Unknown)
    }
    async fn keys(&self, namespace: &str, connection: &str) -> Option<ConnectionKeys> {
        self.keys
            .get(&(namespace.to_string(), connection.to_string()))
            .cloned()
    }
    async fn accept(&self, _: &str, _: &str, delivery: Delivery) -> Result<bool, Refusal> {
        if self.queue_full.load(Ordering::SeqCst) {
            return Err(Refusal::QueueFull);
        }
        let mut ledger = self.ledger.lock().unwrap();
        match replay_verdict(
            ledger.get(&delivery.id).map(String::as_str),
            &delivery.body_sha256,
        ) {
            ReplayVerdict::New => {
                ledger.insert(delivery.id.clone(), delivery.body_sha256.clone());
                self.accepted.lock().unwrap().push(delivery);
                Ok(true)
            }
            ReplayVerdict::Retry => Ok(false),
            ReplayVerdict::Replayed => Err(Refusal::Replayed),
        }
    }
    fn refused(&self, _: &str, _: &str, refusal: Refusal) {
        self.refusals.lock().unwrap().push(refusal);
    }
}

async fn serve(intake: Arc<Fake>, options: IntakeOptions) -> SocketAddr {
    let app = router(intake, options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    json: serde_json::Value,
    text: String,
}

async fn post(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &str) -> Answer {
    let mut r = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .body(body.to_string());
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    let answer = r.send().await.unwrap();
    let status = answer.status().as_u16();
    let retry_after = answer
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = answer.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        retry_after,
        json,
        text,
    }
}

fn gh_body(action: &str) -> String {
    format!(
        r#"{{"action":"{action}","payload":{{"application":{{"id":265277,"last_activity_at":"2015-02-09T16:38:36Z","current_stage":{{"id":71416}},"candidate":{{"id":265772,"first_name":"{CANARY}"}}}}}}}}"#
    )
}

fn gh_headers(body: &str, event_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        (
            "signature",
            format!("sha256 {}", hmac_hex(GH_SECRET, &[body.as_bytes()])),
        ),
        ("greenhouse-event-id", event_id.into()),
    ]
}

fn lever_body(token: &str, triggered_at: i64, opportunity: &str) -> String {
    let signature = hmac_hex(
        LEVER_SECRET,
        &[token.as_bytes(), triggered_at.to_string().as_bytes()],
    );
    format!(
        r#"{{"triggeredAt":{triggered_at},"event":"candidateStageChange","data":{{"opportunityId":"{opportunity}","toStageId":"s2","note":"{CANARY}"}},"signature":"{signature}","token":"{token}"}}"#
    )
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

const GH: &str = "/webhooks/tenant-a/gh";
const LEVER: &str = "/webhooks/tenant-a/lever";
const WK: &str = "/webhooks/tenant-a/wk";

fn assert_refused(a: &Answer, status: u16, reason: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.json["reason"], reason, "{}", a.text);
    assert!(
        a.json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn accepted_once_then_duplicate_and_ping_answered() {
    // Greenhouse and Workable get 200 (they retry anything else), Lever 202.
    let fake = Fake::new(Leader::Here);
    let addr = serve(fake.clone(), IntakeOptions::default()).await;
    let body = gh_body("candidate_stage_change");
    let a = post(addr, GH, &gh_headers(&body, "ev-1"), &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        json!({"status": "accepted", "deliveryId": "ev-1", "duplicate": false})
    );
    let a = post(addr, GH, &gh_headers(&body, "ev-1"), &body).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["duplicate"], true);
    assert_eq!(fake.accepted(), 1);
    let d = fake.accepted.lock().unwrap()[0].clone();
    assert_eq!(d.event.application_ids, vec!["265277"]);
    assert_eq!(
        d.event.outcome.map(|o| o.category),
        Some(crate::webhooks::OutcomeCategory::Advanced)
    );

    let ping = r#"{"action":"ping","payload":{"web_hook_id":1}}"#;
    let a = post(addr, GH, &gh_headers(ping, "ev-ping"), ping).await;
    assert_eq!((a.status, a.json.clone()), (200, json!({"status": "pong"})));
    assert_eq!(fake.accepted(), 1, "a ping is answered, not recorded");

    // Lever and Workable on the same port.
    let body = lever_body("tok-accepted", now_ms(), "opp-1");
    let a = post(addr, LEVER, &[], &body).await;
    assert_eq!(
        (a.status, a.json["deliveryId"].clone()),
        (202, json!("tok-accepted"))
    );
    let a = post(addr, LEVER, &[], &body).await;
    assert_eq!((a.status, a.json["duplicate"].clone()), (202, json!(true)));
    let wk = r#"{"event_type":"candidate_created","data":{"id":"27273038"}}"#;
    let sig = hmac_hex(WK_SECRET, &[wk.as_bytes()]);
    let a = post(addr, WK, &[("x-workable-signature", sig)], wk).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["deliveryId"], verify::body_sha256(wk.as_bytes()));
    assert_eq!(fake.accepted(), 3);
    assert!(fake.refusals().is_empty());
}

#[test]
fn accepted_status_per_vendor() {
    assert_eq!(accepted_status(VendorKind::Greenhouse), StatusCode::OK);
    assert_eq!(accepted_status(VendorKind::Workable), StatusCode::OK);
    assert_eq!(accepted_status(VendorKind::Lever), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn forged_stale_and_replayed_deliveries_get_401() {
    let fake = Fake::new(Leader::Here);
    let addr = serve(fake.clone(), IntakeOptions::default()).await;
    let body = gh_body("application_updated");

    let mut missing = gh_headers(&body, "ev-1");
    missing.retain(|(k, _)| *k != "signature");
    assert_refused(
        &post(addr, GH, &missing, &body).await,
        401,
        "MissingSignature",
    );
    let mut forged = gh_headers(&body, "ev-1");
    forged[1].1 = format!("sha256 {}", hmac_hex("guessed", &[body.as_bytes()]));
    assert_refused(&post(addr, GH, &forged, &body).await, 401, "BadSignature");
    let tampered = body.replace("265277", "265278");
    assert_refused(
        &post(addr, GH, &gh_headers(&body, "ev-1"), &tampered).await,
        401,
        "BadSignature",
    );
    let wk = r#"{"event_type":"candidate_created","data":{"id":"1"}}"#;
    assert_refused(&post(addr, WK, &[], wk).await, 401, "MissingSignature");

    // Lever: stale either side of the window, then a replayed token.
    let old = lever_body("tok-old", now_ms() - 6 * 60 * 1000, "opp-1");
    assert_refused(&post(addr, LEVER, &[], &old).await, 401, "Stale");
    let future = lever_body("tok-future", now_ms() + 6 * 60 * 1000, "opp-1");
    assert_refused(&post(addr, LEVER, &[], &future).await, 401, "Stale");
    let unsigned = r#"{"triggeredAt":1,"event":"applicationCreated","token":"t","data":{"opportunityId":"o"}}"#;
    assert_refused(
        &post(addr, LEVER, &[], unsigned).await,
        401,
        "MissingSignature",
    );
    let at = now_ms();
    let genuine = lever_body("tok-1", at, "opp-1");
    assert_eq!(post(addr, LEVER, &[], &genuine).await.status, 202);
    // Same token and triggeredAt (so a valid signature), another body.
    let replayed = lever_body("tok-1", at, "opp-999");
    assert_refused(&post(addr, LEVER, &[], &replayed).await, 401, "Replayed");
    assert_eq!(fake.accepted(), 1);

    // A replica whose cache never saw the token: the ledger refuses it.
    let other = serve(fake.clone(), IntakeOptions::default()).await;
    assert_refused(&post(other, LEVER, &[], &replayed).await, 401, "Replayed");
    assert_eq!(fake.accepted(), 1);
    assert_eq!(
        fake.refusals(),
        vec![
            Refusal::MissingSignature,
            Refusal::BadSignature,
            Refusal::BadSignature,
            Refusal::MissingSignature,
            Refusal::Stale,
            Refusal::Stale,
            Refusal::MissingSignature,
            Refusal::Replayed,
            Refusal::Replayed,
        ]
    );
}

#[tokio::test]
async fn unknown_connections_malformed_and_oversized() {
    let fake = Fake::new(Leader::Here);
    let options = IntakeOptions {
        body_limit: 4096,
        ..IntakeOptions::default()
    };
    let addr = serve(fake.clone(), options).await;
    let body = gh_body("application_updated");
    let h = gh_headers(&body, "ev-1");
    for path in [
        "/webhooks/tenant-a/nope",
        "/webhooks/tenant-b/gh",
        "/webhooks/tenant-a/nokeys",
        "/webhooks/tenant-a/ashby",
    ] {
        assert_refused(&post(addr, path, &h, &body).await, 404, "UnknownConnection");
    }
    // Not Kubernetes names: 404 without asking the intake or counting.
    let before = fake.refusals().len();
    for path in ["/webhooks/Tenant/gh", "/webhooks/tenant-a/%00x"] {
        assert_refused(&post(addr, path, &h, &body).await, 404, "UnknownConnection");
    }
    assert_eq!(fake.refusals().len(), before);

    // Signed, but not what Greenhouse sends.
    let junk = "this is not json";
    let a = post(addr, GH, &gh_headers(junk, "ev-2"), junk).await;
    assert_refused(&a, 400, "Malformed");
    let no_id = gh_body("application_updated").replace(r#""id":265277,"#, "");
    assert_refused(
        &post(addr, GH, &gh_headers(&no_id, "ev-3"), &no_id).await,
        400,
        "Malformed",
    );
    let mut no_event_id = gh_headers(&body, "");
    no_event_id.retain(|(k, _)| *k != "greenhouse-event-id");
    assert_refused(&post(addr, GH, &no_event_id, &body).await, 400, "Malformed");

    // Above the limit: by Content-Length...
    let big = format!("{}{}", body, " ".repeat(5000));
    assert_refused(
        &post(addr, GH, &gh_headers(&big, "ev-4"), &big).await,
        413,
        "TooLarge",
    );
    // ...and chunked, with no length announced: refused once the limit is
    // passed, while the sender still has megabytes to send.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {GH} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("1000\r\n{}\r\n", "x".repeat(4096));
    for _ in 0..2 {
        tcp.write_all(chunk.as_bytes()).await.unwrap();
    }
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("answered before the body ended")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""reason":"TooLarge""#), "{answer}");
    assert_eq!(fake.accepted(), 0);
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let fake = Fake::new(Leader::Here);
    let addr = serve(fake.clone(), IntakeOptions::default()).await;
    fake.queue_full.store(true, Ordering::SeqCst);
    let body = lever_body("tok-q", now_ms(), "opp-1");
    let a = post(addr, LEVER, &[], &body).await;
    assert_refused(&a, 503, "QueueFull");
    assert_eq!(a.retry_after.as_deref(), Some("10"));
    // The vendor's retry, once there is room, is accepted (the refused
    // token was not remembered as seen).
    fake.queue_full.store(false, Ordering::SeqCst);
    let a = post(addr, LEVER, &[], &body).await;
    assert_eq!((a.status, a.json["duplicate"].clone()), (202, json!(false)));
    assert_eq!(fake.accepted(), 1);
}

#[tokio::test]
async fn a_standby_forwards_to_the_leader_once() {
    let leader = Fake::new(Leader::Here);
    let leader_addr = serve(leader.clone(), IntakeOptions::default()).await;
    let base = url::Url::parse(&format!("http://{leader_addr}")).unwrap();
    let standby = Fake::new(Leader::Forward(base));
    let standby_addr = serve(standby.clone(), IntakeOptions::default()).await;

    let body = gh_body("reject_candidate");
    let a = post(standby_addr, GH, &gh_headers(&body, "ev-f"), &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        json!({"status": "accepted", "deliveryId": "ev-f", "duplicate": false})
    );
    assert_eq!((leader.accepted(), standby.accepted()), (1, 0));
    // The leader's refusals are relayed as they are.
    let mut forged = gh_headers(&body, "ev-g");
    forged[1].1 = "sha256 00".into();
    assert_refused(
        &post(standby_addr, GH, &forged, &body).await,
        401,
        "BadSignature",
    );
    assert_eq!(leader.refusals(), vec![Refusal::BadSignature]);
    leader.queue_full.store(true, Ordering::SeqCst);
    let b2 = gh_body("hire_candidate");
    let a = post(standby_addr, GH, &gh_headers(&b2, "ev-h"), &b2).await;
    assert_refused(&a, 503, "QueueFull");
    assert_eq!(a.retry_after.as_deref(), Some("10"));

    // Already forwarded once and still not at the leader: 503, no loop.
    let mut again = gh_headers(&body, "ev-f");
    again.push((FORWARDED_HEADER, "1".into()));
    let a = post(standby_addr, GH, &again, &body).await;
    assert_refused(&a, 503, "NotLeader");
    assert!(a.retry_after.is_some());

    // No leader, or an unreachable one.
    *standby.leader.lock().unwrap() = Some(Leader::Unknown);
    assert_refused(
        &post(standby_addr, GH, &gh_headers(&body, "ev-f"), &body).await,
        503,
        "NotLeader",
    );
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = url::Url::parse(&format!("http://{}", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    *standby.leader.lock().unwrap() = Some(Leader::Forward(dead));
    let a = post(standby_addr, GH, &gh_headers(&body, "ev-f"), &body).await;
    assert_refused(&a, 503, "NotLeader");
    assert_eq!(a.retry_after.as_deref(), Some("10"));
    assert_eq!(standby.accepted(), 0);
}

/// Collects what the test's subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Current-thread runtime: the server's tasks run on this thread, under the
/// thread's default subscriber.
#[tokio::test]
async fn neither_answers_nor_logs_hold_secrets_signatures_or_bodies() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = Fake::new(Leader::Here);
    let addr = serve(fake.clone(), IntakeOptions::default()).await;
    let mut answers = Vec::new();
    let body = gh_body("application_updated");
    let good = gh_headers(&body, "ev-1");
    let signature = good[1].1.clone();
    let mut bad = good.clone();
    bad[1].1 = format!("sha256 {}", hmac_hex("wrong", &[body.as_bytes()]));
    let bad_signature = bad[1].1.clone();
    answers.push(post(addr, GH, &bad, &body).await);
    let junk = format!("{{\"action\":\"{CANARY}\"");
    answers.push(post(addr, GH, &gh_headers(&junk, "ev-2"), &junk).await);
    let at = now_ms();
    let lever = lever_body("tok-log", at, "opp-1");
    answers.push(post(addr, LEVER, &[], &lever).await);
    answers.push(post(addr, LEVER, &[], &lever_body("tok-log", at, "opp-2")).await);
    answers.push(post(addr, LEVER, &[], &lever_body("tok-s", 1, "opp-1")).await);
    fake.queue_full.store(true, Ordering::SeqCst);
    answers.push(post(addr, GH, &good, &body).await);
    answers.push(post(addr, "/webhooks/tenant-a/none", &good, &body).await);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![401, 400, 202, 401, 401, 503, 404]);

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("webhook delivery refused") && logs.contains("reason=\"Replayed\""),
        "{logs}"
    );
    assert!(logs.contains("namespace=\"tenant-a\""), "{logs}");
    let lever_signature = lever.split("\"signature\":\"").nth(1).unwrap()[..64].to_string();
    let needles = [
        GH_SECRET,
        LEVER_SECRET,
        WK_SECRET,
        CANARY,
        signature.trim_start_matches("sha256 "),
        bad_signature.trim_start_matches("sha256 "),
        &lever_signature,
        "265277",
        "opp-",
    ];
    for needle in needles {
        assert!(!logs.contains(needle), "the logs hold {needle:?}:\n{logs}");
        for a in &answers {
            assert!(
                !a.text.contains(needle),
                "an answer holds {needle:?}: {}",
                a.text
            );
        }
    }
}
