//! What a job asks for, read from its text: skills (must-have and
//! nice-to-have), certifications, years of experience and education level.
//!
//! Skills come from the taxonomy (curated aliases and ESCO) in required,
//! preferred and unstructured text; context parts (responsibilities, about
//! us) contribute curated technology terms only, as nice-to-haves.

use super::certs;
use super::skills::{Skill, find_skills_where, skill_from_name};
use crate::api::ScoringProfileSpec;
use crate::model::{EducationLevel, Job};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Required,
    Nice,
    /// A titled part that is neither (responsibilities, about us, benefits).
    Neutral,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearsAsk {
    pub min: u32,
    pub max: Option<u32>,
}

impl std::fmt::Display for YearsAsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            Some(max) if max > self.min => write!(f, "{}-{}", self.min, max),
            _ => write!(f, "{}+", self.min),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EducationAsk {
    pub level: EducationLevel,
    /// "or equivalent experience": a lower level is not disqualifying.
    pub equivalent_ok: bool,
    /// Named only in a nice-to-have part.
    pub preferred_only: bool,
}

/// A certification the job names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertAsk {
    pub name: String,
    /// Named outside a nice-to-have part.
    pub required: bool,
}

#[derive(Clone, Debug, Default)]
pub struct JobAsk {
    pub must: Vec<Skill>,
    pub nice: Vec<Skill>,
    pub certs: Vec<CertAsk>,
    pub years: Option<YearsAsk>,
    pub education: Option<EducationAsk>,
    /// All job text, lowercase, for discipline relatedness.
    pub text_lower: String,
}

impl JobAsk {
    /// Whether any skill or certification requirement was found; without
    /// one the skills component is absent and the explanation says so.
    pub fn requirements_found(&self) -> bool {
        !(self.must.is_empty() && self.nice.is_empty() && self.certs.is_empty())
    }
}

const NICE_HEADINGS: &[&str] = &[
    "nice to have",
    "nice-to-have",
    "nice to haves",
    "bonus",
    "preferred",
    "good to have",
    "desirable",
    "extra credit",
    "plus",
    "pluses",
    "would be nice",
    "it would be great",
    "ideally",
    "desired",
    "optional",
    "additional qualifications",
];

const REQUIRED_HEADINGS: &[&str] = &[
    "requirements",
    "requirement",
    "required",
    "what you need",
    "what you'll need",
    "what you will need",
    "what we're looking for",
    "what we are looking for",
    "we're looking for",
    "we are looking for",
    "qualifications",
    "minimum qualifications",
    "basic qualifications",
    "key qualifications",
    "must have",
    "must-have",
    "must haves",
    "minimum requirements",
    "essential",
    "essentials",
    "technical requirements",
    "you have",
    "you'll have",
    "you bring",
    "what you bring",
    "what you'll bring",
    "about you",
    "who you are",
    "your profile",
    "your skills",
    "skills",
    "key skills",
    "required skills",
];

const NEUTRAL_HEADINGS: &[&str] = &[
    "responsibilities",
    "key responsibilities",
    "what you'll do",
    "what you will do",
    "about",
    "the role",
    "your role",
    "in this role",
    "benefits",
    "perks",
    "who we are",
    "our team",
    "the team",
    "why join",
    "why you'll love",
    "compensation",
    "salary",
    "location",
    "how to apply",
    "day to day",
    "what we offer",
    "we offer",
    "overview",
    "summary",
    "job description",
    "description",
    "equal opportunity",
];

