//! What the vendor client tests share: the sandbox's control API and request
//! counts, short retries, and a write-back request to send.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ats_operator::model::{
    Application, Band, BlindCandidate, Candidate, ChangeSet, ComponentScores, Job, JobStatus, Score,
};
use ats_operator::sandbox::RunningSandbox;
use ats_operator::vendors::http::RetryPolicy;
use ats_operator::vendors::{AtsClient, BandTag, PullScope, VendorError, WriteBackRequest};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

/// A call to the sandbox's control API (`/_sandbox/{path}`) that must succeed;
/// its JSON answer.
pub async fn control(
    sb: &RunningSandbox,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut rb = reqwest::Client::new().request(method, format!("{}/_sandbox/{path}", sb.base_url));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("control request");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("control json")
}

pub async fn get(sb: &RunningSandbox, path: &str) -> Value {
    control(sb, Method::GET, path, None).await
}

pub async fn post(sb: &RunningSandbox, path: &str, body: Value) -> Value {
    control(sb, Method::POST, path, Some(body)).await
}

/// Sets the sandbox's rate limit (`{"requests", "window_seconds"}` or `{"disabled": true}`).
pub async fn rate_limit(sb: &RunningSandbox, body: Value) {
    control(sb, Method::PUT, "rate_limit", Some(body)).await;
}

/// The next `count` API requests under `path_prefix` answer `status`.
pub async fn faults(sb: &RunningSandbox, status: u16, count: u32, path_prefix: &str) {
    let body = json!({"status": status, "count": count, "path_prefix": path_prefix});
    post(sb, "faults", body).await;
}

pub async fn stats(sb: &RunningSandbox) -> Value {
    get(sb, "stats").await
}

/// Requests the sandbox answered on `route`, e.g. `GET /v3/jobs`.
pub fn count(stats: &Value, route: &str) -> u64 {
    stats["requests"][route].as_u64().unwrap_or(0)
}

/// The `application_ids` of a control API answer.
pub fn ids(v: &Value) -> BTreeSet<String> {
    v["application_ids"]
        .as_array()
        .expect("application_ids")
        .iter()
        .map(|x| x.as_str().expect("id").to_string())
        .collect()
}

/// A full pull of everything, which must succeed (`what` names it if not).
pub async fn pull_all(c: &impl AtsClient, what: &str) -> ChangeSet {
    c.pull(None, &PullScope::default()).await.expect(what)
}

/// A full pull of everything, which must fail; its error.
pub async fn pull_err(c: &impl AtsClient) -> VendorError {
    c.pull(None, &PullScope::default()).await.unwrap_err()
}

/// A pull of what changed after `since`, which must succeed.
pub async fn pull_since(c: &impl AtsClient, since: DateTime<Utc>, what: &str) -> ChangeSet {
    c.pull(Some(since), &PullScope::default())
        .await
        .expect(what)
}

/// A pull of the open jobs: open jobs only, and some applications, all of them
/// to those jobs.
pub async fn pull_open_jobs(c: &impl AtsClient, what: &str) -> ChangeSet {
    let scope = PullScope {
        job_statuses: vec![JobStatus::Open],
        job_ids: vec![],
    };
    let cs = c.pull(None, &scope).await.expect(what);
    assert!(cs.jobs.iter().all(|j| j.status == JobStatus::Open));
    let open: BTreeSet<&str> = cs.jobs.iter().map(|j| j.id.as_str()).collect();
    assert!(!cs.applications.is_empty());
    let to_open = |a: &Application| open.contains(a.job_id.as_str());
    assert!(cs.applications.iter().all(to_open));
    cs
}

/// A pull of the one job `id`: that job alone, and only its applications.
pub async fn pull_one_job(c: &impl AtsClient, id: &str, what: &str) -> ChangeSet {
    let scope = PullScope {
        job_statuses: vec![],
        job_ids: vec![id.to_string()],
    };
    let cs = c.pull(None, &scope).await.expect(what);
    assert_eq!(cs.jobs.len(), 1);
    assert!(cs.applications.iter().all(|a| a.job_id == id));
    cs
}

