//! The operator end to end: a real kube-apiserver, the Greenhouse sandbox, the
//! operator in-process (scoped to the test's namespace), asserting on status,
//! Events and what the sandbox received.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use ats_operator::api::{AtsConnection, AtsSync, SYNC_REQUESTED_ANNOTATION, ScoringProfile};
use ats_operator::model::VendorKind;
use ats_operator::sandbox::{RunningSandbox, SandboxOptions};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event as KubeEvent;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use reqwest::Method;
use serde_json::{Value, json};
use support::tenant::{
    self, cond, connection_ready, is, message, not_ready, wait_connection_reason,
};

const SYNC: &str = "greenhouse-open-jobs";
/// A deadline so a broken operator fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(120);

use support::Operator;

struct Tenant {
    client: Client,
    ns: String,
    sandbox: RunningSandbox,
    http: reqwest::Client,
    creds: Value,
    ledger: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tenant {
    async fn new(prefix: &str, opts: SandboxOptions) -> Tenant {
        let (client, ns) = support::test_namespace(prefix).await;
        let (sandbox, http, creds) = tenant::start_sandbox(VendorKind::Greenhouse, opts).await;
        let dir = tempfile::tempdir().unwrap();
        Tenant {
            client,
            ns,
            sandbox,
            http,
            creds,
            ledger: dir.path().join("ledger.db"),
            _dir: dir,
        }
    }

    fn syncs(&self) -> Api<AtsSync> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// The Secret, opted in to be read (labelled), with `client_secret`.
    async fn secret(&self, client_secret: &str) {
        self.put_secret(json!({"ats.dev/credentials": "true"}), client_secret)
            .await;
    }

    /// The Secret `greenhouse-credentials` with `labels` and `client_secret`.
    async fn put_secret(&self, labels: Value, client_secret: &str) {
        let s: Secret = serde_json::from_value(json!({
            "metadata": {"name": "greenhouse-credentials", "labels": labels},
            "stringData": {"clientId": self.creds["client_id"], "clientSecret": client_secret}
        }))
        .unwrap();
        self.secrets()
            .patch(
                "greenhouse-credentials",
                &PatchParams::apply("test").force(),
                &Patch::Apply(&s),
            )
            .await
            .unwrap();
    }

    async fn good_secret(&self) {
        let secret = self.creds["client_secret"].as_str().unwrap().to_string();
        self.secret(&secret).await;
    }

    /// Applies the example resources; `edit` adjusts them first.
    async fn apply(
        &self,
        edit: impl FnOnce(&mut AtsConnection, &mut ScoringProfile, &mut AtsSync),
    ) {
        let (mut c, mut p, mut s) =
            ats_operator::demo::example_resources(&self.sandbox.base_url, &self.sandbox.token_url)
                .unwrap();
        for m in [&mut c.metadata, &mut p.metadata, &mut s.metadata] {
            m.namespace = Some(self.ns.clone());
        }
        // Labels without a bias audit, as before audits gated them.
        p.spec.labels = ats_operator::api::LabelPolicy::Always;
        edit(&mut c, &mut p, &mut s);
        tenant::apply_resources(&self.client, &self.ns, &c, &p, &s).await;
    }

    async fn stats(&self) -> Value {
        get(
            &self.http,
            &format!("{}/_sandbox/stats", self.sandbox.base_url),
        )
        .await
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        tenant::control(&self.http, &self.sandbox, Method::POST, path, body).await
    }

    /// Waits until the sync's status satisfies `pred`; panics with the status at the deadline.
    async fn wait(&self, what: &str, pred: impl Fn(&AtsSync) -> bool) -> AtsSync {
        tenant::wait_for_sync(&self.syncs(), SYNC, DEADLINE, what, pred).await
    }

    /// Waits until the sync is Ready and Synced again.
    async fn recovered(&self) {
        self.wait("recovery", |s| is(s, "Ready", "True", "Synced"))
            .await;
    }

    fn start_operator(&self) -> Operator {
        Operator::start(&self.client, &self.ns, &self.ledger)
    }

    async fn request_sync(&self, value: &str) {
        let patch = json!({"metadata": {"annotations": {SYNC_REQUESTED_ANNOTATION: value}}});
        self.syncs()
            .patch(SYNC, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// Requests a sync and waits for it to finish successfully.
    async fn sync_now(&self, value: &str) -> AtsSync {
        let before = self.syncs().get(SYNC).await.unwrap();
        let last = before.status.and_then(|s| s.last_sync_time);
        self.request_sync(value).await;
        self.wait("a requested sync", |s| {
            let st = s.status.clone().unwrap_or_default();
            st.last_handled_sync_request.as_deref() == Some(value)
                && st.last_sync_time.is_some()
                && st.last_sync_time != last
        })
        .await
    }

    /// Every application in scope, with its notes, read from the sandbox.
    async fn notes_per_application(&self) -> Vec<(String, usize, Option<i64>)> {
        let apps = get(
            &self.http,
            &format!("{}/_sandbox/applications", self.sandbox.base_url),
        )
        .await;
        let mut out = Vec::new();
        for a in apps.as_array().unwrap() {
            if a["job_status"] != "open" {
                continue;
            }
            let id = match &a["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let notes = get(
                &self.http,
                &format!("{}/_sandbox/applications/{id}/notes", self.sandbox.base_url),
            )
            .await;
            let score = a["custom_fields"]["ai_score"]["value"].as_i64();
            out.push((id, notes.as_array().map(|n| n.len()).unwrap_or(0), score));
        }
        out
    }

    async fn events(&self) -> Vec<(String, String)> {
        Api::<KubeEvent>::namespaced(self.client.clone(), &self.ns)
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

fn small() -> SandboxOptions {
    support::sandbox::unlimited(40, 5)
}

#[tokio::test]
async fn tenant_is_synced_scored_and_written_back_exactly_once() {
    let t = Tenant::new("gh-happy", small()).await;
    t.good_secret().await;
    t.apply(|_, _, _| {}).await;
    let op = t.start_operator();

    let s = t
        .wait("Ready and Synced", |s| {
            is(s, "Ready", "True", "Synced") && is(s, "Synced", "True", "Synced")
        })
        .await;
    let st = s.status.clone().unwrap();
    let apps = t.notes_per_application().await;
    assert!(!apps.is_empty());
    // Every application in scope carries the score: one note and the custom field.
    for (id, notes, score) in &apps {
        assert_eq!(*notes, 1, "application {id} notes");
        assert!(score.is_some(), "application {id} has no ai_score");
    }
    let counts = st.last_sync.clone().unwrap();
    assert_eq!(counts.scored as usize, apps.len());
    assert_eq!(counts.written_back as usize, apps.len());
    assert_eq!(st.totals.clone().unwrap().scored as usize, apps.len());
    assert_eq!(st.vendor.as_deref(), Some("greenhouse"));
    assert!(st.next_sync_time.is_some() && st.watermark.is_some());
    assert_eq!(st.observed_generation, s.metadata.generation);
    assert!(is(&s, "Stalled", "False", "NoProblem"));

    // A second sync with nothing changed writes nothing.
    let before = t.stats().await;
    let s2 = t.sync_now("second").await;
    let after = t.stats().await;
    assert_eq!(before["notes_created"], after["notes_created"]);
    assert_eq!(before["application_patches"], after["application_patches"]);
    let c2 = s2.status.unwrap().last_sync.unwrap();
    assert_eq!(c2.scored, 0);
    assert_eq!(c2.written_back, 0);

    // A changed application is re-scored once.
    let touched = t
        .control("touch", json!({"application_ids": [apps[0].0.clone()]}))
        .await;
    assert_eq!(touched["application_ids"].as_array().unwrap().len(), 1);
    let s3 = t.sync_now("third").await;
    assert_eq!(s3.status.unwrap().last_sync.unwrap().scored, 1);
    let s4 = t.sync_now("fourth").await;
    assert_eq!(s4.status.unwrap().last_sync.unwrap().scored, 0);
    let final_notes = t.notes_per_application().await;
    let touched_notes = final_notes.iter().find(|a| a.0 == apps[0].0).unwrap().1;
    let key = format!("{}/{SYNC}", t.ns);
    assert_eq!(
        touched_notes,
        support::expected_notes(&t.ledger, &key, &apps[0].0).await,
        "one note per change of score or band of the changed application"
    );

    // A new profile generation restarts the worker and re-scores every application once.
    let notes_before = t.stats().await["notes_created"].as_u64().unwrap();
    t.apply(|_, p, _| p.spec.weights.skills = 55).await;
    t.wait("re-scoring after the profile changed", |s| {
        s.status
            .as_ref()
            .and_then(|st| st.last_sync.as_ref())
            .is_some_and(|c| c.scored as usize == apps.len())
    })
    .await;
    let notes_after = t.stats().await["notes_created"].as_u64().unwrap();
    // Only applications whose score or band changed get a new note.
    let mut expected_new = 0;
    for (id, notes, _) in t.notes_per_application().await {
        let expected = support::expected_notes(&t.ledger, &key, &id).await;
        assert_eq!(notes, expected, "application {id}");
        let before = final_notes.iter().find(|a| a.0 == id).map_or(0, |a| a.1);
        expected_new += expected - before;
    }
    assert_eq!(notes_after - notes_before, expected_new as u64);
    assert!(
        expected_new > 0,
        "the profile edit changed no score: a weak test"
    );

    // Events for state changes.
    let events = t.events().await;
    assert!(
        events.iter().any(|(r, _)| r == "WorkerStarted"),
        "{events:?}"
    );
    assert!(events.iter().any(|(r, _)| r == "Synced"), "{events:?}");
    assert!(
        events.iter().any(|(r, _)| r == "WorkerRestarted"),
        "{events:?}"
    );

    // Deleting the sync: it goes at once (no finalizer) and its worker stops.
    t.syncs()
        .delete(SYNC, &DeleteParams::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while t.syncs().get_opt(SYNC).await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "sync not deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    op.stop().await;
}

#[tokio::test]
async fn missing_secret_then_recovers() {
    let t = Tenant::new("gh-secret", small()).await;
    t.apply(|_, _, _| {}).await;
    let op = t.start_operator();
    let s = t.wait("SecretNotFound", not_ready("SecretNotFound")).await;
    let msg = message(&s, "Ready");
    assert!(msg.contains("greenhouse-credentials"), "{msg}");
    assert!(is(&s, "Stalled", "False", "NoProblem"));
    assert!(t.events().await.iter().any(|(r, _)| r == "SecretNotFound"));

    t.good_secret().await;
    t.recovered().await;
    op.stop().await;
}

/// A Secret without the opt-in label is neither read nor written: the sync and
/// the connection say why; labelling it recovers.
#[tokio::test]
async fn unlabelled_secret_is_not_read() {
    let t = Tenant::new("gh-unlabelled", small()).await;
    let client_secret = t.creds["client_secret"].as_str().unwrap();
    t.put_secret(json!({}), client_secret).await;
    t.apply(|_, _, _| {}).await;
    let op = t.start_operator();
    let s = t
        .wait("SecretNotAllowed", not_ready("SecretNotAllowed"))
        .await;
    let msg = message(&s, "Ready");
    assert!(msg.contains("ats.dev/credentials=true"), "{msg}");
    assert!(is(&s, "Stalled", "True", "SecretNotAllowed"));
    let (client, ns) = (&t.client, &t.ns);
    wait_connection_reason(client, ns, "greenhouse", "SecretNotAllowed", DEADLINE).await;
    // Its values never went to the vendor.
    assert_eq!(t.stats().await["token_requests"], 0);
    // Opting in recovers.
    t.secrets()
        .patch(
            "greenhouse-credentials",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"ats.dev/credentials": "true"}}})),
        )
        .await
        .unwrap();
    t.recovered().await;
    op.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_auth_failed_and_never_leak() {
    let t = Tenant::new("gh-auth", small()).await;
    t.secret("definitely-wrong-secret").await;
    t.apply(|_, _, _| {}).await;
    let op = t.start_operator();
    let s = t.wait("AuthFailed", not_ready("AuthFailed")).await;
    assert!(is(&s, "Stalled", "True", "AuthFailed"));
    let status = serde_json::to_string(&s.status).unwrap();
    let events = format!("{:?}", t.events().await);
    for leak in [
        "definitely-wrong-secret",
        t.creds["client_secret"].as_str().unwrap(),
    ] {
        assert!(
            !status.contains(leak) && !events.contains(leak),
            "secret leaked"
        );
    }
    let conn_ready = connection_ready(&t.client, &t.ns, "greenhouse").await;
    assert!(conn_ready.is_none_or(|c| c.reason == "AuthFailed" && c.status == "False"));

    // Fixing the Secret hands the new credentials to the running worker (no
    // restart) and the sync succeeds at once.
    t.good_secret().await;
    t.recovered().await;
    let events = t.events().await;
    assert!(
        !events.iter().any(|(r, _)| r == "WorkerRestarted"),
        "new credentials restarted the worker: {events:?}"
    );
    op.stop().await;
}

#[tokio::test]
async fn non_site_admin_is_stalled_forbidden() {
    let t = Tenant::new("gh-403", small()).await;
    t.good_secret().await;
    let basic = t.creds["basic_user_id"]
        .to_string()
        .trim_matches('"')
        .to_string();
    t.apply(|c, _, _| c.spec.auth.sub = Some(basic)).await;
    let op = t.start_operator();
    let s = t
        .wait("Forbidden", |s| is(s, "Stalled", "True", "Forbidden"))
        .await;
    let msg = message(&s, "Stalled");
    assert!(msg.contains("Site Admin"), "{msg}");
    assert!(msg.contains("scope"), "{msg}");
    op.stop().await;
}

#[tokio::test]
async fn invalid_spec_names_the_field() {
    let t = Tenant::new("gh-invalid", small()).await;
    t.good_secret().await;
    t.apply(|_, _, s| s.spec.schedule = "every tuesday".into())
        .await;
    let op = t.start_operator();
    let s = t.wait("InvalidSpec", not_ready("InvalidSpec")).await;
    assert!(message(&s, "Ready").contains("spec.schedule"));
    assert!(is(&s, "Stalled", "True", "InvalidSpec"));

    // An unknown reference names its field, and is picked up once it exists.
    t.apply(|_, _, s| s.spec.connection_ref.name = "nope".into())
        .await;
    let s = t
        .wait("unknown reference", |s| {
            cond(s, "Ready").is_some_and(|c| c.message.contains("spec.connectionRef.name"))
        })
        .await;
    assert_eq!(cond(&s, "Ready").unwrap().reason, "InvalidSpec");

    // The API server itself rejects an unknown vendor and write-back mode.
    let bad = json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "AtsConnection",
        "metadata": {"name": "bad"},
        "spec": {"vendor": "taleo", "auth": {"secretName": "x"}}
    });
    let ar = kube::api::ApiResource::erase::<AtsConnection>(&());
    let dynamic: kube::api::DynamicObject = serde_json::from_value(bad).unwrap();
    let r = Api::<kube::api::DynamicObject>::namespaced_with(t.client.clone(), &t.ns, &ar)
        .create(&PostParams::default(), &dynamic)
        .await;
    match r {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 422),
        other => panic!("expected 422, got {other:?}"),
    }
    let bad_mode = json!({"spec": {"writeBack": {"mode": "email"}}});
    let r = t
        .syncs()
        .patch(SYNC, &PatchParams::default(), &Patch::Merge(&bad_mode))
        .await;
    match r {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 422),
        other => panic!("expected 422, got {other:?}"),
    }
    op.stop().await;
}

