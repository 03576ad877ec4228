//! Explainable scoring of one application against one job: deterministic,
//! rule based, no models. Requirements come from the job ([`job`]), skills
//! from the shipped taxonomy ([`taxonomy`]), and every requirement is answered
//! with evidence from the resume ([`evidence`]) that the explanation cites
//! ([`explain`]).
//!
//! The scorer only ever sees a [`BlindCandidate`]: names, contact details and
//! addresses cannot influence a score because they are not in its input.

pub mod certs;
pub mod context;
pub mod evidence;
pub mod explain;
pub mod jd_check;
pub mod job;
pub mod layout;
pub mod semantic;
pub mod skills;
pub mod taxonomy;
pub mod timeline;

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::ScoringProfileSpec;
use crate::model::{
    Application, Band, BlindCandidate, BlindPosition, ComponentScores, EducationLevel, Evidence,
    EvidenceKind, Job, Score,
};
use evidence::ResumeEvidence;
use job::{EducationAsk, JobAsk, YearsAsk, analyze};
use skills::Skill;
use timeline::YearMonth;

/// Bumped whenever scoring logic changes, so fingerprints change and every
/// application is re-scored with the new logic. 2: taxonomy (ESCO + aliases),
/// context and recency, certifications, month-precise experience, evidence.
pub const SCORER_VERSION: u32 = 2;

