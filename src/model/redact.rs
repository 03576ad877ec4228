//! Redaction of resume text before anything parses it for scoring.
//!
//! Passes, in order: label lines ("Date of birth: ...", "Gender: ..."), email
//! addresses, URLs (profile hosts always, other URLs when they carry the
//! name), phone numbers in any formatting, street addresses and the
//! candidate's own address, the candidate's name with its variants, age and
//! graduation-year mentions, then honorifics, pronouns and gendered words.
//! Every placeholder is fixed text (`[name]`, `[email]`, ...), so two
//! candidates with the same resume but different names redact to the same
//! text.
//!
//! **Name versus skill.** A name part that is also a skill or a common word
//! (Ruby, Swift, Jenkins, Go, Rust, Grace, Chase, Will, ... see
//! [`AMBIGUOUS`], plus every word of the resume's own skills section) is
//! redacted only where it is used as a name: next to another part of the
//! candidate's name or an initial of it ("Ruby Chen", "R. Swift", "Ruby C."),
//! on a header line made only of name parts, or after "I'm" / "my name is".
//! In a skills section it is never redacted. Other name parts are redacted
//! everywhere, case-insensitively, on word boundaries (so "Mark" never
//! touches "Marketing").

use std::borrow::Cow;

use super::PersonalInfo;
use super::resume::{Section, heading};

/// Name parts that are also skills, tools or common words: redacted only in
/// name positions (see the module docs).
pub const AMBIGUOUS: &[&str] = &[
    // Languages, tools and platforms people are named after (or vice versa).
    "ada", "alice", "angular", "ansible", "apache", "apple", "bash", "blaze", "chef", "clojure",
    "cobol", "crystal", "dart", "delphi", "django", "docker", "elixir", "elm", "ember", "erlang",
    "flask", "flutter", "go", "grafana", "groovy", "haskell", "hugo", "java", "jasmine", "jenkins",
    "jest", "julia", "kafka", "karma", "kotlin", "laravel", "lisp", "logan", "lua", "maven",
    "mercury", "mocha", "nim", "node", "oracle", "pascal", "perl", "phoenix", "puppet", "python",
    "r", "rails", "react", "redis", "ruby", "rust", "sage", "salt", "scala", "shiny", "solr",
    "spark", "spring", "swift", "tableau", "vue", "xavier", "zig",
    // Names that are everyday words.
    "april", "august", "autumn", "baker", "bill", "black", "brown", "chase", "cook", "dawn",
    "faith", "frank", "grace", "grant", "gray", "green", "grey", "guy", "hall", "hope", "hunter",
    "iris", "ivy", "jade", "joy", "june", "king", "lance", "lily", "long", "mark", "mason", "may",
    "miles", "page", "pat", "penny", "rich", "rose", "ruth", "sky", "summer", "victor", "wade",
    "ward", "white", "will", "young",
];

/// One span of text to replace.
struct Edit {
    start: usize,
    end: usize,
    with: Cow<'static, str>,
}

/// Applies non-overlapping edits (sorted here; an edit overlapping an
/// earlier one is dropped).
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    if edits.is_empty() {
        return text.to_string();
    }
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        if e.start < at || e.end > text.len() || e.start > e.end {
            continue;
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.with);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Lowercase with common Latin diacritics removed: "José" and "JOSE" fold alike.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ğ' => 'g',
            'ì'..='ï' | 'ī' | 'į' | 'ı' => 'i',
            'ł' => 'l',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ş' | 'ß' => 's',
            'ť' | 'ţ' => 't',
            'ù'..='ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            '’' => '\'',
            other => other,
        })
        .collect()
}

/// [`fold`] without an allocation for the common case (already lowercase ASCII).
pub fn fold_cow(s: &str) -> Cow<'_, str> {
    if s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'\'')
    {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(fold(s))
    }
}

/// Whether a folded word is in [`AMBIGUOUS`].
pub fn is_ambiguous(folded: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| AMBIGUOUS.iter().copied().collect())
        .contains(folded)
}

