//! The demo's real-time part, per tenant: the vendor's webhook set up
//! (Greenhouse's by hand, as in its UI; Lever's and Workable's registered by
//! the operator), a new application in the sandbox and the time until its
//! score note is in the ATS, then a stage change recorded beside the score.

use std::time::{Duration, Instant};

use kube::Client;
use kube::api::Api;
use serde_json::{Value, json};

use super::{DemoError, GREENHOUSE_WEBHOOK_KEY, get_json, note_score};
use crate::api::{AtsSync, WebhookStatus};
use crate::ledger::Ledger;
use crate::model::VendorKind;

/// The stages the demo moves an application to (the second when it is
/// already in the first).
const STAGES: [&str; 2] = ["Technical Interview", "Onsite Interview"];

#[allow(clippy::too_many_arguments)]
pub(super) async fn show(
    client: &Client,
    http: &reqwest::Client,
    ledger: &Ledger,
    vendor: VendorKind,
    namespace: &str,
    sync: &str,
    base: &str,
) -> Result<(), DemoError> {
    let api = Api::<AtsSync>::namespaced(client.clone(), namespace);
    let hooks = wait_webhooks(&api, sync, vendor).await?;
    let url = hooks.url.unwrap_or_default();
    if vendor == VendorKind::Greenhouse {
        let answer: Value = post(
            http,
            &format!("{base}/_sandbox/webhooks"),
            &json!({"url": url, "secret": GREENHOUSE_WEBHOOK_KEY}),
        )
        .await?;
        if answer["active"] != json!(true) {
            return Err(DemoError::Sandbox(format!("webhook not created: {answer}")));
        }
        println!("  {vendor}: webhook to {url}, typed into Greenhouse's form (as in its UI)");
    } else {
        println!(
            "  {vendor}: webhook to {url}, registered by the operator ({})",
            hooks.registered.join(", ")
        );
    }

    let (id, created) = new_open_application(http, base).await?;
    let (after, note) = wait_note(http, base, &id, created).await?;
    println!(
        "  {vendor}: new application {id} -> \"{note}\" in the ATS {} ms after it was created",
        after.as_millis()
    );

    // A recruiter moves an application on (the new one, if it is still in
    // process: the sandbox creates some already decided, as real data is).
    let (moved, stage) = move_one(http, base, &id).await?;
    let note = if moved == id {
        note
    } else {
        wait_note(http, base, &moved, Instant::now()).await?.1
    };
    let key = format!("{namespace}/{sync}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let outcomes = ledger
            .outcomes(&key, &moved)
            .await
            .map_err(|e| DemoError::Other(e.to_string()))?;
        if let Some(o) = outcomes.last() {
            println!(
                "  {vendor}: application {moved} moved to {stage} -> ledger: outcome {} (stage {}) beside score {}",
                o.outcome.category.as_str(),
                o.outcome.stage.as_deref().unwrap_or("-"),
                note_score(&note).unwrap_or_default(),
            );
            break;
        }
        if Instant::now() > deadline {
            return Err(DemoError::Other(format!(
                "{vendor}: the stage change of {moved} was not recorded"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Status follows the processing by a moment.
    let mut w = WebhookStatus::default();
    for _ in 0..50 {
        w = api
            .get(sync)
            .await?
            .status
            .and_then(|s| s.webhooks)
            .unwrap_or_default();
        if w.accepted >= 2 && w.processed == w.accepted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "  {vendor}: status.webhooks: accepted {}, processed {}, pending {}",
        w.accepted, w.processed, w.pending
    );
    Ok(())
}

/// The sync's webhook status once the route is up (and, for vendors with a
/// registration API, once the operator registered).
async fn wait_webhooks(
    api: &Api<AtsSync>,
    sync: &str,
    vendor: VendorKind,
) -> Result<WebhookStatus, DemoError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = api.get(sync).await?;
        if let Some(w) = s.status.and_then(|s| s.webhooks) {
            let registered = vendor == VendorKind::Greenhouse || !w.registered.is_empty();
            if w.url.is_some() && registered {
                return Ok(w);
            }
        }
        if Instant::now() > deadline {
            return Err(DemoError::Other(format!(
                "{sync}: webhooks not set up in time"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A new application in the sandbox on an open job (in the sync's scope),
/// and when the sandbox answered its creation.
async fn new_open_application(
    http: &reqwest::Client,
    base: &str,
) -> Result<(String, Instant), DemoError> {
    for _ in 0..50 {
        let r = post(
            http,
            &format!("{base}/_sandbox/applications"),
            &json!({"count": 1}),
        )
        .await?;
        let created = Instant::now();
        let Some(id) = r["application_ids"]
            .as_array()
            .and_then(|ids| ids.first())
            .and_then(Value::as_str)
        else {
            return Err(DemoError::Sandbox(format!("no application created: {r}")));
        };
        let a = get_json(http, &format!("{base}/_sandbox/applications/{id}")).await?;
        if a["job_status"] == "open" {
            return Ok((id.to_string(), created));
        }
    }
    Err(DemoError::Sandbox(
        "no new application landed on an open job".into(),
    ))
}

/// How long after `created` the application's first score note appeared, and
/// the note's first line.
async fn wait_note(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    created: Instant,
) -> Result<(Duration, String), DemoError> {
    loop {
        let w = get_json(http, &format!("{base}/_sandbox/applications/{id}/writes")).await?;
        if let Some(first) = w["notes"]
            .as_array()
            .and_then(|n| n.last())
            .and_then(Value::as_str)
            .and_then(|b| b.lines().next())
        {
            return Ok((created.elapsed(), first.to_string()));
        }
        if created.elapsed() > Duration::from_secs(10) {
            return Err(DemoError::Other(format!(
                "application {id}: no score in the ATS after 10 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Moves `first` (else another application still in process) to a later
/// stage; returns the application and the stage.
async fn move_one(
    http: &reqwest::Client,
    base: &str,
    first: &str,
) -> Result<(String, &'static str), DemoError> {
    let listed = get_json(http, &format!("{base}/_sandbox/applications")).await?;
    let others = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| match &a["id"] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    for id in std::iter::once(first.to_string()).chain(others).take(200) {
        for stage in STAGES {
            let r = http
                .post(format!("{base}/_sandbox/applications/{id}/stage"))
                .json(&json!({"stage": stage}))
                .send()
                .await
                .map_err(|e| DemoError::Sandbox(e.to_string()))?;
            if r.status().is_success() {
                return Ok((id, stage));
            }
        }
    }
    Err(DemoError::Sandbox(
        "no application in process to move".into(),
    ))
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value, DemoError> {
    http.post(url)
        .json(body)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| DemoError::Sandbox(e.to_string()))?
        .json()
        .await
        .map_err(|e| DemoError::Sandbox(e.to_string()))
}