/// At most this many strengths and gaps are reported.
const MAX_REASONS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    #[error("spec.weights: at least one weight must be above 0")]
    AllWeightsZero,
    #[error("spec.weights.{field}: {value} is above the maximum of 100")]
    WeightTooLarge { field: &'static str, value: u32 },
    #[error("spec.bands.{field}: {value} is above the maximum of 100")]
    BandTooLarge { field: &'static str, value: u8 },
    #[error("spec.bands: {upper} ({upper_value}) must be above {lower} ({lower_value})")]
    BandsNotDecreasing {
        upper: &'static str,
        upper_value: u8,
        lower: &'static str,
        lower_value: u8,
    },
    #[error("spec.{field}[{index}]: a skill must be a non-empty string")]
    EmptySkill { field: &'static str, index: usize },
}

/// The first named value above 100 (the schema's maximum for weights and bands).
fn above_100<T: Copy + Into<u32>>(named: &[(&'static str, T)]) -> Option<(&'static str, T)> {
    named.iter().copied().find(|(_, v)| (*v).into() > 100)
}

/// Checks a profile beyond what the CRD schema enforces.
pub fn validate_profile(spec: &ScoringProfileSpec) -> Result<(), ScoringError> {
    let w = &spec.weights;
    let weights = [
        ("skills", w.skills),
        ("experience", w.experience),
        ("title", w.title),
        ("education", w.education),
    ];
    if let Some((field, value)) = above_100(&weights) {
        return Err(ScoringError::WeightTooLarge { field, value });
    }
    if weights.iter().all(|(_, v)| *v == 0) {
        return Err(ScoringError::AllWeightsZero);
    }
    let b = &spec.bands;
    let bands = [
        ("strongFit", b.strong_fit),
        ("goodFit", b.good_fit),
        ("moderateFit", b.moderate_fit),
    ];
    if let Some((field, value)) = above_100(&bands) {
        return Err(ScoringError::BandTooLarge { field, value });
    }
    for pair in bands.windows(2) {
        let ((upper, upper_value), (lower, lower_value)) = (pair[0], pair[1]);
        if upper_value <= lower_value {
            return Err(ScoringError::BandsNotDecreasing {
                upper,
                upper_value,
                lower,
                lower_value,
            });
        }
    }
    for (field, list) in [
        ("mustHaveSkills", &spec.must_have_skills),
        ("niceToHaveSkills", &spec.nice_to_have_skills),
    ] {
        if let Some(index) = list.iter().position(|s| s.trim().is_empty()) {
            return Err(ScoringError::EmptySkill { field, index });
        }
    }
    semantic::validate(spec)
}

/// The band a total score falls in.
pub fn band(score: u8, spec: &ScoringProfileSpec) -> Band {
    let b = &spec.bands;
    if score >= b.strong_fit {
        Band::StrongFit
    } else if score >= b.good_fit {
        Band::GoodFit
    } else if score >= b.moderate_fit {
        Band::ModerateFit
    } else {
        Band::WeakFit
    }
}

/// A reason with its priority; lower sorts first.
struct Reasons {
    strengths: Vec<(u8, String)>,
    gaps: Vec<(u8, String)>,
}

impl Reasons {
    fn finish(mut list: Vec<(u8, String)>) -> Vec<String> {
        // Stable: equal priorities keep the order they were found in.
        list.sort_by_key(|(p, _)| *p);
        list.into_iter().map(|(_, s)| s).take(MAX_REASONS).collect()
    }
}

/// Scores one candidate for one job. Pure and deterministic; `now` is the
/// month (or year: its January) "present" positions run to.
pub fn score(
    job: &Job,
    candidate: &BlindCandidate,
    profile: &ScoringProfileSpec,
    now: impl Into<YearMonth>,
) -> Score {
    score_with(&analyze(job, profile), job, candidate, profile, now)
}

/// [`score`] with the job already analysed: a sync analyses each job once for
/// all of its applications. `ask` must come from `analyze(job, profile)`.
pub fn score_with(
    ask: &JobAsk,
    job: &Job,
    candidate: &BlindCandidate,
    profile: &ScoringProfileSpec,
    now: impl Into<YearMonth>,
) -> Score {
    score_with_semantic(ask, job, candidate, profile, now.into(), None)
}

/// [`score_with`] plus the semantic component's value (see [`semantic`]):
/// weighed only when the profile asks for it and the model gave a value.
pub fn score_with_semantic(
    ask: &JobAsk,
    job: &Job,
    candidate: &BlindCandidate,
    profile: &ScoringProfileSpec,
    now: impl Into<YearMonth>,
    semantic_value: Option<u8>,
) -> Score {
    let now: YearMonth = now.into();
    let w = &profile.weights;
    let mut r = Reasons {
        strengths: Vec::new(),
        gaps: Vec::new(),
    };

    let mut components = ComponentScores::default();
    let mut weighted = 0u64;
    let mut total_weight = 0u64;
    let mut add = |weight: u32, value: Option<u8>| -> Option<u8> {
        let value = value?;
        (weight > 0).then(|| {
            weighted += u64::from(weight) * u64::from(value);
            total_weight += u64::from(weight);
            value
        })
    };

    let resume = ResumeEvidence::new(candidate, now);
    let mut evidence: Vec<Evidence> = Vec::new();
    // Each component only contributes reasons and evidence when the profile weighs it.
    let mut sink = Reasons {
        strengths: Vec::new(),
        gaps: Vec::new(),
    };
    let mut no_evidence = Vec::new();
    let skills_value = skills_component(
        ask,
        &resume,
        reasons_for(w.skills, &mut r, &mut sink),
        if w.skills > 0 {
            &mut evidence
        } else {
            &mut no_evidence
        },
    );
    components.skills = add(w.skills, skills_value);
    let exp_value = experience_component(
        ask,
        job,
        candidate,
        &resume,
        now,
        reasons_for(w.experience, &mut r, &mut sink),
        if w.experience > 0 {
            &mut evidence
        } else {
            &mut no_evidence
        },
    );
    components.experience = add(w.experience, Some(exp_value));
    let title_value = title_component(job, candidate, reasons_for(w.title, &mut r, &mut sink));
    components.title = add(w.title, Some(title_value));
    let edu_value = education_component(
        ask,
        candidate,
        reasons_for(w.education, &mut r, &mut sink),
        if w.education > 0 {
            &mut evidence
        } else {
            &mut no_evidence
        },
    );
    components.education = add(w.education, Some(edu_value));
    components.semantic = add(semantic::weight(profile), semantic_value);

    let total = if total_weight == 0 {
        0
    } else {
        // Integer rounding keeps the result identical on every platform.
        ((weighted * 2 + total_weight) / (total_weight * 2)).min(100) as u8
    };
    let band = band(total, profile);
    let mut score = Score {
        score: total,
        band,
        semantic_model: None,
        components,
        strengths: Reasons::finish(r.strengths),
        gaps: Reasons::finish(r.gaps),
        evidence,
        requirements_found: ask.requirements_found(),
        summary: String::new(),
        candidate_summary: String::new(),
    };
    score.summary = explain::recruiter_summary(&score);
    score.candidate_summary = explain::candidate_summary(&score, job);
    score
}

fn reasons_for<'a>(weight: u32, r: &'a mut Reasons, sink: &'a mut Reasons) -> &'a mut Reasons {
    if weight > 0 { r } else { sink }
}

/// "Rust, Go and 3 more".
fn list(names: &[&str]) -> String {
    const SHOWN: usize = 6;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
}

fn plural_years(n: u32) -> String {
    if n == 1 {
        "1 year".to_string()
    } else {
        format!("{n} years")
    }
}

fn pct(num: u64, den: u64) -> u8 {
    if den == 0 {
        return 0;
    }
    ((num * 200 + den) / (den * 2)).min(100) as u8
}

// ---------------------------------------------------------------- skills

/// Credit weights: a required skill or certification counts twice as much as
/// a preferred one.
const MUST_WEIGHT: u64 = 2;
const NICE_WEIGHT: u64 = 1;

/// The skills component, `None` when the job states no skill or
/// certification requirement (no evidence either way: left out, not 50).
fn skills_component(
    ask: &JobAsk,
    resume: &ResumeEvidence<'_>,
    r: &mut Reasons,
    evidence: &mut Vec<Evidence>,
) -> Option<u8> {
    if !ask.requirements_found() {
        r.gaps.push((5, explain::NO_REQUIREMENTS.to_string()));
        return None;
    }
    let mut got = 0u64;
    let mut asked = 0u64;
    let mut must_yes: Vec<&str> = Vec::new();
    let mut must_no: Vec<&str> = Vec::new();
    let mut nice_yes: Vec<&str> = Vec::new();
    let mut nice_no: Vec<&str> = Vec::new();
    let mut partly: Vec<String> = Vec::new();
    let skill_lists: [(&[Skill], EvidenceKind); 2] = [
        (&ask.must, EvidenceKind::Must),
        (&ask.nice, EvidenceKind::Nice),
    ];
    for (list, kind) in skill_lists {
        for s in list {
            let f = resume.skill(s);
            let weight = if kind == EvidenceKind::Must {
                MUST_WEIGHT
            } else {
                NICE_WEIGHT
            };
            got += weight * u64::from(f.strength);
            asked += weight * 100;
            let matched = f.strength > 0;
            let (yes, no) = if kind == EvidenceKind::Must {
                (&mut must_yes, &mut must_no)
            } else {
                (&mut nice_yes, &mut nice_no)
            };
            if matched {
                yes.push(s.name.as_str());
            } else {
                no.push(s.name.as_str());
            }
            if matched && f.strength < 100 {
                partly.push(s.name.clone());
            }
            evidence.push(Evidence {
                requirement: s.name.clone(),
                kind,
                matched,
                strength: f.strength,
                sentence: f.sentence,
                note: f.note,
            });
        }
    }
    let mut certs_yes: Vec<&str> = Vec::new();
    let mut certs_no: Vec<&str> = Vec::new();
    for c in &ask.certs {
        let f = resume.cert(&c.name);
        let weight = if c.required { MUST_WEIGHT } else { NICE_WEIGHT };
        got += weight * u64::from(f.strength);
        asked += weight * 100;
        let matched = f.strength > 0;
        if matched {
            certs_yes.push(c.name.as_str());
        } else if c.required {
            certs_no.push(c.name.as_str());
        }
        evidence.push(Evidence {
            requirement: if c.required {
                c.name.clone()
            } else {
                format!("{} (preferred)", c.name)
            },
            kind: EvidenceKind::Cert,
            matched,
            strength: f.strength,
            sentence: f.sentence,
            note: f.note,
        });
    }

    let (m, mt) = (must_yes.len(), ask.must.len());
    if mt > 0 {
        if m == mt {
            r.strengths.push((
                10,
                format!("Has all {mt} required skills: {}", list(&must_yes)),
            ));
        } else if m > 0 {
            r.strengths.push((
                10,
                format!("Has {m} of {mt} required skills: {}", list(&must_yes)),
            ));
        }
        if !must_no.is_empty() {
            r.gaps
                .push((10, format!("Missing required skills: {}", list(&must_no))));
        }
    }
    if !certs_yes.is_empty() {
        r.strengths
            .push((15, format!("Holds certifications: {}", list(&certs_yes))));
    }
    if !certs_no.is_empty() {
        r.gaps.push((
            15,
            format!("Missing required certifications: {}", list(&certs_no)),
        ));
    }
    if !partly.is_empty() {
        let names: Vec<&str> = partly.iter().map(String::as_str).collect();
        r.gaps.push((
            45,
            format!(
                "Shown only in part (basic use or long ago): {}",
                list(&names)
            ),
        ));
    }
    if !nice_yes.is_empty() {
        r.strengths.push((
            50,
            format!("Also has nice-to-have skills: {}", list(&nice_yes)),
        ));
    }
    if !nice_no.is_empty() {
        r.gaps.push((
            50,
            format!("Missing nice-to-have skills: {}", list(&nice_no)),
        ));
    }
    Some(pct(got, asked))
}

// ------------------------------------------------------------ experience

/// Total years worked, counting overlapping positions once.
pub fn total_years(work: &[BlindPosition], now_year: i32) -> u32 {
    timeline::total_months(&timeline::periods_of(work), YearMonth::from(now_year)) / 12
}

/// Seniority level of a title: 0 intern .. 9 executive; 2 when unmarked.
fn seniority(tokens: &[String]) -> u8 {
    let mut level = None;
    for t in tokens {
        let l = match t.as_str() {
            "intern" | "internship" | "trainee" | "apprentice" => 0,
            "junior" | "entry" | "graduate" | "associate" => 1,
            "mid" | "ii" => 2,
            "senior" | "iii" => 4,
            "staff" | "lead" | "iv" => 5,
            "principal" | "distinguished" => 6,
            "head" | "director" => 7,
            "vp" | "vice" => 8,
            "chief" | "cto" | "ceo" | "cfo" | "coo" | "cpo" => 9,
            _ => continue,
        };
        level = Some(level.map_or(l, |x: u8| x.max(l)));
    }
    level.unwrap_or(2)
}

fn expected_years_for_level(level: u8) -> u32 {
    match level {
        0 => 0,
        1 => 1,
        2 | 3 => 2,
        4 => 5,
        5 => 7,
        6 | 7 => 8,
        _ => 10,
    }
}

fn experience_component(
    ask: &JobAsk,
    job: &Job,
    c: &BlindCandidate,
    resume: &ResumeEvidence<'_>,
    now: YearMonth,
    r: &mut Reasons,
    evidence: &mut Vec<Evidence>,
) -> u8 {
    // Dated positions in the text carry months; the structured history is
    // the fallback (vendor data without text dates).
    let text_periods = resume.periods();
    let structured = timeline::periods_of(&c.structured.work_experience);
    let periods = if text_periods.is_empty() {
        structured
    } else {
        text_periods
    };
    let dated = !periods.is_empty();
    let months = if dated {
        timeline::total_months(&periods, now)
    } else {
        // No dated history: fall back on "7 years of experience" in the text.
        c.resume_text
            .lines()
            .map(str::to_lowercase)
            .filter(|l| l.contains("experience"))
            .filter_map(|l| job::years_mention(&l))
            .map(|y| y.min.saturating_mul(12))
            .max()
            .unwrap_or(0)
    };
    let years = months / 12;
    let (needed, label) = match ask.years {
        Some(y @ YearsAsk { min, .. }) => (min, format!("{y} asked")),
        None => {
            let level = seniority(&title_words(&job.title));
            let e = expected_years_for_level(level);
            (e, format!("about {e} expected for this title"))
        }
    };
    if !dated && years == 0 {
        r.gaps.push((20, "No dated work history found".to_string()));
    }
    let needed_months = needed.saturating_mul(12);
    let value = if needed == 0 {
        100
    } else {
        pct(
            u64::from(months.min(needed_months)),
            u64::from(needed_months),
        )
    };
    let sentence = format!("{} of experience ({label})", plural_years(years));
    if value >= 100 {
        if years > 0 {
            r.strengths.push((20, sentence));
        }
    } else if dated || years > 0 {
        r.gaps.push((20, sentence));
    }
    if let Some(y) = ask.years {
        evidence.push(Evidence {
            requirement: format!("{y} years of experience"),
            kind: EvidenceKind::Years,
            matched: value >= 100,
            strength: value,
            sentence: None,
            note: Some(format!("{} found", plural_years(years))),
        });
    }
    value
}

// ------------------------------------------------------------------ title

/// Lowercase title words with common variants unified.
fn title_words(title: &str) -> Vec<String> {
    let mut t = format!(" {} ", title.to_lowercase());
    for (from, to) in [
        ("back-end", "backend"),
        ("back end", "backend"),
        ("front-end", "frontend"),
        ("front end", "frontend"),
        ("full-stack", "fullstack"),
        ("full stack", "fullstack"),
        ("site reliability", "sre"),
        ("machine learning", "ml"),
        ("vice president", "vp"),
        ("user experience", "ux"),
    ] {
        t = t.replace(from, to);
    }
    t.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            match w {
                "sr" => "senior",
                "jr" => "junior",
                "eng" | "engr" | "developer" | "dev" | "programmer" => "engineer",
                "mgr" => "manager",
                "swe" | "sde" => "engineer",
                "designer" => "design",
                "scientist" => "science",
                other => other,
            }
            .to_string()
        })
        .collect()
}

const SENIORITY_WORDS: &[&str] = &[
    "intern",
    "internship",
    "trainee",
    "apprentice",
    "junior",
    "entry",
    "graduate",
    "associate",
    "mid",
    "ii",
    "iii",
    "iv",
    "senior",
    "staff",
    "lead",
    "principal",
    "distinguished",
    "head",
    "director",
    "vp",
    "vice",
    "chief",
    "level",
];

/// Words that say little about the role: "software" engineer is any engineer.
const FILLER_WORDS: &[&str] = &[
    "of", "and", "the", "for", "in", "at", "a", "i", "software", "to",
];

fn role_words(words: &[String]) -> BTreeSet<String> {
    words
        .iter()
        .filter(|w| !SENIORITY_WORDS.contains(&w.as_str()) && !FILLER_WORDS.contains(&w.as_str()))
        .cloned()
        .collect()
}

/// Role families: titles in the same family are related even without shared words.
fn families(words: &BTreeSet<String>) -> BTreeSet<&'static str> {
    let mut f = BTreeSet::new();
    for w in words {
        let fam = match w.as_str() {
            "engineer" | "sre" | "devops" | "architect" | "backend" | "frontend" | "fullstack"
            | "platform" | "infrastructure" | "administrator" => "engineering",
            "data" | "analyst" | "science" | "ml" | "analytics" => "data",
            "product" => "product",
            "design" | "ux" | "ui" => "design",
            "sales" | "account" | "executive" | "representative" | "business" => "sales",
            "recruiter" | "talent" | "recruiting" => "recruiting",
            "marketing" => "marketing",
            _ => continue,
        };
        f.insert(fam);
    }
    f
}

/// Similarity of two titles, 0-100, penalising a candidate below the job's level.
fn title_similarity(job_title: &str, cand_title: &str) -> u8 {
    let jw = title_words(job_title);
    let cw = title_words(cand_title);
    let (jr, cr) = (role_words(&jw), role_words(&cw));
    if jr.is_empty() || cr.is_empty() {
        return 0;
    }
    let shared = jr.intersection(&cr).count() as u64;
    // Dice coefficient of role words.
    let mut sim = pct(2 * shared, (jr.len() + cr.len()) as u64);
    if sim < 50 && !families(&jr).is_disjoint(&families(&cr)) {
        sim = 50;
    }
    let (jl, cl) = (seniority(&jw), seniority(&cw));
    let penalty = if cl < jl { (10 * (jl - cl)).min(30) } else { 0 };
    sim.saturating_sub(penalty)
}

fn title_component(job: &Job, c: &BlindCandidate, r: &mut Reasons) -> u8 {
    // Most recent first: open positions, then by end year, then start year.
    let mut history: Vec<&BlindPosition> = c.structured.work_experience.iter().collect();
    history.sort_by_key(|w| {
        (
            std::cmp::Reverse(w.end_year.unwrap_or(i32::MAX)),
            std::cmp::Reverse(w.start_year.unwrap_or(i32::MIN)),
        )
    });
    let current = c
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            history
                .first()
                .filter(|w| w.end_year.is_none())
                .map(|w| w.title.as_str())
        });
    let current_sim = current.map(|t| (title_similarity(&job.title, t), t));
    // Recent titles count a little less than the current one.
    let recent_sim = history
        .iter()
        .take(3)
        .map(|w| w.title.as_str())
        .filter(|t| Some(*t) != current)
        .map(|t| {
            (
                (u32::from(title_similarity(&job.title, t)) * 85 / 100) as u8,
                t,
            )
        })
        .max_by_key(|(s, _)| *s);

    let best = match (current_sim, recent_sim) {
        (Some(c), Some(p)) if p.0 > c.0 => Some((p, false)),
        (Some(c), _) => Some((c, true)),
        (None, Some(p)) => Some((p, false)),
        (None, None) => None,
    };
    let Some(((value, title), is_current)) = best else {
        r.gaps
            .push((30, "No current or recent title found".to_string()));
        return 0;
    };
    let which = if is_current {
        "Current title"
    } else {
        "Recent title"
    };
    if value >= 75 {
        r.strengths
            .push((30, format!("{which} closely matches: {title}")));
    } else if value >= 45 {
        r.strengths
            .push((30, format!("{which} is related: {title}")));
    } else {
        r.gaps.push((
            30,
            format!("No current or recent title close to: {}", job.title.trim()),
        ));
    }
    value
}

