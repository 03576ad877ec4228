//! Targeted runs (what a webhook triggers) against every vendor's sandbox and
//! an in-memory ledger, without the operator: after a scheduled run, an
//! unchanged application writes nothing; a changed one is written exactly
//! once, and again nothing for the same change; deleted, unknown and
//! out-of-scope ones are reported; the cursor and checkpoint are untouched;
//! and a crash between decision and write is finished by the next targeted
//! run without a second note.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use ats_operator::ledger::Ledger;
use ats_operator::model::{Application, ChangeSet, JobStatus, VendorKind};
use ats_operator::sandbox::{self, RunningSandbox};
use ats_operator::sync::SyncSpec;
use ats_operator::sync::pipeline::{self, RunInput};
use ats_operator::sync::targeted::{Outcome, TargetedReport, run_for_applications};
use ats_operator::vendors::{self, AtsClient, PullScope, VendorError, WriteBackRequest};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use support::spec;

const KEY: &str = "tenant/targeted";

struct Harness {
    sb: RunningSandbox,
    http: reqwest::Client,
    spec: SyncSpec,
    client: Arc<dyn AtsClient>,
    ledger: Ledger,
}

impl Harness {
    async fn start(vendor: VendorKind) -> Harness {
        // Eight jobs: the seventh is closed, so some applications are out of scope.
        let opts = support::sandbox::unlimited(30, 8);
        let sb = sandbox::start(vendor, "127.0.0.1:0".parse().unwrap(), opts)
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let creds = get(&http, &format!("{}/_sandbox/credentials", sb.base_url)).await;
        let keys: &[&str] = match vendor {
            VendorKind::Greenhouse => &["clientId", "clientSecret"],
            _ => &["apiKey"],
        };
        let spec = spec::sync(
            spec::described(vendor, &creds, keys),
            ("tenant", "targeted"),
            "p",
            vec![JobStatus::Open],
        );
        let client = vendors::connect(&spec.connection, None).unwrap();
        Harness {
            sb,
            http,
            spec,
            client,
            ledger: Ledger::open_in_memory().unwrap(),
        }
    }

