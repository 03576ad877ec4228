//! The vendor clients register, list and remove the operator's webhooks
//! through the vendors' APIs (Lever `/v1/webhooks`, Workable
//! `/spi/v3/subscriptions`), against the sandboxes; registration survives a
//! crash between creating and storing; Greenhouse has no such API.

use std::collections::BTreeSet;
use std::sync::Arc;

use ats_operator::model::VendorKind;
use ats_operator::sandbox::{self, RunningSandbox, SandboxOptions};
use ats_operator::vendors::webhooks::{LEVER_EVENTS, WORKABLE_EVENTS, WebhookRegistration};
use ats_operator::vendors::{AtsClient, VendorError, connect};
use serde_json::{Value, json};
use support::client::{get, post};
use support::receiver::{Receiver, hmac_hex};
use support::spec;

mod support;

async fn start(vendor: VendorKind) -> RunningSandbox {
    let opts = SandboxOptions {
        applications: 30,
        jobs: 4,
        rate_limit: None,
        webhook_time_scale: 0.0001,
        ..SandboxOptions::default()
    };
    sandbox::start(vendor, "127.0.0.1:0".parse().unwrap(), opts)
        .await
        .expect("sandbox")
}

async fn client(sb: &RunningSandbox, vendor: VendorKind) -> Arc<dyn AtsClient> {
    let creds = get(sb, "credentials").await;
    let cfg = spec::described(vendor, &creds, &["apiKey"]);
    connect(&cfg, None).expect("client")
}

fn ids(regs: &[WebhookRegistration]) -> BTreeSet<String> {
    regs.iter().map(|r| r.id.clone()).collect()
}

fn events(regs: &[WebhookRegistration]) -> BTreeSet<&str> {
    regs.iter().map(|r| r.event.as_str()).collect()
}

/// An active application: the first whose stage can be changed.
async fn active_app(sb: &RunningSandbox) -> String {
    let http = reqwest::Client::new();
    for a in get(sb, "applications").await.as_array().unwrap() {
        let id = a["id"]
            .as_str()
            .map_or_else(|| a["id"].to_string(), str::to_string);
        let r = http
            .post(format!("{}/_sandbox/applications/{id}/stage", sb.base_url))
            .json(&json!({"stage": 1}))
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            return id;
        }
    }
    panic!("no active application");
}

#[tokio::test]
async fn lever_registers_with_tokens_and_replaces_what_it_cannot_verify() {
    let sb = start(VendorKind::Lever).await;
    let c = client(&sb, VendorKind::Lever).await;
    let app = active_app(&sb).await;
    let (rx, url) = Receiver::start(&[], 200).await;
    let other = "http://127.0.0.1:9/elsewhere";
    let kept = c.register_webhooks(other).await.expect("other url");

    let regs = c.register_webhooks(&url).await.expect("register");
    assert_eq!(events(&regs), LEVER_EVENTS.into_iter().collect());
    assert!(regs.iter().all(|r| r.url == url));
    assert!(regs.iter().all(|r| {
        r.signing_token
            .as_ref()
            .is_some_and(|t| t.expose().len() == 48)
    }));

    // The returned token verifies Lever's deliveries.
    post(&sb, &format!("applications/{app}/hire"), json!({})).await;
    let got = rx.wait("event", "candidateHired", 1, 5).await;
    let hired = regs.iter().find(|r| r.event == "candidateHired").unwrap();
    let v = got[0].json();
    let msg = format!("{}{}", v["token"].as_str().unwrap(), v["triggeredAt"]);
    let token = hired.signing_token.as_ref().unwrap().expose();
    assert_eq!(v["signature"], hmac_hex(token.as_bytes(), msg.as_bytes()));

    // Listings carry no token.
    let listed = c.list_webhooks().await.expect("list");
    assert_eq!(listed.len(), 10);
    assert!(listed.iter().all(|r| r.signing_token.is_none()));

    // A crash before the tokens were stored: registering again replaces them.
    let again = c.register_webhooks(&url).await.expect("again");
    assert_eq!(again.len(), 5);
    assert!(ids(&again).is_disjoint(&ids(&regs)));
    // With the tokens held, nothing changes.
    let held = c
        .register_webhooks_known(&url, &again)
        .await
        .expect("known");
    assert_eq!(ids(&held), ids(&again));
    assert_eq!(held.iter().filter(|r| r.signing_token.is_some()).count(), 5);
    let listed = c.list_webhooks().await.expect("list");
    assert_eq!(listed.len(), 10, "the other URL's webhooks stay");

    let mut gone: Vec<String> = ids(&held).into_iter().collect();
    gone.push("00000000-0000-4000-8000-000000000000".into());
    c.unregister_webhooks(&gone)
        .await
        .expect("unregister; 404 is removed");
    assert_eq!(ids(&c.list_webhooks().await.unwrap()), ids(&kept));
}

#[tokio::test]
async fn workable_adopts_existing_subscriptions() {
    let sb = start(VendorKind::Workable).await;
    let c = client(&sb, VendorKind::Workable).await;
    let url = "http://127.0.0.1:9/webhooks/ns/conn";
    // One made before a crash, and one for an event no longer wanted.
    let key = get(&sb, "credentials").await["secret"]["apiKey"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let mut made = Vec::new();
    for event in ["candidate_created", "employee_created"] {
        let r = http
            .post(format!("{}/spi/v3/subscriptions", sb.base_url))
            .bearer_auth(&key)
            .json(&json!({"target": url, "event": event}))
            .send()
            .await
            .unwrap();
        made.push(r.json::<Value>().await.unwrap()["id"].to_string());
    }
    let regs = c.register_webhooks(url).await.expect("register");
    assert_eq!(events(&regs), WORKABLE_EVENTS.into_iter().collect());
    assert!(ids(&regs).contains(&made[0]), "adopted");
    assert!(regs.iter().all(|r| r.signing_token.is_none()));
    let listed = c.list_webhooks().await.expect("list");
    assert_eq!(ids(&listed), ids(&regs), "the unwanted one is gone");
    // Idempotent: no 409, nothing new.
    let again = c.register_webhooks(url).await.expect("again");
    assert_eq!(ids(&again), ids(&regs));

    let all: Vec<String> = ids(&regs)
        .into_iter()
        .chain(["999999".to_string()])
        .collect();
    c.unregister_webhooks(&all).await.expect("unregister");
    assert!(c.list_webhooks().await.unwrap().is_empty());
}

#[tokio::test]
async fn greenhouse_has_no_webhook_api() {
    let sb = start(VendorKind::Greenhouse).await;
    let creds = get(&sb, "credentials").await;
    let c = connect(&spec::greenhouse(&sb.base_url, &creds), None).expect("client");
    for err in [
        c.register_webhooks("http://127.0.0.1:9/x").await.err(),
        c.list_webhooks().await.err(),
        c.unregister_webhooks(&["1".into()]).await.err(),
    ] {
        assert!(matches!(err, Some(VendorError::Config(m)) if m.contains("no API for webhooks")));
    }
}
