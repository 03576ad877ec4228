//! Exactly-once write-back across a crash between scoring and writing, made
//! deterministic: a wrapper client "crashes" each write either after it landed in
//! the ATS (the ledger never heard) or before it was sent. The next run, with the
//! real client, must leave exactly one note per application.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use ats_operator::ledger::Ledger;
use ats_operator::model::{Application, JobStatus};
use ats_operator::sandbox::{self, SandboxOptions};
use ats_operator::sync::SyncSpec;
use ats_operator::sync::pipeline;
use ats_operator::vendors::{self, AtsClient, PullScope, VendorError, WriteBackRequest};
use chrono::{DateTime, Utc};
use serde_json::Value;
use support::spec;

mod support;

/// Lands every other write, then fails all of them as a crash would.
struct Crashing {
    inner: Arc<dyn AtsClient>,
    calls: AtomicUsize,
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
    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        if self.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            self.inner.write_back(req).await?;
        }
        Err(VendorError::Unavailable("crashed".into()))
    }
    async fn operator_notes(&self, app: &Application) -> Result<Vec<String>, VendorError> {
        self.inner.operator_notes(app).await
    }
    async fn verify(&self) -> Result<(), VendorError> {
        self.inner.verify().await
    }
}

fn spec(base: &str, creds: &Value) -> SyncSpec {
    spec::sync(
        spec::greenhouse(base, creds),
        ("tenant", "recovery"),
        "p",
        vec![JobStatus::Open],
    )
}

async fn get(url: String) -> Value {
    reqwest::get(url)
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
}

/// A small Greenhouse tenant without a rate limit.
fn opts() -> SandboxOptions {
    support::sandbox::unlimited(24, 3)
}

/// Every application of an open job in the sandbox at `base` carries exactly
/// one note; returns those applications.
async fn assert_one_note_each(base: &str) -> Vec<Value> {
    let apps = get(format!("{base}/_sandbox/applications")).await;
    let open: Vec<Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["job_status"] == "open")
        .cloned()
        .collect();
    for a in &open {
        let notes = get(format!("{base}/_sandbox/applications/{}/notes", a["id"])).await;
        assert_eq!(
            notes.as_array().unwrap().len(),
            1,
            "application {}",
            a["id"]
        );
    }
    open
}

#[tokio::test]
async fn crash_between_scoring_and_writing_neither_loses_nor_duplicates() {
    let sb = sandbox::start_greenhouse("127.0.0.1:0".parse().unwrap(), opts())
        .await
        .unwrap();
    let creds = get(format!("{}/_sandbox/credentials", sb.base_url)).await;
    let spec = spec(&sb.base_url, &creds);
    let real = vendors::connect(&spec.connection, None).unwrap();
    let ledger = Ledger::open_in_memory().unwrap();

    let crashing = Crashing {
        inner: real.clone(),
        calls: AtomicUsize::new(0),
    };
    let input = pipeline::RunInput::default();
    // Failed writes do not fail the run: they are counted and retried on their own.
    let first = pipeline::run_once(&crashing, &ledger, &spec, Utc::now(), &input)
        .await
        .unwrap();
    assert!(first.counts.failed > 0, "{:?}", first.counts);
    assert!(first.write_failure.is_some());
    let landed = get(format!("{}/_sandbox/stats", sb.base_url)).await["notes_created"]
        .as_u64()
        .unwrap();
    assert!(landed > 0, "some writes landed before the crash");
    // Transient failures back off; an hour later every one is due again.
    let later = Utc::now() + chrono::Duration::hours(1);
    assert!(
        ledger
            .pending_writes("tenant/recovery", Utc::now())
            .await
            .unwrap()
            .is_empty(),
        "retried before their backoff"
    );
    let pending = ledger
        .pending_writes("tenant/recovery", later)
        .await
        .unwrap();
    assert!(
        pending.len() as u64 > landed,
        "writes that never landed are pending too"
    );

    let second = pipeline::run_once(real.as_ref(), &ledger, &spec, later, &input)
        .await
        .unwrap();
    assert_eq!(second.counts.scored, 0, "nothing is scored twice");
    assert!(
        ledger
            .pending_writes("tenant/recovery", later)
            .await
            .unwrap()
            .is_empty()
    );

    let open = assert_one_note_each(&sb.base_url).await;
    for a in &open {
        assert!(a["custom_fields"]["ai_score"]["value"].is_number());
    }
    assert!(!open.is_empty());
}

/// Pending writes of one account are never sent to another: after the
/// connection moves to a different account, they are superseded, and the new
/// account gets exactly one write per application, of its own decisions.
#[tokio::test]
async fn pending_writes_are_superseded_when_the_source_changes() {
    let a = sandbox::start_greenhouse("127.0.0.1:0".parse().unwrap(), opts())
        .await
        .unwrap();
    let b = sandbox::start_greenhouse("127.0.0.1:0".parse().unwrap(), opts())
        .await
        .unwrap();
    let creds_a = get(format!("{}/_sandbox/credentials", a.base_url)).await;
    let creds_b = get(format!("{}/_sandbox/credentials", b.base_url)).await;
    let spec_a = spec(&a.base_url, &creds_a);
    let spec_b = spec(&b.base_url, &creds_b);
    let ledger = Ledger::open_in_memory().unwrap();
    let input = pipeline::RunInput::default();
    let crashing = Crashing {
        inner: vendors::connect(&spec_a.connection, None).unwrap(),
        calls: AtomicUsize::new(0),
    };
    pipeline::run_once(&crashing, &ledger, &spec_a, Utc::now(), &input)
        .await
        .unwrap();
    let later = Utc::now() + chrono::Duration::hours(1);
    let pending = ledger
        .pending_writes("tenant/recovery", later)
        .await
        .unwrap()
        .len() as u64;
    assert!(pending > 0);
    let notes_a = get(format!("{}/_sandbox/stats", a.base_url)).await["notes_created"].clone();

    let client_b = vendors::connect(&spec_b.connection, None).unwrap();
    let r = pipeline::run_once(client_b.as_ref(), &ledger, &spec_b, later, &input)
        .await
        .unwrap();
    assert_eq!(r.counts.superseded, pending, "{:?}", r.counts);
    assert!(r.full, "a new source is pulled in full");
    assert_eq!(
        get(format!("{}/_sandbox/stats", a.base_url)).await["notes_created"],
        notes_a,
        "nothing more went to the old account"
    );
    assert_one_note_each(&b.base_url).await;
}
