//! Exclusionary, gendered and age-coded phrases (project-authored lists,
//! informed by joblint's rules and the ADEA/EEOC guidance the reference
//! cites). Matching is on words, case- and accent-insensitive; `#n` in a
//! pattern matches any number and `#year` a four-digit year.

use super::{FindingKind, Severity};

pub struct Pattern {
    pub words: &'static str,
    pub kind: FindingKind,
    pub severity: Severity,
    pub why: &'static str,
}

const fn p(
    words: &'static str,
    kind: FindingKind,
    severity: Severity,
    why: &'static str,
) -> Pattern {
    Pattern {
        words,
        kind,
        severity,
        why,
    }
}

use FindingKind::{AgeCoded, Exclusionary, GenderedLanguage};
use Severity::{High, Low, Medium};

const TITLE_HYPE: &str = "hype job titles put off applicants who do not see themselves that way";
const BRO: &str = "bro-culture wording signals a homogeneous team";
const AGE: &str = "age-coded wording discourages older applicants (ADEA)";
const AGE_EXPLICIT: &str =
    "an explicit age preference is unlawful in most jurisdictions (ADEA, EU 2000/78/EC)";
const ORIGIN: &str = "native-speaker requirements discriminate by national origin; ask for the proficiency the job needs";
const PHYSICAL: &str = "a physical requirement must be an essential function of the job; say accommodations are available";
const PRONOUN: &str = "gendered pronouns for the hire; use they or you";
const GENDERED_TITLE: &str = "gendered job word; use a neutral one (salesperson, chair, staffing)";

pub const PATTERNS: &[Pattern] = &[
    // Hype titles (joblint "dumb job titles").
    p("rockstar", Exclusionary, Medium, TITLE_HYPE),
    p("rock star", Exclusionary, Medium, TITLE_HYPE),
    p("rockstars", Exclusionary, Medium, TITLE_HYPE),
    p("ninja", Exclusionary, Medium, TITLE_HYPE),
    p("ninjas", Exclusionary, Medium, TITLE_HYPE),
    p("guru", Exclusionary, Medium, TITLE_HYPE),
    p("gurus", Exclusionary, Medium, TITLE_HYPE),
    p("jedi", Exclusionary, Medium, TITLE_HYPE),
    p("wizard", Exclusionary, Low, TITLE_HYPE),
    p("superstar", Exclusionary, Low, TITLE_HYPE),
    p("unicorn", Exclusionary, Low, TITLE_HYPE),
    p("hacker", Exclusionary, Low, TITLE_HYPE),
    // Bro culture.
    p("bro", Exclusionary, High, BRO),
    p("bros", Exclusionary, High, BRO),
    p("brogrammer", Exclusionary, High, BRO),
    p("brogrammers", Exclusionary, High, BRO),
    p("dude", Exclusionary, Medium, BRO),
    p("dudes", Exclusionary, Medium, BRO),
    p("frat", Exclusionary, Medium, BRO),
    p("beer pong", Exclusionary, Medium, BRO),
    p("work hard play hard", Exclusionary, Medium, BRO),
    p("one of the guys", Exclusionary, High, BRO),
    p(
        "culture fit",
        Exclusionary,
        Low,
        "\"culture fit\" is often a proxy for sameness; name the values instead",
    ),
    // Origin and language.
    p("native english speaker", Exclusionary, High, ORIGIN),
    p("native english speakers", Exclusionary, High, ORIGIN),
    p("native speaker", Exclusionary, High, ORIGIN),
    p("native speakers", Exclusionary, High, ORIGIN),
    p("english as a first language", Exclusionary, High, ORIGIN),
    p("mother tongue", Exclusionary, High, ORIGIN),
    p("no accent", Exclusionary, High, ORIGIN),
    // Physical requirements that are rarely essential in the jobs we see.
    p("able bodied", Exclusionary, High, PHYSICAL),
    p("physically fit", Exclusionary, Medium, PHYSICAL),
    p("good physical condition", Exclusionary, Medium, PHYSICAL),
    p("clean shaven", Exclusionary, Medium, PHYSICAL),
    p("must be able to stand", Exclusionary, Low, PHYSICAL),
    p("able to lift #n", Exclusionary, Low, PHYSICAL),
    p("must be able to lift", Exclusionary, Low, PHYSICAL),
    p("perfect vision", Exclusionary, Medium, PHYSICAL),
    // Gendered language.
    p("he", GenderedLanguage, Medium, PRONOUN),
    p("him", GenderedLanguage, Medium, PRONOUN),
    p("his", GenderedLanguage, Medium, PRONOUN),
    p("she", GenderedLanguage, Medium, PRONOUN),
    p("hers", GenderedLanguage, Medium, PRONOUN),
    p("he or she", GenderedLanguage, Low, PRONOUN),
    p("he she", GenderedLanguage, Low, PRONOUN),
    p("salesman", GenderedLanguage, Medium, GENDERED_TITLE),
    p("salesmen", GenderedLanguage, Medium, GENDERED_TITLE),
    p("chairman", GenderedLanguage, Medium, GENDERED_TITLE),
    p("foreman", GenderedLanguage, Medium, GENDERED_TITLE),
    p("craftsman", GenderedLanguage, Low, GENDERED_TITLE),
    p("workman", GenderedLanguage, Low, GENDERED_TITLE),
    p("cameraman", GenderedLanguage, Medium, GENDERED_TITLE),
    p("businessman", GenderedLanguage, Medium, GENDERED_TITLE),
    p("spokesman", GenderedLanguage, Medium, GENDERED_TITLE),
    p("manpower", GenderedLanguage, Low, GENDERED_TITLE),
    p("guys", GenderedLanguage, Low, GENDERED_TITLE),
    p("gentlemen", GenderedLanguage, Medium, GENDERED_TITLE),
    p("waitress", GenderedLanguage, Medium, GENDERED_TITLE),
    // Age.
    p("young", AgeCoded, Medium, AGE),
    p("youthful", AgeCoded, High, AGE),
    p("young and energetic", AgeCoded, High, AGE),
    p("young energetic", AgeCoded, High, AGE),
    p("young team", AgeCoded, High, AGE),
    p("young professionals", AgeCoded, High, AGE),
    p("under #n years old", AgeCoded, High, AGE_EXPLICIT),
    p("between the ages of", AgeCoded, High, AGE_EXPLICIT),
    p("aged #n", AgeCoded, High, AGE_EXPLICIT),
    p("digital native", AgeCoded, Medium, AGE),
    p("digital natives", AgeCoded, Medium, AGE),
    p("recent graduate", AgeCoded, Medium, AGE),
    p("recent graduates", AgeCoded, Medium, AGE),
    p("recent grad", AgeCoded, Medium, AGE),
    p("recent grads", AgeCoded, Medium, AGE),
    p("new graduate", AgeCoded, Medium, AGE),
    p("new graduates", AgeCoded, Medium, AGE),
    p("fresh graduate", AgeCoded, Medium, AGE),
    p("fresh graduates", AgeCoded, Medium, AGE),
    p("class of #year", AgeCoded, High, AGE),
    p("overqualified", AgeCoded, Medium, AGE),
    p("high energy", AgeCoded, Low, AGE),
    p("energetic", AgeCoded, Low, AGE),
    p("no more than #n years of experience", AgeCoded, Medium, AGE),
    p("maximum of #n years of experience", AgeCoded, Medium, AGE),
    p("at most #n years of experience", AgeCoded, Medium, AGE),
];

