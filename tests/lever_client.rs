//! The Lever v1 client against the Lever sandbox: mapping, scope, incremental
//! pulls, deletions, API-key and OAuth modes, refresh-token rotation through
//! the credential store, retries, rate limits and write-back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ats_operator::model::resume::parse_resume;
use ats_operator::model::{Application, ApplicationStatus, Band, ChangeSet, VendorKind};
use ats_operator::sandbox::{self, RunningSandbox, SandboxOptions};
use ats_operator::vendors::http::RetryPolicy;
use ats_operator::vendors::lever::LeverClient;
use ats_operator::vendors::{
    AtsClient, ConnectionConfig, CredentialLock, CredentialStore, MemoryStore, PullScope,
    SecretValue, VendorError, WriteBackRequest,
};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use support::client::{
    self, applicants, assert_auth, assert_blind, assert_gives_up, assert_job_text,
    assert_pulls_through, assert_resumes_changed, control, count, faults, get, ids, post, pull_all,
    pull_err, pull_nothing_since, pull_one_job, pull_open_jobs, pull_since, rate_limit, resumes,
    stats, verify_err,
};
use support::spec;

mod support;

const APPS: usize = 30;

async fn sandbox_with(apps: usize) -> RunningSandbox {
    sandbox::start(
        VendorKind::Lever,
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            applications: apps,
            // Request counts stay exact; `rate_limits_are_honoured` turns it on.
            rate_limit: None,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox")
}

/// What `/_sandbox/credentials` serves.
async fn sandbox_creds(sb: &RunningSandbox) -> (BTreeMap<String, SecretValue>, Value) {
    let v = get(sb, "credentials").await;
    let secret = v["secret"]
        .as_object()
        .expect("secret")
        .iter()
        .map(|(k, v)| (k.clone(), SecretValue::new(v.as_str().unwrap_or_default())))
        .collect();
    (secret, v["connection"].clone())
}

fn config(connection: &Value, credentials: BTreeMap<String, SecretValue>) -> ConnectionConfig {
    let s = |k: &str| connection[k].as_str().map(str::to_string);
    ConnectionConfig {
        base_url: s("baseUrl"),
        token_url: s("tokenUrl"),
        credentials,
        sub: s("sub"),
        ..spec::loopback(VendorKind::Lever)
    }
}

/// Short backoffs keep the fault tests fast; the attempt budgets are the defaults.
fn fast() -> RetryPolicy {
    RetryPolicy {
        default_retry_after: Duration::from_millis(100),
        ..client::fast()
    }
}

async fn api_key_client(sb: &RunningSandbox) -> LeverClient {
    let (secret, conn) = sandbox_creds(sb).await;
    let creds = BTreeMap::from([("apiKey".to_string(), secret["apiKey"].clone())]);
    LeverClient::with_policy(
        &config(&conn, creds),
        Arc::new(MemoryStore::default()),
        fast(),
    )
    .expect("client")
}

/// A sandbox of [`APPS`], its API-key client, a full pull, and the instant
/// just after that pull's watermark (for incremental pulls).
async fn pulled_in_full() -> (RunningSandbox, LeverClient, ChangeSet, DateTime<Utc>) {
    let sb = sandbox_with(APPS).await;
    let c = api_key_client(&sb).await;
    let full = pull_all(&c, "full").await;
    let since = full.high_watermark.expect("watermark") + chrono::Duration::milliseconds(1);
    (sb, c, full, since)
}

/// The OAuth credentials the sandbox issued, as a Secret would hold them.
async fn oauth_creds(sb: &RunningSandbox) -> (BTreeMap<String, SecretValue>, Value) {
    let (secret, conn) = sandbox_creds(sb).await;
    let creds = ["clientId", "clientSecret", "refreshToken"]
        .into_iter()
        .map(|k| (k.to_string(), secret[k].clone()))
        .collect();
    (creds, conn)
}

fn oauth_client(
    conn: &Value,
    creds: &BTreeMap<String, SecretValue>,
    store: Arc<dyn CredentialStore>,
) -> LeverClient {
    LeverClient::with_policy(&config(conn, creds.clone()), store, fast()).expect("client")
}

#[tokio::test]
async fn full_pull_maps_everything() {
    let sb = sandbox_with(APPS).await;
    let c = api_key_client(&sb).await;
    let cs = pull_all(&c, "pull").await;

    let listed = get(&sb, "applications").await;
    let listed = listed.as_array().expect("applications");
    assert_eq!(cs.applications.len(), listed.len());
    assert_eq!(cs.applications.len(), APPS);
    let want: BTreeSet<&str> = listed.iter().filter_map(|a| a["id"].as_str()).collect();
    let got: BTreeSet<&str> = cs.applications.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(got, want);

    // Lever's "Hired" archive reason tells hired from rejected.
    let (secret, conn) = sandbox_creds(&sb).await;
    let reasons: Value = reqwest::Client::new()
        .get(format!(
            "{}/v1/archive_reasons",
            conn["baseUrl"].as_str().unwrap()
        ))
        .basic_auth(secret["apiKey"].expose(), Some(""))
        .send()
        .await
        .expect("archive reasons")
        .json()
        .await
        .expect("json");
    let hired_reason = reasons["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "hired")
        .and_then(|r| r["id"].as_str())
        .expect("a hired reason")
        .to_string();

    let jobs: BTreeSet<&str> = cs.jobs.iter().map(|j| j.id.as_str()).collect();
    let cands: BTreeMap<&str, _> = cs.candidates.iter().map(|c| (c.id.as_str(), c)).collect();
    let by_id: BTreeMap<&str, &Value> = listed
        .iter()
        .filter_map(|a| Some((a["id"].as_str()?, a)))
        .collect();
    for a in &cs.applications {
        let s = by_id[a.id.as_str()];
        assert_eq!(a.job_id, s["job_id"].as_str().unwrap(), "job of {}", a.id);
        assert_eq!(a.candidate_id, s["contact"].as_str().unwrap());
        assert!(jobs.contains(a.job_id.as_str()));
        assert!(cands.contains_key(a.candidate_id.as_str()));
        assert!(a.applied_at.is_some() && a.stage.is_some());
        // Archived ones are rejected or hired; active ones neither.
        let archived = !s["archived"].is_null();
        assert_eq!(
            archived,
            matches!(
                a.status,
                ApplicationStatus::Rejected | ApplicationStatus::Hired
            ),
            "status of {}: {:?}",
            a.id,
            a.status
        );
        let hired = s["archived"]["reason"].as_str() == Some(hired_reason.as_str());
        assert_eq!(hired, a.status == ApplicationStatus::Hired, "{}", a.id);
    }
    let statuses: BTreeSet<String> = cs
        .applications
        .iter()
        .map(|a| format!("{:?}", a.status))
        .collect();
    assert!(statuses.len() >= 3, "{statuses:?}");
    // One candidate per contact.
    assert_eq!(applicants(&cs).len(), cs.candidates.len());
    for cand in &cs.candidates {
        assert!(cand.personal.first_name.is_some() && cand.personal.email.is_some());
        assert!(cand.personal.address.is_some());
        assert!(cand.resume.url.is_some());
        // Lever's parsedData agrees with the resume file.
        let file = parse_resume(&cand.resume.parsed_text);
        assert_eq!(cand.resume.structured.work_experience, file.work_experience);
        assert_eq!(cand.resume.structured.education, file.education);
        assert!(!cand.resume.structured.education.is_empty());
        assert!(
            !cand.resume.structured.skills.is_empty(),
            "skills of {}",
            cand.id
        );
        assert_eq!(
            cand.title.is_some(),
            !cand.resume.structured.work_experience.is_empty()
        );
        assert_blind(cand);
    }
    for j in &cs.jobs {
        assert_job_text(j);
        assert!(!j.nice_to_have.is_empty(), "nice to have of {}", j.id);
        assert!(j.employment_type.is_some() && j.department.is_some());
    }
    assert!(cs.high_watermark.is_some());
    assert!(cs.deleted_application_ids.is_empty());

    // One page each of postings, archive reasons and opportunities; one
    // resume list per opportunity and one download per candidate.
    let s = stats(&sb).await;
    assert_eq!(s["token_requests"], 0);
    assert_eq!(count(&s, "GET /v1/postings"), 1);
    // The client's and this test's own.
    assert_eq!(count(&s, "GET /v1/archive_reasons"), 2);
    assert_eq!(count(&s, "GET /v1/opportunities"), 1);
    assert_eq!(count(&s, "GET /v1/opportunities/{id}/resumes"), APPS as u64);
    assert_eq!(
        count(&s, "GET /v1/opportunities/{id}/resumes/{resume}/download"),
        cs.candidates.len() as u64
    );
}

#[tokio::test]
async fn paging_follows_offsets() {
    // Two pages of postings and of opportunities (Lever pages hold 100).
    let sb = sandbox::start(
        VendorKind::Lever,
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            jobs: 130,
            applications: 110,
            rate_limit: None,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox");
    let c = api_key_client(&sb).await;
    let cs = pull_all(&c, "pull").await;
    assert_eq!(cs.jobs.len(), 130);
    assert_eq!(cs.applications.len(), 110);
    let distinct: BTreeSet<&str> = cs.applications.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(distinct.len(), 110);
    let s = stats(&sb).await;
    assert_eq!(count(&s, "GET /v1/postings"), 2, "{s}");
    assert_eq!(count(&s, "GET /v1/opportunities"), 2, "{s}");
}

#[tokio::test]
async fn scope_filters_postings_and_opportunities() {
    let sb = sandbox_with(APPS).await;
    let c = api_key_client(&sb).await;
    let cs = pull_open_jobs(&c, "pull").await;

    let one = cs.applications[0].job_id.clone();
    let before = count(&stats(&sb).await, "GET /v1/opportunities/{id}/resumes");
    let cs = pull_one_job(&c, &one, "pull one posting").await;
    assert!(!cs.applications.is_empty());
    // Only that posting's opportunities had their resumes fetched.
    let after = count(&stats(&sb).await, "GET /v1/opportunities/{id}/resumes");
    assert_eq!(after - before, cs.applications.len() as u64);
}

#[tokio::test]
async fn incremental_pull_returns_exactly_the_touched() {
    let (sb, c, full, since) = pulled_in_full().await;
    let before = resumes(&full);

    let none = pull_nothing_since(&c, since).await;
    assert!(none.high_watermark.is_none());

    tokio::time::sleep(Duration::from_millis(5)).await;
    let touched = ids(&post(&sb, "touch", json!({"count": 5})).await);
    let cs = pull_since(&c, since, "incremental").await;
    let got: BTreeSet<String> = cs.applications.iter().map(|a| a.id.clone()).collect();
    assert_eq!(got, touched);
    let cands: BTreeSet<&str> = cs.candidates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(cands, applicants(&cs));
    assert_resumes_changed(&cs, &before);
    assert!(cs.high_watermark > Some(since));
    assert!(cs.deleted_application_ids.is_empty());
}

#[tokio::test]
async fn deletions_are_reported_incrementally() {
    let (sb, c, full, since) = pulled_in_full().await;
    let gone: Vec<String> = full
        .applications
        .iter()
        .take(3)
        .map(|a| a.id.clone())
        .collect();
    let deleted = ids(&post(&sb, "delete", json!({ "application_ids": gone })).await);
    assert_eq!(deleted.len(), 3);

    let cs = pull_since(&c, since, "incremental").await;
    let reported: BTreeSet<String> = cs.deleted_application_ids.iter().cloned().collect();
    assert_eq!(reported, deleted);
    assert!(cs.applications.is_empty());

    // A full pull no longer lists them and reports no deletions.
    let again = pull_all(&c, "full").await;
    assert_eq!(again.applications.len(), APPS - 3);
    assert!(again.deleted_application_ids.is_empty());
    assert!(again.applications.iter().all(|a| !deleted.contains(&a.id)));
}

#[tokio::test]
async fn oauth_refresh_rotates_and_saves() {
    let sb = sandbox_with(10).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let store = MemoryStore::new(creds.clone());
    let c = oauth_client(&conn, &creds, Arc::new(store.clone()));
    c.verify().await.expect("verify");
    let saved = store.snapshot().await;
    assert_ne!(saved["refreshToken"], creds["refreshToken"]);
    assert!(!saved["accessToken"].expose().is_empty());
    let exp = chrono::DateTime::parse_from_rfc3339(saved["accessTokenExpiresAt"].expose())
        .expect("RFC 3339 expiry");
    assert!(exp > chrono::Utc::now() + chrono::Duration::minutes(50));
    // The saved token is the one the server considers live.
    let (live, _) = sandbox_creds(&sb).await;
    assert_eq!(saved["refreshToken"], live["refreshToken"]);

    let cs = pull_all(&c, "pull").await;
    assert_eq!(cs.applications.len(), 10);
    assert_eq!(stats(&sb).await["token_requests"], 1);

    // A client built from the Secret as saved uses the cached access token.
    let fresh = oauth_client(&conn, &saved, Arc::new(store.clone()));
    fresh.verify().await.expect("verify with the cached token");
    assert_eq!(stats(&sb).await["token_requests"], 1);
}

#[tokio::test]
async fn expired_access_token_is_refreshed_once() {
    let sb = sandbox_with(APPS).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let store = MemoryStore::new(creds.clone());
    let c = oauth_client(&conn, &creds, Arc::new(store.clone()));
    c.verify().await.expect("verify");
    let first = store.snapshot().await;
    post(&sb, "tokens/expire", json!({})).await;
    let cs = pull_all(&c, "pull").await;
    assert_eq!(cs.applications.len(), APPS);
    // The concurrent requests that saw the 401 share one refresh.
    assert_eq!(stats(&sb).await["token_requests"], 2);
    let second = store.snapshot().await;
    assert_ne!(first["refreshToken"], second["refreshToken"]);
    assert_ne!(first["accessToken"], second["accessToken"]);
}

#[tokio::test]
async fn short_lived_tokens_expire_mid_pull() {
    let sb = sandbox_with(APPS).await;
    control(&sb, Method::PUT, "token_ttl", Some(json!({"seconds": 2}))).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let store = MemoryStore::new(creds.clone());
    let c = oauth_client(&conn, &creds, Arc::new(store.clone()));
    // Paced at 10/s after a burst of 20, a pull of ~60 requests outlives a token.
    let t0 = Instant::now();
    let cs = pull_all(&c, "pull").await;
    assert_eq!(cs.applications.len(), APPS);
    assert!(t0.elapsed() > Duration::from_secs(3), "{:?}", t0.elapsed());
    let s = stats(&sb).await;
    assert!(s["token_requests"].as_u64().unwrap() >= 2, "{s}");
    let (live, _) = sandbox_creds(&sb).await;
    assert_eq!(store.snapshot().await["refreshToken"], live["refreshToken"]);
}

#[tokio::test]
async fn dead_refresh_token_needs_reauthorization() {
    let sb = sandbox_with(5).await;
    let (creds, conn) = oauth_creds(&sb).await;
    post(&sb, "refresh_tokens/expire", json!({})).await;
    let store = MemoryStore::new(creds.clone());
    let c = oauth_client(&conn, &creds, Arc::new(store.clone()));
    let err = verify_err(&c).await;
    match &err {
        VendorError::ReauthorizationRequired(m) => {
            assert!(m.contains("re-authorize"), "{m}");
            assert!(m.contains("Secret"), "{m}");
        }
        other => panic!("expected ReauthorizationRequired, got {other:?}"),
    }
    assert!(!err.is_transient());
    let msg = err.to_string();
    for v in creds.values() {
        assert!(!msg.contains(v.expose()), "secret in {msg}");
    }
    assert!(matches!(
        c.pull(None, &PullScope::default()).await,
        Err(VendorError::ReauthorizationRequired(_))
    ));

    // The user re-authorizes and updates the Secret: the same client recovers.
    let fresh = post(&sb, "refresh_tokens/reissue", json!({})).await;
    let mut updated = BTreeMap::new();
    updated.insert(
        "refreshToken".to_string(),
        SecretValue::new(fresh["refresh_token"].as_str().unwrap()),
    );
    let mut lock = store.lock().await.unwrap();
    lock.save(&updated).await.unwrap();
    lock.release().await;
    c.verify().await.expect("verify after re-authorization");
}

#[tokio::test]
async fn wrong_client_secret_is_an_auth_error() {
    let sb = sandbox_with(5).await;
    let (mut creds, conn) = oauth_creds(&sb).await;
    creds.insert("clientSecret".into(), SecretValue::new("not-the-secret"));
    let c = oauth_client(&conn, &creds, Arc::new(MemoryStore::new(creds.clone())));
    assert_auth(&verify_err(&c).await);
}

#[tokio::test]
async fn api_key_errors() {
    let sb = sandbox_with(5).await;
    let (_, conn) = sandbox_creds(&sb).await;
    let bad = BTreeMap::from([("apiKey".to_string(), SecretValue::new("wrong-key-123"))]);
    let c = LeverClient::with_policy(
        &config(&conn, bad),
        Arc::new(MemoryStore::default()),
        fast(),
    )
    .unwrap();
    let err = verify_err(&c).await;
    assert_auth(&err);
    assert!(!err.to_string().contains("wrong-key-123"));

    let good = api_key_client(&sb).await;
    good.verify().await.expect("verify");
    post(&sb, "credentials/revoke", json!({})).await;
    let err = pull_err(&good).await;
    assert_auth(&err);
}

#[tokio::test]
async fn clients_sharing_a_store_refresh_once() {
    let sb = sandbox_with(10).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::new(creds.clone()));
    // Two workers (or replicas) built from the same Secret.
    let a = oauth_client(&conn, &creds, store.clone());
    let b = oauth_client(&conn, &creds, store.clone());
    let (ra, rb) = tokio::join!(a.verify(), b.verify());
    ra.expect("a");
    rb.expect("b");
    assert_eq!(stats(&sb).await["token_requests"], 1);

    // Both see the 401 after expiry; the second adopts what the first saved.
    post(&sb, "tokens/expire", json!({})).await;
    let all = PullScope::default();
    let (ra, rb) = tokio::join!(a.pull(None, &all), b.pull(None, &all));
    assert_eq!(ra.expect("a").applications.len(), 10);
    assert_eq!(rb.expect("b").applications.len(), 10);
    assert_eq!(stats(&sb).await["token_requests"], 2);
}

/// A store whose first saves fail (the API server is briefly unreachable).
struct FlakyStore {
    inner: MemoryStore,
    failures: Arc<AtomicU32>,
}

struct FlakyLock {
    inner: Box<dyn CredentialLock>,
    failures: Arc<AtomicU32>,
}

#[async_trait]
impl CredentialStore for FlakyStore {
    async fn lock(&self) -> Result<Box<dyn CredentialLock>, VendorError> {
        Ok(Box::new(FlakyLock {
            inner: self.inner.lock().await?,
            failures: self.failures.clone(),
        }))
    }
}

#[async_trait]
impl CredentialLock for FlakyLock {
    async fn load(&mut self) -> Result<BTreeMap<String, SecretValue>, VendorError> {
        self.inner.load().await
    }
    async fn save(&mut self, updates: &BTreeMap<String, SecretValue>) -> Result<(), VendorError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(VendorError::Unavailable("store unreachable".into()));
        }
        self.inner.save(updates).await
    }
    async fn release(self: Box<Self>) {
        self.inner.release().await
    }
}

