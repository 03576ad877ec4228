//! `ats-operator demo`: a local control plane, a sandbox per vendor (Greenhouse,
//! Lever, Workable), a tenant each from `examples/<vendor>.yaml`, the operator, and
//! a printed table of status and scores, read back from the API server and the ATS.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::api::{AtsConnection, AtsSync, ScoringProfile, conditions};
use crate::devcluster::{DevCluster, DevClusterError};
use crate::ledger::Ledger;
use crate::model::VendorKind;
use crate::sandbox::{self, SandboxOptions};

mod realtime;

/// One tenant per vendor: (vendor, example, namespace, Secret name, Secret keys).
struct DemoTenant {
    vendor: VendorKind,
    example: &'static str,
    namespace: &'static str,
    secret: &'static str,
    keys: &'static [&'static str],
    /// The sandbox's API limit for the demo: the real shape, roomier so it is quick.
    rate_limit: (u32, u64),
}

const TENANTS: [DemoTenant; 3] = [
    DemoTenant {
        vendor: VendorKind::Greenhouse,
        example: include_str!("../examples/greenhouse.yaml"),
        namespace: "tenant-acme",
        secret: "greenhouse-credentials",
        keys: &["clientId", "clientSecret"],
        rate_limit: (500, 30),
    },
    DemoTenant {
        vendor: VendorKind::Lever,
        example: include_str!("../examples/lever.yaml"),
        namespace: "tenant-globex",
        secret: "lever-credentials",
        keys: &["clientId", "clientSecret", "refreshToken"],
        rate_limit: (20, 1),
    },
    DemoTenant {
        vendor: VendorKind::Workable,
        example: include_str!("../examples/workable.yaml"),
        namespace: "tenant-initech",
        secret: "workable-credentials",
        keys: &["apiKey"],
        rate_limit: (100, 10),
    },
];

/// The key "typed into Greenhouse's webhook form" in the demo.
const GREENHOUSE_WEBHOOK_KEY: &str = "demo-greenhouse-webhook-key";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("local control plane: {0}")]
    Cluster(#[from] DevClusterError),
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
    #[error("sandbox: {0}")]
    Sandbox(String),
    #[error("example YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("{0}")]
    Other(String),
}

/// The Greenhouse example resources with the sandbox's URLs filled in.
pub fn example_resources(
    base_url: &str,
    token_url: &str,
) -> Result<(AtsConnection, ScoringProfile, AtsSync), serde_yaml::Error> {
    parse_example(
        TENANTS[0].example,
        &json!({"baseUrl": base_url, "tokenUrl": token_url}),
    )
}

/// An example file with `${BASE_URL}`, `${TOKEN_URL}`, `${SUBDOMAIN}`,
/// `${SUB}` and `${WEBHOOK_BASE_URL}` filled in from a sandbox's `connection`
/// (plus `webhookBaseUrl`); without a webhook base URL, webhooks are left out.
fn parse_example(
    text: &str,
    connection: &Value,
) -> Result<(AtsConnection, ScoringProfile, AtsSync), serde_yaml::Error> {
    let field = |k: &str| connection[k].as_str().unwrap_or_default().to_string();
    let text = text
        .replace("${BASE_URL}", &field("baseUrl"))
        .replace("${TOKEN_URL}", &field("tokenUrl"))
        .replace("${SUBDOMAIN}", &field("subdomain"))
        .replace("${SUB}", &field("sub"))
        .replace("${WEBHOOK_BASE_URL}", &field("webhookBaseUrl"));
    let mut docs = text.split("\n---\n");
    let mut conn: AtsConnection = serde_yaml::from_str(docs.next().unwrap_or_default())?;
    let profile = serde_yaml::from_str(docs.next().unwrap_or_default())?;
    let mut sync: AtsSync = serde_yaml::from_str(docs.next().unwrap_or_default())?;
    if field("webhookBaseUrl").is_empty() {
        conn.spec.webhook_secret_ref = None;
        sync.spec.webhooks = None;
    }
    Ok((conn, profile, sync))
}

