//! The skills taxonomy shipped with the operator: the curated technology
//! aliases (`data/taxonomy/aliases.tsv`) merged with ESCO v1.1.1 skills and
//! knowledge concepts (`data/taxonomy/esco-skills.tsv.gz`, © European Union,
//! reused under Commission Decision 2011/833/EU / CC BY 4.0; see
//! `data/taxonomy/NOTICE`). Built once per process, embedded in the binary.
//!
//! Which labels are matched in text (the rule, tested in `tests`):
//! - curated names and aliases always; one written with `=` is an everyday
//!   word in lowercase ("Go", "Swift", "React") and is matched only as written;
//! - ESCO labels of two or more words, ASCII case-insensitively;
//! - a single-word ESCO label written with a capital or digit (an acronym or a
//!   name: "SPARQL", "Erlang", "English") only as written, and not when it is
//!   one or two capitals ("PR", "IC": too ambiguous);
//! - a single lowercase ESCO word only when it names a field of knowledge
//!   (an ESCO `K` group), has at least 6 letters and is not on [`STOP_WORDS`]
//!   ("microeconomics", "radiotherapy" yes; "energy", "communication", "lead" no).
//!
//! Every match stands on word boundaries where letters, digits, `+` and `#`
//! are word characters ("Java" is not in "JavaScript", "C" not in "C++"). A
//! term of one or two characters or an everyday word must not touch `-` or
//! `&` ("R&D", "Go-to-market"), and an everyday word opening a sentence does
//! not count when the next word shows ordinary English ("Go to", "Spring is").
//! A single-word alternative label of a generic ESCO concept (lowercase
//! preferred label) that its preferred label does not contain is skipped:
//! "Google" under "search engines" is an example brand (and often an
//! employer), not the skill; "Unity3D" under "Unity (...)" stays.
//! An ESCO concept whose preferred label is a curated name or alias is merged
//! into that entry, so "Python (computer programming)" and "python3" are one
//! skill; a label both share otherwise stays the curated entry's.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

const ALIASES: &str = include_str!("../../data/taxonomy/aliases.tsv");
const ESCO_GZ: &[u8] = include_bytes!("../../data/taxonomy/esco-skills.tsv.gz");
const ESCO_GROUPS: &str = include_str!("../../data/taxonomy/esco-groups.tsv");

/// Lowercase single words ESCO files as knowledge that are too common in
/// ordinary prose to mean a skill on their own, or that name a protected
/// attribute (religion, pregnancy, health) rather than a job skill.
pub const STOP_WORDS: &[&str] = &[
    "allergies",
    "allergy",
    "argument",
    "autism",
    "childbirth",
    "debate",
    "energy",
    "gestation",
    "gravidity",
    "hinduism",
    "islamism",
    "judaism",
    "lactation",
    "leasing",
    "monasticism",
    "obesity",
    "parturition",
    "pregnancy",
    "quran",
    "spiritualism",
    "torah",
    "balance",
    "breaking",
    "brands",
    "cameras",
    "casting",
    "collections",
    "colour",
    "communicating",
    "communication",
    "computer",
    "conduction",
    "confidence",
    "confinement",
    "congruence",
    "consultation",
    "consultations",
    "controllers",
    "conversation",
    "cooling",
    "coordination",
    "copying",
    "correspondence",
    "crafting",
    "current",
    "database",
    "decency",
    "drainage",
    "electricity",
    "energies",
    "engineering",
    "essences",
    "fiction",
    "filters",
    "finances",
    "financials",
    "formulae",
    "formulas",
    "frames",
    "hearing",
    "helmet",
    "helmets",
    "highlighting",
    "history",
    "honour",
    "integrity",
    "interaction",
    "journalist",
    "journalists",
    "language",
    "logging",
    "logistic",
    "measurement",
    "measuring",
    "mechanisms",
    "medicine",
    "medicines",
    "merchandise",
    "migration",
    "morality",
    "morals",
    "motors",
    "noises",
    "outlines",
    "packing",
    "patterns",
    "philosophies",
    "politic",
    "political",
    "politician",
    "politics",
    "prayer",
    "prediction",
    "processor",
    "proportion",
    "recovery",
    "reflexion",
    "renting",
    "reporting",
    "reproduction",
    "resistance",
    "retaking",
    "retrieval",
    "rights",
    "scripting",
    "security",
    "securities",
    "sensors",
    "separation",
    "shooting",
    "signing",
    "silver",
    "sounds",
    "spelling",
    "spellings",
    "standard",
    "stripping",
    "surgeries",
    "survey",
    "switches",
    "terminological",
    "texture",
    "transformer",
    "transformers",
    "transport",
    "typology",
    "valuta",
    "warnings",
    "wiring",
];

