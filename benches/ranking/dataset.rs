//! A synthetic, license-clean ranking set built from ESCO v1.1.1 skill labels
//! (scripts/esco.sh; ESCO (c) European Union, reused with attribution under
//! Commission Decision 2011/833/EU).
//!
//! ESCO's occupation-skill relations are not in any registry package, so the
//! "occupations" here are ESCO's level-3 skill groups (e.g. S1.1.1
//! "negotiating and managing contracts and agreements") and their skills; the
//! neighbours of an occupation are the other level-3 groups under the same
//! level-2 group. A job asks for 8 of its occupation's skills (and 3 nice to
//! have); resumes are generated with a controlled share of those skills, half
//! of them written with one of ESCO's alternative labels (a recruiter's
//! paraphrase), plus skills of neighbouring or unrelated occupations. The
//! relevance grade follows from the construction. Deterministic for a seed.
//!
//! Resumes are plain text here. Once `src/documents` reads PDF and DOCX and
//! the sandbox writes them, [`render`] is where each resume becomes a file and
//! is read back before scoring.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ats_operator::model::{BlindCandidate, Candidate, Job, PersonalInfo, Resume};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Required and nice-to-have skills per job.
pub const REQUIRED: usize = 8;
pub const NICE: usize = 3;
/// A group needs this many skills to be an occupation.
const MIN_SKILLS: usize = 16;
/// Share of a resume's skills written with an alternative label.
const PARAPHRASE: f64 = 0.5;
/// Share written in the resume's own words ([`Wording::OwnWords`]).
const OWN_WORDS: f64 = 0.8;

/// How resumes name their skills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// ESCO's preferred or alternative labels (all in the taxonomy).
    EscoLabels,
    /// Mostly paraphrases the taxonomy does not know (paraphrase.rs).
    OwnWords,
}

#[derive(Clone, Debug)]
pub struct Skill {
    pub label: String,
    pub alts: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Occupation {
    pub code: String,
    pub name: String,
    pub parent: String,
    pub skills: Vec<Skill>,
}

/// The first hierarchy path of a row: `[['S', 'S4', 'S4.5', 'S4.5.0'], ...]`.
fn first_path(h: &str) -> Vec<String> {
    let inner = h.trim_start_matches('[').split(']').next().unwrap_or("");
    inner
        .split(',')
        .map(|p| p.trim().trim_matches('\'').to_string())
        .collect()
}

/// ESCO skill groups with at least [`MIN_SKILLS`] skills that have a
/// neighbour, in code order.
pub fn load_occupations(csv_path: &Path) -> Result<Vec<Occupation>, String> {
    let mut reader = csv::Reader::from_path(csv_path)
        .map_err(|e| format!("{}: {e} (run scripts/esco.sh)", csv_path.display()))?;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut skills: BTreeMap<String, Skill> = BTreeMap::new();
    let mut group_of: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut alts: Vec<(String, String)> = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| e.to_string())?;
        let (id, text, hier, kind) = (&row[0], &row[1], &row[2], &row[3]);
        match kind {
            "level_3" => {
                names.insert(id.to_string(), text.to_string());
            }
            "preferredLabel" => {
                let p = first_path(hier);
                if p.len() == 4 && p[0] == "S" && p[3] != "None" {
                    skills.insert(
                        id.to_string(),
                        Skill {
                            label: text.to_string(),
                            alts: Vec::new(),
                        },
                    );
                    group_of.insert(id.to_string(), (p[3].clone(), p[2].clone()));
                }
            }
            "altLabels" => alts.push((id.to_string(), text.to_string())),
            _ => {}
        }
    }
    for (id, alt) in alts {
        if let Some(s) = skills.get_mut(&id) {
            s.alts.push(alt);
        }
    }
    let mut groups: BTreeMap<String, Occupation> = BTreeMap::new();
    for (id, skill) in skills {
        let Some((code, parent)) = group_of.get(&id) else {
            continue;
        };
        let Some(name) = names.get(code) else {
            continue;
        };
        groups
            .entry(code.clone())
            .or_insert_with(|| Occupation {
                code: code.clone(),
                name: name.clone(),
                parent: parent.clone(),
                skills: Vec::new(),
            })
            .skills
            .push(skill);
    }
    let big: Vec<Occupation> = groups
        .into_values()
        .filter(|o| o.skills.len() >= MIN_SKILLS)
        .collect();
    let with_neighbour = big
        .iter()
        .filter(|o| big.iter().any(|n| n.parent == o.parent && n.code != o.code))
        .cloned()
        .collect();
    Ok(with_neighbour)
}

/// One resume with its relevance grade (0-3) for its query's job.
pub struct Judged {
    pub candidate: BlindCandidate,
    /// The resume's text and the title it carries, for rendering to files.
    pub text: String,
    pub title: String,
    pub relevance: u8,
    pub kind: &'static str,
}

