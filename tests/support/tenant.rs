//! The tenant harness shared by the conformance suite and the exactly-once
//! tests: a namespace on the real kube-apiserver, a vendor sandbox, the
//! Secret and resources for it, and what the sandbox says it received.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ats_operator::api::{
    AtsConnection, AtsSync, SYNC_REQUESTED_ANNOTATION, ScoringProfile, SyncCounts, conditions,
};
use ats_operator::model::VendorKind;
use ats_operator::sandbox::{self, RunningSandbox, SandboxOptions};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, ResourceExt};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Operator, OperatorProcess};

pub const SYNC: &str = "conformance";
pub const SECRET: &str = "ats-credentials";
/// A deadline so a broken operator fails the test instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(150);

/// What differs between vendors; everything else is the same scenario.
#[derive(Clone)]
pub struct Setup {
    pub vendor: VendorKind,
    /// Secret keys taken from the sandbox's `secret` (others are dropped).
    pub secret_keys: &'static [&'static str],
    pub write_back: Value,
    /// Whether a custom field is written, and band tags.
    pub custom_field: bool,
    pub band_tag: bool,
    /// A tight but workable API limit for the rate-limit scenario.
    pub tight_limit: Value,
    /// Whether access tokens expire (OAuth vendors).
    pub tokens_expire: bool,
    /// Control call that kills the credentials, and the reason users then see.
    pub revoke: &'static str,
    pub revoked_reason: &'static str,
    /// Whether the vendor lists deletions (else a full sync finds them).
    pub lists_deletions: bool,
}

impl Setup {
    pub fn greenhouse() -> Setup {
        Setup {
            vendor: VendorKind::Greenhouse,
            secret_keys: &["clientId", "clientSecret"],
            write_back: json!({"mode": "both"}),
            custom_field: true,
            band_tag: false,
            tight_limit: json!({"requests": 10, "window_seconds": 1}),
            tokens_expire: true,
            revoke: "credentials/revoke",
            revoked_reason: "AuthFailed",
            lists_deletions: false,
        }
    }

    pub fn lever() -> Setup {
        Setup {
            vendor: VendorKind::Lever,
            // OAuth, the harder path: rotating refresh tokens saved to the Secret.
            secret_keys: &["clientId", "clientSecret", "refreshToken"],
            write_back: json!({"mode": "note", "bandTag": true}),
            custom_field: false,
            band_tag: true,
            tight_limit: json!({"requests": 5, "window_seconds": 1}),
            tokens_expire: true,
            revoke: "refresh_tokens/expire",
            revoked_reason: "ReauthorizationRequired",
            lists_deletions: true,
        }
    }

    /// Revocation, custom field and deletions as Greenhouse's.
    pub fn workable() -> Setup {
        Setup {
            vendor: VendorKind::Workable,
            secret_keys: &["apiKey"],
            write_back: json!({"mode": "both", "bandTag": true}),
            band_tag: true,
            tight_limit: json!({"requests": 10, "window_seconds": 2}),
            tokens_expire: false,
            ..Setup::greenhouse()
        }
    }
}

pub fn small() -> SandboxOptions {
    SandboxOptions {
        applications: 24,
        jobs: 4,
        rate_limit: None,
        ..Default::default()
    }
}

/// As [`small`], with forty applications: enough to stop the operator mid-write.
pub fn forty() -> SandboxOptions {
    SandboxOptions {
        applications: 40,
        ..small()
    }
}

/// What the operator wrote to one application, as the sandbox saw it.
#[derive(Debug)]
pub struct Writes {
    pub notes: usize,
    pub band_tags: Vec<String>,
    pub custom_field: Option<Value>,
}

pub struct Tenant {
    pub setup: Setup,
    pub client: Client,
    pub ns: String,
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
    pub creds: Value,
    pub ledger: PathBuf,
    /// Labels put on the connection, profile and sync (a shard).
    pub labels: Value,
    pub _dir: tempfile::TempDir,
}

pub async fn get(http: &reqwest::Client, url: &str) -> Value {
    let r = http.get(url).send().await.expect("GET");
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.expect("json")
}

