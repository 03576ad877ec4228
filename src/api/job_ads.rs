//! `AtsSync.status.jobAds`: what the job-description checks found, bounded.
//! The full findings per job come from `crate::scoring::jd_check::check`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scoring::jd_check::{Finding, JobCheck, Severity};

/// At most this many jobs are listed in status, worst first.
pub const MAX_LISTED_JOBS: usize = 20;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobAdFindings {
    /// Jobs checked in the last sync that pulled jobs.
    pub jobs_checked: u64,
    /// Of those, jobs with at least one finding.
    pub jobs_with_findings: u64,
    /// Findings in all jobs, by severity.
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    /// The jobs with the worst findings (at most 20), worst first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<JobAdSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobAdSummary {
    pub job_id: String,
    /// How many findings the job has.
    pub findings: u64,
    /// Its worst finding.
    pub worst: Finding,
}

/// Pure: the status summary of a run's job checks.
pub fn summarize<'a>(checks: impl IntoIterator<Item = &'a JobCheck>) -> JobAdFindings {
    let mut out = JobAdFindings::default();
    let mut listed: Vec<(Severity, u64, &'a JobCheck, &'a Finding)> = Vec::new();
    for c in checks {
        out.jobs_checked += 1;
        for f in &c.findings {
            match f.severity {
                Severity::High => out.high += 1,
                Severity::Medium => out.medium += 1,
                Severity::Low => out.low += 1,
            }
        }
        if let Some(w) = c.worst() {
            out.jobs_with_findings += 1;
            listed.push((w.severity, c.findings.len() as u64, c, w));
        }
    }
    // Worst severity, then most findings, then job id for a stable order.
    listed.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.2.job_id.cmp(&b.2.job_id))
    });
    out.jobs = listed
        .into_iter()
        .take(MAX_LISTED_JOBS)
        .map(|(_, n, c, w)| JobAdSummary {
            job_id: c.job_id.clone(),
            findings: n,
            worst: w.clone(),
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Job;
    use crate::scoring::jd_check::check;

    #[test]
    fn bounded_worst_first_with_totals() {
        let mut jobs = Vec::new();
        for i in 0..30 {
            // Every job lacks a pay range (medium); every third is also age-coded (high).
            let text = if i % 3 == 0 {
                "Young and energetic team."
            } else {
                "A team."
            };
            jobs.push(Job::from_text(format!("job-{i:02}"), "Engineer", text));
        }
        jobs.push(Job::from_text("paid", "Engineer", "Pay: $1 - $2."));
        let checks: Vec<JobCheck> = jobs.iter().map(|j| check(j, 2026)).collect();
        let s = summarize(&checks);
        assert_eq!(s.jobs_checked, 31);
        assert_eq!(s.jobs_with_findings, 30);
        assert_eq!((s.high, s.medium, s.low), (10, 30, 0));
        assert_eq!(s.jobs.len(), MAX_LISTED_JOBS);
        assert_eq!(s.jobs[0].job_id, "job-00");
        assert_eq!(s.jobs[0].worst.severity, Severity::High);
        assert_eq!(s.jobs[0].findings, 2);
        assert!(
            s.jobs[..10]
                .iter()
                .all(|j| j.worst.severity == Severity::High)
        );
        assert!(
            s.jobs[10..]
                .iter()
                .all(|j| j.worst.severity == Severity::Medium)
        );
    }
}