pub async fn run(applications: usize, keep: bool) -> Result<(), DemoError> {
    println!("Starting a local kube-apiserver and etcd ...");
    let cluster = DevCluster::start_ephemeral().await?;
    let client = Client::try_from(cluster.kube_config())?;
    crate::controller::install_crds(&client)
        .await
        .map_err(|e| DemoError::Other(e.to_string()))?;
    let http = reqwest::Client::new();

    // The operator's HTTP port (metrics, health, webhooks): the vendors' webhooks
    // reach it there, as through an Ingress in a cluster.
    let http_addr = free_loopback_addr()?;
    let webhook_base_url = format!("http://{http_addr}");
    let mut sandboxes = Vec::new();
    let mut syncs = Vec::new();
    for t in &TENANTS {
        println!(
            "Starting the {} sandbox with {applications} applications ...",
            t.vendor
        );
        let sb = sandbox::start(
            t.vendor,
            "127.0.0.1:0"
                .parse()
                .map_err(|_| DemoError::Other("address".into()))?,
            SandboxOptions {
                applications,
                jobs: (applications / 10).clamp(3, 30),
                rate_limit: Some((t.rate_limit.0, Duration::from_secs(t.rate_limit.1))),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| DemoError::Sandbox(e.to_string()))?;
        let creds = get_json(&http, &format!("{}/_sandbox/credentials", sb.base_url)).await?;
        let sync = apply_tenant(&client, t, &creds, &webhook_base_url).await?;
        syncs.push((t, sync));
        sandboxes.push(sb);
    }

    println!("Running the operator ...");
    let ledger_dir = cluster.dir().join("ledger");
    let ledger =
        Ledger::open(&ledger_dir.join("ledger.db")).map_err(|e| DemoError::Other(e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let opts = crate::controller::Options {
        namespace: None,
        leader: None,
        max_concurrent_syncs: crate::controller::DEFAULT_MAX_CONCURRENT_SYNCS,
        // The demo's sandboxes listen on loopback, as custom endpoints.
        allow_private_endpoints: true,
        custom_endpoints: crate::controller::policy::CustomEndpoints::Everywhere,
        download_hosts: Vec::new(),
        watch_label_selector: None,
        shard: None,
        metrics_addr: Some(http_addr),
        semantic: None,
        webhook_max_pending: crate::controller::webhooks::DEFAULT_MAX_PENDING,
        webhook_body_limit: crate::controller::webhooks::DEFAULT_BODY_LIMIT,
        webhook_lever_window: crate::controller::webhooks::DEFAULT_LEVER_WINDOW,
    };
    let ledger = Arc::new(ledger);
    let operator = tokio::spawn(crate::controller::run(
        client.clone(),
        ledger.clone(),
        opts,
        async move {
            let _ = stop_rx.await;
        },
    ));

    let mut ready = Vec::new();
    for (t, name) in &syncs {
        let api = Api::<AtsSync>::namespaced(client.clone(), t.namespace);
        ready.push(wait_ready(&api, name, Duration::from_secs(300)).await?);
    }
    print_status(&ready);
    for ((t, _), sb) in syncs.iter().zip(&sandboxes) {
        print_scores(&http, t.vendor, &sb.base_url).await?;
    }
    println!("\nWebhooks: a recruiter's change in the ATS, scored in real time");
    for ((t, name), sb) in syncs.iter().zip(&sandboxes) {
        realtime::show(
            &client,
            &http,
            &ledger,
            t.vendor,
            t.namespace,
            name,
            &sb.base_url,
        )
        .await?;
    }
    if keep {
        println!(
            "\nkubeconfig: {}  (try: kubectl --kubeconfig {} get ats -A)",
            cluster.kubeconfig_path().display(),
            cluster.kubeconfig_path().display()
        );
        println!("Running until Ctrl-C ...");
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop_tx.send(());
    let _ = operator.await;
    drop(cluster);
    Ok(())
}

/// The tenant's namespace, Secret and example resources; returns the sync's name.
async fn apply_tenant(
    client: &Client,
    t: &DemoTenant,
    creds: &Value,
    webhook_base_url: &str,
) -> Result<String, DemoError> {
    let other = |e: serde_json::Error| DemoError::Other(e.to_string());
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": t.namespace}})).map_err(other)?,
        )
        .await?;
    let mut data: serde_json::Map<String, Value> = t
        .keys
        .iter()
        .map(|k| (k.to_string(), creds["secret"][*k].clone()))
        .collect();
    if t.vendor == VendorKind::Greenhouse {
        data.insert("webhookSecret".into(), json!(GREENHOUSE_WEBHOOK_KEY));
    }
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": t.secret, "namespace": t.namespace, "labels": {"ats.dev/credentials": "true"}},
        "stringData": data,
    }))
    .map_err(other)?;
    Api::<Secret>::namespaced(client.clone(), t.namespace)
        .create(&PostParams::default(), &secret)
        .await?;
    let mut connection = creds["connection"].clone();
    connection["webhookBaseUrl"] = json!(webhook_base_url);
    let (conn, profile, sync) = parse_example(t.example, &connection)?;
    let pp = PatchParams::apply("demo");
    Api::<AtsConnection>::namespaced(client.clone(), t.namespace)
        .patch(&conn.name_any(), &pp, &Patch::Apply(&conn))
        .await?;
    Api::<ScoringProfile>::namespaced(client.clone(), t.namespace)
        .patch(&profile.name_any(), &pp, &Patch::Apply(&profile))
        .await?;
    Api::<AtsSync>::namespaced(client.clone(), t.namespace)
        .patch(&sync.name_any(), &pp, &Patch::Apply(&sync))
        .await?;
    Ok(sync.name_any())
}