/// A word: a run of letters and digits, with inner apostrophes ("O'Brien",
/// "I'm") but not a possessive "'s" ("Jane's" is "Jane" then "'s").
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

fn words(s: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut j = i;
        loop {
            while j < chars.len() && chars[j].1.is_alphanumeric() {
                j += 1;
            }
            // An apostrophe continues the word unless it starts a possessive.
            let continues = j + 1 < chars.len()
                && is_apostrophe(chars[j].1)
                && chars[j + 1].1.is_alphanumeric()
                && !(matches!(chars[j + 1].1, 's' | 'S')
                    && chars.get(j + 2).is_none_or(|(_, c)| !c.is_alphanumeric()));
            if continues {
                j += 1;
            } else {
                break;
            }
        }
        let end = chars.get(j).map_or(s.len(), |(b, _)| *b);
        out.push(Word { start, end });
        i = j;
    }
    out
}

/// Who the candidate is, folded for matching.
pub struct Identity {
    /// Name parts (first and last name words), folded.
    names: Vec<String>,
    /// The candidate's address as folded words, and its comma parts.
    address: Vec<String>,
    address_parts: Vec<Vec<String>>,
    /// The known phone's digits.
    phone_digits: String,
}

impl Identity {
    pub fn new(p: &PersonalInfo) -> Identity {
        let mut names = Vec::new();
        for part in [&p.first_name, &p.last_name].into_iter().flatten() {
            for w in words(part) {
                let f = fold(&part[w.start..w.end]);
                if !names.contains(&f) {
                    names.push(f);
                }
            }
        }
        let fold_words = |s: &str| -> Vec<String> {
            words(s).iter().map(|w| fold(&s[w.start..w.end])).collect()
        };
        let (address, address_parts) = match p.address.as_deref() {
            Some(a) => (
                fold_words(a),
                a.split(',')
                    .map(fold_words)
                    .filter(|p| !p.is_empty())
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let phone_digits = p
            .phone
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        Identity {
            names,
            address,
            address_parts,
            phone_digits,
        }
    }

    fn is_name(&self, folded: &str) -> bool {
        self.names.iter().any(|n| n == folded)
    }
}

/// Where the text being redacted comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A whole resume: sections, a header.
    Document,
    /// A single structured value (a title, a degree, a skill).
    Field,
}

/// Redacts a resume (or a single field) for scoring.
pub fn redact(text: &str, who: &Identity, ctx: Context) -> String {
    let lines = line_kinds(text, ctx);
    let t = apply(text, label_lines(text));
    let t = apply(&t, emails_and_urls(&t, who));
    let t = apply(&t, phones(&t, who));
    let t = apply(&t, street_addresses(&t));
    // Line structure is unchanged so far (no pass adds or removes a newline).
    let t = apply(&t, known_address(&t, who, &lines));
    let t = apply(&t, names(&t, who, &lines, ctx));
    let t = apply(&t, age_mentions(&t));
    apply(&t, gendered(&t))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct LineKind {
    header: bool,
    skills: bool,
}

/// Per line: in the header (before the first heading) or a skills section.
fn line_kinds(text: &str, ctx: Context) -> Vec<LineKind> {
    let mut section = None;
    text.split('\n')
        .map(|line| {
            if ctx == Context::Field {
                return LineKind {
                    header: false,
                    skills: false,
                };
            }
            if let Some(s) = heading(line.trim()) {
                section = Some(s);
            }
            LineKind {
                header: section.is_none(),
                skills: section == Some(Section::Skills),
            }
        })
        .collect()
}

/// Line start offsets, to map a byte to its line cheaply.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn line_at(starts: &[usize], byte: usize) -> usize {
    starts.partition_point(|s| *s <= byte).saturating_sub(1)
}

// ---------------------------------------------------------------- labels

const PERSONAL_LABELS: &[&str] = &[
    "date of birth",
    "birth date",
    "birthdate",
    "birthday",
    "dob",
    "d.o.b",
    "d.o.b.",
    "born",
    "place of birth",
    "age",
    "gender",
    "sex",
    "marital status",
    "civil status",
    "family status",
    "children",
    "nationality",
    "citizenship",
    "religion",
    "ethnicity",
    "race",
    "pronouns",
    "photo",
    "location",
    "address",
    "home address",
    "residence",
    "veteran status",
    "disability",
    "height",
    "weight",
];

/// Segments (split by `|`, `•`, `·`, `;`) that start with a personal label
/// and a colon become `[personal]`.
fn label_lines(text: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut seg_start = 0;
    let bytes_end = text.len();
    let mut push = |start: usize, end: usize| {
        let seg = &text[start..end];
        let trimmed = seg.trim_start();
        let Some((label, _)) = trimmed.split_once(':') else {
            return;
        };
        let label = fold(label.trim());
        if PERSONAL_LABELS.contains(&label.as_str()) {
            let lead = seg.len() - trimmed.len();
            let body_end = start + seg.trim_end().len();
            edits.push(Edit {
                start: start + lead,
                end: body_end.max(start + lead),
                with: Cow::Borrowed("[personal]"),
            });
        }
    };
    for (i, c) in text.char_indices() {
        if matches!(c, '\n' | '|' | '•' | '·' | ';') {
            push(seg_start, i);
            seg_start = i + c.len_utf8();
        }
    }
    push(seg_start, bytes_end);
    edits
}

// ------------------------------------------------------- emails and URLs

fn is_delim(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '<' | '>' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';' | '|' | '"'
        )
}

