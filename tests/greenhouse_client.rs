//! The Greenhouse v3 client against the Greenhouse sandbox: mapping, incremental
//! pulls, retries, token refresh, auth failures, rate limits and write-back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ats_operator::model::{Application, ApplicationStatus, Band, VendorKind};
use ats_operator::sandbox::{self, RunningSandbox, SandboxOptions};
use ats_operator::vendors::greenhouse::GreenhouseClient;
use ats_operator::vendors::{
    AtsClient, ConnectionConfig, PullScope, SecretValue, VendorError, WriteBackRequest,
};
use reqwest::Method;
use serde_json::{Value, json};
use support::client::{
    applicants, assert_auth, assert_blind, assert_gives_up, assert_job_text, assert_pulls_through,
    assert_resumes_changed, control, count, fast, faults, get, ids, post, pull_all, pull_err,
    pull_nothing_since, pull_one_job, pull_open_jobs, pull_since, rate_limit, resumes, stats,
    verify_err, write_request,
};
use support::spec;

mod support;

const APPS: usize = 120;

async fn start(opts: SandboxOptions) -> RunningSandbox {
    sandbox::start_greenhouse("127.0.0.1:0".parse().unwrap(), opts)
        .await
        .expect("sandbox")
}

async fn sandbox_with(apps: usize) -> RunningSandbox {
    start(SandboxOptions {
        applications: apps,
        ..SandboxOptions::default()
    })
    .await
}

fn config(sb: &RunningSandbox, sub: Option<u64>) -> ConnectionConfig {
    let secret = |k: &str| SecretValue::new(sb.credentials.get(k).to_string());
    ConnectionConfig {
        base_url: Some(sb.base_url.clone()),
        token_url: Some(sb.token_url.clone()),
        credentials: BTreeMap::from([
            ("clientId".to_string(), secret("clientId")),
            ("clientSecret".to_string(), secret("clientSecret")),
        ]),
        sub: sub.map(|s| s.to_string()),
        ..spec::loopback(VendorKind::Greenhouse)
    }
}

fn client(sb: &RunningSandbox) -> GreenhouseClient {
    GreenhouseClient::with_policy(
        &config(
            sb,
            Some(ats_operator::sandbox::greenhouse::SITE_ADMIN_USER_ID),
        ),
        fast(),
    )
    .expect("client")
}

/// A sandbox of `apps` and a client that verified its credentials; then the
/// control call `path` (say, expiring the tokens) pulls the rug.
async fn verified_then(apps: usize, path: &str) -> (RunningSandbox, GreenhouseClient) {
    let sb = sandbox_with(apps).await;
    let c = client(&sb);
    c.verify().await.expect("verify");
    control(&sb, Method::POST, path, None).await;
    (sb, c)
}