/// A free port on loopback for the operator's HTTP server.
fn free_loopback_addr() -> Result<std::net::SocketAddr, DemoError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| DemoError::Other(format!("no free port on loopback: {e}")))
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, DemoError> {
    http.get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| DemoError::Sandbox(e.to_string()))?
        .json()
        .await
        .map_err(|e| DemoError::Sandbox(e.to_string()))
}

async fn wait_ready(
    api: &Api<AtsSync>,
    name: &str,
    timeout: Duration,
) -> Result<AtsSync, DemoError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let s = api.get(name).await?;
        let conds = s
            .status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default();
        if conditions::find(&conds, conditions::READY).is_some_and(|c| c.is_true()) {
            return Ok(s);
        }
        if tokio::time::Instant::now() > deadline {
            let why = conditions::find(&conds, conditions::READY)
                .map(|c| format!("{}: {}", c.reason, c.message))
                .unwrap_or_else(|| "no status yet".into());
            return Err(DemoError::Other(format!(
                "AtsSync {name} not Ready in time ({why})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn print_status(syncs: &[AtsSync]) {
    println!("\n$ kubectl get atssyncs -A");
    println!(
        "{:<15} {:<25} {:<11} {:<6} {:<7} {:<25} {:>6}",
        "NAMESPACE", "NAME", "VENDOR", "READY", "SYNCED", "LAST SYNC", "SCORED"
    );
    for s in syncs {
        let st = s.status.clone().unwrap_or_default();
        let cond = |t: &str| {
            conditions::find(&st.conditions, t)
                .map(|c| c.status.clone())
                .unwrap_or_default()
        };
        println!(
            "{:<15} {:<25} {:<11} {:<6} {:<7} {:<25} {:>6}",
            s.namespace().unwrap_or_default(),
            s.name_any(),
            st.vendor.clone().unwrap_or_default(),
            cond("Ready"),
            cond("Synced"),
            st.last_sync_time.clone().unwrap_or_default(),
            st.totals.as_ref().map(|t| t.scored).unwrap_or(0)
        );
    }
    for s in syncs {
        let st = s.status.clone().unwrap_or_default();
        println!(
            "\n{}/{} conditions:",
            s.namespace().unwrap_or_default(),
            s.name_any()
        );
        for c in &st.conditions {
            println!(
                "  {:<8} {:<6} {:<10} {}",
                c.type_, c.status, c.reason, c.message
            );
        }
        if let Some(n) = &st.next_sync_time {
            println!("  next sync: {n}");
        }
    }
}

/// Reads back what the operator wrote into each application of the sandbox.
async fn print_scores(
    http: &reqwest::Client,
    vendor: VendorKind,
    base: &str,
) -> Result<(), DemoError> {
    let apps = get_json(http, &format!("{base}/_sandbox/applications")).await?;
    let mut rows: Vec<(i64, String, String)> = Vec::new();
    for a in apps.as_array().into_iter().flatten() {
        let id = match &a["id"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let w = get_json(http, &format!("{base}/_sandbox/applications/{id}/writes")).await?;
        let Some(body) = w["notes"]
            .as_array()
            .and_then(|n| n.last())
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(score) = note_score(body) else {
            continue;
        };
        let tags: Vec<&str> = w["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|t| t.starts_with("ai-"))
            .collect();
        let mut summary = summarize_note(body);
        if !tags.is_empty() {
            summary = format!("[{}] {summary}", tags.join(","));
        }
        rows.push((score, id, summary));
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    println!("\nScores written to {vendor}, best first:");
    println!(
        "{:<38} {:>5}  BAND | FIRST STRENGTH | FIRST GAP",
        "APPLICATION", "SCORE"
    );
    // The best and the weakest, so the spread shows.
    let (top, bottom) = (4, 2);
    for (i, (score, id, note)) in rows.iter().enumerate() {
        if i < top || i + bottom >= rows.len() {
            println!("{id:<38} {score:>5}  {note}");
        } else if i == top {
            println!(
                "{:<38} {:>5}  ({} more)",
                "...",
                "",
                rows.len() - top - bottom
            );
        }
    }
    Ok(())
}

/// The score on a note's first line: "AI match score: 87/100 (strong fit)".
fn note_score(body: &str) -> Option<i64> {
    body.lines()
        .next()?
        .strip_prefix("AI match score: ")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// The band, first strength and first gap of a score note.
fn summarize_note(body: &str) -> String {
    let band = body
        .lines()
        .next()
        .and_then(|l| l.split_once('(').map(|(_, b)| b.trim_end_matches(')')))
        .unwrap_or("");
    let first_after = |heading: &str| {
        body.lines()
            .skip_while(|l| *l != heading)
            .nth(1)
            .and_then(|l| l.strip_prefix("- "))
            .unwrap_or("-")
            .to_string()
    };
    format!(
        "{band} | {} | {}",
        first_after("Strengths:"),
        first_after("Gaps:")
    )
}
