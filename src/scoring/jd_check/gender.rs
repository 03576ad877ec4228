//! Gender-coded wording: the Gaucher, Friesen & Kay (2011) word stems as the
//! gender-decoder project (lovedaybrooke/gender-decoder, MIT) uses them, with
//! its tokenisation, its hyphen rule, its "sharepoint" exception and its
//! f - m difference rule.
//!
//! Two deliberate choices, each with a switch:
//! - gender-decoder counts a word once per stem it starts with, so
//!   "dominant" (domina, dominant) and "interpersonal" (interpersonal,
//!   interpersona) count twice. [`Counting::PerWord`] (the default) counts
//!   each word once; [`Counting::PerStem`] reproduces the original.
//! - words that are coded only by accident in software job ads (analyst,
//!   "individual contributor", "lead time", git "commit", "support
//!   engineer", "active directory", ...) are not counted unless
//!   [`Options::domain_exceptions`] is off.

use serde::{Deserialize, Serialize};

pub const FEMININE: &[&str] = &[
    "agree",
    "affectionate",
    "child",
    "cheer",
    "collab",
    "commit",
    "communal",
    "compassion",
    "connect",
    "considerate",
    "cooperat",
    "co-operat",
    "depend",
    "emotiona",
    "empath",
    "feel",
    "flatterable",
    "gentle",
    "honest",
    "interpersonal",
    "interdependen",
    "interpersona",
    "inter-personal",
    "inter-dependen",
    "inter-persona",
    "kind",
    "kinship",
    "loyal",
    "modesty",
    "nag",
    "nurtur",
    "pleasant",
    "polite",
    "quiet",
    "respon",
    "sensitiv",
    "submissive",
    "support",
    "sympath",
    "tender",
    "together",
    "trust",
    "understand",
    "warm",
    "whin",
    "enthusias",
    "inclusive",
    "yield",
    "share",
    "sharin",
];

pub const MASCULINE: &[&str] = &[
    "active",
    "adventurous",
    "aggress",
    "ambitio",
    "analy",
    "assert",
    "athlet",
    "autonom",
    "battle",
    "boast",
    "challeng",
    "champion",
    "compet",
    "confident",
    "courag",
    "decid",
    "decision",
    "decisive",
    "defend",
    "determin",
    "domina",
    "dominant",
    "driven",
    "fearless",
    "fight",
    "force",
    "greedy",
    "head-strong",
    "headstrong",
    "hierarch",
    "hostil",
    "impulsive",
    "independen",
    "individual",
    "intellect",
    "lead",
    "logic",
    "objective",
    "opinion",
    "outspoken",
    "persist",
    "principle",
    "reckless",
    "self-confiden",
    "self-relian",
    "self-sufficien",
    "selfconfiden",
    "selfrelian",
    "selfsufficien",
    "stubborn",
    "superior",
    "unreasonab",
];

/// gender-decoder's own exception: words starting with these are not coded.
const NON_CODED: &[&str] = &["sharepoint"];

/// Word pairs and words that are coded only by accident in job ads. A pair
/// exempts its first word when the second follows; a single entry exempts
/// words starting with it.
const DOMAIN_PAIRS: &[(&str, &str)] = &[
    ("individual", "contributor"),
    ("individual", "contributors"),
    ("lead", "time"),
    ("lead", "times"),
    ("git", "commit"),
    ("support", "engineer"),
    ("support", "engineers"),
    ("support", "engineering"),
    ("support", "team"),
    ("customer", "support"),
    ("technical", "support"),
    ("active", "directory"),
    ("kind", "of"),
    ("force", "com"),
    ("decision", "tree"),
    ("decision", "trees"),
    ("dependency", "injection"),
    ("competitive", "salary"),
    ("competitive", "compensation"),
    ("competitive", "pay"),
    ("competitive", "benefits"),
    ("competitive", "package"),
    ("competitive", "rates"),
    ("data", "driven"),
    ("test", "driven"),
    ("event", "driven"),
    ("metrics", "driven"),
    ("feel", "free"),
];
const DOMAIN_WORDS: &[&str] = &[
    "analyst",
    "analysts",
    "analytics",
    "analysis",
    "dependency",
    "dependencies",
    "dependabot",
    "commits",
    "salesforce",
    "response",
    "responses",
    "responsive",
    "logic",
    "depending",
    "depends",
    "childcare",
    "objectives",
    "competency",
    "competencies",
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Counting {
    /// Each word counts once, whichever stems it starts with.
    #[default]
    PerWord,
    /// Each (word, stem) match counts, as gender-decoder does.
    PerStem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub counting: Counting,
    pub domain_exceptions: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            counting: Counting::PerWord,
            domain_exceptions: true,
        }
    }
}