fn api_requests(stats: &Value) -> u64 {
    stats["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.contains(" /v3/"))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn full_pull_maps_everything() {
    let sb = sandbox_with(APPS).await;
    let c = client(&sb);
    let cs = pull_all(&c, "pull").await;

    assert_eq!(cs.applications.len(), APPS);
    assert!(!cs.jobs.is_empty());
    let jobs: BTreeSet<&str> = cs.jobs.iter().map(|j| j.id.as_str()).collect();
    let cands: BTreeMap<&str, _> = cs.candidates.iter().map(|c| (c.id.as_str(), c)).collect();
    for a in &cs.applications {
        assert!(jobs.contains(a.job_id.as_str()), "job of {}", a.id);
        assert!(
            cands.contains_key(a.candidate_id.as_str()),
            "candidate of {}",
            a.id
        );
        assert!(a.updated_at.is_some() && a.applied_at.is_some());
        assert!(a.stage.is_some());
    }
    // Only candidates with applications, each once.
    assert_eq!(applicants(&cs).len(), cs.candidates.len());
    for cand in &cs.candidates {
        assert!(cand.personal.first_name.is_some() && cand.personal.email.is_some());
        assert!(!cand.resume.parsed_text.is_empty(), "resume of {}", cand.id);
        assert!(cand.resume.url.is_some());
        assert!(
            !cand.resume.structured.skills.is_empty(),
            "skills of {}",
            cand.id
        );
        // Personal data stays out of what the scorer sees.
        assert_blind(cand);
    }
    for j in &cs.jobs {
        assert_job_text(j);
        assert!(j.employment_type.is_some());
        assert!(j.department.is_some());
    }
    assert!(cs.high_watermark.is_some());

    // 1 token, one page per list (jobs, posts, applications, candidates, attachments).
    let s = stats(&sb).await;
    assert_eq!(s["token_requests"], 1);
    assert_eq!(api_requests(&s), 5, "{s}");
    for route in [
        "jobs",
        "job_posts",
        "applications",
        "candidates",
        "attachments",
    ] {
        assert_eq!(count(&s, &format!("GET /v3/{route}")), 1, "{route}");
    }
}

#[tokio::test]
async fn scope_filters_jobs_and_applications() {
    let sb = sandbox_with(APPS).await;
    let c = client(&sb);
    let cs = pull_open_jobs(&c, "pull").await;
    pull_one_job(&c, &cs.jobs[0].id, "pull one job").await;
}

#[tokio::test]
async fn incremental_pull_returns_the_touched_applications() {
    let sb = sandbox_with(APPS).await;
    let c = client(&sb);
    let full = pull_all(&c, "full pull").await;
    let since = full.high_watermark.expect("watermark");
    let before = resumes(&full);

    // Nothing changed: nothing comes back.
    let later = since + chrono::Duration::milliseconds(1);
    pull_nothing_since(&c, later).await;

    tokio::time::sleep(Duration::from_millis(5)).await;
    let touched = ids(&post(&sb, "touch", json!({"count": 5})).await);
    let cs = pull_since(&c, later, "incremental pull").await;

    // Touching changes the resume, so every application of those candidates is re-scored.
    let touched_cands: BTreeSet<&str> = full
        .applications
        .iter()
        .filter(|a| touched.contains(&a.id))
        .map(|a| a.candidate_id.as_str())
        .collect();
    let expected: BTreeSet<&str> = full
        .applications
        .iter()
        .filter(|a| touched_cands.contains(a.candidate_id.as_str()))
        .map(|a| a.id.as_str())
        .collect();
    let got: BTreeSet<&str> = cs.applications.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(got, expected);
    assert!(touched.iter().all(|t| got.contains(t.as_str())));
    let got_cands: BTreeSet<&str> = cs.candidates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(got_cands, touched_cands);
    assert_resumes_changed(&cs, &before);
    assert!(cs.high_watermark > Some(since));
}

#[tokio::test]
async fn server_errors_are_retried() {
    let sb = sandbox_with(40).await;
    let c = client(&sb);
    faults(&sb, 503, 3, "/v3/applications").await;
    assert_pulls_through(&sb, &c, 40, 3, "pull despite 503s").await;

    // Beyond the attempt budget: unavailable, and transient.
    assert_gives_up(&sb, &c, "/v3/jobs").await;
}

#[tokio::test]
async fn expired_token_is_refreshed() {
    let (sb, c) = verified_then(40, "tokens/expire").await;
    let cs = pull_all(&c, "pull after expiry").await;
    assert_eq!(cs.applications.len(), 40);
    // Concurrent requests that saw the 401 share one refresh.
    assert_eq!(stats(&sb).await["token_requests"], 2);
}

#[tokio::test]
async fn revoked_credentials_are_an_auth_error() {
    let (sb, c) = verified_then(10, "credentials/revoke").await;
    let err = pull_err(&c).await;
    assert_auth(&err);
    assert!(!err.is_transient());
    let fresh = client(&sb);
    let err = verify_err(&fresh).await;
    assert_auth(&err);
    let msg = err.to_string();
    assert!(!msg.contains(sb.credentials.get("clientSecret")), "{msg}");

    let mut wrong = config(&sb, None);
    wrong
        .credentials
        .insert("clientSecret".into(), SecretValue::new("not-the-secret"));
    let err = verify_err(&GreenhouseClient::with_policy(&wrong, fast()).unwrap()).await;
    assert_auth(&err);
}

#[tokio::test]
async fn non_site_admin_is_forbidden() {
    let sb = sandbox_with(10).await;
    let c = GreenhouseClient::with_policy(
        &config(&sb, Some(ats_operator::sandbox::greenhouse::BASIC_USER_ID)),
        fast(),
    )
    .unwrap();
    let err = verify_err(&c).await;
    match &err {
        VendorError::Forbidden(m) => assert!(m.contains("Site Admin"), "{m}"),
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(matches!(
        c.pull(None, &PullScope::default()).await,
        Err(VendorError::Forbidden(_))
    ));
}

#[tokio::test]
async fn rate_limits_are_honoured() {
    let sb = sandbox_with(40).await;
    let c = client(&sb);
    rate_limit(&sb, json!({"requests": 2, "window_seconds": 1})).await;
    let t0 = Instant::now();
    let cs = pull_all(&c, "pull under a tight limit").await;
    assert_eq!(cs.applications.len(), 40);
    // Five list requests at two per second need at least two window turns.
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );

    rate_limit(&sb, json!({"disabled": true})).await;
    faults(&sb, 429, 2, "/v3/jobs").await;
    let t0 = Instant::now();
    c.verify().await.expect("verify after two 429s");
    // Retry-After: 1 each time.
    assert!(
        t0.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        t0.elapsed()
    );
}

fn request(app: &Application, key: &str) -> WriteBackRequest {
    WriteBackRequest {
        band_tag: None,
        ..write_request(app, key, Band::StrongFit)
    }
}

#[tokio::test]
async fn write_back_then_note_exists() {
    let sb = sandbox_with(10).await;
    let c = client(&sb);
    let cs = pull_all(&c, "pull").await;
    let app = cs
        .applications
        .iter()
        .find(|a| a.status != ApplicationStatus::Hired)
        .unwrap_or(&cs.applications[0]);
    let req = request(app, "k-123");
    assert!(!c.note_exists(&req).await.expect("note_exists before"));
    c.write_back(&req).await.expect("write back");
    assert!(c.note_exists(&req).await.expect("note_exists after"));
    let other = request(app, "k-456");
    assert!(!c.note_exists(&other).await.unwrap());

    let notes = get(&sb, &format!("applications/{}/notes", app.id)).await;
    let notes = notes.as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["body"], req.note_body());
    assert_eq!(notes[0]["visibility"], "admin_only_visible");
    assert_eq!(
        notes[0]["user_id"],
        ats_operator::sandbox::greenhouse::SITE_ADMIN_USER_ID
    );
    let s = stats(&sb).await;
    assert_eq!(s["application_patches"], 1);
    assert_eq!(s["notes_created"], 1);

    // A failed note POST is checked before it is resent: still one note each.
    faults(&sb, 503, 1, "/v3/notes").await;
    c.write_back(&other)
        .await
        .expect("write back despite a 503");
    let notes = get(&sb, &format!("applications/{}/notes", app.id)).await;
    assert_eq!(notes.as_array().unwrap().len(), 2);

    // An unknown custom field is the user's to fix, not a retry.
    let mut bad = request(app, "k-789");
    bad.custom_field = Some("no_such_field".into());
    let err = c.write_back(&bad).await.unwrap_err();
    assert!(
        matches!(
            err,
            VendorError::Rejected { status: 422, .. } | VendorError::Rejected { status: 400, .. }
        ),
        "{err:?}"
    );
}