// -------------------------------------------------------------- education

fn level_phrase(l: EducationLevel) -> &'static str {
    match l {
        EducationLevel::HighSchool => "a high school diploma",
        EducationLevel::Associate => "an associate degree",
        EducationLevel::Bachelor => "a bachelor's degree",
        EducationLevel::Master => "a master's degree",
        EducationLevel::Doctorate => "a doctorate",
    }
}

fn level_name(l: EducationLevel) -> &'static str {
    level_phrase(l)
        .trim_start_matches("an ")
        .trim_start_matches("a ")
}

fn level_rank(l: EducationLevel) -> i32 {
    match l {
        EducationLevel::HighSchool => 0,
        EducationLevel::Associate => 1,
        EducationLevel::Bachelor => 2,
        EducationLevel::Master => 3,
        EducationLevel::Doctorate => 4,
    }
}

const DISCIPLINE_FILLER: &[&str] = &[
    "science", "sciences", "studies", "arts", "of", "and", "general", "applied", "in", "the",
];

/// A discipline is related when the job text names it or one of its
/// distinctive words ("Computer Engineering" for a "Computer Science" ask).
fn related_discipline<'a>(ask: &JobAsk, c: &'a BlindCandidate) -> Option<&'a str> {
    let job_words: BTreeSet<&str> = ask
        .text_lower
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    c.structured
        .education
        .iter()
        .filter_map(|e| e.discipline.as_deref())
        .find(|d| {
            let lower = d.to_lowercase();
            ask.text_lower.contains(&lower)
                || lower
                    .split(|ch: char| !ch.is_alphanumeric())
                    .filter(|w| w.len() >= 4 && !DISCIPLINE_FILLER.contains(w))
                    .any(|w| job_words.contains(w))
        })
}

