//! One conformance suite for every vendor: the same scenarios run against each
//! vendor's client and sandbox, with the operator in-process on a real
//! kube-apiserver. A vendor is done when it passes every scenario.
//!
//! The suite only uses what every sandbox serves (the control API documented in
//! `src/sandbox/mod.rs`) and what every user sees (status, the Secret), so a new
//! vendor adds one `Setup` and one `conformance!` line.

mod support;

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
use serde_json::{Value, json};

const SYNC: &str = "conformance";
const SECRET: &str = "ats-credentials";
/// A deadline so a broken operator fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(150);

/// What differs between vendors; everything else is the same scenario.
#[derive(Clone)]
struct Setup {
    vendor: VendorKind,
    /// Secret keys taken from the sandbox's `secret` (others are dropped).
    secret_keys: &'static [&'static str],
    write_back: Value,
    /// Whether a custom field is written, and band tags.
    custom_field: bool,
    band_tag: bool,
    /// A tight but workable API limit for the rate-limit scenario.
    tight_limit: Value,
    /// Whether access tokens expire (OAuth vendors).
    tokens_expire: bool,
    /// Control call that kills the credentials, and the reason users then see.
    revoke: &'static str,
    revoked_reason: &'static str,
    /// Whether the vendor lists deletions (else a full sync finds them).
    lists_deletions: bool,
}