/// Ids come as strings or numbers depending on the vendor.
pub fn id_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Tenant {
    pub async fn new(setup: Setup, opts: SandboxOptions) -> Tenant {
        let (client, ns) = super::test_namespace(setup.vendor.as_str()).await;
        let (sandbox, http, creds) = start_sandbox(setup.vendor, opts).await;
        let dir = tempfile::tempdir().unwrap();
        let t = Tenant {
            setup,
            ledger: dir.path().join("ledger.db"),
            client,
            ns,
            sandbox,
            http,
            creds,
            labels: json!({}),
            _dir: dir,
        };
        t.write_secret().await;
        t
    }

    pub async fn write_secret(&self) {
        let data: BTreeMap<&str, &Value> = self
            .setup
            .secret_keys
            .iter()
            .map(|k| (*k, &self.creds["secret"][*k]))
            .collect();
        let s: Secret = serde_json::from_value(json!({
            "metadata": {"name": SECRET, "labels": {"ats.dev/credentials": "true"}},
            "stringData": data,
        }))
        .unwrap();
        self.secrets()
            .patch(
                SECRET,
                &PatchParams::apply("test").force(),
                &Patch::Apply(&s),
            )
            .await
            .unwrap();
    }

    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn syncs(&self) -> Api<AtsSync> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Applies the connection, a profile and the sync; `full_sync` sets `fullSyncInterval`.
    pub async fn apply(&self, full_sync: &str) {
        self.apply_spec(json!({"fullSyncInterval": full_sync}))
            .await
    }

    /// As [`Tenant::apply`], with `extra` merged over the sync's spec
    /// (`writeBack` fields merge one level deeper).
    pub async fn apply_spec(&self, extra: Value) {
        let c = &self.creds["connection"];
        let conn: AtsConnection = serde_json::from_value(json!({
            "apiVersion": "ats.dev/v1alpha1", "kind": "AtsConnection",
            "metadata": {"name": "ats", "namespace": self.ns, "labels": self.labels},
            "spec": {
                "vendor": self.setup.vendor.as_str(),
                "baseUrl": c["baseUrl"],
                "tokenUrl": c["tokenUrl"],
                "subdomain": c["subdomain"],
                "auth": {"secretName": SECRET, "sub": c["sub"]},
            }
        }))
        .unwrap();
        let (_, mut profile, _) =
            ats_operator::demo::example_resources("http://x", "http://x").expect("example profile");
        profile.metadata.namespace = Some(self.ns.clone());
        profile.metadata.name = Some("profile".into());
        profile.metadata.labels = serde_json::from_value(self.labels.clone()).ok();
        // Labels without a bias audit, as before audits gated them.
        profile.spec.labels = ats_operator::api::LabelPolicy::Always;
        let mut spec = json!({
            "connectionRef": {"name": "ats"},
            "scoringProfileRef": {"name": "profile"},
            "schedule": "1h",
            "scope": {"jobStatuses": ["open"]},
            "writeBack": self.setup.write_back,
            "fullSyncInterval": "24h",
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            match (k.as_str(), v) {
                ("writeBack", Value::Object(wb)) => {
                    for (wk, wv) in wb {
                        spec["writeBack"][wk] = wv;
                    }
                }
                (_, v) => spec[k] = v,
            }
        }
        let sync: AtsSync = serde_json::from_value(json!({
            "apiVersion": "ats.dev/v1alpha1", "kind": "AtsSync",
            "metadata": {"name": SYNC, "namespace": self.ns, "labels": self.labels},
            "spec": spec,
        }))
        .unwrap();
        apply_resources(&self.client, &self.ns, &conn, &profile, &sync).await;
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        control(&self.http, &self.sandbox, Method::POST, path, body).await
    }

    pub async fn rate_limit(&self, body: Value) {
        control(&self.http, &self.sandbox, Method::PUT, "rate_limit", body).await;
    }

    /// Vendor API requests the sandbox answered (its control API aside).
    pub async fn api_requests(&self) -> u64 {
        self.stats().await["requests"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.contains("/_sandbox"))
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    }

    pub async fn stats(&self) -> Value {
        get(
            &self.http,
            &format!("{}/_sandbox/stats", self.sandbox.base_url),
        )
        .await
    }

    /// Waits until the sync's status satisfies `pred`; panics with the status at the deadline.
    pub async fn wait(&self, what: &str, pred: impl Fn(&AtsSync) -> bool) -> AtsSync {
        wait_for_sync(&self.syncs(), SYNC, DEADLINE, what, pred).await
    }

    /// The operator in-process, watching this tenant's namespace.
    pub fn start_operator(&self) -> Operator {
        Operator::start(&self.client, &self.ns, &self.ledger)
    }

    /// Notes the vendor has received so far.
    pub async fn notes_created(&self) -> u64 {
        self.stats().await["notes_created"].as_u64().unwrap_or(0)
    }

    /// Waits, polling every `poll`, until the vendor has `n` notes: writes are under way.
    pub async fn first_writes(&self, n: u64, poll: Duration) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while self.notes_created().await < n {
            assert!(tokio::time::Instant::now() < deadline, "no writes started");
            tokio::time::sleep(poll).await;
        }
    }

    /// `ats-operator run` as its own process for this tenant (see [`OperatorProcess`]).
    pub fn operator_process(&self, identity: &str, extra: &[&str]) -> OperatorProcess {
        OperatorProcess::start_with(&self.ns, &self.ledger, identity, extra)
    }

    pub async fn synced(&self) -> AtsSync {
        self.wait("Ready and Synced", |s| {
            is(s, "Ready", "True", "Synced") && synced_true(s)
        })
        .await
    }

    /// Requests a sync and waits for it to finish successfully.
    pub async fn sync_now(&self, value: &str) -> SyncCounts {
        let before = self.syncs().get(SYNC).await.unwrap();
        let last = before.status.and_then(|s| s.last_sync_time);
        let patch = json!({"metadata": {"annotations": {SYNC_REQUESTED_ANNOTATION: value}}});
        self.syncs()
            .patch(SYNC, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        let s = self
            .wait("a requested sync", |s| {
                let st = s.status.clone().unwrap_or_default();
                st.last_handled_sync_request.as_deref() == Some(value)
                    && st.last_sync_time.is_some()
                    && st.last_sync_time != last
                    && synced_true(s)
            })
            .await;
        s.status.unwrap().last_sync.unwrap()
    }

    /// The applications in scope (open jobs), as the sandbox lists them.
    pub async fn open_applications(&self) -> Vec<Value> {
        let apps = get(
            &self.http,
            &format!("{}/_sandbox/applications", self.sandbox.base_url),
        )
        .await;
        let apps = apps.as_array().unwrap().iter();
        apps.filter(|a| a["job_status"] == "open")
            .cloned()
            .collect()
    }

    /// Ids of the applications in scope (open jobs).
    pub async fn in_scope(&self) -> Vec<String> {
        let apps = self.open_applications().await;
        apps.iter().map(|a| id_str(&a["id"])).collect()
    }

    pub async fn writes(&self, id: &str) -> Writes {
        let w = get(
            &self.http,
            &format!(
                "{}/_sandbox/applications/{id}/writes",
                self.sandbox.base_url
            ),
        )
        .await;
        Writes {
            notes: w["notes"].as_array().map(Vec::len).unwrap_or(0),
            band_tags: w["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|t| t.starts_with("ai-"))
                .map(str::to_string)
                .collect(),
            custom_field: w["custom_fields"]
                .get("ai_score")
                .filter(|v| !v.is_null())
                .cloned(),
        }
    }

    /// Every application in scope carries exactly `notes` notes and the labels.
    pub async fn assert_written(&self, expect_notes: impl Fn(&str) -> usize) -> usize {
        let ids = self.in_scope().await;
        assert!(!ids.is_empty(), "no applications in scope");
        for id in &ids {
            let w = self.writes(id).await;
            assert_eq!(w.notes, expect_notes(id), "application {id}: {w:?}");
            if self.setup.custom_field {
                assert!(w.custom_field.is_some(), "application {id}: {w:?}");
            }
            if self.setup.band_tag {
                assert_eq!(w.band_tags.len(), 1, "application {id}: {w:?}");
            }
        }
        ids.len()
    }
}

pub fn cond(s: &AtsSync, t: &str) -> Option<conditions::Condition> {
    s.status
        .as_ref()
        .and_then(|st| st.conditions.iter().find(|c| c.type_ == t).cloned())
}

/// Synced is true; its reason may still ask for a look (`WritesFailing`,
/// `SuspiciousDeletions`), which the tests that cause it check themselves.
pub fn synced_true(s: &AtsSync) -> bool {
    cond(s, "Synced").is_some_and(|c| c.status == "True")
}

pub fn is(s: &AtsSync, t: &str, status: &str, reason: &str) -> bool {
    cond(s, t).is_some_and(|c| c.status == status && c.reason == reason)
}

/// Ready is False for `reason`: a predicate for [`Tenant::wait`].
pub fn not_ready(reason: &str) -> impl Fn(&AtsSync) -> bool + '_ {
    move |s| is(s, "Ready", "False", reason)
}

/// The message of the condition `t`, which must be there.
pub fn message(s: &AtsSync, t: &str) -> String {
    cond(s, t).expect("condition").message
}

/// A vendor sandbox for one test, a client for it, and its `/_sandbox/credentials`.
pub async fn start_sandbox(
    vendor: VendorKind,
    opts: SandboxOptions,
) -> (RunningSandbox, reqwest::Client, Value) {
    let sandbox = sandbox::start(vendor, "127.0.0.1:0".parse().unwrap(), opts)
        .await
        .expect("sandbox");
    let http = reqwest::Client::new();
    let creds = get(&http, &format!("{}/_sandbox/credentials", sandbox.base_url)).await;
    (sandbox, http, creds)
}

/// A call to the sandbox's control API that must succeed; its JSON answer, if any.
pub async fn control(
    http: &reqwest::Client,
    sandbox: &RunningSandbox,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let r = http
        .request(method, format!("{}/_sandbox/{path}", sandbox.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "control {path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

/// Server-side applies a connection, a profile and a sync (field manager `test`).
pub async fn apply_resources(
    client: &Client,
    ns: &str,
    conn: &AtsConnection,
    profile: &ScoringProfile,
    sync: &AtsSync,
) {
    let pp = PatchParams::apply("test").force();
    Api::<AtsConnection>::namespaced(client.clone(), ns)
        .patch(&conn.name_any(), &pp, &Patch::Apply(conn))
        .await
        .unwrap();
    Api::<ScoringProfile>::namespaced(client.clone(), ns)
        .patch(&profile.name_any(), &pp, &Patch::Apply(profile))
        .await
        .unwrap();
    Api::<AtsSync>::namespaced(client.clone(), ns)
        .patch(&sync.name_any(), &pp, &Patch::Apply(sync))
        .await
        .unwrap();
}

/// Waits until the sync `name` satisfies `pred`; panics with its status after `deadline`.
pub async fn wait_for_sync(
    syncs: &Api<AtsSync>,
    name: &str,
    deadline: Duration,
    what: &str,
    pred: impl Fn(&AtsSync) -> bool,
) -> AtsSync {
    let deadline = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(s) = syncs.get_opt(name).await.unwrap() {
            if pred(&s) {
                return s;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}; status: {:#?}", s.status);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Ready condition of the connection `name`.
pub async fn connection_ready(
    client: &Client,
    ns: &str,
    name: &str,
) -> Option<conditions::Condition> {
    let conn = Api::<AtsConnection>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .unwrap();
    conn.status
        .and_then(|st| conditions::find(&st.conditions, "Ready").cloned())
}

/// Waits until the connection `name` is not Ready for `reason`; fails after `deadline`.
pub async fn wait_connection_reason(
    client: &Client,
    ns: &str,
    name: &str,
    reason: &str,
    deadline: Duration,
) {
    let deadline = tokio::time::Instant::now() + deadline;
    while connection_ready(client, ns, name)
        .await
        .is_none_or(|r| r.reason != reason)
    {
        assert!(tokio::time::Instant::now() < deadline, "connection status");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
