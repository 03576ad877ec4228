//! The sandboxes' signed webhooks, received on loopback by a local axum
//! receiver that checks each vendor's signature with hmac/sha2 directly.

use std::time::{Duration, Instant};

use ats_operator::model::VendorKind;
use ats_operator::sandbox::SandboxOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::receiver::{Got, Receiver, hmac_hex};
use support::sandbox::{Harness as Sb, ok_json, unlimited};

mod support;

/// Retries at a ten-thousandth of the vendors' waits: Greenhouse's 15 hours
/// in about 5.5 s, Lever's in about 2 s.
const FAST: f64 = 0.0001;

fn opts(scale: f64) -> SandboxOptions {
    SandboxOptions {
        webhook_time_scale: scale,
        ..unlimited(40, 4)
    }
}

impl Sb {
    async fn post_control(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.control(Method::POST, path, body).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// An active application moved to stage 1 (before any webhook exists).
    async fn active_app(&self) -> String {
        let apps = self.control_get("applications").await;
        for a in apps.as_array().unwrap() {
            let id = match &a["id"] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let path = format!("applications/{id}/stage");
            if self.post_control(&path, json!({"stage": 1})).await.0 == StatusCode::OK {
                return id;
            }
        }
        panic!("no active application");
    }

    async fn deliveries(&self) -> Value {
        self.control_get("webhooks/deliveries").await
    }

    /// Waits until the sender has nothing queued or in flight.
    async fn settled(&self, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let d = self.deliveries().await;
            let c = &d["counts"];
            if (c["queued"] == 0 && c["in_flight"] == 0) || Instant::now() > deadline {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every body of `got` is the first one, byte for byte.
fn identical(got: &[Got]) {
    assert!(got.windows(2).all(|w| w[0].body == w[1].body));
}

// ---------------------------------------------------------------------------
// Greenhouse

async fn gh_hook(sb: &Sb, url: &str, secret: &str) -> Value {
    let (status, v) = sb
        .post_control("webhooks", json!({"url": url, "secret": secret}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

fn gh_signed(g: &Got, secret: &str) {
    assert_eq!(
        g.header("signature"),
        format!("sha256 {}", hmac_hex(secret.as_bytes(), &g.body))
    );
    assert!(!g.header("greenhouse-event-id").is_empty());
}

#[tokio::test]
async fn greenhouse_pings_then_sends_signed_events() {
    let sb = Sb::launch(VendorKind::Greenhouse, opts(FAST)).await;
    let app = sb.active_app().await;
    let (rx, url) = Receiver::start(&[], 200).await;
    let hook = gh_hook(&sb, &url, "gh-secret").await;
    assert_eq!(hook["active"], true);
    let ping = rx.with("action", "ping");
    assert_eq!(ping.len(), 1);
    gh_signed(&ping[0], "gh-secret");
    assert_eq!(ping[0].json()["payload"]["web_hook_id"], hook["id"]);

    let (status, v) = sb
        .post_control(
            &format!("applications/{app}/stage"),
            json!({"stage": "Onsite Interview"}),
        )
        .await;
    assert_eq!((status, &v["events"]), (StatusCode::OK, &json!(1)));
    let got = rx.wait("action", "candidate_stage_change", 1, 5).await;
    assert_eq!(got.len(), 1);
    gh_signed(&got[0], "gh-secret");
    let a = &got[0].json()["payload"]["application"];
    assert_eq!(a["id"].to_string(), app);
    assert_eq!(a["current_stage"]["name"], "Onsite Interview");
    assert!(a["candidate"]["email_addresses"][0]["value"].is_string());
    // What the API serves has changed, its updated_at with it.
    let rec = sb.control_get(&format!("applications/{app}")).await;
    assert_eq!(rec["stage_name"], "Onsite Interview");

    sb.post_control(
        &format!("applications/{app}/reject"),
        json!({"reason": "withdrew"}),
    )
    .await;
    let got = rx.wait("action", "reject_candidate", 1, 5).await;
    gh_signed(&got[0], "gh-secret");
    let reason = &got[0].json()["payload"]["application"]["rejection_reason"];
    assert_eq!(reason["type"]["name"], "They rejected us");
    assert_ne!(
        got[0].header("greenhouse-event-id"),
        rx.with("action", "candidate_stage_change")[0].header("greenhouse-event-id")
    );

    // Deleting the candidate: one delete_candidate naming every application.
    let (_, v) = sb
        .post_control(&format!("applications/{app}/delete_candidate"), json!({}))
        .await;
    let got = rx.wait("action", "delete_candidate", 1, 5).await;
    let person = &got[0].json()["payload"]["person"];
    assert_eq!(
        person["deleted_application_ids"].as_array().unwrap().len(),
        v["application_ids"].as_array().unwrap().len()
    );
    assert_eq!(
        sb.control_get_raw(&format!("applications/{app}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // emit: any event about an application as it is; unknown ones refused.
    let other = sb.active_app().await;
    let (status, _) = sb
        .post_control(
            "webhooks/emit",
            json!({"event": "candidate_anonymized", "applicationId": other}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = rx.wait("action", "candidate_anonymized", 1, 5).await;
    assert!(got[0].json()["payload"]["candidate_id"].is_number());
    let (status, _) = sb
        .post_control(
            "webhooks/emit",
            json!({"event": "nonsense", "applicationId": other}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let d = sb.settled(5).await;
    assert_eq!(d["counts"]["failed_attempts"], 0);
    assert!(
        d["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["ok"] == true)
    );
}

#[tokio::test]
async fn greenhouse_failed_ping_creates_a_disabled_hook() {
    let sb = Sb::launch(VendorKind::Greenhouse, opts(FAST)).await;
    let app = sb.active_app().await;
    let (rx, url) = Receiver::start(&[500], 200).await;
    let hook = gh_hook(&sb, &url, "s").await;
    assert_eq!(hook["active"], false);
    let listed = sb.control_get(&format!("webhooks/{}", hook["id"])).await;
    assert_eq!(listed["active"], false);
    sb.post_control(&format!("applications/{app}/hire"), json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The ping only: a disabled hook gets nothing, and pings are not retried.
    assert_eq!(rx.all().len(), 1);
    let r = sb
        .control(
            Method::DELETE,
            &format!("webhooks/{}", hook["id"]),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(sb.control_get("webhooks").await, json!([]));
}

#[tokio::test]
async fn greenhouse_retries_seven_times_with_the_same_bytes() {
    let sb = Sb::launch(VendorKind::Greenhouse, opts(FAST)).await;
    let app = sb.active_app().await;
    // The ping passes, then every delivery fails.
    let (rx, url) = Receiver::start(&[200], 500).await;
    gh_hook(&sb, &url, "s").await;
    let started = Instant::now();
    sb.post_control(&format!("applications/{app}/hire"), json!({}))
        .await;
    let got = rx.wait("action", "hire_candidate", 7, 20).await;
    let d = sb.settled(10).await;
    assert_eq!(got.len(), 7, "Greenhouse tries 7 times");
    identical(&got);
    assert!(
        got.iter()
            .all(|g| g.header("greenhouse-event-id") == got[0].header("greenhouse-event-id"))
    );
    // 15 h 16 min at 1/10,000 is 5.5 s.
    assert!(
        started.elapsed() > Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(d["counts"]["gave_up"], 1);
    let attempts: Vec<u64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["event"] == "hire_candidate")
        .map(|a| a["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, (1..=7).collect::<Vec<_>>());
    assert!(
        d["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["status"] == 500)
    );
}

#[tokio::test]
async fn non_loopback_targets_are_refused() {
    let gh = Sb::launch(VendorKind::Greenhouse, opts(FAST)).await;
    let (status, v) = gh
        .post_control(
            "webhooks",
            json!({"url": "https://example.com/hooks", "secret": "s"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["message"].as_str().unwrap().contains("loopback"), "{v}");

    let lv = Sb::launch(VendorKind::Lever, opts(FAST)).await;
    let r = lever_create(&lv, "http://10.0.0.1/hooks", "candidateHired").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "BadRequestError");

    let wk = Sb::launch(VendorKind::Workable, opts(FAST)).await;
    let r = workable_subscribe(&wk, "https://169.254.169.254/x", "candidate_moved").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
}

// ---------------------------------------------------------------------------
// Lever

fn lever_key(sb: &Sb) -> String {
    sb.creds["secret"]["apiKey"].as_str().unwrap().to_string()
}

async fn lever_create(sb: &Sb, url: &str, event: &str) -> reqwest::Response {
    sb.http
        .post(sb.url("/v1/webhooks"))
        .basic_auth(lever_key(sb), Some(""))
        .json(&json!({"url": url, "event": event}))
        .send()
        .await
        .unwrap()
}

/// `GET path` with the API key, which must answer 200; its JSON.
async fn lever_get(sb: &Sb, path: &str) -> Value {
    let r = sb
        .http
        .get(sb.url(path))
        .basic_auth(lever_key(sb), Some(""))
        .send()
        .await
        .unwrap();
    ok_json(r, path).await
}

fn lever_signed(g: &Got, token: &str) {
    let v = g.json();
    let msg = format!("{}{}", v["token"].as_str().unwrap(), v["triggeredAt"]);
    assert_eq!(v["signature"], hmac_hex(token.as_bytes(), msg.as_bytes()));
    assert_eq!(v["token"].as_str().unwrap().len(), 48);
    assert_eq!(g.header("user-agent"), "Lever-Webhooks");
}

#[tokio::test]
async fn lever_registers_through_its_api_and_signs_token_and_time() {
    let sb = Sb::launch(VendorKind::Lever, opts(FAST)).await;
    let app = sb.active_app().await;
    let (rx, url) = Receiver::start(&[], 200).await;

    // The API's auth applies.
    let r = sb.http.get(sb.url("/v1/webhooks")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let mut tokens = std::collections::HashMap::new();
    for event in [
        "candidateHired",
        "candidateArchiveChange",
        "candidateStageChange",
    ] {
        let r = lever_create(&sb, &url, event).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let token = v["data"]["configuration"]["signatureToken"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(token.len(), 48);
        assert_eq!(v["data"]["event"], event);
        tokens.insert(event.to_string(), token);
    }
    // Listing never shows the token again.
    let list = lever_get(&sb, "/v1/webhooks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["configuration"].get("signatureToken").is_none())
    );

    sb.post_control(&format!("applications/{app}/stage"), json!({"stage": 3}))
        .await;
    let got = rx.wait("event", "candidateStageChange", 1, 5).await;
    lever_signed(&got[0], &tokens["candidateStageChange"]);
    let data = &got[0].json()["data"];
    assert_eq!(data["opportunityId"], app.as_str());
    assert_eq!(data["candidateId"], app.as_str());
    assert_ne!(data["toStageId"], data["fromStageId"]);

    // Hiring archives with the hired reason: both events, each with its own token.
    sb.post_control(&format!("applications/{app}/hire"), json!({}))
        .await;
    let hired = rx.wait("event", "candidateHired", 1, 5).await;
    let archived = rx.wait("event", "candidateArchiveChange", 1, 5).await;
    lever_signed(&hired[0], &tokens["candidateHired"]);
    lever_signed(&archived[0], &tokens["candidateArchiveChange"]);
    // A fetch after the webhook sees it.
    let opp = lever_get(&sb, &format!("/v1/opportunities/{app}")).await;
    assert_eq!(
        opp["data"]["archived"]["reason"],
        archived[0].json()["data"]["toArchived"]["reason"]
    );
    assert!(
        opp["data"]["updatedAt"].as_i64().unwrap()
            >= archived[0].json()["triggeredAt"].as_i64().unwrap() - 5_000
    );

    // Removing: 204, then 404.
    let id = list["data"][0]["id"].as_str().unwrap();
    for expected in [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] {
        let r = sb
            .http
            .delete(sb.url(&format!("/v1/webhooks/{id}")))
            .basic_auth(lever_key(&sb), Some(""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
    }
}

#[tokio::test]
async fn lever_retries_five_more_times_until_a_2xx() {
    let sb = Sb::launch(VendorKind::Lever, opts(FAST)).await;
    let a = sb.active_app().await;
    let b = sb.active_app().await;
    let (rx, url) = Receiver::start(&[500, 503, 500], 200).await;
    let r = lever_create(&sb, &url, "candidateStageChange").await;
    let token = r.json::<Value>().await.unwrap()["data"]["configuration"]["signatureToken"]
        .as_str()
        .unwrap()
        .to_string();
    // Fails three times, then succeeds: four attempts, byte-identical.
    sb.post_control(&format!("applications/{a}/stage"), json!({"stage": 2}))
        .await;
    let got = rx.wait("event", "candidateStageChange", 4, 10).await;
    sb.settled(10).await;
    assert_eq!(rx.all().len(), 4);
    identical(&got);
    lever_signed(&got[3], &token);

    // Always failing: the first attempt and 5 retries, then it gives up.
    rx.script.lock().unwrap().extend([500; 10]);
    sb.post_control(&format!("applications/{b}/stage"), json!({"stage": 2}))
        .await;
    let got = rx.wait("event", "candidateStageChange", 10, 10).await;
    let d = sb.settled(10).await;
    assert_eq!(got.len(), 4 + 6);
    identical(&got[4..]);
    assert_eq!(d["counts"]["gave_up"], 1);
    assert_eq!(d["counts"]["delivered"], 1);
}

// ---------------------------------------------------------------------------
// Workable

fn workable_key(sb: &Sb) -> String {
    sb.creds["secret"]["apiKey"].as_str().unwrap().to_string()
}

async fn workable_subscribe(sb: &Sb, target: &str, event: &str) -> reqwest::Response {
    sb.http
        .post(sb.url("/spi/v3/subscriptions"))
        .bearer_auth(workable_key(sb))
        .json(&json!({"target": target, "event": event}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn workable_subscriptions_sign_the_body_with_the_account_token() {
    let sb = Sb::launch(VendorKind::Workable, opts(FAST)).await;
    let app = sb.active_app().await;
    let (rx, url) = Receiver::start(&[], 200).await;
    let r = workable_subscribe(&sb, &url, "candidate_moved").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    // The same target and event again: 409.
    let r = workable_subscribe(&sb, &url, "candidate_moved").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        workable_subscribe(&sb, &url, "candidate_deleted")
            .await
            .status(),
        StatusCode::CREATED
    );
    let r = sb
        .http
        .get(sb.url("/spi/v3/subscriptions"))
        .bearer_auth(workable_key(&sb))
        .send()
        .await
        .unwrap();
    let list = ok_json(r, "GET subscriptions").await;
    assert_eq!(list["subscriptions"][0]["id"], id);
    assert_eq!(list["subscriptions"][0]["target"], url.as_str());

    sb.post_control(&format!("applications/{app}/stage"), json!({"stage": 3}))
        .await;
    let got = rx.wait("event_type", "candidate_moved", 1, 5).await;
    assert_eq!(
        got[0].header("x-workable-signature"),
        hmac_hex(workable_key(&sb).as_bytes(), &got[0].body)
    );
    let data = &got[0].json()["data"];
    assert_eq!(data["id"], app.as_str());
    let r = sb
        .http
        .get(sb.url(&format!("/spi/v3/candidates/{app}")))
        .bearer_auth(workable_key(&sb))
        .send()
        .await
        .unwrap();
    let served = ok_json(r, "GET candidate").await;
    assert_eq!(served["candidate"]["stage"], data["stage"]);

    // Workable has no disqualification event: rejecting sends nothing.
    let (_, v) = sb
        .post_control(
            &format!("applications/{app}/reject"),
            json!({"reason": "withdrew"}),
        )
        .await;
    assert_eq!(v["events"], 0);
    let r = sb
        .http
        .get(sb.url(&format!("/spi/v3/candidates/{app}")))
        .bearer_auth(workable_key(&sb))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok_json(r, "GET candidate").await["candidate"]["withdrew"],
        true
    );

    sb.post_control("delete", json!({"application_ids": [app]}))
        .await;
    let got = rx.wait("event_type", "candidate_deleted", 1, 5).await;
    assert_eq!(got[0].json()["data"]["id"], app.as_str());

    let r = sb
        .http
        .delete(sb.url(&format!("/spi/v3/subscriptions/{id}")))
        .bearer_auth(workable_key(&sb))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn workable_retries_on_its_chosen_schedule() {
    let sb = Sb::launch(VendorKind::Workable, opts(FAST)).await;
    let app = sb.active_app().await;
    let (rx, url) = Receiver::start(&[], 500).await;
    workable_subscribe(&sb, &url, "candidate_moved").await;
    sb.post_control(&format!("applications/{app}/hire"), json!({}))
        .await;
    let got = rx.wait("event_type", "candidate_moved", 7, 10).await;
    let d = sb.settled(10).await;
    assert_eq!(got.len(), 7);
    identical(&got);
    assert_eq!(d["counts"]["gave_up"], 1);
}

#[tokio::test]
async fn the_time_scale_is_a_control() {
    let sb = Sb::launch(VendorKind::Workable, opts(1.0)).await;
    assert_eq!(
        sb.control_get("webhook_timing").await,
        json!({"scale": 1.0})
    );
    let r = sb
        .control(Method::PUT, "webhook_timing", json!({"scale": 0.001}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        sb.control_get("webhook_timing").await,
        json!({"scale": 0.001})
    );
    for bad in [
        json!({"scale": 0}),
        json!({"scale": -1}),
        json!({"scale": 1e9}),
    ] {
        let r = sb.control(Method::PUT, "webhook_timing", bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_counts_them() {
    let sb = Sb::launch(
        VendorKind::Workable,
        SandboxOptions {
            webhook_queue_cap: 5,
            ..opts(FAST)
        },
    )
    .await;
    let app = sb.active_app().await;
    // A receiver that takes half a second to answer (within the sender's
    // timeout): its slots fill up.
    let slow = axum::Router::new().route(
        "/hooks",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, slow).await.unwrap() });
    assert_eq!(
        workable_subscribe(&sb, &url, "candidate_moved")
            .await
            .status(),
        StatusCode::CREATED
    );
    for _ in 0..40 {
        let (status, _) = sb
            .post_control(
                "webhooks/emit",
                json!({"event": "candidate_moved", "applicationId": app}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let c = sb.deliveries().await["counts"].clone();
    assert!(c["queued"].as_u64().unwrap() <= 5, "{c}");
    // 16 in flight at most, 5 waiting: the rest was dropped (fewer when a
    // loaded machine emits slower than the receiver answers).
    assert!(c["dropped"].as_u64().unwrap() > 0, "{c}");
    let c = sb.settled(10).await["counts"].clone();
    assert_eq!(c["enqueued"], 40);
    assert_eq!(
        c["delivered"].as_u64().unwrap() + c["dropped"].as_u64().unwrap(),
        40,
        "{c}"
    );
}

/// The integrator's benchmark sends 200 events per second through `emit`;
/// the sandbox must keep up with far more.
#[tokio::test]
async fn emit_delivers_well_above_200_events_per_second() {
    let sb = Sb::launch(VendorKind::Lever, opts(FAST)).await;
    let app = sb.active_app().await;
    let (rx, url) = Receiver::start(&[], 200).await;
    assert_eq!(
        lever_create(&sb, &url, "candidateStageChange")
            .await
            .status(),
        StatusCode::CREATED
    );
    const N: usize = 1_000;
    let started = Instant::now();
    for _ in 0..N {
        sb.post_control(
            "webhooks/emit",
            json!({"event": "candidateStageChange", "applicationId": app}),
        )
        .await;
    }
    let got = rx.wait("event", "candidateStageChange", N, 30).await;
    let rate = N as f64 / started.elapsed().as_secs_f64();
    println!("emit → signed delivery: {rate:.0} events/s over {N} events (debug build)");
    assert_eq!(got.len(), N);
    // Each delivery has its own token.
    let tokens: std::collections::HashSet<String> =
        got.iter().map(|g| g.json()["token"].to_string()).collect();
    assert_eq!(tokens.len(), N);
    assert!(rate > 200.0, "{rate:.0} events/s");
}

#[tokio::test]
async fn anonymizing_a_candidate_is_an_event_in_greenhouse_only() {
    let gh = Sb::launch(VendorKind::Greenhouse, opts(FAST)).await;
    let app = gh.active_app().await;
    let (rx, url) = Receiver::start(&[], 200).await;
    gh_hook(&gh, &url, "s").await;
    let (status, v) = gh
        .post_control(
            &format!("applications/{app}/anonymize_candidate"),
            json!({}),
        )
        .await;
    assert_eq!((status, &v["events"]), (StatusCode::OK, &json!(1)));
    let got = rx.wait("action", "candidate_anonymized", 1, 5).await;
    gh_signed(&got[0], "s");
    assert!(got[0].json()["payload"]["anonymized_fields"].is_array());

    // Lever sends nothing, but the opportunity says it is anonymized.
    let lv = Sb::launch(VendorKind::Lever, opts(FAST)).await;
    let app = lv.active_app().await;
    let (_, v) = lv
        .post_control(
            &format!("applications/{app}/anonymize_candidate"),
            json!({}),
        )
        .await;
    assert_eq!(v["events"], 0);
    let opp = lever_get(&lv, &format!("/v1/opportunities/{app}")).await;
    assert_eq!(opp["data"]["isAnonymized"], true);
    assert_ne!(opp["data"]["emails"][0], json!(null));
}