const PROFILE_HOSTS: &[&str] = &[
    "linkedin.com",
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "twitter.com",
    "x.com/",
    "facebook.com",
    "instagram.com",
    "medium.com/@",
    "stackoverflow.com/users",
    "behance.net",
    "dribbble.com",
    "about.me",
    "xing.com",
];

fn emails_and_urls(text: &str, who: &Identity) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut start = None;
    let distinctive: Vec<&str> = who
        .names
        .iter()
        .filter(|n| n.chars().count() >= 3 && !is_ambiguous(n))
        .map(String::as_str)
        .collect();
    let check = |s: usize, e: usize, edits: &mut Vec<Edit>| {
        // A sentence's final dot or colon is not part of the token.
        let tok = text[s..e].trim_end_matches(['.', ':', '!', '?', '\'']);
        let e = s + tok.len();
        // Emails, URLs and domains all have one of these.
        if !tok.contains(['@', '.', '/']) {
            return;
        }
        let lower = fold(tok);
        if let Some(at) = lower.find('@') {
            let domain = &lower[at + 1..];
            if at > 0 && domain.contains('.') && !domain.starts_with('.') {
                edits.push(Edit {
                    start: s,
                    end: e,
                    with: Cow::Borrowed("[email]"),
                });
                return;
            }
        }
        // A social handle ("@janedoe").
        if lower.len() > 2 && lower.starts_with('@') {
            edits.push(Edit {
                start: s,
                end: e,
                with: Cow::Borrowed("[url]"),
            });
            return;
        }
        let is_url = lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.");
        let profile = PROFILE_HOSTS.iter().any(|h| lower.contains(h));
        let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
        let named = distinctive.iter().any(|n| squashed.contains(n));
        // A bare domain ("janedoe.dev") is written in lowercase; "J.Doe" is a name.
        let domain_like = tok.chars().all(|c| !c.is_uppercase())
            && lower.rsplit_once('.').is_some_and(|(head, tld)| {
                !head.is_empty()
                    && (2..=6).contains(&tld.len())
                    && tld.chars().all(|c| c.is_ascii_lowercase())
            });
        if profile || ((is_url || domain_like) && named) {
            edits.push(Edit {
                start: s,
                end: e,
                with: Cow::Borrowed("[url]"),
            });
        }
    };
    for (i, c) in text.char_indices() {
        if is_delim(c) {
            if let Some(s) = start.take() {
                check(s, i, &mut edits);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        check(s, text.len(), &mut edits);
    }
    edits
}

// ----------------------------------------------------------------- phones

fn phones(text: &str, who: &Identity) -> Vec<Edit> {
    let mut edits = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_sep = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}');
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        let prev_ok = i == 0 || !chars[i - 1].1.is_alphanumeric();
        if !(prev_ok && (c.is_ascii_digit() || c == '+' || c == '(')) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && (chars[j].1.is_ascii_digit() || is_sep(chars[j].1)) {
            j += 1;
        }
        // Trailing separators are not part of the number.
        let mut k = j;
        while k > i + 1 && !chars[k - 1].1.is_ascii_digit() && chars[k - 1].1 != ')' {
            k -= 1;
        }
        let end = chars.get(k).map_or(text.len(), |(e, _)| *e);
        let next_ok = chars.get(k).is_none_or(|(_, c)| !c.is_alphanumeric());
        let run = &text[b..end];
        if next_ok && looks_like_phone(run, &who.phone_digits) {
            edits.push(Edit {
                start: b,
                end,
                with: Cow::Borrowed("[phone]"),
            });
            i = k;
        } else {
            // Skip this number's digits so its tail is not retried as a phone.
            let mut m = i + 1;
            while m < chars.len() && chars[m].1.is_ascii_digit() {
                m += 1;
            }
            i = m;
        }
    }
    edits
}