fn starts_with_phrase(label: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| {
        label
            .strip_prefix(p)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// A heading line switches the part that following lines belong to.
/// Returns the part and whether the line is a heading at all.
fn heading(line: &str) -> Option<Part> {
    if line.len() > 80 || is_bullet(line) {
        return None;
    }
    let trimmed =
        line.trim_matches(|c: char| c == '#' || c == '*' || c == '_' || c.is_whitespace());
    let (label, had_colon) = match trimmed.split_once(':') {
        Some((l, _)) => (l, true),
        None => (trimmed, false),
    };
    let label = label.trim().to_lowercase();
    // Optional adjectives before the keyword ("Preferred", "Key") are covered by the lists.
    if starts_with_phrase(&label, NICE_HEADINGS) {
        Some(Part::Nice)
    } else if starts_with_phrase(&label, REQUIRED_HEADINGS) {
        Some(Part::Required)
    } else if starts_with_phrase(&label, NEUTRAL_HEADINGS)
        || (had_colon && trimmed.ends_with(':') && label.split_whitespace().count() <= 6)
    {
        // Any other short "Title:" line also ends the previous part.
        Some(Part::Neutral)
    } else {
        None
    }
}

fn is_bullet(line: &str) -> bool {
    line.starts_with(['-', '•', '*', '·', '–', '—']) && !line.starts_with("**")
}

/// Lines that state an education requirement name disciplines, not skills.
fn is_education_line(lower: &str) -> bool {
    education_mention(lower).is_some()
}

/// Reads the job and the profile into what they ask for.
pub fn analyze(job: &Job, profile: &ScoringProfileSpec) -> JobAsk {
    // (line, part); `None` = a description with no required/nice structure.
    let mut lines: Vec<(String, Option<Part>)> = Vec::new();
    for r in &job.requirements {
        lines.push((r.clone(), Some(Part::Required)));
    }
    for n in &job.nice_to_have {
        lines.push((n.clone(), Some(Part::Nice)));
    }
    let mut desc: Vec<(String, Option<Part>)> = Vec::new();
    let mut part: Option<Part> = None;
    let mut structured = false;
    for raw in job.description.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(p) = heading(line) {
            structured |= p != Part::Neutral;
            part = Some(p);
        }
        desc.push((line.to_string(), part));
    }
    let has_lists = !job.requirements.is_empty() || !job.nice_to_have.is_empty();
    for (line, p) in desc {
        let p = match p {
            Some(p) => Some(p),
            // Text before any heading: required when the description is the
            // only source of structure-free requirements, context otherwise.
            None if structured || has_lists => Some(Part::Neutral),
            None => None,
        };
        lines.push((line, p));
    }

    let mut must: Vec<Skill> = Vec::new();
    let mut nice: Vec<Skill> = Vec::new();
    let mut neutral: Vec<Skill> = Vec::new();
    let push = |list: &mut Vec<Skill>, s: Skill| {
        if !list.iter().any(|x| x.key() == s.key()) {
            list.push(s);
        }
    };
    let mut years: Option<YearsAsk> = None;
    let mut edu_required: Option<EducationLevel> = None;
    let mut edu_nice: Option<EducationLevel> = None;
    let mut equivalent_ok = false;
    let mut text_lower = job.title.to_lowercase();
    let mut cert_asks: Vec<CertAsk> = Vec::new();

    for (line, p) in &lines {
        let lower = line.to_lowercase();
        text_lower.push('\n');
        text_lower.push_str(&lower);
        if let Some(level) = education_mention(&lower) {
            if lower.contains("equivalent") {
                equivalent_ok = true;
            }
            let slot = if *p == Some(Part::Nice) {
                &mut edu_nice
            } else {
                &mut edu_required
            };
            // The lowest level named is the bar ("Bachelor's, Master's preferred").
            *slot = Some(slot.map_or(level, |l| l.min(level)));
        }
        // Only experience asks count: "founded 10 years ago" is not one.
        if (*p == Some(Part::Required) || lower.contains("experience"))
            && *p != Some(Part::Nice)
            && let Some(y) = years_mention(&lower)
            && years.is_none_or(|cur| y.min > cur.min)
        {
            years = Some(y);
        }
        let cert_mentions = certs::find(line);
        let cert_spans: Vec<(usize, usize)> =
            cert_mentions.iter().map(|c| (c.start, c.end)).collect();
        for c in cert_mentions {
            let required = *p != Some(Part::Nice);
            match cert_asks.iter_mut().find(|x| x.name == c.name) {
                Some(x) => x.required |= required,
                None => cert_asks.push(CertAsk {
                    name: c.name,
                    required,
                }),
            }
        }
        if is_education_line(&lower) {
            continue;
        }
        let found = find_skills_where(line, *p == Some(Part::Neutral), &cert_spans);
        for name in found.into_iter().filter(|n| !certs::is_cert_name(n)) {
            let s = Skill {
                name: name.to_string(),
                known: true,
            };
            match p {
                None | Some(Part::Required) => push(&mut must, s),
                Some(Part::Nice) => push(&mut nice, s),
                Some(Part::Neutral) => push(&mut neutral, s),
            }
        }
    }
    // The profile's lists; a certification named there is asked as one.
    for (list, required) in [
        (&profile.must_have_skills, true),
        (&profile.nice_to_have_skills, false),
    ] {
        for entry in list {
            if let Some(c) = certs::find(entry).into_iter().next() {
                match cert_asks.iter_mut().find(|x| x.name == c.name) {
                    Some(x) => x.required |= required,
                    None => cert_asks.push(CertAsk {
                        name: c.name,
                        required,
                    }),
                }
            } else if let Some(s) = skill_from_name(entry) {
                push(if required { &mut must } else { &mut nice }, s);
            }
        }
    }
    // Skills only mentioned in context (responsibilities, intro) help a little.
    for s in neutral {
        push(&mut nice, s);
    }
    nice.retain(|n| !must.iter().any(|m| m.key() == n.key()));

    let education = match (edu_required, edu_nice) {
        (Some(level), _) => Some(EducationAsk {
            level,
            equivalent_ok,
            preferred_only: false,
        }),
        (None, Some(level)) => Some(EducationAsk {
            level,
            equivalent_ok,
            preferred_only: true,
        }),
        (None, None) => None,
    };
    JobAsk {
        must,
        nice,
        certs: cert_asks,
        years,
        education,
        text_lower,
    }
}

/// The education level a requirement line names, if any.
pub fn education_mention(lower: &str) -> Option<EducationLevel> {
    use EducationLevel::*;
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '.')
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let has_prefix = |w: &str| words.iter().any(|x| x.starts_with(w));
    let degreeish = has_prefix("degree") || has("diploma");
    let mut found: Vec<EducationLevel> = Vec::new();
    if has_prefix("phd") || has("ph.d") || has_prefix("doctorate") || has("doctoral") {
        found.push(Doctorate);
    }
    let pair = (has("bs") || has("ba")) && (has("ms") || has("ma"));
    let master_word = words
        .iter()
        .any(|x| *x == "master" || *x == "masters" || x.starts_with("master'"));
    if master_word || has("msc") || has("mba") || (degreeish && has("ms")) {
        found.push(Master);
    }
    if has_prefix("bachelor")
        || has("bsc")
        || has("b.s")
        || has("b.a")
        || pair
        || (degreeish && (has("bs") || has("ba") || has("undergraduate") || has("university")))
    {
        found.push(Bachelor);
    }
    if (has_prefix("associate") && degreeish) || has("aas") {
        found.push(Associate);
    }
    if lower.contains("high school") || has("ged") {
        found.push(HighSchool);
    }
    if found.is_empty() && degreeish && lower.contains("degree in") {
        // "A degree in Computer Science": a university degree.
        found.push(Bachelor);
    }
    found.into_iter().min()
}

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("twelve", 12),
    ("fifteen", 15),
];