fn education_component(
    ask: &JobAsk,
    c: &BlindCandidate,
    r: &mut Reasons,
    evidence: &mut Vec<Evidence>,
) -> u8 {
    let value = education_value(ask, c, r);
    if let Some(a) = ask.education {
        let highest = highest_level(c);
        let met = highest.is_some_and(|h| level_rank(h) >= level_rank(a.level));
        evidence.push(Evidence {
            requirement: format!(
                "{}{}",
                level_name(a.level),
                if a.preferred_only { " (preferred)" } else { "" }
            ),
            kind: EvidenceKind::Education,
            matched: met,
            strength: if met { 100 } else { value.min(99) },
            sentence: None,
            note: Some(match highest {
                Some(h) => format!("holds {}", level_phrase(h)),
                None => "no education listed".to_string(),
            }),
        });
    }
    value
}

fn highest_level(c: &BlindCandidate) -> Option<EducationLevel> {
    c.structured
        .education
        .iter()
        .filter_map(|e| e.level)
        .max_by_key(|l| level_rank(*l))
}

fn education_value(ask: &JobAsk, c: &BlindCandidate, r: &mut Reasons) -> u8 {
    let highest = highest_level(c);
    let related = related_discipline(ask, c);
    if let Some(d) = related {
        r.strengths
            .push((41, format!("Studied a related field: {}", d.trim())));
    }
    let bonus = if related.is_some() { 10 } else { 0 };
    match (ask.education, highest) {
        // Nothing asked: neutral-high.
        (None, Some(_)) => 85 + bonus,
        (None, None) => 75,
        (
            Some(EducationAsk {
                level,
                preferred_only,
                equivalent_ok,
            }),
            have,
        ) => {
            let gap = have.map(|h| level_rank(level) - level_rank(h));
            match gap {
                Some(g) if g <= 0 => {
                    if let Some(h) = have {
                        r.strengths.push((
                            40,
                            format!(
                                "Holds {} ({} {})",
                                level_phrase(h),
                                level_name(level),
                                if preferred_only { "preferred" } else { "asked" }
                            ),
                        ));
                    }
                    90 + bonus
                }
                _ => {
                    let asked = if preferred_only { "preferred" } else { "asked" };
                    let sentence = match have {
                        Some(h) => format!(
                            "Highest education is {} ({} {asked})",
                            level_phrase(h),
                            level_name(level)
                        ),
                        None => format!("No education listed ({} {asked})", level_name(level)),
                    };
                    r.gaps.push((40, sentence));
                    let base: i32 = match gap {
                        Some(g) => 90 - 30 * g,
                        None => 20,
                    };
                    let floor = if preferred_only {
                        70
                    } else if equivalent_ok {
                        60
                    } else {
                        10
                    };
                    (base.max(floor) + i32::from(bonus)).clamp(0, 100) as u8
                }
            }
        }
    }
}