#[tokio::test]
async fn vendor_429_and_5xx_complete_later_without_duplicates() {
    let t = Tenant::new("gh-faults", small()).await;
    t.good_secret().await;
    t.control(
        "faults",
        json!({"status": 503, "count": 3, "path_prefix": "/v3/applications"}),
    )
    .await;
    t.control(
        "faults",
        json!({"status": 429, "count": 2, "path_prefix": "/v3/notes"}),
    )
    .await;
    t.control(
        "faults",
        json!({"status": 500, "count": 2, "path_prefix": "/v3/candidates"}),
    )
    .await;
    t.apply(|_, _, _| {}).await;
    let op = t.start_operator();
    t.wait("Ready", |s| is(s, "Ready", "True", "Synced")).await;
    for (id, notes, score) in t.notes_per_application().await {
        assert_eq!(notes, 1, "application {id}");
        assert!(score.is_some());
    }
    assert!(t.stats().await["rate_limited"].as_u64().unwrap_or(0) >= 2);
    op.stop().await;
}

#[tokio::test]
async fn suspend_stops_and_resume_syncs() {
    let t = Tenant::new("gh-suspend", small()).await;
    t.good_secret().await;
    t.apply(|_, _, s| s.spec.suspend = true).await;
    let op = t.start_operator();
    t.wait("Suspended", |s| is(s, "Ready", "True", "Suspended"))
        .await;
    assert_eq!(t.stats().await["notes_created"], 0);
    t.apply(|_, _, s| s.spec.suspend = false).await;
    t.wait("Synced", |s| is(s, "Synced", "True", "Synced"))
        .await;
    op.stop().await;
}

#[tokio::test]
async fn restart_mid_write_back_neither_loses_nor_duplicates() {
    // A slow vendor: writes are paced by a tight rate limit, so the operator is
    // stopped while writes are in flight, some landed and some not.
    let t = Tenant::new(
        "gh-restart",
        SandboxOptions {
            rate_limit: Some((20, Duration::from_secs(2))),
            ..small()
        },
    )
    .await;
    t.good_secret().await;
    t.apply(|_, _, _| {}).await;
    let op = t.start_operator();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while t.stats().await["notes_created"].as_u64().unwrap_or(0) < 5 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    op.stop().await;
    let written_at_stop = t.stats().await["notes_created"].as_u64().unwrap();

    let op = t.start_operator();
    t.wait("Synced after restart", |s| {
        is(s, "Synced", "True", "Synced")
    })
    .await;
    let apps = t.notes_per_application().await;
    assert!(
        written_at_stop < apps.len() as u64,
        "stopped too late to test anything"
    );
    for (id, notes, score) in apps {
        assert_eq!(notes, 1, "application {id}");
        assert!(score.is_some());
    }
    op.stop().await;
}