impl Options {
    /// gender-decoder's behaviour exactly.
    pub const COMPAT: Options = Options {
        counting: Counting::PerStem,
        domain_exceptions: false,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coding {
    StronglyFeminineCoded,
    FeminineCoded,
    Neutral,
    Empty,
    MasculineCoded,
    StronglyMasculineCoded,
}

impl Coding {
    /// gender-decoder's label.
    pub fn as_str(self) -> &'static str {
        match self {
            Coding::StronglyFeminineCoded => "strongly feminine-coded",
            Coding::FeminineCoded => "feminine-coded",
            Coding::Neutral => "neutral",
            Coding::Empty => "empty",
            Coding::MasculineCoded => "masculine-coded",
            Coding::StronglyMasculineCoded => "strongly masculine-coded",
        }
    }
}

/// The coded words of an ad, in order of appearance, with repeats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenderCoding {
    pub masculine: Vec<String>,
    pub feminine: Vec<String>,
    pub coding: Coding,
}

impl GenderCoding {
    /// gender-decoder's listing: "leader (3 times)", "ambition (2 times)", "competition".
    pub fn listed(words: &[String]) -> Vec<String> {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for w in words {
            match counts.iter_mut().find(|(x, _)| *x == w.as_str()) {
                Some((_, n)) => *n += 1,
                None => counts.push((w.as_str(), 1)),
            }
        }
        counts
            .into_iter()
            .map(|(w, n)| {
                if n == 1 {
                    w.to_string()
                } else {
                    format!("{w} ({n} times)")
                }
            })
            .collect()
    }
}