#[tokio::test]
async fn failed_save_keeps_the_token_and_retries() {
    let sb = sandbox_with(5).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let inner = MemoryStore::new(creds.clone());
    let store = Arc::new(FlakyStore {
        inner: inner.clone(),
        // The save after the refresh, and its retry before verify's API call.
        failures: Arc::new(AtomicU32::new(2)),
    });
    let c = oauth_client(&conn, &creds, store.clone());
    // The refresh works; only the saves failed, so the store still holds the dead token.
    c.verify().await.expect("verify despite the failed save");
    assert_eq!(
        inner.snapshot().await["refreshToken"],
        creds["refreshToken"]
    );
    // The next request saves it.
    c.verify().await.expect("verify");
    let (live, _) = sandbox_creds(&sb).await;
    assert_eq!(inner.snapshot().await["refreshToken"], live["refreshToken"]);
    assert_eq!(stats(&sb).await["token_requests"], 1);
}

#[tokio::test]
async fn faults_are_retried() {
    let sb = sandbox_with(12).await;
    let c = api_key_client(&sb).await;
    faults(&sb, 503, 3, "/v1/opportunities").await;
    faults(&sb, 429, 2, "/v1/postings").await;
    assert_pulls_through(&sb, &c, 12, 5, "pull despite 503s and 429s").await;

    // Beyond the attempt budget: unavailable, and transient.
    assert_gives_up(&sb, &c, "/v1/postings").await;
}