/// Longer ESCO labels are not matched.
const MAX_LABEL_WORDS: usize = 6;

/// Words after a sentence-opening everyday term that show ordinary English.
const ORDINARY_NEXT: &[&str] = &[
    "a", "an", "the", "to", "ahead", "beyond", "further", "back", "through", "into", "quickly",
    "fast", "out", "over", "up", "on", "in", "for", "with", "is", "was", "are", "were", "of", "by",
    "from", "your", "our", "my", "this", "that", "it", "you", "we",
];

/// A concept of the taxonomy.
#[derive(Clone, Debug)]
pub struct Concept {
    /// The name explanations use: the curated canonical name, else ESCO's
    /// preferred label without its qualifier.
    pub name: String,
    /// The ESCO concept id, when ESCO knows it.
    pub esco_id: Option<String>,
    /// The ESCO level-2/3 group code ("S5.5", "K0613"), when known.
    pub group: Option<String>,
    /// From the curated list (technology terms) rather than ESCO only.
    pub curated: bool,
}

#[derive(Clone, Copy, Debug)]
struct Pattern {
    concept: u32,
    /// An everyday word or a term of one or two characters: stricter edges.
    strict: bool,
}

pub struct Taxonomy {
    concepts: Vec<Concept>,
    /// Lowercase name, alias or label -> concept (any case, for lists).
    by_label: HashMap<String, u32>,
    folded: AhoCorasick,
    folded_pat: Vec<Pattern>,
    exact: AhoCorasick,
    exact_pat: Vec<Pattern>,
    groups: HashMap<String, String>,
}

/// One mention of a concept in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mention {
    pub concept: u32,
    /// Byte range in the searched text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("embedded ESCO data cannot be read: {0}")]
    Data(#[from] std::io::Error),
    #[error("matcher cannot be built: {0}")]
    Build(#[from] aho_corasick::BuildError),
}

static TAXONOMY: OnceLock<Option<Taxonomy>> = OnceLock::new();

/// The taxonomy, built on first use. `None` only if the embedded data were
/// corrupt, which the tests rule out; scoring then finds no skills rather
/// than panicking.
pub fn get() -> Option<&'static Taxonomy> {
    TAXONOMY
        .get_or_init(|| match Taxonomy::build() {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "skills taxonomy unavailable");
                None
            }
        })
        .as_ref()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '+' || c == '#'
}

/// How a single ESCO label is matched, if at all (the rule in the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelMode {
    Folded,
    Exact,
}

pub fn esco_label_mode(label: &str, group: &str) -> Option<LabelMode> {
    let label = label.trim();
    if label.is_empty() || !label.chars().any(char::is_alphanumeric) {
        return None;
    }
    let words = label.split_whitespace().count();
    if words > MAX_LABEL_WORDS {
        return None;
    }
    if words >= 2 {
        return Some(LabelMode::Folded);
    }
    let has_upper_or_digit = label
        .chars()
        .any(|c| c.is_uppercase() || c.is_ascii_digit());
    if has_upper_or_digit {
        let letters = label.chars().filter(|c| c.is_alphabetic()).count();
        let all_caps = label.chars().all(|c| !c.is_lowercase());
        if all_caps && letters <= 2 {
            return None;
        }
        return Some(LabelMode::Exact);
    }
    let knowledge = group.starts_with('K');
    let long = label.chars().count() >= 6;
    (knowledge && long && !STOP_WORDS.contains(&label)).then_some(LabelMode::Folded)
}

impl Taxonomy {
    fn build() -> Result<Taxonomy, TaxonomyError> {
        let mut esco = String::new();
        flate2::read::GzDecoder::new(ESCO_GZ).read_to_string(&mut esco)?;
        Self::from_sources(ALIASES, &esco, ESCO_GROUPS)
    }