/// Folded words of a text with their byte spans.
pub fn tokens(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, i, crate::model::redact::fold(&text[s..i])));
        }
    }
    out
}

fn token_matches(pattern: &str, word: &str) -> bool {
    match pattern {
        "#n" => !word.is_empty() && word.len() <= 4 && word.chars().all(|c| c.is_ascii_digit()),
        "#year" => {
            word.len() == 4
                && word
                    .parse::<u32>()
                    .is_ok_and(|y| (1900..=2100).contains(&y))
        }
        p => p == word,
    }
}

/// Every occurrence of every pattern: (pattern, start byte, end byte).
/// A longer pattern hides the shorter ones it covers ("young and energetic"
/// is one finding, not three).
pub fn find(text: &str) -> Vec<(&'static Pattern, usize, usize)> {
    let toks = tokens(text);
    let mut hits: Vec<(&'static Pattern, usize, usize, usize)> = Vec::new();
    for pat in PATTERNS {
        let words: Vec<&str> = pat.words.split(' ').collect();
        if words.len() > toks.len() {
            continue;
        }
        for i in 0..=toks.len() - words.len() {
            if words
                .iter()
                .zip(&toks[i..i + words.len()])
                .all(|(p, t)| token_matches(p, &t.2))
            {
                hits.push((pat, i, i + words.len(), 0));
            }
        }
    }
    // Longest first; drop any hit inside an already kept one.
    hits.sort_by_key(|(_, s, e, _)| (std::cmp::Reverse(e - s), *s));
    let mut kept: Vec<(&'static Pattern, usize, usize, usize)> = Vec::new();
    for h in hits {
        if !kept.iter().any(|k| h.1 >= k.1 && h.2 <= k.2) {
            kept.push(h);
        }
    }
    kept.sort_by_key(|(_, s, _, _)| *s);
    kept.into_iter()
        .map(|(p, s, e, _)| (p, toks[s].0, toks[e - 1].1))
        .collect()
}
