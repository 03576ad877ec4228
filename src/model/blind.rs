//! The scorer's input: blind by construction.
//!
//! [`BlindCandidate`] has no field that could hold a name, contact detail,
//! address, photo, birth date, gender, demographic answer, location, school,
//! employer or graduation year. It is built in three steps:
//! 1. the resume text is redacted ([`super::redact`]) with the candidate's
//!    own personal fields;
//! 2. the redacted text is parsed; lists the vendor supplied itself (Lever
//!    `parsedData`, Workable's profile) are used instead where the vendor
//!    mapping preferred them, each value run through the same redactor;
//! 3. the text the scorer reads is rewritten without employers, schools and
//!    education years ("Engineer, Acme (2019 - present)" becomes
//!    "Engineer (2019 - present)"), header lines left with nothing but
//!    placeholders are dropped, and employer/school names the parse found are
//!    replaced wherever else they appear.

use serde::Serialize;

use super::redact::{Context, Identity, fold, is_ambiguous, redact};
use super::resume::{
    Section, heading, is_bullet, parse_education_line, parse_experience_line, parse_resume,
};
use super::{Candidate, Education, EducationLevel, StructuredResume, WorkExperience};

/// A position without its employer or location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlindPosition {
    pub title: String,
    pub start_year: Option<i32>,
    /// `None` means the position is current.
    pub end_year: Option<i32>,
}

/// An education entry without its school or years (an end year is a
/// graduation year, an age proxy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlindEducation {
    pub level: Option<EducationLevel>,
    pub degree: Option<String>,
    pub discipline: Option<String>,
}

/// What the scorer may know of a resume's structure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BlindResume {
    pub work_experience: Vec<BlindPosition>,
    pub education: Vec<BlindEducation>,
    pub skills: Vec<String>,
}

/// What the scorer may see of a candidate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlindCandidate {
    /// The current title, redacted, without an employer ("at Acme").
    pub title: Option<String>,
    /// The resume, redacted and without employers, schools and education years.
    pub resume_text: String,
    pub structured: BlindResume,
}

impl BlindCandidate {
    pub fn from_candidate(c: &Candidate) -> Self {
        let who = Identity::new(&c.personal);
        let raw = &c.resume.parsed_text;
        let redacted = redact(raw, &who, Context::Document);
        let parsed = parse_resume(&redacted);
        // A list equal to the parse of the raw text came from the text: take
        // it from the redacted text instead. Otherwise the vendor supplied it.
        let from_text = parse_resume(raw);
        let vendor = &c.resume.structured;
        let field = |s: &str| redact(s, &who, Context::Field);
        let work: Vec<BlindPosition> = if vendor.work_experience == from_text.work_experience {
            parsed
                .work_experience
                .iter()
                .map(|w| position(w, None))
                .collect()
        } else {
            vendor
                .work_experience
                .iter()
                .map(|w| position(w, Some(&field)))
                .collect()
        };
        let education: Vec<BlindEducation> = if vendor.education == from_text.education {
            parsed
                .education
                .iter()
                .map(|e| education(e, None))
                .collect()
        } else {
            vendor
                .education
                .iter()
                .map(|e| education(e, Some(&field)))
                .collect()
        };
        let skills = if vendor.skills == from_text.skills {
            parsed.skills.clone()
        } else {
            vendor.skills.iter().map(|s| field(s)).collect()
        };
        let mut known = Known::default();
        known.add(&parsed, vendor);
        let text = known.replace(&blind_text(&redacted));
        BlindCandidate {
            title: c
                .title
                .as_deref()
                .map(|t| without_placeholders(without_employer(&field(t))))
                .filter(|t| !t.is_empty()),
            resume_text: text,
            structured: BlindResume {
                work_experience: work,
                education,
                skills,
            },
        }
    }
}

