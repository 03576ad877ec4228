//! What a resume shows for one requirement: every mention on word boundaries
//! (taxonomy label or alias, or the name as written for skills the taxonomy
//! does not know), weighed by its context ([`super::context`]) and by how
//! recently it was used ([`super::timeline::recency_percent`]), with the
//! sentence to cite.

use std::collections::{HashMap, HashSet};

use super::certs::{self, CertMention};
use super::context::{Context, classify};
use super::layout::{Layout, header_title};
use super::skills::Skill;
use super::taxonomy::{self, on_boundaries};
use super::timeline::{YearMonth, recency_percent};
use crate::model::BlindCandidate;

/// Longest sentence quoted, in characters.
pub const MAX_SENTENCE: usize = 160;

/// The resume's answer to one requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// 0-100; 0 means not shown.
    pub strength: u8,
    pub sentence: Option<String>,
    /// Why it counts less than fully, or why a mention did not count.
    pub note: Option<String>,
}

impl Found {
    fn none(note: Option<String>) -> Found {
        Found {
            strength: 0,
            sentence: None,
            note,
        }
    }
}

/// A candidate read once for all requirements of a job.
pub struct ResumeEvidence<'a> {
    text: &'a str,
    layout: Layout,
    by_concept: HashMap<u32, Vec<(usize, usize)>>,
    listed: HashSet<u32>,
    listed_unknown: Vec<String>,
    title: String,
    title_concepts: HashSet<u32>,
    certs: Vec<CertMention>,
    now: YearMonth,
}

impl<'a> ResumeEvidence<'a> {
    pub fn new(c: &'a BlindCandidate, now: YearMonth) -> Self {
        let text = c.resume_text.as_str();
        let tax = taxonomy::get();
        let mut by_concept: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
        if let Some(t) = tax {
            for m in t.mentions(text) {
                by_concept
                    .entry(m.concept)
                    .or_default()
                    .push((m.start, m.end));
            }
        }
        let mut listed = HashSet::new();
        let mut listed_unknown = Vec::new();
        for s in &c.structured.skills {
            match tax.and_then(|t| t.lookup(s)) {
                Some(id) => {
                    listed.insert(id);
                }
                None => listed_unknown.push(s.trim().to_lowercase()),
            }
        }
        let title = c.title.clone().unwrap_or_default();
        let title_concepts = tax
            .map(|t| t.mentions(&title).into_iter().map(|m| m.concept).collect())
            .unwrap_or_default();
        ResumeEvidence {
            text,
            layout: Layout::of(text),
            by_concept,
            listed,
            listed_unknown,
            title,
            title_concepts,
            certs: certs::find(text),
            now,
        }
    }

    /// Dated positions' periods, for total experience.
    pub fn periods(&self) -> Vec<super::timeline::Period> {
        self.layout.positions.iter().map(|p| p.period).collect()
    }

    /// What the resume shows for a skill.
    pub fn skill(&self, s: &Skill) -> Found {
        let tax = taxonomy::get();
        let concept = if s.known {
            tax.and_then(|t| t.lookup(&s.name))
        } else {
            None
        };
        let (spans, listed, in_title) = match concept {
            Some(id) => (
                self.by_concept.get(&id).cloned().unwrap_or_default(),
                self.listed.contains(&id),
                self.title_concepts.contains(&id),
            ),
            None => {
                let key = s.name.trim().to_lowercase();
                (
                    find_all(self.text, &key),
                    self.listed_unknown.contains(&key),
                    !find_all(&self.title, &key).is_empty(),
                )
            }
        };
        self.weigh(&spans, listed || in_title)
    }

    /// What the resume shows for a certification.
    pub fn cert(&self, asked: &str) -> Found {
        let spans: Vec<(usize, usize)> = self
            .certs
            .iter()
            .filter(|m| certs::meets(&m.name, asked))
            .map(|m| (m.start, m.end))
            .collect();
        self.weigh(&spans, false)
    }

