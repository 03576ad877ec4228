//! Job-description checks end to end: each vendor's sandbox has a job whose
//! ad is coded ("young and energetic team of rockstars: competitive,
//! aggressive ..."), and the operator reports it in `AtsSync` status against
//! a real kube-apiserver.

mod support;

use ats_operator::api::AtsSync;
use ats_operator::scoring::jd_check::{FindingKind, Severity};
use support::Operator;
use support::tenant::*;

async fn reports_coded_job(setup: Setup) {
    let vendor = setup.vendor;
    let t = Tenant::new(setup, small()).await;
    t.apply("24h").await;
    let op = Operator::start(&t.client, &t.ns, &t.ledger);
    let s: AtsSync = wait_for_sync(&t.syncs(), SYNC, DEADLINE, "job ad findings", |s| {
        s.status.as_ref().is_some_and(|st| st.job_ads.is_some()) && synced_true(s)
    })
    .await;
    let ads = s.status.unwrap().job_ads.unwrap();
    assert!(ads.jobs_checked >= 2, "{vendor}: {ads:?}");
    // No sandbox ad states pay: every job has at least that finding.
    assert_eq!(
        ads.jobs_with_findings, ads.jobs_checked,
        "{vendor}: {ads:?}"
    );
    assert!(ads.medium >= ads.jobs_checked, "{vendor}: {ads:?}");
    assert!(ads.high >= 1, "{vendor}: {ads:?}");
    assert_eq!(ads.jobs.len() as u64, ads.jobs_checked.min(20));
    // The coded job comes first: its worst finding is the age-coded phrase.
    let first = &ads.jobs[0];
    assert_eq!(first.worst.kind, FindingKind::AgeCoded, "{vendor}: {ads:?}");
    assert_eq!(first.worst.severity, Severity::High);
    assert_eq!(first.worst.phrase, "young and energetic");
    // Age-coded, hype title ("rockstars"), strongly masculine-coded, no pay range.
    assert!(first.findings >= 4, "{vendor}: {first:?}");
    // The other jobs' ads are plain: nothing worse than a missing pay range.
    for j in &ads.jobs[1..] {
        assert!(j.worst.severity <= Severity::Medium, "{vendor}: {j:?}");
    }
    op.stop().await;
}

#[tokio::test]
async fn greenhouse_coded_job_in_status() {
    reports_coded_job(Setup::greenhouse()).await;
}

#[tokio::test]
async fn lever_coded_job_in_status() {
    reports_coded_job(Setup::lever()).await;
}

#[tokio::test]
async fn workable_coded_job_in_status() {
    reports_coded_job(Setup::workable()).await;
}