// ------------------------------------------------------------ fingerprint

#[derive(Serialize)]
struct FingerprintInput<'a> {
    scorer_version: u32,
    job_title: &'a str,
    job_description: &'a str,
    job_requirements: &'a [String],
    job_nice_to_have: &'a [String],
    application_job_id: &'a str,
    candidate: &'a BlindCandidate,
}

/// Hex sha256 over exactly what the score depends on. Timestamps, stages and
/// custom fields are left out, so re-syncing unchanged data (or our own
/// write-back bumping `updated_at`) yields the same fingerprint.
pub fn fingerprint(job: &Job, candidate: &BlindCandidate, application: &Application) -> String {
    let input = FingerprintInput {
        scorer_version: SCORER_VERSION,
        job_title: &job.title,
        job_description: &job.description,
        job_requirements: &job.requirements,
        job_nice_to_have: &job.nice_to_have,
        application_job_id: &application.job_id,
        candidate,
    };
    // Serialising plain structs, strings and vectors cannot fail; should it
    // ever, the Debug form is still canonical for these types.
    let canonical = serde_json::to_string(&input).unwrap_or_else(|_| {
        format!(
            "{SCORER_VERSION}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            job.title,
            job.description,
            job.requirements,
            job.nice_to_have,
            application.job_id,
            candidate
        )
    });
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Pure: a hash of what scoring reads from a job (and the scorer version), so
/// that a job edited since an application was scored is noticed without the
/// application changing.
pub fn job_fingerprint(job: &Job) -> String {
    let mut h = Sha256::new();
    h.update(SCORER_VERSION.to_le_bytes());
    for part in [&job.title, &job.description] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    for list in [&job.requirements, &job.nice_to_have] {
        h.update((list.len() as u64).to_le_bytes());
        for item in list {
            h.update((item.len() as u64).to_le_bytes());
            h.update(item.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod counterfactual;
#[cfg(test)]
mod tests;