    fn weigh(&self, spans: &[(usize, usize)], listed: bool) -> Found {
        // (context, years since the position ended if dated, span)
        let mut counted: Vec<(Context, Option<u32>, (usize, usize))> = Vec::new();
        let mut negated = false;
        for &(i, j) in spans {
            let Some(line) = self.layout.line_at(i) else {
                continue;
            };
            let text = self.text.get(line.start..line.end).unwrap_or("");
            if line.is_position_header && !in_title(text, i - line.start) {
                continue; // the employer's name is no evidence of a skill
            }
            let ctx = classify(text, i - line.start, j.saturating_sub(line.start));
            if ctx == Context::Negated {
                negated = true;
                continue;
            }
            let age = line
                .position
                .and_then(|p| self.layout.positions.get(p))
                .map(|p| p.period.years_since_end(self.now));
            counted.push((ctx, age, (i, j)));
        }
        if counted.is_empty() && !listed {
            return Found::none(negated.then(|| "mentioned only as not used".to_string()));
        }
        // Recency: the latest dated evidence decides.
        let newest = counted.iter().filter_map(|(_, a, _)| *a).min();
        let recency = newest.map_or(100, recency_percent);
        let best_ctx = counted
            .iter()
            .map(|(c, _, _)| *c)
            .max_by_key(|c| c.percent())
            .unwrap_or(Context::Full);
        let best_ctx = if listed { Context::Full } else { best_ctx };
        let strength = (u32::from(best_ctx.percent()) * u32::from(recency) / 100) as u8;
        // Quote the strongest mention, preferring the most recent position
        // over undated text (a summary, a skills list).
        let sentence = counted
            .iter()
            .filter(|(c, _, _)| c.percent() == best_ctx.percent())
            .filter(|(_, _, span)| self.quote(*span).is_some())
            .min_by_key(|(_, a, (i, _))| (a.is_none(), a.unwrap_or(0), *i))
            .and_then(|(_, _, span)| self.quote(*span))
            .or_else(|| counted.iter().find_map(|(_, _, span)| self.quote(*span)));
        let mut notes = Vec::new();
        if let Context::Partial(cue) = best_ctx {
            notes.push(format!("counted in part (\"{cue}\")"));
        }
        if recency < 100
            && let Some(y) = newest
        {
            notes.push(format!("last used {y} years ago"));
        }
        Found {
            strength,
            sentence,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }

    /// The sentence around a mention, if its line may be quoted.
    fn quote(&self, (i, j): (usize, usize)) -> Option<String> {
        let line = self.layout.line_at(i)?;
        if !self.layout.quotable(line) {
            return None;
        }
        let text = self.text.get(line.start..line.end)?;
        let (mi, mj) = (i - line.start, j.saturating_sub(line.start));
        let sentence = if line.is_position_header {
            // Only the title: the rest names the employer and the dates.
            let title = header_title(text.trim());
            let offset = text.find(title)?;
            if mj > offset + title.len() || mi < offset {
                return None;
            }
            return clean_quote(title, &self.text[i..j], true);
        } else {
            sentence_around(text, mi, mj)
        };
        clean_quote(&sentence, &self.text[i..j], false)
    }
}

/// Whether byte `at` of a position header line lies in its title part.
fn in_title(line: &str, at: usize) -> bool {
    let title = header_title(line.trim());
    line.find(title)
        .is_some_and(|o| at >= o && at < o + title.len())
}

/// Every case-insensitive occurrence of `needle` (lowercase) on word boundaries.
fn find_all(text: &str, needle: &str) -> Vec<(usize, usize)> {
    if needle.is_empty() {
        return Vec::new();
    }
    // ASCII lowercasing keeps byte offsets.
    let lower = text.to_ascii_lowercase();
    lower
        .match_indices(needle)
        .map(|(i, _)| (i, i + needle.len()))
        .filter(|&(i, j)| on_boundaries(&lower, i, j))
        .collect()
}

fn sentence_around(line: &str, i: usize, j: usize) -> String {
    let ends = [". ", "; ", "! ", "? "];
    let start = ends
        .iter()
        .filter_map(|e| line[..i].rfind(e).map(|k| k + e.len()))
        .max()
        .unwrap_or(0);
    let end = ends
        .iter()
        .filter_map(|e| line[j..].find(e).map(|k| j + k + 1))
        .min()
        .unwrap_or(line.len());
    line[start..end].to_string()
}

/// Trims bullets and whitespace, drops parts with dates or contact details,
/// and bounds the length around the matched term.
/// `title`: the quote is a job title, whose capitalised words are no names.
fn clean_quote(sentence: &str, term: &str, title: bool) -> Option<String> {
    if sentence.contains('@') || sentence.contains("http") || sentence.contains("[redacted]") {
        return None;
    }
    let mut s = sentence
        .trim()
        .trim_start_matches(['-', '•', '*', '·', '–', '—'])
        .trim()
        .to_string();
    // "(2019 - 2021)": dates are not evidence and can hint at age.
    while let Some(open) = s.find('(') {
        let Some(close) = s[open..].find(')').map(|k| open + k) else {
            break;
        };
        let inner = &s[open..=close];
        if inner.chars().filter(char::is_ascii_digit).count() >= 4 {
            s.replace_range(open..=close, "");
        } else {
            break;
        }
    }
    let s = neutral_words(&s, term, title);
    if s.is_empty() {
        return None;
    }
    if s.chars().count() <= MAX_SENTENCE {
        return Some(s);
    }
    // Keep a window around the term.
    let at = s.find(term).unwrap_or(0);
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let center = chars.iter().position(|(b, _)| *b >= at).unwrap_or(0);
    let half = MAX_SENTENCE / 2;
    let from = center.saturating_sub(half);
    let to = (from + MAX_SENTENCE).min(chars.len());
    let from = to.saturating_sub(MAX_SENTENCE);
    let mut out: String = chars[from..to].iter().map(|(_, c)| *c).collect();
    if to < chars.len() {
        out.push('…');
    }
    if from > 0 {
        out.insert(0, '…');
    }
    Some(out)
}

fn is_year(word: &str) -> bool {
    word.len() == 4 && word.chars().all(|c| c.is_ascii_digit()) && word.starts_with(['1', '2'])
}

/// A capitalised word ("Madrid", not the acronym "APIs") that is no skill
/// term and does not open the quote.
fn is_name(word: &str, in_term: bool, first: bool, title: bool) -> bool {
    let mut chars = word.chars();
    let capitalised = chars.next().is_some_and(char::is_uppercase)
        && chars.next().is_some_and(|c| !c.is_uppercase());
    capitalised && !in_term && !first && !title
}

/// Gendered pronouns as neutral ones.
fn neutral_pronoun(lower: &str) -> Option<&'static str> {
    Some(match lower {
        "he" | "she" => "they",
        "him" => "them",
        "his" | "her" => "their",
        "hers" => "theirs",
        "himself" | "herself" => "themselves",
        _ => return None,
    })
}

