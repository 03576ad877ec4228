//! The Workable SPI v3 client against the Workable sandbox: mapping, scope,
//! incremental pulls, deletions between list and detail, the 10-per-10-s rate
//! limit, retries, a revoked token and write-back (comment, custom attribute,
//! band tags).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ats_operator::model::resume::parse_resume;
use ats_operator::model::{Application, Band, VendorKind};
use ats_operator::sandbox::{self, RunningSandbox, SandboxOptions};
use ats_operator::vendors::workable::WorkableClient;
use ats_operator::vendors::{AtsClient, ConnectionConfig, PullScope, SecretValue, VendorError};
use serde_json::{Value, json};
use support::client::{
    assert_auth, assert_blind, assert_gives_up, assert_job_text, assert_pulls_through,
    assert_resumes_changed, fast, faults, get, ids, post, pull_all, pull_err, pull_nothing_since,
    pull_one_job, pull_open_jobs, pull_since, rate_limit, resumes, verify_err, write_request,
};
use support::spec;

mod support;

async fn start(applications: usize, rate_limit: Option<(u32, Duration)>) -> RunningSandbox {
    sandbox::start(
        VendorKind::Workable,
        "127.0.0.1:0".parse().expect("addr"),
        SandboxOptions {
            applications,
            rate_limit,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox")
}

/// The connection as `/_sandbox/credentials` describes it.
async fn config(sb: &RunningSandbox) -> ConnectionConfig {
    let creds = get(sb, "credentials").await;
    spec::described(VendorKind::Workable, &creds, &["apiKey"])
}

async fn client(sb: &RunningSandbox) -> WorkableClient {
    WorkableClient::with_policy(&config(sb).await, fast()).expect("client")
}

/// A sandbox of `apps` without a rate limit, its connection and client, and
/// the first application a full pull returns.
async fn with_an_application(
    apps: usize,
) -> (
    RunningSandbox,
    ConnectionConfig,
    WorkableClient,
    Application,
) {
    let sb = start(apps, None).await;
    let cfg = config(&sb).await;
    let c = WorkableClient::with_policy(&cfg, fast()).expect("client");
    let app = pull_all(&c, "pull").await.applications.remove(0);
    (sb, cfg, c, app)
}

/// API requests by route, e.g. `GET /spi/v3/candidates/{id}`.
fn count(stats: &Value, method: &str, route: &str) -> u64 {
    stats["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    k.strip_prefix(method)
                        .map(str::trim)
                        .is_some_and(|r| r == route || r == format!("/spi/v3{route}"))
                })
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn full_pull_matches_the_sandbox() {
    let sb = start(60, None).await;
    let c = client(&sb).await;
    let cs = pull_all(&c, "pull").await;

    let apps = get(&sb, "applications").await;
    let apps = apps.as_array().expect("applications");
    let want: BTreeSet<&str> = apps.iter().filter_map(|a| a["id"].as_str()).collect();
    let got: BTreeSet<&str> = cs.applications.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(got, want);
    assert_eq!(cs.candidates.len(), cs.applications.len());
    assert!(cs.deleted_application_ids.is_empty());
    let jobs: BTreeMap<&str, _> = cs.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    for a in apps {
        let id = a["id"].as_str().unwrap_or_default();
        let app = cs.applications.iter().find(|x| x.id == id).expect("app");
        // Job ids are shortcodes, as the sandbox's job_id is.
        assert_eq!(Some(app.job_id.as_str()), a["job_id"].as_str());
        let job = jobs.get(app.job_id.as_str()).expect("job of application");
        assert_eq!(Some(job.status.as_str()), a["job_status"].as_str());
        assert_eq!(app.candidate_id, app.id);
        assert!(app.stage.is_some() && app.applied_at.is_some() && app.updated_at.is_some());
    }
    for cand in &cs.candidates {
        assert!(cand.personal.first_name.is_some() && cand.personal.email.is_some());
        assert!(cand.title.is_some());
        let r = &cand.resume;
        assert!(r.url.is_some());
        assert!(!r.structured.skills.is_empty(), "skills of {}", cand.id);
        assert!(r.parsed_text.contains("SKILLS"));
        // The profile built from the detail is the one in the CV file.
        let url = r.url.as_deref().unwrap_or_default();
        let bytes = reqwest::get(url)
            .await
            .expect("cv")
            .bytes()
            .await
            .expect("cv bytes");
        // The CV file (PDF, Word, HTML or text) is what the scorer reads.
        let cv = ats_operator::documents::read(&bytes, &Default::default())
            .expect("readable CV")
            .text;
        assert_eq!(r.parsed_text, cv, "text of {}", cand.id);
        assert!(
            matches!(r.readability, ats_operator::model::Readability::Read { .. }),
            "{:?}",
            r.readability
        );
        let from_cv = parse_resume(&cv);
        assert_eq!(r.structured.skills, from_cv.skills, "skills of {}", cand.id);
        assert_eq!(
            r.structured.work_experience, from_cv.work_experience,
            "experience of {}",
            cand.id
        );
        assert_eq!(
            r.structured.education.len(),
            from_cv.education.len(),
            "education of {}",
            cand.id
        );
        assert_eq!(
            parse_resume(&r.parsed_text),
            r.structured,
            "text of {}",
            cand.id
        );
        assert!(
            !r.parsed_text.contains('<'),
            "HTML in the resume of {}",
            cand.id
        );
        let blind = assert_blind(cand);
        let email = cand.personal.email.as_deref().unwrap_or_default();
        let json = serde_json::to_string(&blind).expect("blind json");
        assert!(!json.contains(email));
    }
    for j in &cs.jobs {
        assert_job_text(j);
        assert!(!j.nice_to_have.is_empty(), "nice to have of {}", j.id);
        assert!(j.location.is_some() && j.department.is_some());
    }
    let newest = cs.applications.iter().filter_map(|a| a.updated_at).max();
    assert_eq!(cs.high_watermark, newest);

    // One page of jobs, one of candidates, one detail each; no CV downloads
    // (the details carry the parsed profile).
    let s = get(&sb, "stats").await;
    assert_eq!(count(&s, "GET", "/jobs"), 1, "{s}");
    assert_eq!(count(&s, "GET", "/candidates"), 1, "{s}");
    assert_eq!(count(&s, "GET", "/candidates/{id}"), 60, "{s}");
    assert_eq!(s["rate_limited"], 0);
}

#[tokio::test]
async fn paging_follows_next_until_it_is_absent() {
    let sb = start(230, None).await;
    let c = client(&sb).await;
    let cs = pull_all(&c, "pull").await;
    assert_eq!(cs.applications.len(), 230);
    let unique: BTreeSet<&str> = cs.applications.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(unique.len(), 230, "no candidate twice across pages");
    let s = get(&sb, "stats").await;
    // 100 + 100 + 30.
    assert_eq!(count(&s, "GET", "/candidates"), 3, "{s}");
}

#[tokio::test]
async fn scope_filters_jobs_and_candidates() {
    let sb = start(80, None).await;
    let c = client(&sb).await;
    let cs = pull_open_jobs(&c, "pull open").await;
    assert!(!cs.jobs.is_empty());

    // One job by its shortcode: listed per job, only its candidates fetched.
    let one = cs.applications[0].job_id.clone();
    let before = get(&sb, "stats").await;
    let cs = pull_one_job(&c, &one, "pull one job").await;
    assert_eq!(cs.jobs[0].id, one);
    assert!(!cs.applications.is_empty());
    let all = get(&sb, "applications").await;
    let want = all
        .as_array()
        .expect("applications")
        .iter()
        .filter(|a| a["job_id"].as_str() == Some(one.as_str()))
        .count();
    assert_eq!(cs.applications.len(), want);
    let after = get(&sb, "stats").await;
    let details =
        count(&after, "GET", "/candidates/{id}") - count(&before, "GET", "/candidates/{id}");
    assert_eq!(details as usize, want);
}

#[tokio::test]
async fn incremental_pull_returns_exactly_the_changed() {
    let sb = start(60, None).await;
    let c = client(&sb).await;
    let full = pull_all(&c, "full pull").await;
    let since = full.high_watermark.expect("watermark");
    let before = resumes(&full);

    // Workable renders seconds; a second later nothing is newer.
    let later = since + chrono::Duration::seconds(1);
    let none = pull_nothing_since(&c, later).await;
    assert_eq!(none.high_watermark, None);

    let touched = ids(&post(&sb, "touch", json!({"count": 4})).await);
    let cs = pull_since(&c, later, "incremental pull").await;
    let got: BTreeSet<String> = cs.applications.iter().map(|a| a.id.clone()).collect();
    // A touch changes the person's resume, so their other applications (per-job
    // candidates in Workable) changed too: exactly those the sandbox says changed.
    let apps = get(&sb, "applications").await;
    let changed: BTreeSet<String> = apps
        .as_array()
        .expect("applications")
        .iter()
        .filter(|a| {
            a["updated_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t > since)
        })
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    assert!(touched.is_subset(&got), "{touched:?} vs {got:?}");
    assert_eq!(got, changed);
    assert_resumes_changed(&cs, &before);
    assert!(cs.high_watermark > Some(since));
}

#[tokio::test]
async fn candidate_gone_between_list_and_detail_is_deleted() {
    let sb = start(12, None).await;
    let c = client(&sb).await;
    // Slow enough that the details are still to come once the list is in.
    rate_limit(&sb, json!({"requests": 3, "window_seconds": 1})).await;
    let pull = tokio::spawn(async move { c.pull(None, &PullScope::default()).await });
    let t0 = Instant::now();
    loop {
        let s = get(&sb, "stats").await;
        if count(&s, "GET", "/candidates/{id}") >= 1 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no detail requested: {s}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Details go in list order (ids ascend): the last two come last.
    let apps = get(&sb, "applications").await;
    let mut all: Vec<String> = apps
        .as_array()
        .expect("applications")
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    all.sort();
    let gone: Vec<String> = all[all.len() - 2..].to_vec();
    post(&sb, "delete", json!({"application_ids": gone})).await;
    let cs = pull.await.expect("join").expect("pull");
    let deleted: BTreeSet<&str> = cs
        .deleted_application_ids
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(deleted, gone.iter().map(String::as_str).collect());
    assert_eq!(cs.applications.len(), 10);
    assert!(
        cs.applications
            .iter()
            .all(|a| !deleted.contains(a.id.as_str()))
    );
}

#[tokio::test]
async fn the_real_rate_limit_is_waited_out() {
    // 10 requests per 10 s; 14 requests (jobs, candidates, 12 details).
    let sb = start(12, Some((10, Duration::from_secs(10)))).await;
    let c = client(&sb).await;
    let t0 = Instant::now();
    let cs = pull_all(&c, "pull at 10/10s").await;
    assert_eq!(cs.applications.len(), 12);
    assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
    // The client waited for the window instead of being refused.
    let s = get(&sb, "stats").await;
    assert_eq!(s["rate_limited"], 0, "{s}");
}

#[tokio::test]
async fn a_429_waits_for_the_window_reset() {
    let sb = start(10, Some((20, Duration::from_secs(2)))).await;
    let c = client(&sb).await;
    faults(&sb, 429, 2, "/spi/v3/jobs").await;
    c.verify().await.expect("verify after two 429s");
    let s = get(&sb, "stats").await;
    assert_eq!(s["faults_injected"], 2);
    // Well within the retry budget: no error reached the caller.
    let cs = pull_all(&c, "pull").await;
    assert_eq!(cs.applications.len(), 10);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let sb = start(20, None).await;
    let c = client(&sb).await;
    faults(&sb, 503, 3, "/spi/v3/candidates").await;
    assert_pulls_through(&sb, &c, 20, 3, "pull despite 503s").await;

    assert_gives_up(&sb, &c, "/spi/v3/jobs").await;
}

#[tokio::test]
async fn revoked_token_is_an_auth_error() {
    let sb = start(5, None).await;
    let cfg = config(&sb).await;
    let c = WorkableClient::with_policy(&cfg, fast()).expect("client");
    c.verify().await.expect("verify");
    post(&sb, "credentials/revoke", json!({})).await;
    let err = pull_err(&c).await;
    assert_auth(&err);
    assert!(!err.is_transient());
    let token = cfg
        .credential("apiKey")
        .expect("token")
        .expose()
        .to_string();
    assert!(!err.to_string().contains(&token));
    let err = verify_err(&c).await;
    assert_auth(&err);

    post(&sb, "credentials/restore", json!({})).await;
    let mut wrong = cfg.clone();
    wrong
        .credentials
        .insert("apiKey".into(), SecretValue::new("not-the-token"));
    let err = verify_err(&WorkableClient::with_policy(&wrong, fast()).expect("client")).await;
    assert_auth(&err);
}

#[tokio::test]
async fn connect_needs_a_subdomain_or_base_url() {
    let sb = start(3, None).await;
    let mut cfg = config(&sb).await;
    let c = ats_operator::vendors::connect(&cfg, None).expect("connect");
    c.verify().await.expect("verify through the registry");
    cfg.base_url = None;
    cfg.subdomain = None;
    match ats_operator::vendors::connect(&cfg, None) {
        Err(VendorError::Config(m)) => assert!(m.contains("spec.subdomain"), "{m}"),
        Err(e) => panic!("expected a config error, got {e:?}"),
        Ok(_) => panic!("expected a config error"),
    }
}

/// Sets a candidate's tags as a Workable user would (PUT replaces them).
async fn user_tags(sb: &RunningSandbox, cfg: &ConnectionConfig, id: &str, tags: &[&str]) {
    let token = cfg
        .credential("apiKey")
        .expect("token")
        .expose()
        .to_string();
    let r = reqwest::Client::new()
        .put(format!("{}/spi/v3/candidates/{id}/tags", sb.base_url))
        .bearer_auth(token)
        .json(&json!({ "tags": tags }))
        .send()
        .await
        .expect("put tags");
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn write_back_comment_attribute_and_band_tag() {
    let (sb, cfg, c, app) = with_an_application(6).await;
    let app = &app;
    user_tags(&sb, &cfg, &app.id, &["priority", "referral"]).await;

    let req = write_request(app, "k-123", Band::StrongFit);
    assert!(!c.note_exists(&req).await.expect("note_exists before"));
    c.write_back(&req).await.expect("write back");
    assert!(c.note_exists(&req).await.expect("note_exists after"));
    assert!(
        !c.note_exists(&write_request(app, "k-other", Band::StrongFit))
            .await
            .expect("other key")
    );

    let w = get(&sb, &format!("applications/{}/writes", app.id)).await;
    assert_eq!(w["notes"], json!([req.note_body()]));
    assert_eq!(w["custom_fields"], json!({"ai_score": 87}));
    assert_eq!(w["tags"], json!(["priority", "referral", "ai-strong-fit"]));

    // A new band replaces ours and keeps the user's.
    let req2 = write_request(app, "k-456", Band::GoodFit);
    c.write_back(&req2).await.expect("write back a new band");
    let w = get(&sb, &format!("applications/{}/writes", app.id)).await;
    assert_eq!(w["tags"], json!(["priority", "referral", "ai-good-fit"]));
    assert_eq!(w["notes"].as_array().map(Vec::len), Some(2));

    // The same band again: the tags are left alone (no PUT).
    let tags_before = get(&sb, "stats").await["tags_applied"].clone();
    let mut again = write_request(app, "k-789", Band::GoodFit);
    again.note = false;
    again.custom_field = None;
    c.write_back(&again).await.expect("same band");
    assert_eq!(get(&sb, "stats").await["tags_applied"], tags_before);
}

#[tokio::test]
async fn a_failed_comment_is_checked_before_it_is_resent() {
    let (sb, _, c, app) = with_an_application(4).await;
    let app = &app;
    faults(
        &sb,
        503,
        1,
        &format!("/spi/v3/candidates/{}/comments", app.id),
    )
    .await;
    let req = write_request(app, "k-503", Band::ModerateFit);
    c.write_back(&req).await.expect("write back despite a 503");
    let w = get(&sb, &format!("applications/{}/writes", app.id)).await;
    assert_eq!(w["notes"], json!([req.note_body()]), "exactly one comment");
}

#[tokio::test]
async fn write_back_errors_name_what_to_fix() {
    let (sb, cfg, c, app) = with_an_application(4).await;
    let app = &app;

    let mut bad = write_request(app, "k-1", Band::WeakFit);
    bad.custom_field = Some("no_such_attribute".into());
    match c.write_back(&bad).await.unwrap_err() {
        VendorError::Rejected {
            status: 404,
            message,
        } => {
            assert!(message.contains("must exist in Workable"), "{message}")
        }
        other => panic!("expected Rejected 404, got {other:?}"),
    }

    let mut no_sub = cfg.clone();
    no_sub.sub = None;
    let c2 = WorkableClient::with_policy(&no_sub, fast()).expect("client");
    match c2
        .write_back(&write_request(app, "k-2", Band::WeakFit))
        .await
        .unwrap_err()
    {
        VendorError::Config(m) => assert!(m.contains("spec.auth.sub"), "{m}"),
        other => panic!("expected Config, got {other:?}"),
    }
    // Nothing was written by the refused request.
    let w = get(&sb, &format!("applications/{}/writes", app.id)).await;
    assert_eq!(w["notes"], json!([]));
    assert_eq!(w["custom_fields"], json!({}));

    // A candidate deleted since: the comment is refused, not retried.
    post(&sb, "delete", json!({"application_ids": [app.id]})).await;
    let mut only_note = write_request(app, "k-3", Band::WeakFit);
    only_note.custom_field = None;
    only_note.band_tag = None;
    assert!(
        !c.note_exists(&only_note)
            .await
            .expect("note_exists of a deleted candidate")
    );
    let err = c.write_back(&only_note).await.unwrap_err();
    assert!(
        matches!(err, VendorError::Rejected { status: 404, .. }),
        "{err:?}"
    );
}
