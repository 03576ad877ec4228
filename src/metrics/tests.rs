use std::time::Duration;

use super::*;
use crate::sync::fence::Lost;

fn spec(ns: &str, name: &str, vendor: VendorKind) -> SyncSpec {
    SyncSpec {
        key: SyncKey {
            namespace: ns.into(),
            name: name.into(),
        },
        connection: crate::vendors::ConnectionConfig {
            vendor,
            base_url: None,
            token_url: None,
            subdomain: None,
            credentials: Default::default(),
            sub: None,
            rate_limit: None,
            endpoints: crate::vendors::guard::EndpointPolicy::PublicOnly,
            download_hosts: Vec::new(),
        },
        schedule: crate::sync::Schedule::Every(Duration::from_secs(3600)),
        scope: Default::default(),
        write_back: Default::default(),
        profile: Default::default(),
        profile_identity: "p/1".into(),
        profile_name: "p".into(),
        profile_generation: 1,
        deletion_guard_percent: 20,
        full_sync_every: Duration::from_secs(86_400),
        labels_allowed: true,
    }
}

fn scrape(m: &Metrics) -> String {
    encode(&m.registry(Vec::new())).unwrap()
}

fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[test]
fn what_is_counted_is_scraped_under_the_documented_names() {
    let m = Metrics::default();
    let gh = spec("tenant-a", "open-jobs", VendorKind::Greenhouse);
    m.sync_run(&gh, RunResult::Success, Duration::from_millis(700));
    m.sync_run(&gh, RunResult::Success, Duration::from_secs(40));
    m.applications(&gh, 60, 58);
    m.write_back(&gh, WriteOutcome::Written);
    m.write_back(&gh, WriteOutcome::Written);
    m.write_back(&gh, WriteOutcome::Adopted);
    m.vendor_request(
        "greenhouse",
        "GET",
        route::template("/v3/applications/1/x"),
        Some(200),
    );
    m.vendor_request("greenhouse", "POST", "token".into(), None);
    m.rate_limit_wait("workable", Hold::RetryAfter, Duration::from_millis(1500));
    m.rate_limit_wait("workable", Hold::ClientBudget, Duration::ZERO);
    m.token_refresh::<()>(
        "lever",
        &Err(VendorError::ReauthorizationRequired("x".into())),
    );
    let worker = m.worker_running();
    let text = scrape(&m);
    let sync = r#"namespace="tenant-a",name="open-jobs",vendor="greenhouse""#;
    for line in [
        format!(r#"ats_sync_runs_total{{{sync},result="success"}} 2"#),
        format!(r#"ats_sync_run_duration_seconds_count{{{sync},result="success"}} 2"#),
        format!(r#"ats_sync_run_duration_seconds_bucket{{{sync},result="success",le="1"}} 1"#),
        format!(r#"ats_applications_pulled_total{{{sync}}} 60"#),
        format!(r#"ats_applications_scored_total{{{sync}}} 58"#),
        format!(r#"ats_applications_written_back_total{{{sync}}} 2"#),
        format!(r#"ats_write_backs_total{{{sync},outcome="written"}} 2"#),
        format!(r#"ats_write_backs_total{{{sync},outcome="adopted"}} 1"#),
        r#"ats_vendor_requests_total{vendor="greenhouse",method="GET",route="/v3/applications/{id}/{id}",status="200"} 1"#.into(),
        r#"ats_vendor_requests_total{vendor="greenhouse",method="POST",route="token",status="error"} 1"#.into(),
        r#"ats_vendor_rate_limit_wait_seconds_total{vendor="workable",reason="retry_after"} 1.5"#.into(),
        r#"ats_token_refreshes_total{vendor="lever",result="rejected"} 1"#.into(),
        "ats_sync_workers 1".into(),
        "ats_sync_runs_in_progress 0".into(),
        "# TYPE ats_sync_run_duration_seconds histogram".into(),
        "# TYPE ats_vendor_requests_total counter".into(),
    ] {
        assert!(has(&text, &line), "missing {line} in\n{text}");
    }
    assert!(
        !text.contains(r#"reason="client_budget""#),
        "a zero wait is not a series"
    );
    drop(worker);
    assert!(has(&scrape(&m), "ats_sync_workers 0"));
}

#[test]
fn a_deleted_sync_leaves_no_series_of_its_own() {
    let m = Metrics::default();
    let a = spec("t", "a", VendorKind::Lever);
    let b = spec("t", "b", VendorKind::Lever);
    for s in [&a, &b] {
        m.sync_run(s, RunResult::Error, Duration::from_secs(1));
        m.applications(s, 1, 1);
        m.write_back(s, WriteOutcome::Abandoned);
    }
    m.forget_sync(&a.key);
    let text = scrape(&m);
    assert!(!text.contains(r#"name="a""#), "{text}");
    assert!(text.contains(r#"name="b""#), "{text}");
}

#[test]
fn results_are_classified() {
    assert_eq!(RunResult::of(&Ok(RunReport::default())), RunResult::Success);
    assert_eq!(
        RunResult::of(&Err(SyncError::Lost(Lost))),
        RunResult::Interrupted
    );
    let vendor = Err(SyncError::Vendor(VendorError::Unavailable("5xx".into())));
    assert_eq!(RunResult::of(&vendor), RunResult::Error);
    assert_eq!(token_result::<()>(&Ok(())), "success");
    assert_eq!(
        token_result::<()>(&Err(VendorError::Auth("no".into()))),
        "rejected"
    );
    assert_eq!(
        token_result::<()>(&Err(VendorError::Unavailable("down".into()))),
        "error"
    );
    assert_eq!(method_label(&reqwest::Method::PATCH), "PATCH");
    assert_eq!(
        method_label(&reqwest::Method::from_bytes(b"BREW").unwrap()),
        "OTHER"
    );
}