/// gender-decoder's `clean_up_word_list`: non-ASCII and the listed
/// punctuation become spaces, words are lowercased, and hyphenated words are
/// split unless they start with a hyphenated coded stem.
pub fn words(text: &str) -> Vec<String> {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if !c.is_ascii()
                || c.is_whitespace()
                || matches!(
                    c,
                    '.' | ','
                        | '<'
                        | '>'
                        | '*'
                        | '?'
                        | '!'
                        | '"'
                        | '['
                        | ']'
                        | '@'
                        | '\''
                        | ':'
                        | ';'
                        | '('
                        | ')'
                        | '/'
                        | '&'
                )
            {
                ' '
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let hyphenated: Vec<&str> = FEMININE
        .iter()
        .chain(MASCULINE)
        .copied()
        .filter(|s| s.contains('-'))
        .collect();
    let mut out = Vec::new();
    for w in cleaned.split(' ').filter(|w| !w.is_empty()) {
        if w.contains('-') && !hyphenated.iter().any(|h| w.starts_with(h)) {
            out.extend(w.split('-').filter(|p| !p.is_empty()).map(str::to_string));
        } else {
            out.push(w.to_string());
        }
    }
    out
}

fn matches(word: &str, stems: &[&str], counting: Counting) -> usize {
    if NON_CODED.iter().any(|e| word.starts_with(e)) {
        return 0;
    }
    let n = stems.iter().filter(|s| word.starts_with(*s)).count();
    match counting {
        Counting::PerStem => n,
        Counting::PerWord => n.min(1),
    }
}

fn exempt(words: &[String], i: usize) -> bool {
    let w = words[i].as_str();
    let next = words.get(i + 1).map(String::as_str);
    let prev = i.checked_sub(1).map(|p| words[p].as_str());
    DOMAIN_WORDS.contains(&w)
        || DOMAIN_PAIRS
            .iter()
            .any(|(a, b)| (w == *a && next == Some(*b)) || (w == *b && prev == Some(*a)))
}

/// The ad's coded words and its coding.
pub fn assess(text: &str, options: Options) -> GenderCoding {
    let words = words(text);
    let mut masculine = Vec::new();
    let mut feminine = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if options.domain_exceptions && exempt(&words, i) {
            continue;
        }
        for _ in 0..matches(w, MASCULINE, options.counting) {
            masculine.push(w.clone());
        }
        for _ in 0..matches(w, FEMININE, options.counting) {
            feminine.push(w.clone());
        }
    }
    let score = feminine.len() as i64 - masculine.len() as i64;
    let coding = match score {
        0 if feminine.is_empty() => Coding::Empty,
        0 => Coding::Neutral,
        s if s > 3 => Coding::StronglyFeminineCoded,
        s if s > 0 => Coding::FeminineCoded,
        s if s < -3 => Coding::StronglyMasculineCoded,
        _ => Coding::MasculineCoded,
    };
    GenderCoding {
        masculine,
        feminine,
        coding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compat(text: &str) -> GenderCoding {
        assess(text, Options::COMPAT)
    }

    #[test]
    fn list_sizes_match_the_published_lists() {
        assert_eq!(FEMININE.len(), 50);
        assert_eq!(MASCULINE.len(), 52);
    }

    // gender-decoder tests.py, test_clean_up_word_list.
    #[test]
    fn clean_up_word_list() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Sharing is as important as ambition",
                &["sharing", "is", "as", "important", "as", "ambition"],
            ),
            (
                "Qualities: sharing\tambition",
                &["qualities", "sharing", "ambition"],
            ),
            ("Sharing;ambitious", &["sharing", "ambitious"]),
            ("Sharing/ambitious", &["sharing", "ambitious"]),
            (
                "Sharing, co-operative, 'servant-leader'",
                &["sharing", "co-operative", "servant", "leader"],
            ),
            ("Sharing—ambitious", &["sharing", "ambitious"]),
            (
                "Sharing(ambitious) and (leader)",
                &["sharing", "ambitious", "and", "leader"],
            ),
            (
                "Sharing[ambitious] and [leader]",
                &["sharing", "ambitious", "and", "leader"],
            ),
            (
                "Sharing<ambitious> and <leader>",
                &["sharing", "ambitious", "and", "leader"],
            ),
            ("Sharing ambitious ", &["sharing", "ambitious"]),
            (
                "Sharing&ambitious, empathy&kindness,",
                &["sharing", "ambitious", "empathy", "kindness"],
            ),
            (
                "Sharing&ambitious*, empathy*kindness,",
                &["sharing", "ambitious", "empathy", "kindness"],
            ),
            (
                "Lead \"Developer\" Who is Connect@HBS? We ",
                &["lead", "developer", "who", "is", "connect", "hbs", "we"],
            ),
            (
                "Lead Developer v good!",
                &["lead", "developer", "v", "good"],
            ),
            (
                "“Lead” ‘Developer’ v good!",
                &["lead", "developer", "v", "good"],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(words(text), *want, "{text}");
        }
    }

    // test_extract_coded_words.
    #[test]
    fn extract_coded_words() {
        let j1 = compat("Ambition:competition–decisiveness, empathy&kindness");
        assert_eq!(j1.masculine, ["ambition", "competition", "decisiveness"]);
        assert_eq!(j1.feminine, ["empathy", "kindness"]);
        let j2 = compat("empathy&kindness");
        assert!(j2.masculine.is_empty());
        assert_eq!(j2.feminine, ["empathy", "kindness"]);
        let j3 = compat("empathy irrelevant words kindness");
        assert_eq!(j3.feminine, ["empathy", "kindness"]);
    }

    // test_assess_coding_neutral_and_empty, _masculine, _feminine, test_analyse.
    #[test]
    fn assess_coding() {
        let cases: &[(&str, usize, usize, Coding)] = &[
            ("irrelevant words", 0, 0, Coding::Empty),
            ("sharing versus aggression", 1, 1, Coding::Neutral),
            (
                "Ambition:competition–decisiveness, empathy&kindness",
                3,
                2,
                Coding::MasculineCoded,
            ),
            (
                "Ambition:competition–decisiveness, other words",
                3,
                0,
                Coding::MasculineCoded,
            ),
            (
                "Ambition:competition–decisiveness&leadership, other words",
                4,
                0,
                Coding::StronglyMasculineCoded,
            ),
            (
                "Ambition:competition–decisiveness&leadership, decisiveness, stubborness, sharing and empathy",
                6,
                2,
                Coding::StronglyMasculineCoded,
            ),
            (
                "Ambition:competition, empathy&kindness, co-operation",
                2,
                3,
                Coding::FeminineCoded,
            ),
            (
                "empathy&kindness, co-operation and some other words",
                0,
                3,
                Coding::FeminineCoded,
            ),
            (
                "empathy&kindness, co-operation, trust and other words",
                0,
                4,
                Coding::StronglyFeminineCoded,
            ),
            (
                "Ambition:competition, empathy&kindness and responsibility, co-operation, honesty, trust and other words",
                2,
                6,
                Coding::StronglyFeminineCoded,
            ),
        ];
        for (text, m, f, coding) in cases {
            for options in [Options::COMPAT, Options::default()] {
                let g = assess(text, options);
                assert_eq!(
                    (g.masculine.len(), g.feminine.len(), g.coding),
                    (*m, *f, *coding),
                    "{text}"
                );
            }
        }
        let j = compat(
            "Ambition:competition–decisiveness&leadership, decisiveness, stubborness, sharing and empathy",
        );
        assert_eq!(
            j.masculine,
            [
                "ambition",
                "competition",
                "decisiveness",
                "leadership",
                "decisiveness",
                "stubborness"
            ]
        );
        assert_eq!(j.feminine, ["sharing", "empathy"]);
        assert_eq!(j.coding.as_str(), "strongly masculine-coded");
    }

    // test_process_ad: 9 distinct words, 10 occurrences.
    #[test]
    fn process_ad_counts() {
        let g = compat(
            "Sharing: ambition\tkindness&empathy(never more than frou) Who is Connect@HBS? \
             leader-supporter-follower aggresive/responsible;understand? connect",
        );
        let mut m: Vec<&str> = g.masculine.iter().map(String::as_str).collect();
        let mut f: Vec<&str> = g.feminine.iter().map(String::as_str).collect();
        m.sort_unstable();
        f.sort_unstable();
        m.dedup();
        let total = g.masculine.len() + g.feminine.len();
        let before = f.len();
        f.dedup();
        assert_eq!(m, ["ambition", "leader"]);
        assert_eq!(
            f,
            [
                "connect",
                "empathy",
                "kindness",
                "responsible",
                "sharing",
                "supporter",
                "understand"
            ]
        );
        assert_eq!(before, 8);
        assert_eq!(m.len() + f.len(), 9);
        assert_eq!(total, 10);
    }

    // The listing the results page shows (the reference's worked example).
    #[test]
    fn listing_with_repeats() {
        let g = compat("leader leader leader, ambition, ambition, competition");
        assert_eq!(
            GenderCoding::listed(&g.masculine),
            ["leader (3 times)", "ambition (2 times)", "competition"]
        );
    }

    #[test]
    fn sharepoint_is_not_coded_and_overlaps_count_once_by_default() {
        assert!(compat("SharePoint administrator").feminine.is_empty());
        assert_eq!(compat("dominant").masculine.len(), 2);
        assert_eq!(compat("interpersonal").feminine.len(), 2);
        assert_eq!(assess("dominant", Options::default()).masculine.len(), 1);
        assert_eq!(
            assess("interpersonal", Options::default()).feminine.len(),
            1
        );
    }

    #[test]
    fn domain_exceptions() {
        let text = "Data analyst, individual contributor role. Reduce lead time; \
                    git commit often. Support engineer for Active Directory. Kind of fun.";
        let g = assess(text, Options::default());
        assert!(g.masculine.is_empty(), "{:?}", g.masculine);
        assert!(g.feminine.is_empty(), "{:?}", g.feminine);
        let c = compat(text);
        assert_eq!(
            c.masculine,
            ["analyst", "individual", "lead", "active"],
            "the original counts them"
        );
        assert_eq!(c.feminine, ["commit", "support", "kind"]);
        let benefits = "Competitive salary, childcare, data-driven and test-driven teams; \
                        feel free to ask. Objectives and key results; core competencies.";
        let g = assess(benefits, Options::default());
        assert!(g.masculine.is_empty() && g.feminine.is_empty(), "{g:?}");
        assert_eq!(compat(benefits).masculine.len(), 5);
        // A real "lead" still counts.
        assert_eq!(
            assess("You will lead the team", Options::default()).masculine,
            ["lead"]
        );
    }
}