fn looks_like_phone(run: &str, known: &str) -> bool {
    let digits: String = run.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return false;
    }
    if known.len() >= 7 && digits.ends_with(&known[known.len() - 7..]) {
        return true;
    }
    let groups: Vec<&str> = run
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let year =
        |g: &&str| g.len() == 4 && g.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y));
    // Year ranges, ISO dates and thousands separators are not phones.
    if groups.len() <= 3 && groups.iter().all(year) {
        return false;
    }
    if groups.len() == 3 && year(&groups[0]) && groups[1].len() <= 2 && groups[2].len() <= 2 {
        return false;
    }
    let seps: String = run
        .chars()
        .filter(|c| !c.is_ascii_digit() && *c != ' ')
        .collect();
    if !seps.is_empty()
        && seps.chars().all(|c| c == '.')
        && groups.iter().skip(1).all(|g| g.len() == 3)
    {
        return false;
    }
    groups.len() >= 2 || run.starts_with('+')
}

// -------------------------------------------------------------- addresses

const STREET_SUFFIXES: &[&str] = &[
    "st",
    "street",
    "ave",
    "avenue",
    "rd",
    "road",
    "blvd",
    "boulevard",
    "ln",
    "lane",
    "dr",
    "drive",
    "way",
    "ct",
    "court",
    "pl",
    "place",
    "sq",
    "square",
    "ter",
    "terrace",
    "pkwy",
    "parkway",
    "hwy",
    "highway",
    "cres",
    "crescent",
    "close",
    "row",
    "str",
];

const STREET_WORD_ENDINGS: &[&str] = &[
    "strasse", "strase", "straat", "gasse", "weg", "laan", "vej", "gatan", "gata", "veien",
];

/// Where the segment (split by `|`, `•`, `·`, `;`, newline) holding `from` ends.
fn segment_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(['\n', '|', '•', '·', ';'])
        .map_or(text.len(), |i| from + i)
}

