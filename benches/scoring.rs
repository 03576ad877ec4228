//! Scoring throughput per core on the ESCO-based set (ranking/dataset.rs):
//! applications scored per second on one thread, lexical only, and with the
//! semantic component from a cold cache and when re-scoring (cached).
//!
//! bash scripts/esco.sh && bash scripts/model.sh
//! cargo bench --bench scoring [-- --jobs 30 --semantic-apps 120 --static-only]

#[path = "ranking/dataset.rs"]
mod dataset;
#[path = "ranking/paraphrase.rs"]
mod paraphrase;

use std::time::{Duration, Instant};

use ats_operator::api::ScoringProfileSpec;
use ats_operator::scoring::job::analyze;
use ats_operator::scoring::semantic::{EngineKind, SemanticScorer};
use ats_operator::scoring::{score_with, score_with_semantic};
use dataset::{Wording, esco_csv, generate, load_occupations, model_dir};

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
}

fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scoring: run with `cargo bench --bench scoring`");
        return;
    }
    // Per core: candle's matrix products and the tokenizer's batches use
    // rayon, sized by this variable; set before either starts a thread.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    let jobs = arg("--jobs").unwrap_or(30);
    let semantic_apps = arg("--semantic-apps").unwrap_or(120);
    let occupations = match load_occupations(&esco_csv()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\nfetch the data with: bash scripts/esco.sh");
            std::process::exit(2);
        }
    };
    let (queries, _) = generate(&occupations, jobs, 7, Wording::EscoLabels);
    let apps: usize = queries.iter().map(|q| q.resumes.len()).sum();
    let words: usize = queries
        .iter()
        .flat_map(|q| &q.resumes)
        .map(|r| r.candidate.resume_text.split_whitespace().count())
        .sum();
    println!(
        "{} jobs, {apps} applications, {:.0} words per resume; one thread",
        queries.len(),
        words as f64 / apps as f64
    );
    let profiles: Vec<ScoringProfileSpec> = queries
        .iter()
        .map(|q| ScoringProfileSpec {
            must_have_skills: q.must.clone(),
            nice_to_have_skills: q.nice.clone(),
            ..Default::default()
        })
        .collect();

    // Lexical: as a sync does it, each job analysed once for its applications.
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(3) {
        for (q, p) in queries.iter().zip(&profiles) {
            let ask = analyze(&q.job, p);
            for r in &q.resumes {
                std::hint::black_box(score_with(&ask, &q.job, &r.candidate, p, 2026));
                n += 1;
            }
        }
    }
    let lexical = n as f64 / t.elapsed().as_secs_f64();
    println!("lexical only:            {lexical:>8.0} applications/s per core (goal >= 2,000)");

    let mut sem_profiles = profiles.clone();
    for p in &mut sem_profiles {
        p.semantic = true;
    }
    let transformer = !std::env::args().any(|a| a == "--static-only");
    for (name, kind, limit) in [
        ("static", EngineKind::Static, usize::MAX),
        ("transformer", EngineKind::Transformer, semantic_apps),
    ] {
        if kind == EngineKind::Transformer && !transformer {
            continue;
        }
        let t = Instant::now();
        let scorer = match SemanticScorer::load(&model_dir(), kind) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}\nfetch the model with: bash scripts/model.sh");
                std::process::exit(2);
            }
        };
        println!(
            "{name}: model load (read, sha256, weights{}): {:.2} s",
            if kind == EngineKind::Static {
                ", distilled table"
            } else {
                ""
            },
            t.elapsed().as_secs_f64()
        );
        let run = |limit: usize| -> (u64, f64) {
            let t = Instant::now();
            let mut n = 0u64;
            'outer: for (q, p) in queries.iter().zip(&sem_profiles) {
                let ask = analyze(&q.job, p);
                for r in &q.resumes {
                    if n as usize >= limit {
                        break 'outer;
                    }
                    let v = scorer.score(&q.job, &r.candidate).unwrap_or(None);
                    std::hint::black_box(score_with_semantic(
                        &ask,
                        &q.job,
                        &r.candidate,
                        p,
                        2026,
                        v,
                    ));
                    n += 1;
                }
            }
            (n, t.elapsed().as_secs_f64())
        };
        let (n, secs) = run(limit);
        let cold = n as f64 / secs;
        println!(
            "{name} semantic, cold:     {cold:>8.1} applications/s per core (goal >= 50; {n} \
             applications, each resume and job embedded once)"
        );
        let (n, secs) = run(limit);
        let warm = n as f64 / secs;
        println!(
            "{name} semantic, re-score: {warm:>8.0} applications/s per core ({n} applications; \
             cache hits, misses: {:?})",
            scorer.cache_counts()
        );
    }
}