    async fn applications(&self, open: bool) -> Vec<String> {
        let all = get(
            &self.http,
            &format!("{}/_sandbox/applications", self.sb.base_url),
        )
        .await;
        all.as_array()
            .unwrap()
            .iter()
            .filter(|a| (a["job_status"] == "open") == open)
            .map(|a| match &a["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_sandbox/{path}", self.sb.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn notes(&self, id: &str) -> usize {
        let w = get(
            &self.http,
            &format!("{}/_sandbox/applications/{id}/writes", self.sb.base_url),
        )
        .await;
        w["notes"].as_array().map(Vec::len).unwrap_or(0)
    }

    async fn notes_created(&self) -> u64 {
        let s = get(&self.http, &format!("{}/_sandbox/stats", self.sb.base_url)).await;
        s["notes_created"].as_u64().unwrap()
    }

    /// A scheduled run, now.
    async fn scheduled(&self) -> pipeline::RunReport {
        let input = RunInput::default();
        let client = self.client.as_ref();
        pipeline::run_once(client, &self.ledger, &self.spec, Utc::now(), &input)
            .await
            .unwrap()
    }

    /// A targeted run for `ids` with the real client, now.
    async fn targeted_report(&self, ids: &[String]) -> TargetedReport {
        let input = RunInput::default();
        let client = self.client.as_ref();
        let r = run_for_applications(client, &self.ledger, &self.spec, Utc::now(), &input, ids)
            .await
            .unwrap();
        assert!(r.run.watermark.is_none() && !r.run.full, "{:?}", r.run);
        r
    }

    async fn targeted(&self, ids: &[String]) -> BTreeMap<String, Outcome> {
        self.targeted_report(ids).await.outcomes
    }

    /// Each of `ids` carries the notes its ledger implies: one per change of
    /// score or band, none twice.
    async fn assert_notes_match_ledger(&self, ids: &[String]) {
        for id in ids {
            let expected = support::expected_notes_in(&self.ledger, KEY, id).await;
            assert!(expected >= 1, "application {id} was never decided");
            assert_eq!(self.notes(id).await, expected, "application {id}");
        }
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    let r = http.get(url).send().await.unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.unwrap()
}

/// After a scheduled run: unchanged writes nothing; a change writes once (or
/// is recorded without a write when its score and band did not change), and
/// the same change again writes nothing; deleted, unknown and out-of-scope
/// ids are reported; cursor and checkpoint stay as the scheduled run left them.
async fn targeted_after_scheduled(vendor: VendorKind) {
    let h = Harness::start(vendor).await;
    let first = h.scheduled().await;
    assert!(first.counts.written_back > 0, "{:?}", first.counts);
    let cursor = h.ledger.cursor(KEY).await.unwrap();
    assert!(cursor.is_some());
    let open = h.applications(true).await;
    let closed = h.applications(false).await;
    assert!(!closed.is_empty());
    h.assert_notes_match_ledger(&open).await;
    let id = open[0].clone();

    // Unchanged: nothing scored, nothing written.
    let notes = h.notes_created().await;
    let o = h.targeted(std::slice::from_ref(&id)).await;
    assert_eq!(o[&id], Outcome::Unchanged);
    assert_eq!(h.notes_created().await, notes);

    // Changed until its score or band moves: each change is decided once and
    // written only when a recruiter would see a difference.
    let mut wrote = false;
    for _ in 0..8 {
        let decisions = h.ledger.decisions(KEY, &id).await.unwrap().len();
        h.control("touch", json!({"application_ids": [id]})).await;
        let o = h.targeted(std::slice::from_ref(&id)).await;
        assert_eq!(
            h.ledger.decisions(KEY, &id).await.unwrap().len(),
            decisions + 1
        );
        h.assert_notes_match_ledger(std::slice::from_ref(&id)).await;
        // The same change again (a retried delivery): nothing.
        let notes = h.notes_created().await;
        let again = h.targeted(std::slice::from_ref(&id)).await;
        assert_eq!(again[&id], Outcome::Unchanged);
        assert_eq!(h.notes_created().await, notes);
        match o[&id] {
            Outcome::Written { adopted: false } => {
                wrote = true;
                break;
            }
            Outcome::Scored => {}
            other => panic!("after a touch: {other:?}"),
        }
    }
    assert!(wrote, "no touch changed the score or band");

    // Deleted, never there, out of scope; another unchanged one besides.
    let gone = open[1].clone();
    h.control("delete", json!({"application_ids": [gone]}))
        .await;
    let ids = vec![
        gone.clone(),
        "no-such-application".to_string(),
        closed[0].clone(),
        open[2].clone(),
    ];
    let notes = h.notes_created().await;
    let r = h.targeted_report(&ids).await;
    assert_eq!(r.outcomes[&gone], Outcome::Deleted);
    assert_eq!(r.outcomes["no-such-application"], Outcome::Deleted);
    assert_eq!(r.outcomes[&closed[0]], Outcome::Skipped);
    assert_eq!(r.outcomes[&open[2]], Outcome::Unchanged);
    assert_eq!(r.run.counts.deleted, 1, "{:?}", r.run.counts);
    assert_eq!(h.notes_created().await, notes);
    assert!(
        h.ledger
            .decisions(KEY, &closed[0])
            .await
            .unwrap()
            .is_empty()
    );

    // Not a pull: the cursor and checkpoint are as the scheduled run left them.
    assert_eq!(h.ledger.cursor(KEY).await.unwrap(), cursor);
    assert!(h.ledger.checkpoint(KEY).await.unwrap().is_none());

    // The next scheduled run finds nothing left to write.
    let next = h.scheduled().await;
    assert_eq!(next.counts.written_back, 0, "{:?}", next.counts);
    let alive: Vec<String> = open.iter().filter(|i| **i != gone).cloned().collect();
    h.assert_notes_match_ledger(&alive).await;
}

/// Lands every other write, then never answers: the process dies there, its
/// decisions recorded Pending, some notes in the ATS the ledger never heard of.
struct Crashing {
    inner: Arc<dyn AtsClient>,
    calls: AtomicUsize,
    /// Writes that got as far as the crash.
    hung: AtomicUsize,
}

#[async_trait]
impl AtsClient for Crashing {
    fn pull_batches<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
        scope: &'a PullScope,
        resume_after: Option<String>,
        known: &'a dyn vendors::Known,
    ) -> vendors::Batches<'a> {
        self.inner.pull_batches(since, scope, resume_after, known)
    }
    async fn pull_applications(
        &self,
        ids: &[String],
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        self.inner.pull_applications(ids, scope).await
    }
    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        if self.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            self.inner.write_back(req).await?;
        }
        self.hung.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
    async fn operator_notes(&self, app: &Application) -> Result<Vec<String>, VendorError> {
        self.inner.operator_notes(app).await
    }
    async fn verify(&self) -> Result<(), VendorError> {
        self.inner.verify().await
    }
}

/// A crash between decision and write (some writes landed, none recorded):
/// the next targeted run for the same applications finishes them, adopting
/// what landed, and every application ends with exactly one note.
async fn crash_between_decision_and_write(vendor: VendorKind) {
    let h = Harness::start(vendor).await;
    let ids: Vec<String> = h.applications(true).await.into_iter().take(6).collect();
    let crashing = Crashing {
        inner: h.client.clone(),
        calls: AtomicUsize::new(0),
        hung: AtomicUsize::new(0),
    };
    let input = RunInput::default();
    let mut run = Box::pin(run_for_applications(
        &crashing,
        &h.ledger,
        &h.spec,
        Utc::now(),
        &input,
        &ids,
    ));
    // Four writes run at once: the crash comes when all of them hang.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while crashing.hung.load(Ordering::SeqCst) < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes never started"
        );
        tokio::select! {
            r = &mut run => panic!("the run finished: {:?}", r.map(|r| r.outcomes)),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    // The crash: the run and its writes in flight are gone.
    drop(run);
    let landed = h.notes_created().await;
    assert_eq!(landed, 2, "every other write landed");
    let pending = h.ledger.pending_writes(KEY, Utc::now()).await.unwrap();
    assert_eq!(pending.len(), ids.len(), "every decision is Pending");

    let o = h.targeted(&ids).await;
    let adopted = o
        .values()
        .filter(|v| **v == Outcome::Written { adopted: true })
        .count();
    let written = o
        .values()
        .filter(|v| **v == Outcome::Written { adopted: false })
        .count();
    assert_eq!((adopted, written), (2, ids.len() - 2), "{o:?}");
    for id in &ids {
        assert_eq!(h.notes(id).await, 1, "application {id}");
    }
    assert!(
        h.ledger
            .pending_writes(KEY, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    // And once more, as a retried delivery: nothing.
    let o = h.targeted(&ids).await;
    assert!(o.values().all(|v| *v == Outcome::Unchanged), "{o:?}");
    assert_eq!(h.notes_created().await, ids.len() as u64);
}

macro_rules! vendors {
    ($($vendor:ident => $kind:expr),*) => {
        $(
            mod $vendor {
                use super::*;

                #[tokio::test]
                async fn targeted_after_scheduled() {
                    super::targeted_after_scheduled($kind).await
                }

                #[tokio::test]
                async fn crash_between_decision_and_write() {
                    super::crash_between_decision_and_write($kind).await
                }
            }
        )*
    };
}

vendors!(
    greenhouse => VendorKind::Greenhouse,
    lever => VendorKind::Lever,
    workable => VendorKind::Workable
);