    fn from_sources(aliases: &str, esco: &str, groups: &str) -> Result<Taxonomy, TaxonomyError> {
        let mut concepts: Vec<Concept> = Vec::new();
        let mut by_label: HashMap<String, u32> = HashMap::new();
        // (pattern text, exact?, pattern)
        let mut patterns: Vec<(String, bool, Pattern)> = Vec::new();
        let add_pattern = |patterns: &mut Vec<(String, bool, Pattern)>,
                           text: &str,
                           exact: bool,
                           everyday: bool,
                           concept: u32| {
            let strict = everyday || text.chars().count() <= 2;
            patterns.push((text.to_string(), exact, Pattern { concept, strict }));
        };

        for line in aliases.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (canon, rest) = line.split_once('\t').unwrap_or((line, ""));
            let id = concepts.len() as u32;
            let everyday_canon = canon.starts_with('=');
            let name = canon.trim_start_matches('=').trim();
            if name.is_empty() {
                continue;
            }
            concepts.push(Concept {
                name: name.to_string(),
                esco_id: None,
                group: None,
                curated: true,
            });
            by_label.entry(name.to_lowercase()).or_insert(id);
            add_pattern(&mut patterns, name, everyday_canon, everyday_canon, id);
            for alias in rest.split('|').map(str::trim).filter(|a| !a.is_empty()) {
                let everyday = alias.starts_with('=');
                let a = alias.trim_start_matches('=');
                by_label.entry(a.to_lowercase()).or_insert(id);
                add_pattern(&mut patterns, a, everyday, everyday, id);
            }
        }

        for line in esco.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(esco_id), Some(group), Some(pref)) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let alts = cols.next().unwrap_or("");
            let labels: Vec<&str> = std::iter::once(pref)
                .chain(alts.split('|'))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            // Merge into the curated entry that names this concept: its
            // preferred label, with or without a qualifier ("Ruby (computer
            // programming)"). A shared alternative label alone does not merge:
            // "database management systems" lists "SQL" but is not SQL.
            let bare = pref.split(" (").next().unwrap_or(pref).trim();
            let existing = [bare, pref].iter().find_map(|l| {
                by_label
                    .get(&l.to_lowercase())
                    .copied()
                    .filter(|id| concepts.get(*id as usize).is_some_and(|c| c.curated))
            });
            let id = match existing {
                Some(id) => {
                    let c = &mut concepts[id as usize];
                    if c.esco_id.is_none() {
                        c.esco_id = Some(esco_id.to_string());
                        c.group = Some(group.to_string()).filter(|g| !g.is_empty());
                    }
                    id
                }
                None => {
                    let id = concepts.len() as u32;
                    // "Java (computer programming)": the bare form reads better.
                    let name = labels.iter().find(|l| !l.ends_with(')')).unwrap_or(&pref);
                    concepts.push(Concept {
                        name: name.to_string(),
                        esco_id: Some(esco_id.to_string()),
                        group: Some(group.to_string()).filter(|g| !g.is_empty()),
                        curated: false,
                    });
                    id
                }
            };
            for l in labels {
                let key = l.to_lowercase();
                if by_label.get(&key).is_some_and(|c| *c != id) {
                    continue; // another concept owns this label
                }
                by_label.entry(key).or_insert(id);
                let single = !l.contains(' ');
                // A one-word brand listed under a generic concept ("Google"
                // under "search engines") is an example, often an employer's
                // name: not a label of the concept.
                let generic = pref.starts_with(|c: char| c.is_lowercase());
                if single
                    && generic
                    && l != pref
                    && !pref.to_lowercase().contains(&l.to_lowercase())
                {
                    continue;
                }
                if let Some(mode) = esco_label_mode(l, group) {
                    // One capitalised word is an everyday word at a sentence's start ("Access to").
                    let exact = mode == LabelMode::Exact;
                    add_pattern(&mut patterns, l, exact, exact && single, id);
                }
            }
        }

        // One pattern text per automaton; the first owner wins.
        let mut folded_seen: HashMap<String, ()> = HashMap::new();
        let mut exact_seen: HashMap<String, ()> = HashMap::new();
        let (mut folded, mut folded_pat, mut exact, mut exact_pat) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (text, is_exact, p) in patterns {
            if is_exact {
                if exact_seen.insert(text.clone(), ()).is_none() {
                    exact.push(text);
                    exact_pat.push(p);
                }
            } else {
                // Lowercase patterns searched in ASCII-lowercased text: the
                // same offsets, and a smaller automaton than a case-insensitive one.
                let lower = text.to_ascii_lowercase();
                if folded_seen.insert(lower.clone(), ()).is_none() {
                    folded.push(lower);
                    folded_pat.push(p);
                }
            }
        }
        let builder = || {
            let mut b = AhoCorasickBuilder::new();
            b.match_kind(MatchKind::LeftmostLongest);
            b
        };
        let groups = groups
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect();
        Ok(Taxonomy {
            concepts,
            by_label,
            folded: builder().build(&folded)?,
            folded_pat,
            exact: builder().build(&exact)?,
            exact_pat,
            groups,
        })
    }

    pub fn concept(&self, id: u32) -> Option<&Concept> {
        self.concepts.get(id as usize)
    }

    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// The group's name ("working with computers").
    pub fn group_name(&self, code: &str) -> Option<&str> {
        self.groups.get(code).map(String::as_str)
    }

    /// The concept a list entry names, in any case ("k8s", "PYTHON").
    pub fn lookup(&self, name: &str) -> Option<u32> {
        let key = name.trim().to_lowercase();
        if key.is_empty() {
            return None;
        }
        self.by_label.get(&key).copied()
    }

    /// Every mention in `text`, in order, longest first where they overlap.
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        let mut found: Vec<Mention> = Vec::new();
        let lower = text.to_ascii_lowercase();
        for (ac, pats, hay) in [
            (&self.folded, &self.folded_pat, lower.as_str()),
            (&self.exact, &self.exact_pat, text),
        ] {
            for hit in ac.find_iter(hay) {
                let Some(p) = pats.get(hit.pattern().as_usize()) else {
                    continue;
                };
                let (i, j) = (hit.start(), hit.end());
                if on_boundaries(text, i, j) && (!p.strict || strict_ok(text, i, j)) {
                    found.push(Mention {
                        concept: p.concept,
                        start: i,
                        end: j,
                    });
                }
            }
        }
        // Longest first at one start, then drop what a kept mention covers.
        found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
        let mut out: Vec<Mention> = Vec::with_capacity(found.len());
        for m in found {
            if out.last().is_some_and(|k| m.start < k.end) {
                continue;
            }
            out.push(m);
        }
        out
    }
}