/// "12 Elm St, Springfield, IL", "Hauptstraße 5", "PO Box 42": from the
/// house number (or street word) to the end of the segment.
fn street_addresses(text: &str) -> Vec<Edit> {
    let ws = words(text);
    let mut edits = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = &text[ws[i].start..ws[i].end];
        let f = fold_cow(w);
        let number = |s: &str| {
            let d = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            !d.is_empty()
                && d.len() <= 6
                && d.chars().all(|c| c.is_ascii_digit())
                && s.len() <= d.len() + 1
        };
        let mut hit: Option<usize> = None;
        if number(w) {
            // Up to four words, then a street suffix, on the same line.
            for k in 1..=5 {
                let Some(n) = ws.get(i + k) else { break };
                if text[ws[i].end..n.start].contains('\n') {
                    break;
                }
                let nf = fold_cow(&text[n.start..n.end]);
                if k >= 2 && STREET_SUFFIXES.contains(&nf.as_ref()) {
                    hit = Some(ws[i].start);
                    break;
                }
                let cap = text[n.start..n.end]
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase);
                if !cap {
                    break;
                }
            }
        } else {
            // "Hauptstraße 5", or a post-office box.
            let street_word = STREET_WORD_ENDINGS
                .iter()
                .any(|e| f.ends_with(e) && f.len() > e.len() + 2)
                && ws.get(i + 1).is_some_and(|n| {
                    number(&text[n.start..n.end]) && !text[ws[i].end..n.start].contains('\n')
                });
            let po_box = (f == "po" || f == "p")
                && text[ws[i].end..]
                    .trim_start_matches(['.', ' '])
                    .to_lowercase()
                    .starts_with("box");
            if street_word || po_box {
                hit = Some(ws[i].start);
            }
        }
        if let Some(start) = hit {
            let end = segment_end(text, start);
            let end = start + text[start..end].trim_end().len();
            edits.push(Edit {
                start,
                end,
                with: Cow::Borrowed("[address]"),
            });
            while i < ws.len() && ws[i].start < end {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    edits
}

/// The candidate's own address anywhere; its parts (city, region) in the header.
fn known_address(text: &str, who: &Identity, lines: &[LineKind]) -> Vec<Edit> {
    let ws = words(text);
    let folded: Vec<Cow<str>> = ws.iter().map(|w| fold_cow(&text[w.start..w.end])).collect();
    let starts = line_starts(text);
    let mut edits = Vec::new();
    let find = |needle: &[String], header_only: bool, edits: &mut Vec<Edit>| {
        if needle.is_empty() {
            return;
        }
        let single_ambiguous =
            needle.len() == 1 && (needle[0].chars().count() < 2 || is_ambiguous(&needle[0]));
        if single_ambiguous {
            return;
        }
        for i in 0..ws.len().saturating_sub(needle.len() - 1) {
            if !folded[i..i + needle.len()]
                .iter()
                .zip(needle)
                .all(|(a, b)| a.as_ref() == b)
            {
                continue;
            }
            let (s, e) = (ws[i].start, ws[i + needle.len() - 1].end);
            if text[s..e].contains('\n') {
                continue;
            }
            let line = line_at(&starts, s);
            if header_only && !lines.get(line).is_some_and(|k| k.header) {
                continue;
            }
            if lines.get(line).is_some_and(|k| k.skills) {
                continue;
            }
            edits.push(Edit {
                start: s,
                end: e,
                with: Cow::Borrowed("[address]"),
            });
        }
    };
    find(&who.address, false, &mut edits);
    for part in &who.address_parts {
        find(part, true, &mut edits);
    }
    // Overlaps (the whole address and its parts) are resolved by `apply`.
    edits
}

// ------------------------------------------------------------------ names

/// Verbs after which a sentence-initial name part is the candidate, not a
/// skill ("Swift led the team" for a candidate named Swift).
const NAME_VERBS: &[&str] = &[
    "is", "was", "has", "had", "will", "led", "leads", "built", "builds", "brings", "holds",
    "loves", "enjoys", "joined", "worked", "works", "managed", "manages", "speaks", "lives",
];

fn is_initial(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(char::is_alphabetic) && c.next().is_none()
}

fn names(text: &str, who: &Identity, lines: &[LineKind], ctx: Context) -> Vec<Edit> {
    if who.names.is_empty() {
        return Vec::new();
    }
    let ws = words(text);
    let starts = line_starts(text);
    let folded: Vec<Cow<str>> = ws.iter().map(|w| fold_cow(&text[w.start..w.end])).collect();
    let kind = |i: usize| {
        lines
            .get(line_at(&starts, ws[i].start))
            .copied()
            .unwrap_or(LineKind {
                header: false,
                skills: false,
            })
    };
    let skill_words: std::collections::HashSet<&str> = (0..ws.len())
        .filter(|i| kind(*i).skills)
        .map(|i| folded[i].as_ref())
        .collect();
    let ambiguous = |f: &str| f.chars().count() < 2 || is_ambiguous(f) || skill_words.contains(f);
    let gap = |a: usize, b: usize| &text[ws[a].end..ws[b].start];
    // Adjacent within a name: spaces, a comma, an initial's dot, a hyphen.
    let joined = |a: usize, b: usize| {
        let g = gap(a, b);
        !g.is_empty()
            && g.len() <= 3
            && g.chars()
                .all(|c| matches!(c, ' ' | ',' | '.' | '-' | '\u{a0}'))
    };
    let capitalised = |i: usize| {
        text[ws[i].start..ws[i].end]
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    };
    let initial_of_name = |i: usize| {
        is_initial(&folded[i])
            && capitalised(i)
            && who.names.iter().any(|n| n.starts_with(folded[i].as_ref()))
    };

    let mut marked = vec![false; ws.len()];
    // Unambiguous name parts: everywhere.
    for i in 0..ws.len() {
        if who.is_name(&folded[i]) && !ambiguous(&folded[i]) {
            marked[i] = true;
        }
    }
    // Header lines made only of name parts and initials.
    if ctx == Context::Document {
        let mut i = 0;
        while i < ws.len() {
            let line = line_at(&starts, ws[i].start);
            let mut j = i;
            while j < ws.len() && line_at(&starts, ws[j].start) == line {
                j += 1;
            }
            if kind(i).header
                && (i..j).any(|k| who.is_name(&folded[k]))
                && (i..j).all(|k| who.is_name(&folded[k]) || initial_of_name(k))
            {
                marked[i..j].iter_mut().for_each(|m| *m = true);
            }
            i = j;
        }
    }
    // Ambiguous parts next to another name part or an initial of one, and
    // self-introductions; never in a skills section. Repeat so that chains
    // ("J. R. Swift") resolve.
    for _ in 0..3 {
        let mut changed = false;
        for i in 0..ws.len() {
            if marked[i] || kind(i).skills || !capitalised(i) {
                continue;
            }
            let name = who.is_name(&folded[i]);
            if !name && !initial_of_name(i) {
                continue;
            }
            let neighbour = |j: usize| {
                joined(i.min(j), i.max(j))
                    && folded[j] != folded[i]
                    && capitalised(j)
                    && (marked[j] || who.is_name(&folded[j]) || (name && initial_of_name(j)))
            };
            let near = (i > 0 && neighbour(i - 1)) || (i + 1 < ws.len() && neighbour(i + 1));
            let intro = name
                && i >= 1
                && (folded[i - 1] == "i'm"
                    || (i >= 2
                        && matches!(
                            (folded[i - 2].as_ref(), folded[i - 1].as_ref()),
                            ("i", "am") | ("name", "is") | ("call", "me")
                        )));
            // "Ruby led the migration.": a sentence about the candidate.
            let sentence_start =
                i == 0 || text[ws[i - 1].end..ws[i].start].contains(['.', '!', '?', '\n', ':']);
            let about = name
                && sentence_start
                && !kind(i).header
                && i + 1 < ws.len()
                && text[ws[i].end..ws[i + 1].start] == *" "
                && NAME_VERBS.contains(&folded[i + 1].as_ref());
            // An initial alone needs a marked neighbour, not just a name-like one.
            let initial_ok = name
                || (i > 0 && marked[i - 1] && joined(i - 1, i))
                || (i + 1 < ws.len() && marked[i + 1] && joined(i, i + 1));
            if (near || intro || about) && initial_ok {
                marked[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // A middle initial between two marked words ("Jane Q. Doe").
    for i in 1..ws.len().saturating_sub(1) {
        if !marked[i]
            && is_initial(&folded[i])
            && capitalised(i)
            && marked[i - 1]
            && marked[i + 1]
            && joined(i - 1, i)
            && joined(i, i + 1)
        {
            marked[i] = true;
        }
    }

    // One placeholder per run of marked words, with a possessive or an
    // initial's dot swallowed.
    let mut edits = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        if !marked[i] {
            i += 1;
            continue;
        }
        let start = ws[i].start;
        let mut j = i;
        while j + 1 < ws.len() && marked[j + 1] && joined(j, j + 1) {
            j += 1;
        }
        let mut end = ws[j].end;
        let rest = &text[end..];
        for suffix in ["'s", "’s", "'", "’"] {
            if rest.starts_with(suffix)
                && rest[suffix.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric())
            {
                end += suffix.len();
                break;
            }
        }
        if is_initial(&folded[j]) && text[end..].starts_with('.') {
            end += 1;
        }
        edits.push(Edit {
            start,
            end,
            with: Cow::Borrowed("[name]"),
        });
        i = j + 1;
    }
    edits
}

// ------------------------------------------------------------------- age

fn is_year(s: &str) -> bool {
    s.len() == 4 && s.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y))
}

/// "born in 1985", "age 34", "34 years old", "class of 2015", "graduated in 2015".
fn age_mentions(text: &str) -> Vec<Edit> {
    let ws = words(text);
    let f: Vec<Cow<str>> = ws.iter().map(|w| fold_cow(&text[w.start..w.end])).collect();
    let mut edits = Vec::new();
    let edit = |s: usize, e: usize, with: &'static str| Edit {
        start: ws[s].start,
        end: ws[e].end,
        with: Cow::Borrowed(with),
    };
    for i in 0..ws.len() {
        let at = |k: usize| f.get(i + k).map(|c| c.as_ref()).unwrap_or("");
        let num = |k: usize| {
            let s = at(k);
            !s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit())
        };
        match at(0) {
            "born" => {
                if let Some(k) = (1..=4).find(|k| is_year(at(*k))) {
                    edits.push(edit(i, i + k, "[age]"));
                }
            }
            "age" | "aged" if num(1) => edits.push(edit(i, i + 1, "[age]")),
            "class" if at(1) == "of" && is_year(at(2)) => edits.push(edit(i + 2, i + 2, "[year]")),
            "graduated" | "graduating" | "graduation" | "grad" => {
                if let Some(k) = (1..=3).find(|k| is_year(at(*k))) {
                    edits.push(edit(i + k, i + k, "[year]"));
                }
            }
            _ if num(0) && matches!(at(1), "years" | "year" | "yrs") && at(2) == "old" => {
                edits.push(edit(i, i + 2, "[age]"))
            }
            _ => {}
        }
    }
    edits
}

