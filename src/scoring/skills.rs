//! Skills as jobs, profiles and candidates name them, over the taxonomy
//! ([`super::taxonomy`]: curated technology aliases plus ESCO). Matching rules
//! (word boundaries, everyday words such as "Go" or "Swift", short terms) are
//! documented there.

use std::collections::{BTreeSet, HashSet};

use super::taxonomy;

/// A skill as named by a job, profile or candidate: canonical when the
/// vocabulary knows it, otherwise the name as written (trimmed).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skill {
    pub name: String,
    /// Whether `name` is a vocabulary canonical name.
    pub known: bool,
}

impl Skill {
    /// The key two skills are compared by.
    pub fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// The canonical name of a skill written as `name` in a list ("k8s" => "Kubernetes").
pub fn canonicalize(name: &str) -> Option<&'static str> {
    let t = taxonomy::get()?;
    t.lookup(name)
        .and_then(|c| t.concept(c))
        .map(|c| c.name.as_str())
}

/// A skill from a list entry: canonical when known, as written otherwise.
pub fn skill_from_name(name: &str) -> Option<Skill> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(match canonicalize(trimmed) {
        Some(c) => Skill {
            name: c.to_string(),
            known: true,
        },
        None => Skill {
            name: trimmed.to_string(),
            known: false,
        },
    })
}

/// Every taxonomy skill named in `text`, in order of first mention.
pub fn find_skills(text: &str) -> Vec<&'static str> {
    find_skills_where(text, false, &[])
}

/// Curated (technology) skills named in `text`: context such as a job's
/// responsibilities is read for these only, not for every ESCO phrase.
pub fn find_curated_skills(text: &str) -> Vec<&'static str> {
    find_skills_where(text, true, &[])
}

/// Skills named in `text` outside the byte ranges `skip` (e.g. the words of
/// a certification's name), optionally curated ones only.
pub fn find_skills_where(
    text: &str,
    curated_only: bool,
    skip: &[(usize, usize)],
) -> Vec<&'static str> {
    let Some(t) = taxonomy::get() else {
        return Vec::new();
    };
    let mut seen: HashSet<u32> = HashSet::new();
    t.mentions(text)
        .into_iter()
        .filter(|m| !skip.iter().any(|&(i, j)| m.start < j && i < m.end))
        .filter(|m| seen.insert(m.concept))
        .filter_map(|m| t.concept(m.concept))
        .filter(|c| c.curated || !curated_only)
        .map(|c| c.name.as_str())
        .collect()
}

/// Whether `needle` occurs in `text` on word boundaries (case-insensitive).
/// Used for skills the vocabulary does not know.
pub fn mentions(text: &str, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    !needle.is_empty() && first_match(&text.to_lowercase(), &needle).is_some()
}

fn first_match(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .match_indices(needle)
        .find_map(|(i, _)| taxonomy::on_boundaries(haystack, i, i + needle.len()).then_some(i))
}

/// A de-duplicated set of candidate skills, plus the text for skills the
/// vocabulary does not know.
pub struct CandidateSkills<'a> {
    keys: BTreeSet<String>,
    text: &'a str,
}

impl<'a> CandidateSkills<'a> {
    pub fn new(listed: &[String], text: &'a str, extra_text: &[&str]) -> Self {
        let mut keys: BTreeSet<String> = listed
            .iter()
            .filter_map(|s| skill_from_name(s))
            .map(|s| s.key())
            .collect();
        for t in std::iter::once(text).chain(extra_text.iter().copied()) {
            keys.extend(find_skills(t).into_iter().map(str::to_lowercase));
        }
        CandidateSkills { keys, text }
    }

    pub fn has(&self, skill: &Skill) -> bool {
        self.keys.contains(&skill.key()) || (!skill.known && mentions(self.text, &skill.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curated_aliases_are_unique() {
        let data = include_str!("../../data/taxonomy/aliases.tsv");
        let mut seen = BTreeSet::new();
        let mut n = 0;
        for line in data
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            n += 1;
            let (canon, rest) = line.split_once('\t').unwrap_or((line, ""));
            for a in std::iter::once(canon).chain(rest.split('|').filter(|a| !a.is_empty())) {
                let a = a.trim_start_matches('=').to_lowercase();
                assert!(seen.insert(a.clone()), "duplicate alias {a}");
            }
        }
        assert!(n >= 150, "{n}");
    }

    #[test]
    fn aliases_canonicalize() {
        assert_eq!(canonicalize("golang"), Some("Go"));
        assert_eq!(canonicalize("K8S"), Some("Kubernetes"));
        assert_eq!(canonicalize("postgres"), Some("PostgreSQL"));
        assert_eq!(canonicalize("JS"), Some("JavaScript"));
        assert_eq!(canonicalize("ml"), Some("Machine Learning"));
        assert_eq!(canonicalize("go"), Some("Go"));
        assert_eq!(canonicalize("c++"), Some("C++"));
        assert_eq!(canonicalize("c#"), Some("C#"));
        assert_eq!(canonicalize("Foo"), None);
        assert_eq!(canonicalize("  "), None);
    }

    #[test]
    fn finds_skills_on_word_boundaries() {
        let t = "Built services in Golang and C++ on k8s, with postgres; some JS and ML. \
                 Also C# and C.";
        assert_eq!(
            find_skills(t),
            vec![
                "Go",
                "C++",
                "Kubernetes",
                "PostgreSQL",
                "JavaScript",
                "Machine Learning",
                "C#",
                "C"
            ]
        );
        assert!(find_skills("JavaScript only").contains(&"JavaScript"));
        assert!(!find_skills("JavaScript only").contains(&"Java"));
        assert!(find_skills("trusted partner").is_empty());
        // ESCO's "react quickly" (an attitude) may match; the technologies may not.
        let everyday = find_skills("ready to go, we react quickly");
        assert!(
            !everyday.contains(&"React") && !everyday.contains(&"Go"),
            "{everyday:?}"
        );
        assert_eq!(find_skills("Go and React"), vec!["Go", "React"]);
        assert_eq!(find_skills("ASP.NET and Node.js."), vec![".NET", "Node.js"]);
    }

    #[test]
    fn candidate_skills_union_and_unknown_skills() {
        let listed = vec!["rust".to_string(), "Frobnication".to_string()];
        let c = CandidateSkills::new(
            &listed,
            "Experienced with kubernetes and widget-making",
            &[],
        );
        let s = |n: &str| skill_from_name(n).unwrap();
        assert!(c.has(&s("Rust")));
        assert!(c.has(&s("k8s")));
        assert!(c.has(&s("frobnication")));
        assert!(c.has(&s("Widget-Making")));
        assert!(!c.has(&s("Go")));
    }
}