impl Setup {
    fn greenhouse() -> Setup {
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

    fn lever() -> Setup {
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

    fn workable() -> Setup {
        Setup {
            vendor: VendorKind::Workable,
            secret_keys: &["apiKey"],
            write_back: json!({"mode": "both", "bandTag": true}),
            custom_field: true,
            band_tag: true,
            tight_limit: json!({"requests": 10, "window_seconds": 2}),
            tokens_expire: false,
            revoke: "credentials/revoke",
            revoked_reason: "AuthFailed",
            lists_deletions: false,
        }
    }
}

fn small() -> SandboxOptions {
    SandboxOptions {
        applications: 24,
        jobs: 4,
        rate_limit: None,
        ..Default::default()
    }
}

use support::Operator;

/// What the operator wrote to one application, as the sandbox saw it.
#[derive(Debug)]
struct Writes {
    notes: usize,
    band_tags: Vec<String>,
    custom_field: Option<Value>,
}

struct Tenant {
    setup: Setup,
    client: Client,
    ns: String,
    sandbox: RunningSandbox,
    http: reqwest::Client,
    creds: Value,
    ledger: PathBuf,
    _dir: tempfile::TempDir,
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    let r = http.get(url).send().await.expect("GET");
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.expect("json")
}

/// Ids come as strings or numbers depending on the vendor.
fn id_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Tenant {
    async fn new(setup: Setup, opts: SandboxOptions) -> Tenant {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info,kube=warn,hyper=warn".into()),
            )
            .try_init();
        let client = support::client().await;
        support::install_crds(&client).await;
        let ns = support::namespace(&client, setup.vendor.as_str()).await;
        let sandbox = sandbox::start(setup.vendor, "127.0.0.1:0".parse().unwrap(), opts)
            .await
            .expect("sandbox");
        let http = reqwest::Client::new();
        let creds = get(&http, &format!("{}/_sandbox/credentials", sandbox.base_url)).await;
        let dir = tempfile::tempdir().unwrap();
        let t = Tenant {
            setup,
            ledger: dir.path().join("ledger.db"),
            client,
            ns,
            sandbox,
            http,
            creds,
            _dir: dir,
        };
        t.write_secret().await;
        t
    }

    async fn write_secret(&self) {
        let data: BTreeMap<&str, &Value> = self
            .setup
            .secret_keys
            .iter()
            .map(|k| (*k, &self.creds["secret"][*k]))
            .collect();
        let s: Secret = serde_json::from_value(json!({
            "metadata": {"name": SECRET},
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

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    fn syncs(&self) -> Api<AtsSync> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Applies the connection, a profile and the sync; `full_sync` sets `fullSyncInterval`.
    async fn apply(&self, full_sync: &str) {
        let c = &self.creds["connection"];
        let conn: AtsConnection = serde_json::from_value(json!({
            "apiVersion": "ats.dev/v1alpha1", "kind": "AtsConnection",
            "metadata": {"name": "ats", "namespace": self.ns},
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
        let sync: AtsSync = serde_json::from_value(json!({
            "apiVersion": "ats.dev/v1alpha1", "kind": "AtsSync",
            "metadata": {"name": SYNC, "namespace": self.ns},
            "spec": {
                "connectionRef": {"name": "ats"},
                "scoringProfileRef": {"name": "profile"},
                "schedule": "1h",
                "scope": {"jobStatuses": ["open"]},
                "writeBack": self.setup.write_back,
                "fullSyncInterval": full_sync,
            }
        }))
        .unwrap();
        let pp = PatchParams::apply("test").force();
        Api::<AtsConnection>::namespaced(self.client.clone(), &self.ns)
            .patch("ats", &pp, &Patch::Apply(&conn))
            .await
            .unwrap();
        Api::<ScoringProfile>::namespaced(self.client.clone(), &self.ns)
            .patch(&profile.name_any(), &pp, &Patch::Apply(&profile))
            .await
            .unwrap();
        self.syncs()
            .patch(SYNC, &pp, &Patch::Apply(&sync))
            .await
            .unwrap();
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_sandbox/{path}", self.sandbox.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    async fn rate_limit(&self, body: Value) {
        let r = self
            .http
            .put(format!("{}/_sandbox/rate_limit", self.sandbox.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "rate_limit: {}", r.status());
    }

    async fn stats(&self) -> Value {
        get(
            &self.http,
            &format!("{}/_sandbox/stats", self.sandbox.base_url),
        )
        .await
    }

    /// Waits until the sync's status satisfies `pred`; panics with the status at the deadline.
    async fn wait(&self, what: &str, pred: impl Fn(&AtsSync) -> bool) -> AtsSync {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.syncs().get_opt(SYNC).await.unwrap() {
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

    async fn synced(&self) -> AtsSync {
        self.wait("Ready and Synced", |s| {
            is(s, "Ready", "True", "Synced") && is(s, "Synced", "True", "Synced")
        })
        .await
    }

    /// Requests a sync and waits for it to finish successfully.
    async fn sync_now(&self, value: &str) -> SyncCounts {
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
                    && is(s, "Synced", "True", "Synced")
            })
            .await;
        s.status.unwrap().last_sync.unwrap()
    }

    /// Ids of the applications in scope (open jobs).
    async fn in_scope(&self) -> Vec<String> {
        let apps = get(
            &self.http,
            &format!("{}/_sandbox/applications", self.sandbox.base_url),
        )
        .await;
        apps.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["job_status"] == "open")
            .map(|a| id_str(&a["id"]))
            .collect()
    }

    async fn writes(&self, id: &str) -> Writes {
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
    async fn assert_written(&self, expect_notes: impl Fn(&str) -> usize) -> usize {
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

fn cond(s: &AtsSync, t: &str) -> Option<conditions::Condition> {
    s.status
        .as_ref()
        .and_then(|st| st.conditions.iter().find(|c| c.type_ == t).cloned())
}

fn is(s: &AtsSync, t: &str, status: &str, reason: &str) -> bool {
    cond(s, t).is_some_and(|c| c.status == status && c.reason == reason)
}

/// First sync: everything in scope scored and written once; status tells it;
/// rotated credentials (Lever) are saved back to the Secret.
async fn first_full_sync(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    let s = t.synced().await;
    let n = t.assert_written(|_| 1).await;
    let st = s.status.unwrap();
    let last = st.last_sync.unwrap();
    assert_eq!(last.scored as usize, n);
    assert_eq!(last.written_back as usize, n);
    assert_eq!(st.vendor.as_deref(), Some(t.setup.vendor.as_str()));
    assert!(st.watermark.is_some() && st.next_sync_time.is_some());
    if t.setup.secret_keys.contains(&"refreshToken") {
        // The refresh token rotated at the vendor and the Secret holds the new one.
        let current = get(
            &t.http,
            &format!("{}/_sandbox/credentials", t.sandbox.base_url),
        )
        .await["secret"]["refreshToken"]
            .clone();
        let secret = t.secrets().get(SECRET).await.unwrap();
        let stored = secret.data.unwrap_or_default()["refreshToken"].0.clone();
        assert_ne!(current, t.creds["secret"]["refreshToken"], "no rotation");
        assert_eq!(
            Some(String::from_utf8(stored).unwrap().as_str()),
            current.as_str()
        );
    }
    // Nothing changed: nothing scored, nothing written.
    let notes_before = t.stats().await["notes_created"].clone();
    let again = t.sync_now("again").await;
    assert_eq!((again.scored, again.written_back), (0, 0));
    assert_eq!(t.stats().await["notes_created"], notes_before);
    op.stop().await;
}

/// An incremental sync picks up exactly the changed records.
async fn incremental_sync(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    t.synced().await;
    let ids = t.in_scope().await;
    let touched: Vec<String> = ids.iter().take(2).cloned().collect();
    t.control("touch", json!({"application_ids": touched}))
        .await;
    let c = t.sync_now("after-touch").await;
    // Exactly the changed records: the touched ones, plus other applications of
    // the same person where the vendor shares a candidate across jobs (Greenhouse).
    let mut rescored = Vec::new();
    for id in &ids {
        let w = t.writes(id).await;
        assert!(w.notes == 1 || w.notes == 2, "application {id}: {w:?}");
        if w.notes == 2 {
            rescored.push(id.clone());
        }
    }
    assert!(touched.iter().all(|x| rescored.contains(x)), "{rescored:?}");
    assert_eq!(c.scored as usize, rescored.len(), "{c:?}");
    assert!(
        rescored.len() <= 4,
        "more than the changed records: {rescored:?}"
    );
    // New applications are picked up too.
    let added = t.control("applications", json!({"count": 3})).await;
    let c = t.sync_now("after-add").await;
    assert_eq!(
        c.scored as usize,
        added["application_ids"].as_array().unwrap().len(),
        "{c:?}"
    );
    op.stop().await;
}

/// Deleted applications are detected: from the vendor's deletion list, or by a full sync.
async fn deletes_detected(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    let full = if t.setup.lists_deletions { "24h" } else { "0s" };
    t.apply(full).await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    t.synced().await;
    let ids = t.in_scope().await;
    t.control("delete", json!({"application_ids": [ids[0].clone()]}))
        .await;
    let c = t.sync_now("after-delete").await;
    assert_eq!(c.deleted, 1, "{c:?}");
    assert_eq!(c.scored, 0, "{c:?}");
    let c = t.sync_now("after-delete-again").await;
    assert_eq!(c.deleted, 0, "deleted counted twice: {c:?}");
    op.stop().await;
}

/// The vendor's rate limit is reached mid-sync and honoured: the sync completes,
/// nothing is scored twice or skipped.
async fn rate_limit_honoured(setup: Setup) {
    let t = Tenant::new(
        setup,
        SandboxOptions {
            applications: 40,
            ..small()
        },
    )
    .await;
    t.rate_limit(t.setup.tight_limit.clone()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    let s = t.synced().await;
    let n = t.assert_written(|_| 1).await;
    assert_eq!(s.status.unwrap().last_sync.unwrap().scored as usize, n);
    op.stop().await;
}

/// Access tokens expire mid-sync and are refreshed; nothing is lost.
async fn token_expiry_mid_sync(setup: Setup) {
    if !setup.tokens_expire {
        // Account tokens (Workable) do not expire: nothing to refresh.
        return;
    }
    let t = Tenant::new(
        setup,
        SandboxOptions {
            applications: 40,
            ..small()
        },
    )
    .await;
    // Slow enough that the sync is still running when tokens expire.
    t.rate_limit(t.setup.tight_limit.clone()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while t.stats().await["notes_created"].as_u64().unwrap_or(0) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "no writes started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tokens_before = t.stats().await["token_requests"].as_u64().unwrap_or(0);
    t.control("tokens/expire", json!({})).await;
    t.synced().await;
    t.assert_written(|_| 1).await;
    assert!(
        t.stats().await["token_requests"].as_u64().unwrap_or(0) > tokens_before,
        "no refresh after expiry"
    );
    op.stop().await;
}

/// A burst of 5xx is retried; the sync completes without duplicates.
async fn server_errors_retried(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    for (status, count) in [(503, 3), (500, 2)] {
        t.control("faults", json!({"status": status, "count": count}))
            .await;
    }
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    t.synced().await;
    t.assert_written(|_| 1).await;
    assert!(t.stats().await["faults_injected"].as_u64().unwrap_or(0) >= 5);
    op.stop().await;
}

/// Expired or revoked credentials surface as the right condition, without secrets.
async fn revoked_credentials(setup: Setup) {
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    t.synced().await;
    t.control(t.setup.revoke, json!({})).await;
    t.control("tokens/expire", json!({})).await;
    let patch = json!({"metadata": {"annotations": {SYNC_REQUESTED_ANNOTATION: "after-revoke"}}});
    t.syncs()
        .patch(SYNC, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let reason = t.setup.revoked_reason;
    let s = t
        .wait(reason, |s| {
            is(s, "Ready", "False", reason) && is(s, "Stalled", "True", reason)
        })
        .await;
    let text = format!("{:?}", s.status);
    for v in t.creds["secret"].as_object().unwrap().values() {
        let v = v.as_str().unwrap_or_default();
        assert!(
            v.len() < 6 || !text.contains(v),
            "a secret leaked into status"
        );
    }
    op.stop().await;
}

/// Write-back happens exactly once across an operator restart mid-write.
async fn exactly_once_across_restart(setup: Setup) {
    let t = Tenant::new(
        setup,
        SandboxOptions {
            applications: 40,
            ..small()
        },
    )
    .await;
    t.rate_limit(t.setup.tight_limit.clone()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while t.stats().await["notes_created"].as_u64().unwrap_or(0) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "no writes started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    op.stop().await;
    let at_stop = t.stats().await["notes_created"].as_u64().unwrap();
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    t.synced().await;
    let n = t.assert_written(|_| 1).await;
    assert!(at_stop < n as u64, "stopped too late to test anything");
    op.stop().await;
}

macro_rules! conformance {
    ($vendor:ident) => {
        mod $vendor {
            use super::*;

            #[tokio::test]
            async fn first_full_sync() {
                super::first_full_sync(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn incremental_sync() {
                super::incremental_sync(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn deletes_detected() {
                super::deletes_detected(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn rate_limit_honoured() {
                super::rate_limit_honoured(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn token_expiry_mid_sync() {
                super::token_expiry_mid_sync(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn server_errors_retried() {
                super::server_errors_retried(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn revoked_credentials() {
                super::revoked_credentials(Setup::$vendor()).await
            }
            #[tokio::test]
            async fn exactly_once_across_restart() {
                super::exactly_once_across_restart(Setup::$vendor()).await
            }
        }
    };
}

conformance!(greenhouse);
conformance!(lever);
conformance!(workable);