fn position(w: &WorkExperience, redact: Option<&dyn Fn(&str) -> String>) -> BlindPosition {
    BlindPosition {
        title: redact.map_or_else(|| w.title.clone(), |r| r(&w.title)),
        start_year: w.start_year,
        end_year: w.end_year,
    }
}

fn education(e: &Education, redact: Option<&dyn Fn(&str) -> String>) -> BlindEducation {
    let r = |s: &Option<String>| match redact {
        Some(r) => s.as_deref().map(r),
        None => s.clone(),
    };
    BlindEducation {
        level: e.level,
        degree: r(&e.degree),
        discipline: r(&e.discipline),
    }
}

/// "Senior Engineer at Acme" / "Engineer @ Acme": the title part only.
fn without_employer(title: &str) -> &str {
    let lower = title.to_lowercase();
    let cut = [" at ", " @ ", " chez ", " bei "]
        .iter()
        .filter_map(|sep| lower.find(sep))
        .min();
    // Lowercasing keeps byte offsets for ASCII separators only when the
    // prefix is unchanged in length; fall back to the whole title otherwise.
    match cut {
        Some(i) if lower.len() == title.len() && title.is_char_boundary(i) => title[..i].trim(),
        _ => title.trim(),
    }
}

/// "[name] — Senior Engineer" -> "Senior Engineer": a headline's personal
/// parts say nothing about the role.
fn without_placeholders(title: &str) -> String {
    let mut t = title.to_string();
    for p in PLACEHOLDERS {
        t = t.replace(p, "");
    }
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, ')' | '+' | '#'))
        .to_string()
}

const PLACEHOLDERS: &[&str] = &[
    "[name]",
    "[email]",
    "[phone]",
    "[url]",
    "[address]",
    "[personal]",
    "[age]",
];

/// True when a line holds nothing but placeholders and separators.
fn only_placeholders(line: &str) -> bool {
    let mut rest = line.to_string();
    for p in PLACEHOLDERS {
        rest = rest.replace(p, "");
    }
    rest.chars().all(|c| !c.is_alphanumeric())
}

fn year_like(s: &str) -> bool {
    s.len() == 4 && s.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y))
}