/// Beyond the attempt budget: the vendor is unavailable, which is transient.
pub fn assert_unavailable(err: &VendorError) {
    assert!(matches!(err, VendorError::Unavailable(_)), "{err:?}");
    assert!(err.is_transient());
}

/// The vendor refused the credentials.
pub fn assert_auth(err: &VendorError) {
    assert!(matches!(err, VendorError::Auth(_)), "{err:?}");
}

/// The faults injected so far are retried: a full pull brings all
/// `applications`, and the sandbox injected `injected` faults.
pub async fn assert_pulls_through(
    sb: &RunningSandbox,
    c: &impl AtsClient,
    applications: usize,
    injected: u64,
    what: &str,
) {
    let cs = pull_all(c, what).await;
    assert_eq!(cs.applications.len(), applications);
    assert_eq!(stats(sb).await["faults_injected"], injected);
}

/// Server errors under `path_prefix` beyond the attempt budget: the pull
/// gives up, unavailable (see [`assert_unavailable`]).
pub async fn assert_gives_up(sb: &RunningSandbox, c: &impl AtsClient, path_prefix: &str) {
    faults(sb, 500, 50, path_prefix).await;
    assert_unavailable(&pull_err(c).await);
}

/// A pull of what changed after `since`, when nothing has: it brings nothing.
pub async fn pull_nothing_since(c: &impl AtsClient, since: DateTime<Utc>) -> ChangeSet {
    let none = pull_since(c, since, "empty pull").await;
    assert!(none.applications.is_empty() && none.candidates.is_empty());
    none
}

/// Verification, which must fail; its error.
pub async fn verify_err(c: &impl AtsClient) -> VendorError {
    c.verify().await.unwrap_err()
}

/// What the scorer sees of `cand`, which must not carry the email address.
pub fn assert_blind(cand: &Candidate) -> BlindCandidate {
    let blind = BlindCandidate::from_candidate(cand);
    let email = cand.personal.email.as_deref().unwrap_or_default();
    assert!(!blind.resume_text.contains(email));
    blind
}

/// A job's title, description (no HTML left) and requirements are there.
pub fn assert_job_text(j: &Job) {
    assert!(!j.title.is_empty());
    assert!(!j.description.contains('<'), "HTML left in {}", j.id);
    assert!(!j.requirements.is_empty(), "requirements of {}", j.id);
}

/// Resume text by candidate id, to tell later whose resume changed.
pub fn resumes(cs: &ChangeSet) -> BTreeMap<String, String> {
    let resume = |c: &Candidate| (c.id.clone(), c.resume.parsed_text.clone());
    cs.candidates.iter().map(resume).collect()
}

/// Every candidate in `cs` has another resume than in `before`.
pub fn assert_resumes_changed(cs: &ChangeSet, before: &BTreeMap<String, String>) {
    for cand in &cs.candidates {
        assert_ne!(
            Some(&cand.resume.parsed_text),
            before.get(&cand.id),
            "resume of {} unchanged",
            cand.id
        );
    }
}

/// The candidates that `cs`'s applications name.
pub fn applicants(cs: &ChangeSet) -> BTreeSet<&str> {
    let ids = cs.applications.iter().map(|a| a.candidate_id.as_str());
    ids.collect()
}

/// Short backoffs keep the fault tests fast; the attempt budget is the default.
pub fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
        ..RetryPolicy::default()
    }
}

/// A score of 87 in `band` for `app`, written as a note, the `ai_score`
/// custom field and an `ai-` band tag; tests drop what their vendor lacks.
pub fn write_request(app: &Application, key: &str, band: Band) -> WriteBackRequest {
    WriteBackRequest {
        application: app.clone(),
        score: Score {
            score: 87,
            components: ComponentScores {
                skills: Some(90),
                experience: Some(80),
                title: None,
                education: None,
                semantic: None,
            },
            strengths: vec!["Rust".into()],
            gaps: vec!["Kafka".into()],
            band,
            evidence: vec![],
            requirements_found: true,
            summary: String::new(),
            candidate_summary: String::new(),
            semantic_model: None,
        },
        note: true,
        custom_field: Some("ai_score".into()),
        band_tag: Some(BandTag::new("ai-", band)),
        key: key.into(),
        decided_at: chrono::Utc::now(),
        profile: "test (generation 1)".into(),
    }
}
