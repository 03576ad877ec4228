//! Webhook latency: new applications created in a Greenhouse sandbox at a
//! steady rate (default 200 per second), each announced by the sandbox's
//! signed webhook to the operator's HTTP port; the operator records the
//! delivery, fetches the application, scores it and writes the note.
//!
//! Prints, for the applications in scope:
//! - end to end: from the sandbox's answer to the create (the webhook is then
//!   queued) to the ledger's confirmation of the write-back, p50 and p99;
//! - the operator's share: from the delivery's acceptance (ledger write,
//!   before the 200) to its processing (fetched, scored, written, recorded),
//!   from `ats_webhook_processing_seconds` (interpolated in its buckets, as
//!   Prometheus' `histogram_quantile` does).
//!
//! cargo bench --bench webhooks [BENCH_WEBHOOK_EVENTS=1000 BENCH_WEBHOOK_RATE=200]

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ats_operator::ledger::Ledger;
use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Quantile `q` of sorted `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i.min(v.len() - 1)]
}

/// `histogram_quantile` over the `_bucket` lines of `metric` in `text`.
fn histogram_quantile(text: &str, metric: &str, q: f64) -> f64 {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(&format!("{metric}_bucket{{")) else {
            continue;
        };
        let Some(le) = rest.split("le=\"").nth(1).and_then(|s| s.split('"').next()) else {
            continue;
        };
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().unwrap_or(f64::NAN)
        };
        let count: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0.0);
        buckets.push((le, count));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().map_or(0.0, |b| b.1);
    if total == 0.0 {
        return f64::NAN;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for (le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return prev.0;
            }
            let span = count - prev.1;
            let frac = if span > 0.0 {
                (rank - prev.1) / span
            } else {
                1.0
            };
            return prev.0 + (le - prev.0) * frac;
        }
        prev = (le, count);
    }
    f64::NAN
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("webhooks: run with `cargo bench --bench webhooks`");
        return;
    }
    let events = env_or("BENCH_WEBHOOK_EVENTS", 1000) as usize;
    let rate = env_or("BENCH_WEBHOOK_RATE", 200).max(1);
    let (cluster, client) = common::control_plane().await.expect("control plane");
    let sb = common::start_sized_sandbox("greenhouse", 50, 5, "off", 42).await;
    let creds = common::json(&format!("{}/_sandbox/credentials", sb.base)).await;
    let ns = "bench-webhooks";
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("namespace");
    let pp = PatchParams::apply("bench").force();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let mut data = creds["secret"].clone();
    data["webhook"] = json!("whsec-bench");
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "ats-credentials", "labels": {"ats.dev/credentials": "true"}},
        "stringData": data,
    }))
    .unwrap();
    secrets
        .patch("ats-credentials", &pp, &Patch::Apply(&secret))
        .await
        .expect("secret");
    let c = &creds["connection"];
    let (mut conn, mut profile, mut sync) = ats_operator::demo::example_resources(
        c["baseUrl"].as_str().unwrap_or_default(),
        c["tokenUrl"].as_str().unwrap_or_default(),
    )
    .expect("example");
    conn.metadata.namespace = Some(ns.into());
    conn.spec.auth.secret_name = "ats-credentials".into();
    conn.spec.auth.sub = c["sub"].as_str().map(str::to_string);
    conn.spec.webhook_secret_ref = Some(ats_operator::api::SecretKeyRef {
        name: "ats-credentials".into(),
        key: "webhook".into(),
    });
    profile.metadata.namespace = Some(ns.into());
    profile.spec.labels = ats_operator::api::LabelPolicy::Always;
    sync.metadata.namespace = Some(ns.into());
    sync.spec.schedule = "24h".into();
    let conn_name = conn.metadata.name.clone().unwrap_or_default();
    let sync_name = sync.metadata.name.clone().unwrap_or_default();
    for (kind, value) in [
        ("conn", serde_json::to_value(&conn).unwrap()),
        ("profile", serde_json::to_value(&profile).unwrap()),
        ("sync", serde_json::to_value(&sync).unwrap()),
    ] {
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut v = value;
        v["apiVersion"] = json!("ats.dev/v1alpha1");
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
            client.clone(),
            ns,
            &kube::api::ApiResource {
                group: "ats.dev".into(),
                version: "v1alpha1".into(),
                api_version: "ats.dev/v1alpha1".into(),
                kind: v["kind"].as_str().unwrap_or_default().into(),
                plural: match kind {
                    "conn" => "atsconnections",
                    "profile" => "scoringprofiles",
                    _ => "atssyncs",
                }
                .into(),
            },
        );
        api.patch(&name, &pp, &Patch::Apply(&v))
            .await
            .expect("apply");
    }

    let dir = tempfile::tempdir().unwrap();
    let ledger_path = dir.path().join("ledger.db");
    let ledger = Arc::new(Ledger::open(&ledger_path).expect("ledger"));
    let port = common::free_port();
    let mut opts = ats_operator::controller::Options::namespaced(ns);
    opts.metrics_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    opts.webhook_max_pending = 100_000;
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(ats_operator::controller::run(
        client.clone(),
        ledger.clone(),
        opts,
        async move {
            let _ = rx.await;
        },
    ));
    // The first sync done, the webhook route up.
    let syncs: Api<ats_operator::api::AtsSync> = Api::namespaced(client.clone(), ns);
    let t = Instant::now();
    loop {
        let s = syncs.get(&sync_name).await.expect("sync");
        let ready = s.status.as_ref().is_some_and(|st| {
            st.last_successful_sync_time.is_some()
                && st.webhooks.as_ref().is_some_and(|w| w.url.is_some())
        });
        if ready {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "no first sync");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let http = reqwest::Client::new();
    let hook = http
        .post(format!("{}/_sandbox/webhooks", sb.base))
        .json(&json!({"url": format!("http://127.0.0.1:{port}/webhooks/{ns}/{conn_name}"), "secret": "whsec-bench"}))
        .send()
        .await
        .expect("webhook")
        .json::<Value>()
        .await
        .expect("webhook json");
    assert_eq!(hook["active"], true, "{hook}");

    // Creates at a steady rate; each create's answer time per application id.
    let mut created: HashMap<String, DateTime<Utc>> = HashMap::new();
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    for i in 0..events {
        tokio::time::sleep_until(start + every * i as u32).await;
        let r: Value = http
            .post(format!("{}/_sandbox/applications", sb.base))
            .json(&json!({"count": 1}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("create json");
        let at = Utc::now();
        for id in r["application_ids"].as_array().into_iter().flatten() {
            created.insert(id.as_str().unwrap_or_default().to_string(), at);
        }
    }
    let sent_secs = start.elapsed().as_secs_f64();
    // In scope: the applications of open jobs.
    let apps = common::json(&format!("{}/_sandbox/applications", sb.base)).await;
    let open: Vec<String> = apps
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["job_status"] == "open")
        .map(|a| match &a["id"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        })
        .filter(|id| created.contains_key(id))
        .collect();
    let key = format!("{ns}/{sync_name}");
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    for id in &open {
        loop {
            let w = ledger.write_state(&key, id).await.expect("ledger");
            if let Some(at) = w.and_then(|w| w.written_at) {
                let ms = (at - created[id]).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                latencies.push(ms);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "application {id} not written back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    latencies.sort_by(f64::total_cmp);
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let metric = "ats_webhook_processing_seconds";
    println!(
        "{events} new applications at {rate}/s (sent in {sent_secs:.1} s), {} in scope and written back",
        open.len()
    );
    println!(
        "end to end (create answered -> write-back confirmed): p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "operator's share (delivery accepted -> processed): p50 {:.1} ms  p99 {:.1} ms (histogram)",
        histogram_quantile(&metrics, metric, 0.5) * 1000.0,
        histogram_quantile(&metrics, metric, 0.99) * 1000.0
    );
    let _ = stop.send(());
    let _ = operator.await;
    drop(cluster);
}