// ------------------------------------------------ pronouns, gendered words

/// Words after which "her"/"his" is an object or stands alone, not a possessive.
const NOT_A_NOUN: &[&str] = &[
    "to", "and", "or", "with", "for", "in", "on", "at", "as", "by", "from", "the", "a", "an",
    "that", "this", "but", "so", "if", "when", "was", "is", "about", "into", "after", "before",
    "too", "also", "either", "alone", "are", "were",
];

fn gendered_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "he" | "she" => "they",
        "him" => "them",
        "himself" | "herself" => "themself",
        "hers" => "theirs",
        "he'd" | "she'd" => "they'd",
        "he'll" | "she'll" => "they'll",
        "woman" | "man" | "lady" => "person",
        "women" | "men" | "ladies" | "gentlemen" | "guys" => "people",
        "girl" | "boy" => "child",
        "girls" | "boys" => "children",
        "mother" | "father" | "mom" | "mum" | "dad" => "parent",
        "mothers" | "fathers" | "moms" | "mums" | "dads" => "parents",
        "wife" | "husband" => "spouse",
        "wives" | "husbands" => "spouses",
        "sister" | "brother" => "sibling",
        "sisters" | "brothers" => "siblings",
        "daughter" | "son" => "child",
        "daughters" | "sons" => "children",
        "girlfriend" | "boyfriend" => "partner",
        "fraternity" | "sorority" => "student society",
        "fraternities" | "sororities" => "student societies",
        "sisterhood" | "brotherhood" => "community",
        "maternity" | "paternity" => "parental",
        "chairman" | "chairwoman" => "chair",
        "salesman" | "saleswoman" => "salesperson",
        "businessman" | "businesswoman" => "businessperson",
        "spokesman" | "spokeswoman" => "spokesperson",
        "waiter" | "waitress" => "server",
        "actress" => "actor",
        "alumnus" | "alumna" | "alumnae" => "alumni",
        "female" | "male" | "feminine" | "masculine" => "",
        _ => return None,
    })
}