fn number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('+');
    w.parse::<u32>()
        .ok()
        .or_else(|| NUMBER_WORDS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v))
        .filter(|n| *n <= 40)
}

/// "5+ years", "at least 3 years", "3-5 years", "3 to 5 yrs", "five years".
pub fn years_mention(lower: &str) -> Option<YearsAsk> {
    // Split "3-5" and "5+" into separate tokens while keeping words intact.
    let spaced = lower
        .replace(['–', '—'], "-")
        .replace('-', " - ")
        .replace('+', " + ")
        .replace(['(', ')', ',', ';', ':'], " ");
    let t: Vec<&str> = spaced.split_whitespace().collect();
    let mut best: Option<YearsAsk> = None;
    for i in 0..t.len() {
        if !(t[i].starts_with("year") || t[i] == "yrs" || t[i] == "yr") {
            continue;
        }
        // Look back over "+", "of", "or more" style glue.
        let mut j = i;
        let mut plus = false;
        while j > 0 && matches!(t[j - 1], "+" | "or" | "more" | "plus" | "of") {
            plus |= matches!(t[j - 1], "+" | "more" | "plus");
            j -= 1;
        }
        if j == 0 {
            continue;
        }
        let Some(n) = number(t[j - 1]) else { continue };
        let mut ask = YearsAsk { min: n, max: None };
        // A range: "3 - 5 years" / "3 to 5 years".
        if !plus
            && j >= 3
            && matches!(t[j - 2], "-" | "to")
            && let Some(lo) = number(t[j - 3])
            && lo < n
        {
            ask = YearsAsk {
                min: lo,
                max: Some(n),
            };
        }
        if best.is_none_or(|b| ask.min > b.min) {
            best = Some(ask);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn job(title: &str, description: &str) -> Job {
        Job::from_text("j1", title, description)
    }

    fn names(s: &[Skill]) -> Vec<&str> {
        s.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn structured_description() {
        let j = job(
            "Backend Engineer",
            "We use Go and love Rust.\n\nWhat you will do:\n- Run Docker things\n\n\
             Requirements:\n- 5+ years of experience\n- Rust and k8s\n- Bachelor's degree in Statistics\n\n\
             Nice to have:\n- Kafka, Terraform\n- Rust again",
        );
        let a = analyze(&j, &ScoringProfileSpec::default());
        assert_eq!(names(&a.must), vec!["Rust", "Kubernetes"]);
        assert_eq!(names(&a.nice), vec!["Kafka", "Terraform", "Go", "Docker"]);
        assert_eq!(a.years, Some(YearsAsk { min: 5, max: None }));
        assert_eq!(a.education.map(|e| e.level), Some(EducationLevel::Bachelor));
    }

    #[test]
    fn unstructured_description_all_required_plus_profile() {
        let j = job("Engineer", "You will write Python and SQL on AWS.");
        let profile = ScoringProfileSpec {
            must_have_skills: vec!["golang".into(), "python".into()],
            nice_to_have_skills: vec!["Frobnication".into(), "SQL".into()],
            ..Default::default()
        };
        let a = analyze(&j, &profile);
        assert_eq!(names(&a.must), vec!["Python", "SQL", "AWS", "Go"]);
        assert_eq!(names(&a.nice), vec!["Frobnication"]);
        assert!(!a.nice[0].known);
        assert_eq!(a.years, None);
        assert_eq!(a.education, None);
    }

    #[test]
    fn requirement_lists_and_inline_headings() {
        let mut j = job("X", "Bonus points: Kafka\nExperience with Rust is a plus");
        j.requirements = vec!["Experience with Go".into()];
        j.nice_to_have = vec!["Helm".into()];
        let a = analyze(&j, &ScoringProfileSpec::default());
        assert_eq!(names(&a.must), vec!["Go"]);
        assert_eq!(names(&a.nice), vec!["Helm", "Kafka", "Rust"]);
    }

    #[test]
    fn certifications_required_and_preferred() {
        let j = job(
            "Platform Engineer",
            "Requirements:\n- CKA or equivalent\n- AWS Certified Solutions Architect\n\n\
             Preferred:\n- PMP\n- PRINCE2 certification",
        );
        let profile = ScoringProfileSpec {
            must_have_skills: vec!["CISSP".into()],
            ..Default::default()
        };
        let a = analyze(&j, &profile);
        let certs: Vec<(&str, bool)> = a
            .certs
            .iter()
            .map(|c| (c.name.as_str(), c.required))
            .collect();
        assert_eq!(
            certs,
            vec![
                ("CKA", true),
                ("AWS Certified Solutions Architect", true),
                ("PMP", false),
                ("PRINCE2", false),
                ("CISSP", true)
            ]
        );
        // A certification is not also a skill.
        assert!(
            a.must
                .iter()
                .chain(&a.nice)
                .all(|s| !certs::is_cert_name(&s.name)),
            "{a:?}"
        );
        assert!(a.requirements_found());
    }

    #[test]
    fn esco_terms_in_requirements_but_not_in_context() {
        let j = job(
            "Economist",
            "About us:\nWe value communication and energy.\n\nMust have:\n- Microeconomics\n\
             - Strong communication skills\n\nBonus:\n- SPARQL",
        );
        let a = analyze(&j, &ScoringProfileSpec::default());
        assert_eq!(names(&a.must), vec!["microeconomics", "Communication"]);
        assert_eq!(names(&a.nice), vec!["SPARQL"]);
    }

    #[test]
    fn no_requirements_found() {
        for text in [
            "",
            "We are a friendly team.\n\nBenefits:\n- Lunch",
            "About the role:\nYou will help customers.",
        ] {
            let a = analyze(&job("Associate", text), &ScoringProfileSpec::default());
            assert!(!a.requirements_found(), "{text:?}: {a:?}");
        }
        // The profile's own lists are requirements.
        let p = ScoringProfileSpec {
            nice_to_have_skills: vec!["Kafka".into()],
            ..Default::default()
        };
        assert!(analyze(&job("Associate", ""), &p).requirements_found());
    }

    #[test]
    fn years_patterns() {
        let y = |s: &str| years_mention(&s.to_lowercase());
        assert_eq!(
            y("5+ years of experience"),
            Some(YearsAsk { min: 5, max: None })
        );
        assert_eq!(y("at least 3 years"), Some(YearsAsk { min: 3, max: None }));
        assert_eq!(
            y("3-5 years in backend"),
            Some(YearsAsk {
                min: 3,
                max: Some(5)
            })
        );
        assert_eq!(
            y("3 – 5 yrs"),
            Some(YearsAsk {
                min: 3,
                max: Some(5)
            })
        );
        assert_eq!(
            y("3 to 5 years"),
            Some(YearsAsk {
                min: 3,
                max: Some(5)
            })
        );
        assert_eq!(
            y("Five or more years"),
            Some(YearsAsk { min: 5, max: None })
        );
        assert_eq!(
            y("minimum of 7 years' experience"),
            Some(YearsAsk { min: 7, max: None })
        );
        assert_eq!(y("years of fun"), None);
        assert_eq!(
            YearsAsk {
                min: 3,
                max: Some(5)
            }
            .to_string(),
            "3-5"
        );
        assert_eq!(YearsAsk { min: 5, max: None }.to_string(), "5+");
    }

    #[test]
    fn education_patterns() {
        use EducationLevel::*;
        let e = |s: &str| education_mention(&s.to_lowercase());
        assert_eq!(
            e("Bachelor's degree in Computer Science or related field"),
            Some(Bachelor)
        );
        assert_eq!(e("BS/MS in CS"), Some(Bachelor));
        assert_eq!(e("BS or MS degree in CS"), Some(Bachelor));
        assert_eq!(e("Master's degree required"), Some(Master));
        assert_eq!(e("PhD in Physics"), Some(Doctorate));
        assert_eq!(e("High school diploma or GED"), Some(HighSchool));
        assert_eq!(e("Associate degree"), Some(Associate));
        assert_eq!(e("A degree in mathematics"), Some(Bachelor));
        assert_eq!(e("Master's in CS preferred"), Some(Master));
        assert_eq!(e("Mastery of Rust"), None);
    }
}