/// Whether `text[i..j]` stands on word boundaries.
pub fn on_boundaries(text: &str, i: usize, j: usize) -> bool {
    let needle = &text[i..j];
    let before = text[..i].chars().next_back();
    let after = text[j..].chars().next();
    // A needle that itself starts/ends with a non-word char (".NET") needs
    // no boundary on that side.
    let needle_starts_word = needle.chars().next().is_some_and(is_word_char);
    let needle_ends_word = needle.chars().next_back().is_some_and(is_word_char);
    // "js" in "Node.js" belongs to the dotted name, not to JavaScript.
    let dotted = before == Some('.')
        && text[..i.saturating_sub(1)]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
    let ok_before = !needle_starts_word || (before.is_none_or(|c| !is_word_char(c)) && !dotted);
    // "Node.js." is fine, but "Vue.jsx" is not a mention of Vue.js.
    let ok_after = !needle_ends_word || after.is_none_or(|c| !is_word_char(c));
    ok_before && ok_after
}

/// The stricter edges of everyday words and very short terms.
fn strict_ok(text: &str, i: usize, j: usize) -> bool {
    let before = text[..i].chars().next_back();
    let after = text[j..].chars().next();
    let joined = |c: Option<char>| matches!(c, Some('-' | '&' | '\''));
    if joined(before) || joined(after) {
        return false;
    }
    // Sentence opening: start of text/line, or after ". ", "! ", "? ", a bullet.
    let head = text[..i].trim_end_matches([' ', '\t']);
    let opens = head.is_empty()
        || head.ends_with(['\n', '.', '!', '?', '-', '•', '*', '·', ':'])
        || head.ends_with("\u{2013}");
    if !opens {
        return true;
    }
    let next = text[j..]
        .trim_start_matches([' ', '\t'])
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    // "Go, Rust" or "Go" alone still count; "Go to market" does not.
    !text[j..].starts_with([' ', '\t']) || !ORDINARY_NEXT.contains(&next.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        let t = get().expect("taxonomy builds");
        t.mentions(text)
            .into_iter()
            .filter_map(|m| t.concept(m.concept).map(|c| c.name.clone()))
            .collect()
    }

    #[test]
    fn builds_with_esco_and_curated_terms() {
        let t = get().expect("taxonomy builds");
        assert!(t.len() > 13_000, "{}", t.len());
        let py = t.lookup("python3").and_then(|c| t.concept(c)).unwrap();
        assert_eq!(py.name, "Python");
        assert!(py.curated && py.esco_id.is_some(), "{py:?}");
        // ESCO's qualified label lands on the curated entry.
        assert_eq!(
            t.lookup("Python (computer programming)"),
            t.lookup("python")
        );
        assert_eq!(t.lookup("Java (computer programming)"), t.lookup("java"));
        // A generic concept listing a curated term is not merged into it.
        assert_ne!(t.lookup("database management systems"), t.lookup("SQL"));
        assert_eq!(
            t.lookup("SQL")
                .and_then(|c| t.concept(c))
                .map(|c| c.name.as_str()),
            Some("SQL")
        );
        let g = py.group.as_deref().unwrap();
        assert!(t.group_name(g).is_some(), "{g}");
        // ESCO-only knowledge, found on word boundaries.
        assert_eq!(
            names("background in microeconomics."),
            vec!["microeconomics"]
        );
        assert_eq!(names("SPARQL queries"), vec!["SPARQL"]);
    }

    #[test]
    fn label_rule() {
        use LabelMode::*;
        assert_eq!(
            esco_label_mode("manage musical staff", "S4.5"),
            Some(Folded)
        );
        assert_eq!(esco_label_mode("microeconomics", "K0311"), Some(Folded));
        assert_eq!(esco_label_mode("energy", "K0713"), None);
        assert_eq!(esco_label_mode("communication", "K0031"), None);
        assert_eq!(esco_label_mode("lead", "S4.2"), None);
        assert_eq!(esco_label_mode("welding", "S6.5"), None);
        assert_eq!(esco_label_mode("SPARQL", "K0613"), Some(Exact));
        assert_eq!(esco_label_mode("English", "L1"), Some(Exact));
        assert_eq!(esco_label_mode("PR", "S1.4"), None);
        assert_eq!(esco_label_mode("?", "K"), None);
        assert_eq!(
            esco_label_mode("apply health and safety standards in the workplace", "S"),
            None
        );
    }

    #[test]
    fn word_boundaries_and_everyday_words() {
        assert_eq!(names("Go and Rust"), vec!["Go", "Rust"]);
        assert!(names("going to go there").is_empty());
        assert!(names("Go to market plan. Go-to-market").is_empty());
        assert_eq!(names("R and Python"), vec!["R", "Python"]);
        assert!(!names("R&D budget").contains(&"R".to_string()));
        assert_eq!(names("JavaScript"), vec!["JavaScript"]);
        assert_eq!(
            names("Java, C++, C# and .NET"),
            vec!["Java", "C++", "C#", ".NET"]
        );
        assert_eq!(names("C/C++"), vec!["C", "C++"]);
        assert!(names("Spring is here").is_empty());
        assert_eq!(names("Spring Boot services"), vec!["Spring"]);
        assert_eq!(names("react.js and k8s"), vec!["React", "Kubernetes"]);
        assert_eq!(names("golang, postgres"), vec!["Go", "PostgreSQL"]);
        // Longest wins where names overlap.
        assert_eq!(names("Ruby on Rails"), vec!["Ruby on Rails"]);
        assert_eq!(names("SQL Server"), vec!["SQL Server"]);
        // Common words are no skills; their phrases can be.
        assert!(names("high energy and good communication").is_empty());
        assert!(names("Worked at Google on search").is_empty());
        assert!(names("Access to data. Unity of purpose").is_empty());
        assert_eq!(
            names("built in Unity3D and MS Access"),
            vec!["Unity", "Microsoft Access"]
        );
        assert_eq!(names("strong communication skills"), vec!["Communication"]);
    }

    #[test]
    fn hostile_text_is_harmless() {
        let t = get().expect("taxonomy builds");
        for s in [
            "",
            "-",
            "é-Go",
            "Go\u{0}",
            "…R&",
            ".NET.NET",
            "\u{202e}Rust",
        ] {
            let _ = t.mentions(s);
        }
        let long = "Kubernetes ".repeat(10_000);
        assert_eq!(t.mentions(&long).len(), 10_000);
    }
}
