//! Job-description checks: gender-coded wording, exclusionary, gendered and
//! age-coded phrases, a missing pay range and inflated experience
//! requirements. Pure: a job and the current year in, findings out.
//!
//! Findings go to `AtsSync` status (a bounded summary per job, see
//! [`summarize`]) and in full to whoever asks for [`check`] (the bias-audit
//! report).

pub mod experience;
pub mod gender;
pub mod pay;
pub mod phrases;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::Job;
pub use gender::{Coding, GenderCoding};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum FindingKind {
    /// Gaucher, Friesen & Kay coded words (gender-decoder).
    GenderCoded,
    /// Gendered pronouns and job words.
    GenderedLanguage,
    /// Hype titles, bro culture, origin, physical requirements.
    Exclusionary,
    AgeCoded,
    MissingPayRange,
    InflatedExperience,
}

/// Ordered: `High` is worst.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// One problem in a job ad.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// The words of the ad that triggered it (bounded), or a short
    /// description where nothing in the ad can be quoted (a missing pay range).
    pub phrase: String,
    /// Why it matters, in a sentence.
    pub message: String,
}

/// Everything the checks found in one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCheck {
    pub job_id: String,
    pub findings: Vec<Finding>,
    pub gender: GenderCoding,
}

impl JobCheck {
    /// The worst finding: highest severity, then the first found.
    pub fn worst(&self) -> Option<&Finding> {
        self.findings.iter().rev().max_by_key(|f| f.severity)
    }
}

const MAX_PHRASE: usize = 80;

fn bounded(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= MAX_PHRASE {
        return s;
    }
    let cut: String = s.chars().take(MAX_PHRASE - 1).collect();
    format!("{cut}…")
}

/// The text the checks read: title, description, requirement lists.
fn ad_text(job: &Job) -> String {
    let mut t = String::with_capacity(job.description.len() + 256);
    t.push_str(&job.title);
    t.push_str(".\n");
    t.push_str(&job.description);
    for line in job.requirements.iter().chain(&job.nice_to_have) {
        t.push('\n');
        t.push_str(line);
    }
    t
}

/// Checks one job ad. `now_year` bounds how many years a technology can
/// have been used.
pub fn check(job: &Job, now_year: i32) -> JobCheck {
    let text = ad_text(job);
    let mut findings = Vec::new();

    let g = gender::assess(&text, gender::Options::default());
    let coded = |words: &[String]| bounded(&GenderCoding::listed(words).join(", "));
    match g.coding {
        Coding::StronglyMasculineCoded | Coding::MasculineCoded => findings.push(Finding {
            kind: FindingKind::GenderCoded,
            severity: if g.coding == Coding::StronglyMasculineCoded {
                Severity::Medium
            } else {
                Severity::Low
            },
            phrase: coded(&g.masculine),
            message: format!(
                "{} ({} masculine-coded, {} feminine-coded words): masculine-coded ads deter women from applying (Gaucher, Friesen & Kay 2011)",
                g.coding.as_str(),
                g.masculine.len(),
                g.feminine.len()
            ),
        }),
        Coding::StronglyFeminineCoded | Coding::FeminineCoded => findings.push(Finding {
            kind: FindingKind::GenderCoded,
            severity: Severity::Low,
            phrase: coded(&g.feminine),
            message: format!(
                "{} ({} feminine-coded, {} masculine-coded words)",
                g.coding.as_str(),
                g.feminine.len(),
                g.masculine.len()
            ),
        }),
        Coding::Neutral | Coding::Empty => {}
    }

    for (pat, s, e) in phrases::find(&text) {
        findings.push(Finding {
            kind: pat.kind,
            severity: pat.severity,
            phrase: bounded(&text[s..e]),
            message: pat.why.to_string(),
        });
    }

    match pay::pay(&text) {
        pay::Pay::Range => {}
        pay::Pay::Single => findings.push(Finding {
            kind: FindingKind::MissingPayRange,
            severity: Severity::Low,
            phrase: "a single pay figure, no range".to_string(),
            message: "pay-transparency laws (e.g. Colorado, New York, California, Washington) ask for a range".to_string(),
        }),
        pay::Pay::Missing => findings.push(Finding {
            kind: FindingKind::MissingPayRange,
            severity: Severity::Medium,
            phrase: "no salary or pay range".to_string(),
            message: "several jurisdictions require a pay range in the ad (e.g. Colorado, New York, California, Washington, the EU Pay Transparency Directive)".to_string(),
        }),
    }

    let cap = experience::title_cap(&job.title);
    for ask in experience::asks(&text) {
        let phrase = bounded(&text[ask.start..ask.end]);
        if let Some((tech, released)) = ask.technology {
            let possible = now_year.saturating_sub(released).max(0) as u32;
            if ask.years > possible {
                findings.push(Finding {
                    kind: FindingKind::InflatedExperience,
                    severity: Severity::High,
                    phrase,
                    message: format!(
                        "asks {} years of {tech}, which was released in {released} (at most {possible} years possible)",
                        ask.years
                    ),
                });
                continue;
            }
        }
        if let Some((max, level)) = cap
            && ask.years > max
        {
            findings.push(Finding {
                kind: FindingKind::InflatedExperience,
                severity: Severity::Medium,
                phrase,
                message: format!(
                    "asks {} years for a {level} title (about {max} expected); inflated requirements deter qualified applicants",
                    ask.years
                ),
            });
        }
    }

    JobCheck {
        job_id: job.id.clone(),
        findings,
        gender: g,
    }
}

/// Checks every job; the full findings per job, for the bias-audit report.
pub fn check_all<'a>(jobs: impl IntoIterator<Item = &'a Job>, now_year: i32) -> Vec<JobCheck> {
    jobs.into_iter().map(|j| check(j, now_year)).collect()
}

#[cfg(test)]
mod tests;
