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

/// The stage the demo moves the new application to.
const STAGE: &str = "Technical Interview";

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

    post(
        http,
        &format!("{base}/_sandbox/applications/{id}/stage"),
        &json!({"stage": STAGE}),
    )
    .await?;
    let key = format!("{namespace}/{sync}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let outcomes = ledger
            .outcomes(&key, &id)
            .await
            .map_err(|e| DemoError::Other(e.to_string()))?;
        if let Some(o) = outcomes.last() {
            println!(
                "  {vendor}: moved to {STAGE} -> ledger: outcome {} (stage {}) beside score {}",
                o.outcome.category.as_str(),
                o.outcome.stage.as_deref().unwrap_or("-"),
                note_score(&note).unwrap_or_default(),
            );
            break;
        }
        if Instant::now() > deadline {
            return Err(DemoError::Other(format!(
                "{vendor}: the stage change of {id} was not recorded"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let s = api.get(sync).await?;
    let w = s.status.and_then(|s| s.webhooks).unwrap_or_default();
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
