//! Ranking quality on a synthetic ESCO-based set (see ranking/dataset.rs):
//! nDCG@10 and MRR of the scorer's ranking of each job's resumes, lexical
//! only and with the semantic component.
//!
//! bash scripts/esco.sh && bash scripts/model.sh
//! cargo bench --bench ranking [-- --jobs 30 --seed 7 --lexical-only | --static-only]

#[path = "ranking/dataset.rs"]
mod dataset;
#[path = "ranking/paraphrase.rs"]
mod paraphrase;

use std::time::Instant;

use ats_operator::api::ScoringProfileSpec;
use ats_operator::scoring::job::analyze;
use ats_operator::scoring::semantic::{EngineKind, SemanticScorer};
use ats_operator::scoring::{score_with, score_with_semantic};
use dataset::{
    Format, Query, Wording, blind, esco_csv, generate, load_occupations, model_dir, ndcg_at,
    reciprocal_rank, render,
};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Grades in the order of `scores`, highest first; ties keep the pool order
/// (shuffled by the generator).
fn ranked(q: &Query, scores: &[u32]) -> Vec<u8> {
    let mut idx: Vec<usize> = (0..q.resumes.len()).collect();
    idx.sort_by_key(|&i| std::cmp::Reverse(scores[i]));
    idx.iter().map(|&i| q.resumes[i].relevance).collect()
}

struct Tally {
    name: &'static str,
    ndcg: f64,
    mrr: f64,
    n: usize,
    by_kind: std::collections::BTreeMap<&'static str, (u64, u64)>,
}

impl Tally {
    fn new(name: &'static str) -> Self {
        Tally {
            name,
            ndcg: 0.0,
            mrr: 0.0,
            n: 0,
            by_kind: Default::default(),
        }
    }
    fn add(&mut self, q: &Query, scores: &[u32]) {
        let r = ranked(q, scores);
        self.ndcg += ndcg_at(&r, 10);
        self.mrr += reciprocal_rank(&r, 3);
        self.n += 1;
        for (j, s) in q.resumes.iter().zip(scores) {
            let e = self.by_kind.entry(j.kind).or_default();
            e.0 += u64::from(*s);
            e.1 += 1;
        }
    }
    fn print(&self) {
        let kinds: Vec<String> = ["strong", "partial", "weak", "neighbour", "unrelated"]
            .iter()
            .map(|k| {
                let (s, n) = self.by_kind.get(k).copied().unwrap_or((0, 1));
                format!("{:>5.1}", s as f64 / n.max(1) as f64)
            })
            .collect();
        println!(
            "| {:<46} | {:>7.3} | {:>5.3} | {} |",
            self.name,
            self.ndcg / self.n.max(1) as f64,
            self.mrr / self.n.max(1) as f64,
            kinds.join(" | ")
        );
    }
}

fn main() {
    // The metrics themselves, on hand-checked cases.
    assert!((ndcg_at(&[3, 2, 1, 0], 10) - 1.0).abs() < 1e-12);
    assert!((ndcg_at(&[0, 3], 10) - 7.0 / 3f64.log2() / 7.0).abs() < 1e-12);
    assert_eq!(reciprocal_rank(&[0, 1, 3], 3), 1.0 / 3.0);

    // `cargo test --all-targets` runs benches too, without `--bench`: there,
    // a small lexical-only run checks the generator and the metrics.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let jobs: usize = arg("--jobs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 3 } else { 30 });
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(7);
    let lexical_only = smoke || std::env::args().any(|a| a == "--lexical-only");
    let csv = esco_csv();
    let occupations = match load_occupations(&csv) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\nfetch the data with: bash scripts/esco.sh");
            std::process::exit(2);
        }
    };
    let per = dataset::per_query();
    // Each engine (static, transformer) loaded once for both sets.
    let engines: Vec<(&'static str, SemanticScorer)> = if lexical_only {
        Vec::new()
    } else {
        let mut kinds = vec![("static", EngineKind::Static)];
        if !std::env::args().any(|a| a == "--static-only") {
            kinds.push(("transformer", EngineKind::Transformer));
        }
        kinds
            .into_iter()
            .map(|(name, kind)| match SemanticScorer::load(&model_dir(), kind) {
                Ok(s) => (name, s),
                Err(e) => {
                    eprintln!(
                        "{e}\nfetch the model with: bash scripts/model.sh (or pass --lexical-only)"
                    );
                    std::process::exit(2);
                }
            })
            .collect()
    };
    for wording in [Wording::EscoLabels, Wording::OwnWords] {
        let (queries, (own, all)) = generate(&occupations, jobs, seed, wording);
        assert_eq!(queries.len(), jobs);
        assert!(queries.iter().all(|q| q.resumes.len() == per));
        // Same seed, same set.
        let (again, _) = generate(&occupations, jobs, seed, wording);
        assert!(queries.iter().zip(&again).all(|(a, b)| {
            a.job.description == b.job.description
                && a.resumes
                    .iter()
                    .zip(&b.resumes)
                    .all(|(x, y)| x.candidate == y.candidate)
        }));
        println!(
            "\n{} set: {} occupations available, {} jobs x {per} resumes (seed {seed}); grades \
             3/2/1/0 by construction; {own} of {all} skill mentions ({:.0}%) in words the taxonomy \
             does not know",
            match wording {
                Wording::EscoLabels => "ESCO-labels",
                Wording::OwnWords => "Own-words",
            },
            occupations.len(),
            queries.len(),
            100.0 * own as f64 / all.max(1) as f64
        );
        evaluate(&queries, &engines, smoke);
    }
    if smoke {
        println!("ranking: the full run is `cargo bench --bench ranking`");
    }
}