#[tokio::test]
async fn rate_limits_are_honoured() {
    let sb = sandbox_with(APPS).await;
    // Below Lever's rate: the client's own 10/s bucket is not enough, 429s pace it.
    rate_limit(&sb, json!({"requests": 8, "window_seconds": 1})).await;
    let (secret, conn) = sandbox_creds(&sb).await;
    let creds = BTreeMap::from([("apiKey".to_string(), secret["apiKey"].clone())]);
    let policy = RetryPolicy {
        default_retry_after: Duration::from_millis(500),
        ..fast()
    };
    let c = LeverClient::with_policy(
        &config(&conn, creds),
        Arc::new(MemoryStore::default()),
        policy,
    )
    .expect("client");
    let cs = pull_all(&c, "pull under a tight limit").await;
    assert_eq!(cs.applications.len(), APPS);
    let s = stats(&sb).await;
    assert!(s["rate_limited"].as_u64().unwrap() > 0, "{s}");
}

fn request(app: &Application, key: &str, band: Band, note: bool) -> WriteBackRequest {
    WriteBackRequest {
        note,
        custom_field: None,
        ..client::write_request(app, key, band)
    }
}

async fn writes(sb: &RunningSandbox, id: &str) -> Value {
    get(sb, &format!("applications/{id}/writes")).await
}

