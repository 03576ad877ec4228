//! What is embedded: the job's requirements and the resume's sentences, cut
//! and capped so the cost of one application is bounded whatever a vendor sends.

use crate::model::{BlindCandidate, Job};

/// Sentences embedded per resume (document order): about 1 s of CPU at most.
pub const MAX_RESUME_SENTENCES: usize = 64;
/// Requirement sentences embedded per job.
pub const MAX_JOB_SENTENCES: usize = 32;
/// Words per sentence; longer runs are cut into pieces of this size.
const MAX_WORDS: usize = 48;
/// Bytes of input text looked at (a resume is a few KB; a hostile one is not read further).
const MAX_INPUT_BYTES: usize = 64 * 1024;

/// One job sentence and its weight (nice-to-haves count half).
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    pub text: String,
    pub weight: f32,
}

/// The longest prefix of `s` within `max` bytes, cut on a char boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Splits text into sentences: lines, then ". ", "; ", "? ", "! " and
/// bullets; long runs are cut every [`MAX_WORDS`] words. Fragments without
/// two letters (rules, page numbers) are dropped; duplicates are kept once.
pub fn sentences(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in prefix(text, MAX_INPUT_BYTES).lines() {
        let mut piece = String::new();
        let mut chars = line.chars().peekable();
        let mut parts = Vec::new();
        while let Some(c) = chars.next() {
            let ends = matches!(c, '.' | ';' | '?' | '!')
                && chars.peek().is_none_or(|n| n.is_whitespace());
            let bullet = matches!(c, '•' | '▪' | '◦' | '·' | '|');
            if bullet {
                parts.push(std::mem::take(&mut piece));
            } else {
                piece.push(c);
                if ends {
                    parts.push(std::mem::take(&mut piece));
                }
            }
        }
        parts.push(piece);
        for p in parts {
            let words: Vec<&str> = p
                .split_whitespace()
                .map(|w| w.trim_start_matches(['-', '*', '–', '—']))
                .filter(|w| !w.is_empty())
                .collect();
            for chunk in words.chunks(MAX_WORDS) {
                let s = chunk.join(" ");
                if s.chars().filter(|c| c.is_alphabetic()).count() < 2 {
                    continue;
                }
                if seen.insert(s.to_lowercase()) {
                    out.push(s);
                    if out.len() >= max {
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// The job's requirements: its listed requirements (weight 1) and
/// nice-to-haves (weight 0.5); a job that lists neither is represented by the
/// sentences of its description.
pub fn job_requirements(job: &Job) -> Vec<Requirement> {
    let mut out = Vec::new();
    for (list, weight) in [(&job.requirements, 1.0), (&job.nice_to_have, 0.5)] {
        for item in list {
            for text in sentences(item, MAX_JOB_SENTENCES) {
                if out.len() < MAX_JOB_SENTENCES {
                    out.push(Requirement { text, weight });
                }
            }
        }
    }
    if out.is_empty() {
        out = sentences(&job.description, MAX_JOB_SENTENCES)
            .into_iter()
            .map(|text| Requirement { text, weight: 1.0 })
            .collect();
    }
    out
}

/// The resume's sentences: its text, then its listed skills as one line.
pub fn resume_sentences(c: &BlindCandidate) -> Vec<String> {
    let mut text = c.resume_text.clone();
    if !c.structured.skills.is_empty() {
        text.push('\n');
        text.push_str(&c.structured.skills.join(", "));
    }
    sentences(&text, MAX_RESUME_SENTENCES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_sentences_and_bullets() {
        let s = sentences(
            "Senior engineer. Built Rust services; ran Kubernetes.\n• Led a team • Wrote docs\n---\n12\nsenior ENGINEER.",
            99,
        );
        assert_eq!(
            s,
            vec![
                "Senior engineer.",
                "Built Rust services;",
                "ran Kubernetes.",
                "Led a team",
                "Wrote docs",
            ]
        );
    }

    #[test]
    fn long_runs_are_cut_and_counts_capped() {
        let long = vec!["word"; 100].join(" ");
        let s = sentences(&long, 99);
        // Duplicates are dropped: the two 48-word pieces are equal.
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].split(' ').count(), MAX_WORDS);
        assert_eq!(s[1].split(' ').count(), 4);
        let many: String = (0..500).map(|i| format!("Skill number {i}.\n")).collect();
        assert_eq!(sentences(&many, 64).len(), 64);
        // A hostile size is cut without splitting a character.
        let huge = "é".repeat(200_000);
        assert!(sentences(&huge, 64).len() <= 64);
    }

    #[test]
    fn job_uses_requirements_else_description() {
        let mut job = Job::from_text("1", "Engineer", "We build things. You write Rust.");
        assert_eq!(
            job_requirements(&job),
            vec![
                Requirement {
                    text: "We build things.".into(),
                    weight: 1.0
                },
                Requirement {
                    text: "You write Rust.".into(),
                    weight: 1.0
                }
            ]
        );
        job.requirements = vec!["5 years of Rust".into()];
        job.nice_to_have = vec!["Kubernetes".into()];
        let r = job_requirements(&job);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].text.as_str(), r[0].weight), ("5 years of Rust", 1.0));
        assert_eq!((r[1].text.as_str(), r[1].weight), ("Kubernetes", 0.5));
    }
}