pub struct Query {
    pub job: Job,
    pub must: Vec<String>,
    pub nice: Vec<String>,
    pub resumes: Vec<Judged>,
}

/// How a resume relates to the job: share of required skills (out of 8),
/// extra skills from a neighbour and from an unrelated occupation, the grade.
const PLAN: &[(&str, usize, usize, usize, u8, usize)] = &[
    // kind, required skills, neighbour skills, unrelated skills, grade, count
    ("strong", 7, 1, 2, 3, 3),
    ("partial", 4, 2, 2, 2, 3),
    ("weak", 2, 4, 2, 1, 4),
    ("neighbour", 0, 7, 2, 0, 6),
    ("unrelated", 0, 0, 9, 0, 4),
];

pub fn per_query() -> usize {
    PLAN.iter().map(|p| p.5).sum()
}

const SENTENCES: &[&str] = &[
    "Responsible to {} in my current role.",
    "Experienced in the ability to {}.",
    "Regularly asked to {} for clients.",
    "{}: day-to-day part of the job for several years.",
    "Trained colleagues to {}.",
];

/// Skill mentions written: (in own words, all).
pub type Counts = (usize, usize);

fn phrase(skill: &Skill, rng: &mut StdRng, wording: Wording, counts: &mut Counts) -> String {
    counts.1 += 1;
    if wording == Wording::OwnWords
        && rng.gen_bool(OWN_WORDS)
        && let Some(p) = super::paraphrase::outside_taxonomy(&skill.label, |n| rng.gen_range(0..n))
    {
        counts.0 += 1;
        return p;
    }
    if !skill.alts.is_empty() && rng.gen_bool(PARAPHRASE) {
        skill.alts[rng.gen_range(0..skill.alts.len())].clone()
    } else {
        skill.label.clone()
    }
}

fn resume_text(
    title: &str,
    skills: &[&Skill],
    rng: &mut StdRng,
    wording: Wording,
    counts: &mut Counts,
) -> String {
    let start = rng.gen_range(2008..2018);
    let switch = rng.gen_range(start + 1..2022);
    let mut lines = vec![
        format!("{title}"),
        String::new(),
        "Summary".to_string(),
        format!("Professional with {} years of experience.", 2026 - start),
        String::new(),
        "Experience".to_string(),
        format!("{title}, Example Company ({switch} - present)"),
    ];
    let (first, rest) = skills.split_at(skills.len() / 2);
    for s in first {
        let t = SENTENCES[rng.gen_range(0..SENTENCES.len())];
        lines.push(format!(
            "- {}",
            t.replace("{}", &phrase(s, rng, wording, counts))
        ));
    }
    lines.push(format!("Associate, Other Company ({start} - {switch})"));
    for s in rest {
        let t = SENTENCES[rng.gen_range(0..SENTENCES.len())];
        lines.push(format!(
            "- {}",
            t.replace("{}", &phrase(s, rng, wording, counts))
        ));
    }
    lines.join("\n")
}

fn sample<'a>(from: &'a [Skill], n: usize, rng: &mut StdRng) -> Vec<&'a Skill> {
    from.choose_multiple(rng, n.min(from.len())).collect()
}

