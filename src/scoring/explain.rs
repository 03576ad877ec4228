//! Plain-language explanations of a score: one for the recruiter, one fit to
//! give the candidate. The candidate's form covers what NYC Local Law 144
//! asks a notice to say (that an automated tool is used, the job
//! qualifications it uses, the data and its source, how to ask for an
//! alternative process or an accommodation) and what EU AI Act Art. 86 asks
//! of an explanation (the tool's role and the main elements of the result).
//!
//! Both are built from requirement names (from the job) and counts only: no
//! resume text and nothing about the person.

use crate::model::{Band, EvidenceKind, Job, Score};

/// What the explanation says when the job states no requirement.
pub const NO_REQUIREMENTS: &str = "No requirements found in the job: skills were not scored \
     (add requirements to the job, or mustHaveSkills to the scoring profile)";

/// Bounds on what the summaries list.
const MAX_NAMED: usize = 8;
const MAX_SUMMARY: usize = 700;
const MAX_CANDIDATE_SUMMARY: usize = 1500;

fn band_words(b: Band) -> &'static str {
    match b {
        Band::StrongFit => "strong fit",
        Band::GoodFit => "good fit",
        Band::ModerateFit => "moderate fit",
        Band::WeakFit => "weak fit",
    }
}

/// "A, B, C and 2 more".
fn named(names: &[&str]) -> String {
    named_up_to(names, MAX_NAMED)
}

fn named_up_to(names: &[&str], max: usize) -> String {
    match names.len() {
        0 => String::new(),
        n if n <= max => names.join(", "),
        n => format!("{} and {} more", names[..max].join(", "), n - max),
    }
}

fn bounded(mut s: String, max: usize) -> String {
    if s.chars().count() > max {
        s = s.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
    }
    s
}

fn of_kind(score: &Score, kind: EvidenceKind, matched: Option<bool>) -> Vec<&str> {
    score
        .evidence
        .iter()
        .filter(|e| e.kind == kind && matched.is_none_or(|m| e.matched == m))
        .map(|e| e.requirement.as_str())
        .collect()
}

/// The recruiter's summary: score, band, requirements met and missing,
/// components, and that the score only assists a human decision.
pub fn recruiter_summary(score: &Score) -> String {
    let mut s = format!("{}/100, {}. ", score.score, band_words(score.band));
    if !score.requirements_found {
        s.push_str(NO_REQUIREMENTS);
        s.push_str(". ");
    } else {
        let must = of_kind(score, EvidenceKind::Must, None);
        let must_missing = of_kind(score, EvidenceKind::Must, Some(false));
        if !must.is_empty() {
            s.push_str(&format!(
                "Meets {} of {} required skills",
                must.len() - must_missing.len(),
                must.len()
            ));
            if must_missing.is_empty() {
                s.push_str(". ");
            } else {
                s.push_str(&format!("; missing: {}. ", named(&must_missing)));
            }
        }
        let nice = of_kind(score, EvidenceKind::Nice, None);
        if !nice.is_empty() {
            let got = of_kind(score, EvidenceKind::Nice, Some(true)).len();
            s.push_str(&format!("{got} of {} nice-to-have skills. ", nice.len()));
        }
        let certs_missing = of_kind(score, EvidenceKind::Cert, Some(false));
        if !certs_missing.is_empty() {
            s.push_str(&format!(
                "Certifications not found: {}. ",
                named(&certs_missing)
            ));
        }
    }
    let parts = score.components.listed();
    if !parts.is_empty() {
        s.push_str(&format!("Components: {parts}. "));
    }
    s.push_str("Advisory only: a person reviews the application and decides.");
    bounded(s, MAX_SUMMARY)
}

/// The candidate's notice and explanation.
pub fn candidate_summary(score: &Score, job: &Job) -> String {
    let title = job.title.trim();
    let role = if title.is_empty() {
        "this role".to_string()
    } else {
        format!("the {} role", bounded(title.to_string(), 80))
    };
    let mut s = format!(
        "An automated tool helped review your application for {role}. It compared the \
         qualifications the job states with the skills, work history (job titles and dates) \
         and education level and field in the resume and application you submitted, as \
         received from the employer's applicant tracking system. It was not given your contact \
         details or any demographic information. "
    );
    let quals: Vec<&str> = score
        .evidence
        .iter()
        .map(|e| e.requirement.as_str())
        .collect();
    if !score.requirements_found {
        s.push_str(
            "The job lists no skill or certification requirements the tool could read, so \
             skills were not assessed. ",
        );
    }
    if !quals.is_empty() {
        let met = score.evidence.iter().filter(|e| e.matched).count();
        s.push_str(&format!(
            "Qualifications used: {}. Your application showed {met} of {}.",
            named_up_to(&quals, 2 * MAX_NAMED),
            quals.len()
        ));
        let missing: Vec<&str> = score
            .evidence
            .iter()
            .filter(|e| !e.matched && e.kind == EvidenceKind::Must)
            .map(|e| e.requirement.as_str())
            .collect();
        if !missing.is_empty() {
            s.push_str(&format!(
                " Required skills not found in your application: {}.",
                named(&missing)
            ));
        }
        s.push(' ');
    }
    s.push_str(&format!(
        "Overall assessment: {}. This result is advisory: a person at the employer reviews \
         every application and makes the decision. You may ask the employer's recruiting team \
         for an alternative selection process or a reasonable accommodation, for more \
         information about this assessment and about the data collected, its source and how \
         long it is kept, or to correct your information.",
        band_words(score.band)
    ));
    bounded(s, MAX_CANDIDATE_SUMMARY)
}
