//! A job whose text states no requirement is a visible outcome: the run reports
//! it, its applications are scored without the skills component, and the note
//! written to the ATS says "no requirements found in the job".

use std::sync::Arc;

use async_trait::async_trait;
use ats_operator::ledger::Ledger;
use ats_operator::model::{Application, JobStatus};
use ats_operator::sandbox;
use ats_operator::sync::pipeline;
use ats_operator::vendors::{self, AtsClient, PullScope, VendorError, WriteBackRequest};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use support::spec;

mod support;

/// The real sandbox client, with every job's text reduced to an intro.
struct Vague {
    inner: Arc<dyn AtsClient>,
}

#[async_trait]
impl AtsClient for Vague {
    fn pull_batches<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
        scope: &'a PullScope,
        resume_after: Option<String>,
        known: &'a dyn vendors::Known,
    ) -> vendors::Batches<'a> {
        self.inner
            .pull_batches(since, scope, resume_after, known)
            .map(|batch| {
                batch.map(|mut b| {
                    for j in &mut b.jobs {
                        j.description = "We are a friendly, growing team.".into();
                        j.requirements.clear();
                        j.nice_to_have.clear();
                    }
                    b
                })
            })
            .boxed()
    }
    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        self.inner.write_back(req).await
    }
    async fn operator_notes(&self, app: &Application) -> Result<Vec<String>, VendorError> {
        self.inner.operator_notes(app).await
    }
    async fn verify(&self) -> Result<(), VendorError> {
        self.inner.verify().await
    }
}

async fn get(url: String) -> Value {
    reqwest::get(url)
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_job_without_requirements_is_reported_and_noted() {
    let sb = sandbox::start_greenhouse(
        "127.0.0.1:0".parse().unwrap(),
        support::sandbox::unlimited(12, 2),
    )
    .await
    .unwrap();
    let creds = get(format!("{}/_sandbox/credentials", sb.base_url)).await;
    let spec = spec::sync(
        spec::greenhouse(&sb.base_url, &creds),
        ("tenant", "vague"),
        "p",
        vec![JobStatus::Open],
    );
    let client = Vague {
        inner: vendors::connect(&spec.connection, None).unwrap(),
    };
    let ledger = Ledger::open_in_memory().unwrap();
    let report = pipeline::run_once(
        &client,
        &ledger,
        &spec,
        Utc::now(),
        &pipeline::RunInput::default(),
    )
    .await
    .unwrap();
    assert!(report.counts.scored > 0, "{:?}", report.counts);
    assert!(
        !report.jobs_without_requirements.is_empty(),
        "{:?}",
        report.jobs_without_requirements
    );
    let apps = get(format!("{}/_sandbox/applications", sb.base_url)).await;
    let mut noted = 0;
    for a in apps.as_array().unwrap() {
        if a["job_status"] != "open" {
            continue;
        }
        let notes = get(format!(
            "{}/_sandbox/applications/{}/notes",
            sb.base_url, a["id"]
        ))
        .await;
        for n in notes.as_array().unwrap() {
            let body = n["body"].as_str().unwrap();
            assert!(body.contains("No requirements found in the job"), "{body}");
            let components = body.lines().find(|l| l.starts_with("Components:")).unwrap();
            assert!(!components.contains("skills"), "{body}");
            noted += 1;
        }
    }
    assert!(noted > 0, "notes were written");
}