fn evaluate(queries: &[Query], engines: &[(&'static str, SemanticScorer)], smoke: bool) {
    let mut text_only = Tally::new("lexical, skills read from the job text");
    let mut listed = Tally::new("lexical, profile lists the job's skills");
    let mut from_pdf = Tally::new("lexical (listed), resumes read from PDF");
    let mut from_docx = Tally::new("lexical (listed), resumes read from DOCX");
    let mut unreadable = 0usize;
    let names: Vec<[&'static str; 3]> = engines
        .iter()
        .map(|(name, _)| match *name {
            "static" => [
                "lexical (listed) + static semantic, w 20",
                "lexical (listed) + static semantic, w 50",
                "static semantic component alone",
            ],
            _ => [
                "lexical (listed) + transformer semantic, w 20",
                "lexical (listed) + transformer semantic, w 50",
                "transformer semantic component alone",
            ],
        })
        .collect();
    let mut sem: Vec<[Tally; 3]> = names
        .iter()
        .map(|n| [Tally::new(n[0]), Tally::new(n[1]), Tally::new(n[2])])
        .collect();
    let started = Instant::now();
    for q in queries {
        let plain = ScoringProfileSpec::default();
        let listed_p = ScoringProfileSpec {
            must_have_skills: q.must.clone(),
            nice_to_have_skills: q.nice.clone(),
            ..Default::default()
        };
        let ask_plain = analyze(&q.job, &plain);
        let ask_listed = analyze(&q.job, &listed_p);
        let s: Vec<u32> = q
            .resumes
            .iter()
            .map(|r| u32::from(score_with(&ask_plain, &q.job, &r.candidate, &plain, 2026).score))
            .collect();
        text_only.add(q, &s);
        let s: Vec<u32> = q
            .resumes
            .iter()
            .map(|r| {
                u32::from(score_with(&ask_listed, &q.job, &r.candidate, &listed_p, 2026).score)
            })
            .collect();
        listed.add(q, &s);
        // The same resumes as files: rendered, read back by content, scored.
        for (tally, format) in [(&mut from_pdf, Format::Pdf), (&mut from_docx, Format::Docx)] {
            let s: Vec<u32> = q
                .resumes
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let bytes = render(&r.text, format);
                    match ats_operator::documents::read(&bytes, &Default::default()) {
                        Ok(read) => {
                            let c = blind(i, &r.title, read.text);
                            u32::from(score_with(&ask_listed, &q.job, &c, &listed_p, 2026).score)
                        }
                        Err(_) => {
                            unreadable += 1;
                            0
                        }
                    }
                })
                .collect();
            tally.add(q, &s);
        }
        for ((_, scorer), tallies) in engines.iter().zip(&mut sem) {
            let values: Vec<Option<u8>> = q
                .resumes
                .iter()
                .map(|r| scorer.score(&q.job, &r.candidate).unwrap_or(None))
                .collect();
            let [w20, w50, alone] = tallies;
            for (tally, weight) in [(w20, 20), (w50, 50)] {
                let mut p = listed_p.clone();
                p.semantic = true;
                p.weights.semantic = Some(weight);
                let s: Vec<u32> = q
                    .resumes
                    .iter()
                    .zip(&values)
                    .map(|(r, v)| {
                        u32::from(
                            score_with_semantic(&ask_listed, &q.job, &r.candidate, &p, 2026, *v)
                                .score,
                        )
                    })
                    .collect();
                tally.add(q, &s);
            }
            let s: Vec<u32> = values.iter().map(|v| u32::from(v.unwrap_or(0))).collect();
            alone.add(q, &s);
        }
    }
    println!(
        "| {:<46} | nDCG@10 | MRR   | mean score: strong | partial | weak | neighbour | unrelated |",
        "ranking by"
    );
    println!(
        "|{}|---------|-------|------|------|------|------|------|",
        "-".repeat(48)
    );
    text_only.print();
    listed.print();
    from_pdf.print();
    from_docx.print();
    for tallies in &sem {
        for t in tallies {
            t.print();
        }
    }
    println!(
        "MRR: reciprocal rank of the first grade-3 resume. {:.1} s in all.",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(unreadable, 0, "every rendered resume reads back");
    if smoke {
        let ndcg = listed.ndcg / listed.n as f64;
        // Read from files, the ranking is the text's.
        assert!((from_pdf.ndcg - listed.ndcg).abs() < 1e-9);
        assert!((from_docx.ndcg - listed.ndcg).abs() < 1e-9);
        assert!(ndcg > 0.3 && ndcg <= 1.0, "lexical nDCG@10 {ndcg}");
    }
}