#[tokio::test]
async fn write_back_note_and_band_tag() {
    let sb = sandbox_with(10).await;
    let c = api_key_client(&sb).await;
    let cs = pull_all(&c, "pull").await;
    let app = &cs.applications[0];

    let req = request(app, "k-123", Band::StrongFit, true);
    assert!(!c.note_exists(&req).await.expect("note_exists before"));
    c.write_back(&req).await.expect("write back");
    assert!(c.note_exists(&req).await.expect("note_exists after"));
    assert!(
        !c.note_exists(&request(app, "k-456", Band::StrongFit, true))
            .await
            .unwrap()
    );
    let w = writes(&sb, &app.id).await;
    assert_eq!(w["notes"], json!([req.note_body()]));
    assert_eq!(w["tags"], json!(["ai-strong-fit"]));

    // The band changes: exactly one band tag remains, no new note.
    let changed = request(app, "k-789", Band::WeakFit, false);
    c.write_back(&changed).await.expect("band change");
    let w = writes(&sb, &app.id).await;
    assert_eq!(w["tags"], json!(["ai-weak-fit"]));
    assert_eq!(w["notes"].as_array().unwrap().len(), 1);
    // Idempotent: the same write again changes nothing.
    c.write_back(&changed).await.expect("again");
    assert_eq!(writes(&sb, &app.id).await["tags"], json!(["ai-weak-fit"]));

    // A failed note POST is checked before it is resent: still one note each.
    faults(&sb, 503, 1, &format!("/v1/opportunities/{}/notes", app.id)).await;
    let other = request(app, "k-999", Band::WeakFit, true);
    c.write_back(&other)
        .await
        .expect("write back despite a 503");
    let notes = writes(&sb, &app.id).await["notes"].clone();
    assert_eq!(notes.as_array().unwrap().len(), 2, "{notes}");
    assert!(c.note_exists(&other).await.unwrap());

    let s = stats(&sb).await;
    assert_eq!(s["notes_created"], 2);
    assert_eq!(count(&s, "POST /v1/opportunities/{id}/addTags"), 4);
}

#[tokio::test]
async fn write_back_with_oauth() {
    let sb = sandbox_with(5).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let c = oauth_client(&conn, &creds, Arc::new(MemoryStore::new(creds.clone())));
    let cs = pull_all(&c, "pull").await;
    let req = request(&cs.applications[0], "k-oauth", Band::GoodFit, true);
    c.write_back(&req).await.expect("write back");
    assert!(c.note_exists(&req).await.unwrap());
    let w = writes(&sb, &req.application.id).await;
    assert_eq!(w["tags"], json!(["ai-good-fit"]));
}

#[tokio::test]
async fn connect_builds_a_lever_client() {
    let sb = sandbox_with(3).await;
    let (creds, conn) = oauth_creds(&sb).await;
    let client = ats_operator::vendors::connect(&config(&conn, creds), None).expect("connect");
    client.verify().await.expect("verify");
}