const HONORIFICS: &[&str] = &[
    "Mr", "Mrs", "Ms", "Mx", "Miss", "Mister", "Madam", "Sir", "Dame",
];

/// Keeps the original's capitalisation: "She" -> "They", "HE" -> "THEY".
fn recase(original: &str, neutral: &str) -> String {
    let upper = original
        .chars()
        .filter(|c| c.is_alphabetic())
        .all(char::is_uppercase)
        && original.chars().filter(|c| c.is_alphabetic()).count() > 1;
    if upper {
        return neutral.to_uppercase();
    }
    if original.chars().next().is_some_and(char::is_uppercase) {
        let mut c = neutral.chars();
        return c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default();
    }
    neutral.to_string()
}

fn gendered(text: &str) -> Vec<Edit> {
    let ws = words(text);
    let mut edits = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        let orig = &text[w.start..w.end];
        let f = fold_cow(orig);
        let next = ws.get(i + 1).filter(|n| {
            let g = &text[w.end..n.start];
            !g.is_empty() && g.chars().all(|c| c == ' ')
        });
        let next_f = next.map(|n| fold_cow(&text[n.start..n.end]));
        let followed_by_noun = next_f
            .as_deref()
            .is_some_and(|n| !NOT_A_NOUN.contains(&n) && !n.chars().all(|c| c.is_ascii_digit()));
        // An honorific before a capitalised word or a placeholder: removed.
        if HONORIFICS.contains(&orig) {
            let rest = text[w.end..].strip_prefix('.').unwrap_or(&text[w.end..]);
            let after = rest.trim_start_matches(' ');
            let before_name = rest.len() > after.len()
                && (after.starts_with('[') || after.chars().next().is_some_and(char::is_uppercase));
            if before_name {
                edits.push(Edit {
                    start: w.start,
                    end: text.len() - after.len(),
                    with: Cow::Borrowed(""),
                });
                continue;
            }
        }
        let neutral: Cow<'static, str> = match f.as_ref() {
            "her" if followed_by_noun => "their".into(),
            "her" => "them".into(),
            "his" if followed_by_noun => "their".into(),
            "his" => "theirs".into(),
            // "he's" is split as "he" + "'s".
            "he" | "she" if text[w.end..].starts_with("'s") || text[w.end..].starts_with("’s") => {
                edits.push(Edit {
                    start: w.start,
                    end: w.end
                        + text[w.end..]
                            .chars()
                            .take(2)
                            .map(char::len_utf8)
                            .sum::<usize>(),
                    with: Cow::Owned(recase(orig, "they're")),
                });
                continue;
            }
            other => match gendered_word(other) {
                Some(n) => n.into(),
                None => continue,
            },
        };
        if neutral.is_empty() {
            // A dropped adjective takes its following space with it.
            let end = if text[w.end..].starts_with(' ') {
                w.end + 1
            } else {
                w.end
            };
            edits.push(Edit {
                start: w.start,
                end,
                with: Cow::Borrowed(""),
            });
        } else {
            edits.push(Edit {
                start: w.start,
                end: w.end,
                with: Cow::Owned(recase(orig, &neutral)),
            });
        }
    }
    edits
}

/// Each pass alone, for the timing print in the tests.
#[cfg(test)]
#[allow(clippy::type_complexity)]
pub(crate) const PASSES: &[(&str, fn(&str, &Identity) -> usize)] = &[
    ("labels", |t, _| label_lines(t).len()),
    ("emails_urls", |t, w| emails_and_urls(t, w).len()),
    ("phones", |t, w| phones(t, w).len()),
    ("streets", |t, _| street_addresses(t).len()),
    ("known_address", |t, w| {
        known_address(t, w, &line_kinds(t, Context::Document)).len()
    }),
    ("names", |t, w| {
        names(t, w, &line_kinds(t, Context::Document), Context::Document).len()
    }),
    ("age", |t, _| age_mentions(t).len()),
    ("gendered", |t, _| gendered(t).len()),
];