/// The words of a quote with what could identify the person or hint at a
/// protected attribute replaced: gendered pronouns become neutral, years
/// become "…", and capitalised names that are not skill terms (employers,
/// places, schools, people) become "…". The matched term always stays.
fn neutral_words(s: &str, term: &str, title: bool) -> String {
    let tax = taxonomy::get();
    let term_lower = term.to_lowercase();
    // Byte ranges of skill terms in `s`: capitalised words there are kept.
    let terms: Vec<(usize, usize)> = tax
        .map(|t| {
            t.mentions(s)
                .into_iter()
                .map(|m| (m.start, m.end))
                .collect()
        })
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    let mut first = true;
    let mut offset = 0usize;
    for raw in s.split(' ') {
        let start = offset;
        offset += raw.len() + 1;
        if raw.is_empty() {
            continue;
        }
        let core = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let lower = core.to_lowercase();
        let in_term = terms
            .iter()
            .any(|&(i, j)| start < j && i < start + raw.len())
            || (!lower.is_empty() && term_lower.contains(&lower));
        let word = if let Some(n) = neutral_pronoun(&lower) {
            let n = if core.starts_with(char::is_uppercase) {
                let mut c = n.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            } else {
                n.to_string()
            };
            raw.replacen(core, &n, 1)
        } else if is_year(core) || is_name(core, in_term, first, title) {
            "…".to_string()
        } else {
            raw.to_string()
        };
        first = false;
        if word == "…" && out.last().is_some_and(|w| w == "…") {
            continue;
        }
        out.push(word);
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::skills::skill_from_name;

    fn cand(text: &str) -> BlindCandidate {
        BlindCandidate {
            title: None,
            resume_text: text.to_string(),
            structured: crate::model::BlindResume::default(),
        }
    }

    fn found(text: &str, skill: &str) -> Found {
        let c = cand(text);
        let r = ResumeEvidence::new(&c, YearMonth::new(2026, 6));
        r.skill(&skill_from_name(skill).expect("skill"))
    }

    #[test]
    fn context_and_citation() {
        let f = found(
            "SUMMARY\nLed the k8s migration. Also wrote Go.\n",
            "Kubernetes",
        );
        assert_eq!(f.strength, 100);
        assert_eq!(f.sentence.as_deref(), Some("Led the k8s migration."));
        let f = found(
            "SUMMARY\nNo experience with Kubernetes yet.\n",
            "Kubernetes",
        );
        assert_eq!(f.strength, 0);
        assert_eq!(f.note.as_deref(), Some("mentioned only as not used"));
        let f = found("SUMMARY\nFamiliar with Terraform.\n", "Terraform");
        assert_eq!(f.strength, 50);
        assert_eq!(f.note.as_deref(), Some("counted in part (\"familiar\")"));
        // A full mention elsewhere wins over a partial one.
        let f = found(
            "SUMMARY\nFamiliar with Terraform.\n- Built Terraform modules\n",
            "terraform",
        );
        assert_eq!(f.strength, 100);
        assert_eq!(f.sentence.as_deref(), Some("Built Terraform modules"));
    }

    #[test]
    fn recency_uses_latest_dated_evidence() {
        let old = "EXPERIENCE\nEngineer, Acme (2008 - 2014)\n- Built Perl tools\n\
                   Engineer, Initech (2015 - present)\n- Built Rust services\n\
                   SKILLS\nPerl, Rust\n";
        let f = found(old, "Perl");
        // Ended 12 years before June 2026: half.
        assert_eq!(f.strength, 50);
        assert_eq!(f.note.as_deref(), Some("last used 12 years ago"));
        assert_eq!(found(old, "Rust").strength, 100);
        let f = found(
            "EXPERIENCE\nEngineer, Acme (Jan 2018 - Mar 2019)\n- Wrote Scala\n",
            "Scala",
        );
        // 7 years since March 2019: 100 - 2 * 10.
        assert_eq!(f.strength, 80);
    }

    #[test]
    fn quotes_never_carry_header_education_or_dates() {
        let t = "Pat Example, Rust developer\nEXPERIENCE\nRust Engineer, Acme Corp (2019 - 2021)\n\
                 EDUCATION\nBSc in Rust Studies, Example University (2015 - 2019)\n";
        let c = cand(t);
        let r = ResumeEvidence::new(&c, YearMonth::new(2026, 1));
        let f = r.skill(&skill_from_name("Rust").expect("skill"));
        assert_eq!(f.sentence.as_deref(), Some("Rust Engineer"));
        assert_eq!(
            clean_quote("- Shipped Go (Jan 2019 - Feb 2020) at scale", "Go", false).as_deref(),
            Some("Shipped Go at scale")
        );
        assert_eq!(clean_quote("mail me: a@b.c about Go", "Go", false), None);
        assert_eq!(
            clean_quote(
                "At Iberia Bank she led the Rust rewrite in Madrid since 2019.",
                "Rust",
                false
            )
            .as_deref(),
            Some("At … they led the Rust rewrite in … since …")
        );
        assert_eq!(
            clean_quote(
                "Built Kafka and Google Cloud pipelines for Globex.",
                "Kafka",
                false
            )
            .as_deref(),
            Some("Built Kafka and Google Cloud pipelines for …")
        );
        assert_eq!(
            clean_quote("Designed and shipped APIs in Rust", "Rust", false).as_deref(),
            Some("Designed and shipped APIs in Rust")
        );
        let long = format!("{} Kafka {}", "x".repeat(300), "y".repeat(300));
        let q = clean_quote(&long, "Kafka", false).expect("quote");
        assert!(
            q.contains("Kafka") && q.chars().count() <= MAX_SENTENCE + 2,
            "{q}"
        );
    }

    #[test]
    fn an_employer_named_like_a_skill_is_no_evidence() {
        let t = "EXPERIENCE\nSoftware Engineer, Oracle (2019 - 2021)\n- Built Go services\n";
        assert_eq!(found(t, "Oracle Database").strength, 0);
        let t = "EXPERIENCE\nOracle DBA at Initech (2019 - 2021)\n";
        assert_eq!(found(t, "Oracle Database").strength, 100);
    }

    #[test]
    fn unknown_skills_and_certs() {
        let c = cand("SUMMARY\nWidget-making daily. Holds the CKA; pursuing CKAD.\n");
        let r = ResumeEvidence::new(&c, YearMonth::new(2026, 1));
        let s = Skill {
            name: "Widget-Making".into(),
            known: false,
        };
        assert_eq!(r.skill(&s).strength, 100);
        assert_eq!(r.cert("CKA").strength, 100);
        assert_eq!(r.cert("CKAD").strength, 50);
        assert_eq!(r.cert("PMP").strength, 0);
    }
}
