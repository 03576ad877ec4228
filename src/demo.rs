//! `ats-operator demo`: a local control plane, the Greenhouse sandbox, the example
//! resources from `examples/greenhouse.yaml`, the operator, and a printed table of
//! status and scores, read back the way a user would (the API server and the ATS).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::Value;

use crate::api::{AtsConnection, AtsSync, ScoringProfile, conditions};
use crate::devcluster::{DevCluster, DevClusterError};
use crate::ledger::Ledger;
use crate::sandbox::{self, SandboxOptions};

const EXAMPLE: &str = include_str!("../examples/greenhouse.yaml");
const NAMESPACE: &str = "tenant-acme";

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

/// The example resources with the sandbox's URLs filled in.
pub fn example_resources(
    base_url: &str,
    token_url: &str,
) -> Result<(AtsConnection, ScoringProfile, AtsSync), serde_yaml::Error> {
    let text = EXAMPLE
        .replace("${BASE_URL}", base_url)
        .replace("${TOKEN_URL}", token_url);
    let mut docs = text.split("\n---\n");
    let conn = serde_yaml::from_str(docs.next().unwrap_or_default())?;
    let profile = serde_yaml::from_str(docs.next().unwrap_or_default())?;
    let sync = serde_yaml::from_str(docs.next().unwrap_or_default())?;
    Ok((conn, profile, sync))
}

pub async fn run(applications: usize, keep: bool) -> Result<(), DemoError> {
    println!("Starting a local kube-apiserver and etcd ...");
    let cluster = DevCluster::start_ephemeral().await?;
    let client = Client::try_from(cluster.kube_config())?;
    crate::controller::install_crds(&client)
        .await
        .map_err(|e| DemoError::Other(e.to_string()))?;

    println!("Starting the Greenhouse v3 sandbox with {applications} applications ...");
    let sb = sandbox::start_greenhouse(
        "127.0.0.1:0"
            .parse()
            .map_err(|_| DemoError::Other("address".into()))?,
        SandboxOptions {
            applications,
            jobs: (applications / 10).clamp(3, 30),
            // The real limit shape, roomy enough for a quick demo.
            rate_limit: Some((500, Duration::from_secs(30))),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| DemoError::Sandbox(e.to_string()))?;
    let http = reqwest::Client::new();
    let creds: Value = get_json(&http, &format!("{}/_sandbox/credentials", sb.base_url)).await?;

    // The tenant: a namespace, the Secret, and the three example resources.
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": NAMESPACE}}))
                .map_err(|e| DemoError::Other(e.to_string()))?,
        )
        .await?;
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "greenhouse-credentials", "namespace": NAMESPACE},
        "stringData": {
            "clientId": creds["client_id"],
            "clientSecret": creds["client_secret"],
        }
    }))
    .map_err(|e| DemoError::Other(e.to_string()))?;
    Api::<Secret>::namespaced(client.clone(), NAMESPACE)
        .create(&PostParams::default(), &secret)
        .await?;
    let (conn, profile, sync) = example_resources(&sb.base_url, &sb.token_url)?;
    let pp = PatchParams::apply("demo");
    Api::<AtsConnection>::namespaced(client.clone(), NAMESPACE)
        .patch(&conn.name_any(), &pp, &Patch::Apply(&conn))
        .await?;
    Api::<ScoringProfile>::namespaced(client.clone(), NAMESPACE)
        .patch(&profile.name_any(), &pp, &Patch::Apply(&profile))
        .await?;
    let syncs = Api::<AtsSync>::namespaced(client.clone(), NAMESPACE);
    syncs
        .patch(&sync.name_any(), &pp, &Patch::Apply(&sync))
        .await?;

    println!("Running the operator ...");
    let ledger_dir = cluster.dir().join("ledger");
    let ledger =
        Ledger::open(&ledger_dir.join("ledger.db")).map_err(|e| DemoError::Other(e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(crate::controller::run(
        client.clone(),
        Arc::new(ledger),
        Some(NAMESPACE.to_string()),
        async move {
            let _ = stop_rx.await;
        },
    ));

    let name = sync.name_any();
    let ready = wait_ready(&syncs, &name, Duration::from_secs(180)).await?;
    print_status(&ready);
    print_scores(&http, &sb.base_url, &creds).await?;
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

fn print_status(s: &AtsSync) {
    let st = s.status.clone().unwrap_or_default();
    let cond = |t: &str| {
        conditions::find(&st.conditions, t)
            .map(|c| c.status.clone())
            .unwrap_or_default()
    };
    println!("\n$ kubectl get atssyncs -n {NAMESPACE}");
    println!(
        "{:<22} {:<11} {:<6} {:<7} {:<21} {:>6}",
        "NAME", "VENDOR", "READY", "SYNCED", "LAST SYNC", "SCORED"
    );
    println!(
        "{:<22} {:<11} {:<6} {:<7} {:<21} {:>6}",
        s.name_any(),
        st.vendor.clone().unwrap_or_default(),
        cond("Ready"),
        cond("Synced"),
        st.last_sync_time.clone().unwrap_or_default(),
        st.totals.as_ref().map(|t| t.scored).unwrap_or(0)
    );
    println!("\nConditions:");
    for c in &st.conditions {
        println!(
            "  {:<8} {:<6} {:<10} {}",
            c.type_, c.status, c.reason, c.message
        );
    }
    if let Some(n) = &st.next_sync_time {
        println!("Next sync: {n}");
    }
}

/// Reads the scores back from the ATS as a Greenhouse API user would.
async fn print_scores(http: &reqwest::Client, base: &str, creds: &Value) -> Result<(), DemoError> {
    let err = |e: reqwest::Error| DemoError::Sandbox(e.to_string());
    let token: Value = http
        .post(format!("{base}/token"))
        .basic_auth(
            creds["client_id"].as_str().unwrap_or_default(),
            creds["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .map_err(err)?
        .json()
        .await
        .map_err(err)?;
    let bearer = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let list = |path: &str| {
        let req = http
            .get(format!("{base}/v3/{path}?per_page=500"))
            .bearer_auth(&bearer);
        async move { req.send().await?.json::<Value>().await }
    };
    let apps = list("applications").await.map_err(err)?;
    let notes = list("notes").await.map_err(err)?;
    let mut rows: Vec<(i64, String, String)> = apps
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let score = a["custom_fields"]["ai_score"]["value"].as_i64()?;
            let id = a["id"].to_string();
            let body = notes
                .as_array()
                .into_iter()
                .flatten()
                .find(|n| n["application_id"] == a["id"])
                .and_then(|n| n["body"].as_str())
                .unwrap_or("");
            let note = summarize_note(body);
            Some((score, id, note))
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    println!("\nScores written to Greenhouse (custom field ai_score, and the note), best first:");
    println!(
        "{:<12} {:>5}  BAND | FIRST STRENGTH | FIRST GAP",
        "APPLICATION", "SCORE"
    );
    // The best and the weakest, so the spread shows.
    let (top, bottom) = (8, 4);
    for (i, (score, id, note)) in rows.iter().enumerate() {
        if i < top || i + bottom >= rows.len() {
            println!("{id:<12} {score:>5}  {note}");
        } else if i == top {
            println!(
                "{:<12} {:>5}  ({} more)",
                "...",
                "",
                rows.len() - top - bottom
            );
        }
    }
    Ok(())
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