/// Replaces four-digit years with `[year]`.
fn without_years(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if year_like(digits) {
            out.push_str("[year]");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in line.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// The last parenthesised part of a position header when it holds only dates
/// ("Feb 2009 - Nov 2013", "03/2019 - present"): no place or employer words.
pub(crate) fn dates_only(line: &str) -> Option<&str> {
    const WORDS: [&str; 30] = [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "present",
        "current",
        "now",
        "to",
        "date",
        "today",
    ];
    let open = line.rfind('(')?;
    let inner = &line[open + 1..];
    let inner = inner[..inner.find(')')?].trim();
    let ok = inner.chars().any(|c| c.is_ascii_digit())
        && inner
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .all(|w| WORDS.contains(&w.to_lowercase().trim_end_matches('.')));
    ok.then_some(inner)
}

/// The redacted text with employers, schools and education years removed
/// line by line, and header lines that held only personal data dropped.
fn blind_text(redacted: &str) -> String {
    let mut out = String::with_capacity(redacted.len());
    let mut section: Option<Section> = None;
    for raw in redacted.lines() {
        let line = raw.trim();
        if let Some(s) = heading(line) {
            section = Some(s);
            out.push_str(raw);
            out.push('\n');
            continue;
        }
        let rewritten: Option<String> = match section {
            // Blank lines of the header go with the lines they separated.
            None if line.is_empty() || only_placeholders(line) => continue,
            Some(Section::Experience) if !is_bullet(line) => parse_experience_line(line).map(|w| {
                let end = w
                    .end_year
                    .map_or_else(|| "present".to_string(), |y| y.to_string());
                match (w.start_year, dates_only(line)) {
                    // Months kept: experience and recency are month-precise.
                    (Some(_), Some(dates)) => format!("{} ({dates})", w.title),
                    (Some(s), None) => format!("{} ({s} - {end})", w.title),
                    (None, _) => w.title,
                }
            }),
            Some(Section::Education) if !is_bullet(line) => parse_education_line(line)
                .map(|e| match (&e.degree, &e.discipline) {
                    (Some(d), Some(f)) => format!("{d} in {f}"),
                    (Some(d), None) => d.clone(),
                    (None, Some(f)) => f.clone(),
                    (None, None) => String::new(),
                })
                .or_else(|| Some(without_years(raw))),
            Some(Section::Education) => Some(without_years(raw)),
            _ => None,
        };
        match rewritten {
            Some(r) => out.push_str(&r),
            None => out.push_str(raw),
        }
        out.push('\n');
    }
    if !redacted.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Employer and school names found in the resume, to remove wherever else
/// they appear (a summary's "7 years at Acme").
#[derive(Default)]
///
/// A listed skill wins over an employer of the same name: "Stripe" in the
/// skills of someone who worked at Stripe stays, and so does "Google Cloud"
/// for someone who worked at Google.
struct Known {
    phrases: Vec<(Vec<String>, &'static str)>,
    skills: Vec<Vec<String>>,
}

fn folded_words(phrase: &str) -> Vec<String> {
    phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
        .collect()
}

impl Known {
    fn add(&mut self, parsed: &StructuredResume, vendor: &StructuredResume) {
        for s in [parsed, vendor] {
            for skill in &s.skills {
                let words = folded_words(skill);
                if !words.is_empty() && !self.skills.contains(&words) {
                    self.skills.push(words);
                }
            }
        }
        for s in [parsed, vendor] {
            for w in &s.work_experience {
                if let Some(c) = &w.company {
                    self.push(c, "[employer]");
                }
            }
            for e in &s.education {
                if let Some(sc) = &e.school {
                    self.push(sc, "[school]");
                }
            }
        }
    }

    fn push(&mut self, phrase: &str, with: &'static str) {
        let words = folded_words(phrase);
        // A single word that is also a skill ("Oracle", "Docker") or too
        // short to be distinctive stays: it is more likely the skill.
        let weak = words.len() == 1 && (words[0].chars().count() < 3 || is_ambiguous(&words[0]));
        if words.is_empty()
            || weak
            || self.skills.contains(&words)
            || self.phrases.iter().any(|(p, _)| *p == words)
        {
            return;
        }
        self.phrases.push((words, with));
    }

    fn replace(&self, text: &str) -> String {
        if self.phrases.is_empty() {
            return text.to_string();
        }
        // Word spans of the text, folded.
        let mut spans: Vec<(usize, usize, String)> = Vec::new();
        let mut start = None;
        for (i, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            if c.is_alphanumeric() {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                spans.push((s, i, fold(&text[s..i])));
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < spans.len() {
            // Longest phrase first, so "Acme Corp" wins over "Acme".
            let hit = self
                .phrases
                .iter()
                .filter(|(p, _)| {
                    spans.len() - i >= p.len()
                        && spans[i..i + p.len()].iter().zip(p).all(|(s, w)| s.2 == *w)
                        && !text[spans[i].0..spans[i + p.len() - 1].1].contains('\n')
                })
                .max_by_key(|(p, _)| p.len());
            // A longer listed skill starting here ("Google Cloud") is the skill.
            let skill_here = |len: usize| {
                self.skills.iter().any(|k| {
                    k.len() > len
                        && spans.len() - i >= k.len()
                        && spans[i..i + k.len()].iter().zip(k).all(|(s, w)| s.2 == *w)
                })
            };
            let hit = hit.filter(|(p, _)| !skill_here(p.len()));
            match hit {
                Some((p, with)) => {
                    out.push_str(&text[at..spans[i].0]);
                    out.push_str(with);
                    at = spans[i + p.len() - 1].1;
                    i += p.len();
                }
                None => i += 1,
            }
        }
        out.push_str(&text[at..]);
        out
    }
}
