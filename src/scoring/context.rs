//! How a mention counts, from the words around it in its clause.
//!
//! - Negated (does not count): "no experience with X", "never used X",
//!   "not X", "without X", "haven't used X", "lack X" — the cue at most five
//!   words before the mention, in the same clause. "no" only negates words
//!   about experience ("no downtime using X" still counts X).
//! - Partial (half): "familiar with", "exposure to", "basic", "learning",
//!   "beginner", "coursework", "pursuing" ... before the mention in the
//!   clause, or right after it ("X (basic)").
//! - Full: everything else, and always when the clause says the candidate
//!   did the work ("led", "built", "designed", "owned", "5 years of X").
//!
//! A clause ends at ".", ";", "!", "?", ":" and at "but", "however",
//! "although", "though", "whereas".

/// How a mention counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Negated,
    Partial(&'static str),
    Full,
}

impl Context {
    pub fn percent(self) -> u8 {
        match self {
            Context::Negated => 0,
            Context::Partial(_) => 50,
            Context::Full => 100,
        }
    }
}

const CLAUSE_WORDS: &[&str] = &["but", "however", "although", "though", "whereas"];

/// Negation cues that apply within the window.
const NEGATIONS: &[&str] = &[
    "not",
    "never",
    "without",
    "lack",
    "lacks",
    "lacking",
    "unfamiliar",
    "nor",
    "none",
];

/// What "no" may negate (besides the mention itself).
const NO_OBJECTS: &[&str] = &[
    "experience",
    "knowledge",
    "exposure",
    "background",
    "familiarity",
    "prior",
    "professional",
    "hands",
    "real",
    "commercial",
    "production",
    "formal",
    "direct",
    "practical",
];

const PARTIAL: &[&str] = &[
    "familiar",
    "familiarity",
    "exposure",
    "exposed",
    "basic",
    "basics",
    "learning",
    "beginner",
    "introductory",
    "coursework",
    "course",
    "courses",
    "tutorial",
    "tutorials",
    "pursuing",
    "studying",
    "limited",
    "elementary",
    "novice",
    "some",
];

const FULL: &[&str] = &[
    "led",
    "lead",
    "leading",
    "built",
    "build",
    "building",
    "designed",
    "design",
    "owned",
    "own",
    "architected",
    "developed",
    "implemented",
    "shipped",
    "created",
    "maintained",
    "migrated",
    "deployed",
    "scaled",
    "wrote",
    "launched",
    "managed",
    "expert",
    "advanced",
    "proficient",
    "extensive",
    "years",
];

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// The clause text before byte `at` of `line`.
fn clause_before(line: &str, at: usize) -> &str {
    let head = &line[..at.min(line.len())];
    let mut cut = head.rfind(['.', ';', '!', '?', ':']).map_or(0, |i| i + 1);
    let lower = head.to_ascii_lowercase();
    for w in CLAUSE_WORDS {
        let pat = format!(" {w} ");
        if let Some(i) = lower.rfind(&pat) {
            cut = cut.max(i + pat.len());
        }
        let pat = format!(" {w},");
        if let Some(i) = lower.rfind(&pat) {
            cut = cut.max(i + pat.len());
        }
    }
    head.get(cut..).unwrap_or("")
}

/// The clause text after byte `end` of `line`.
fn clause_after(line: &str, end: usize) -> &str {
    let tail = line.get(end..).unwrap_or("");
    let cut = tail
        .find(['.', ';', '!', '?', ':', ','])
        .unwrap_or(tail.len());
    &tail[..cut]
}

/// How the mention at `line[start..end]` counts.
pub fn classify(line: &str, start: usize, end: usize) -> Context {
    let before = words(clause_before(line, start));
    // Negation: a cue at most five words before the mention.
    let window = before.len().saturating_sub(6);
    for (i, w) in before.iter().enumerate().skip(window) {
        let after_cue = &before[i + 1..];
        let negates = if w == "no" {
            after_cue
                .first()
                .is_none_or(|x| NO_OBJECTS.contains(&x.as_str()))
        } else if w == "not" {
            !after_cue
                .first()
                .is_some_and(|x| x == "only" || x == "just")
        } else {
            NEGATIONS.contains(&w.as_str()) || w.ends_with("n't")
        };
        if negates {
            return Context::Negated;
        }
    }
    if before.iter().any(|w| FULL.contains(&w.as_str())) {
        return Context::Full;
    }
    let after = words(clause_after(line, end));
    let partial = before
        .iter()
        .chain(after.iter().take(3))
        .find_map(|w| PARTIAL.iter().find(|p| **p == w.as_str()));
    match partial {
        Some(p) => Context::Partial(p),
        None => Context::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(line: &str, term: &str) -> Context {
        let i = line.find(term).expect("term in line");
        classify(line, i, i + term.len())
    }

    #[test]
    fn negation() {
        assert_eq!(
            c("No experience with Kubernetes.", "Kubernetes"),
            Context::Negated
        );
        assert_eq!(
            c("Never used Kubernetes in production", "Kubernetes"),
            Context::Negated
        );
        assert_eq!(
            c("Not Kubernetes, but Nomad", "Kubernetes"),
            Context::Negated
        );
        assert_eq!(c("Haven't worked with Kafka", "Kafka"), Context::Negated);
        assert_eq!(
            c("Never used Kubernetes, Docker or Helm", "Helm"),
            Context::Negated
        );
        assert_eq!(
            c("Deployed without Kubernetes", "Kubernetes"),
            Context::Negated
        );
        // Scope: another clause, or "no" about something else.
        assert_eq!(
            c("Not a fan of Java, but built services in Rust", "Rust"),
            Context::Full
        );
        assert_eq!(c("No Java. Rust daily.", "Rust"), Context::Full);
        assert_eq!(
            c(
                "Zero-downtime migrations with no downtime using Kafka",
                "Kafka"
            ),
            Context::Full
        );
        assert_eq!(c("Not only Rust but Go", "Rust"), Context::Full);
    }

    #[test]
    fn partial_and_full() {
        assert_eq!(
            c("Familiar with Terraform", "Terraform"),
            Context::Partial("familiar")
        );
        assert_eq!(
            c("Some exposure to Kafka", "Kafka"),
            Context::Partial("some")
        );
        assert_eq!(
            c("Basic knowledge of SQL", "SQL"),
            Context::Partial("basic")
        );
        assert_eq!(
            c("Currently learning Rust", "Rust"),
            Context::Partial("learning")
        );
        assert_eq!(
            c("Python (beginner)", "Python"),
            Context::Partial("beginner")
        );
        assert_eq!(
            c("Led the Kubernetes migration", "Kubernetes"),
            Context::Full
        );
        assert_eq!(c("Built a basic Kafka consumer", "Kafka"), Context::Full);
        assert_eq!(c("5 years of Go", "Go"), Context::Full);
        assert_eq!(c("Rust, Go, SQL", "SQL"), Context::Full);
        assert_eq!(Context::Partial("basic").percent(), 50);
    }
}