/// Turns a resume's text into what the scorer sees, through the same
/// constructor a sync uses.
pub fn blind(id: usize, title: &str, text: String) -> BlindCandidate {
    BlindCandidate::from_candidate(&Candidate {
        id: format!("c{id}"),
        personal: PersonalInfo::default(),
        title: Some(title.to_string()),
        resume: Resume {
            url: None,
            structured: ats_operator::model::resume::parse_resume(&text),
            parsed_text: text,
            readability: Default::default(),
        },
        source: None,
        updated_at: None,
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `jobs` queries of [`per_query`] resumes each, in a seeded random order,
/// and how many skill mentions were written in the resumes' own words.
pub fn generate(
    occupations: &[Occupation],
    jobs: usize,
    seed: u64,
    wording: Wording,
) -> (Vec<Query>, Counts) {
    let mut counts: Counts = (0, 0);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut picked: Vec<&Occupation> = occupations.iter().collect();
    picked.shuffle(&mut rng);
    picked.truncate(jobs);
    let mut next_id = 0usize;
    let mut out = Vec::new();
    for (qi, occ) in picked.iter().enumerate() {
        let mut pool: Vec<&Skill> = occ.skills.iter().collect();
        pool.shuffle(&mut rng);
        let must: Vec<&Skill> = pool[..REQUIRED].to_vec();
        let nice: Vec<&Skill> = pool[REQUIRED..REQUIRED + NICE].to_vec();
        let others: Vec<&Skill> = pool[REQUIRED + NICE..].to_vec();
        let neighbours: Vec<&Occupation> = occupations
            .iter()
            .filter(|n| n.parent == occ.parent && n.code != occ.code)
            .collect();
        let far: Vec<&Occupation> = occupations
            .iter()
            .filter(|n| n.parent != occ.parent)
            .collect();
        let title = format!("Specialist in {}", occ.name);
        let description = format!(
            "{title}\n\nAbout the role\nYou will join a growing team as a specialist in {}.\n\n\
             Requirements\n{}\n\nNice to have\n{}\n\nWe offer a friendly workplace and training.",
            occ.name,
            must.iter()
                .map(|s| format!("- {}", capitalise(&s.label)))
                .collect::<Vec<_>>()
                .join("\n"),
            nice.iter()
                .map(|s| format!("- {}", capitalise(&s.label)))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let mut job = Job::from_text(format!("j{qi}"), title.clone(), description);
        job.requirements = must.iter().map(|s| capitalise(&s.label)).collect();
        job.nice_to_have = nice.iter().map(|s| capitalise(&s.label)).collect();

        let mut resumes = Vec::new();
        for &(kind, n_req, n_nb, n_far, grade, count) in PLAN {
            for _ in 0..count {
                let nb = neighbours[rng.gen_range(0..neighbours.len())];
                let fa = far[rng.gen_range(0..far.len())];
                let mut skills: Vec<&Skill> = sample_refs(&must, n_req, &mut rng);
                // Strong and partial resumes also name some of the
                // occupation's other skills, as real ones would.
                if grade >= 2 {
                    skills.extend(sample_refs(&others, 2, &mut rng));
                }
                skills.extend(sample(&nb.skills, n_nb, &mut rng));
                skills.extend(sample(&fa.skills, n_far, &mut rng));
                skills.shuffle(&mut rng);
                let own_title = match grade {
                    3 | 2 => format!("Specialist in {}", occ.name),
                    1 if rng.gen_bool(0.5) => format!("Specialist in {}", occ.name),
                    1 | 0 if n_nb > 0 => format!("Specialist in {}", nb.name),
                    _ => format!("Specialist in {}", fa.name),
                };
                let text = resume_text(&own_title, &skills, &mut rng, wording, &mut counts);
                resumes.push(Judged {
                    candidate: blind(next_id, &own_title, text.clone()),
                    text,
                    title: own_title,
                    relevance: grade,
                    kind,
                });
                next_id += 1;
            }
        }
        // Ties in a ranking keep this order: random, not generation order.
        resumes.shuffle(&mut rng);
        out.push(Query {
            job,
            must: must.iter().map(|s| s.label.clone()).collect(),
            nice: nice.iter().map(|s| s.label.clone()).collect(),
            resumes,
        });
    }
    (out, counts)
}

fn sample_refs<'a>(from: &[&'a Skill], n: usize, rng: &mut StdRng) -> Vec<&'a Skill> {
    from.choose_multiple(rng, n.min(from.len()))
        .copied()
        .collect()
}

/// Formats a resume may be rendered to before scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Pdf,
    Docx,
}

/// The resume as a file of `format`, written by the sandbox's document
/// writers (the files the sandboxes serve); the bench reads it back with
/// `src/documents` and scores what was read.
pub fn render(text: &str, format: Format) -> Vec<u8> {
    use ats_operator::sandbox::documents;
    match format {
        Format::Text => text.as_bytes().to_vec(),
        Format::Pdf => documents::pdf(text, 7),
        Format::Docx => documents::docx(text),
    }
}

/// nDCG@k with gains 2^rel - 1, for grades in ranked order; the ideal
/// ranking sorts all grades of the query.
pub fn ndcg_at(ranked: &[u8], k: usize) -> f64 {
    let dcg = |g: &[u8]| -> f64 {
        g.iter()
            .take(k)
            .enumerate()
            .map(|(i, &r)| (2f64.powi(i32::from(r)) - 1.0) / ((i + 2) as f64).log2())
            .sum()
    };
    let mut ideal = ranked.to_vec();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let best = dcg(&ideal);
    if best == 0.0 { 0.0 } else { dcg(ranked) / best }
}

/// Reciprocal rank of the first resume graded at least `grade`.
pub fn reciprocal_rank(ranked: &[u8], grade: u8) -> f64 {
    ranked
        .iter()
        .position(|&r| r >= grade)
        .map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// The data file, fetched by scripts/esco.sh (or `ATS_ESCO_CSV`).
pub fn esco_csv() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("ATS_ESCO_CSV") {
        return p.into();
    }
    let cache = std::env::var("ATS_ESCO_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/ats-operator/esco")
        });
    cache.join("esco_v_1_1_1_data_formatted.csv")
}

/// The model directory, as scripts/model.sh lays it out (or `ATS_MODEL_DIR`).
pub fn model_dir() -> std::path::PathBuf {
    if let Ok(d) = std::env::var("ATS_MODEL_DIR") {
        return d.into();
    }
    let cache = std::env::var("ATS_MODEL_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/ats-operator/models")
        });
    cache.join("all-MiniLM-L6-v2")
}
