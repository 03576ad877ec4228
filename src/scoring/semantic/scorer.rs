//! The semantic component with its caches: the job's requirement embeddings
//! per job revision, the resume's sentence embeddings per resume, and the
//! value per (job revision, resume) pair. Keys are hashes of exactly the text
//! embedded (and the model), so a cached value is the value recomputed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::cache::Bounded;
use super::engine::{Engine, EngineKind};
use super::text::{Requirement, job_requirements, resume_sentences};
use super::{SemanticError, similarity};
use crate::model::{BlindCandidate, Job};

/// Job revisions kept (a few KB each).
const JOBS: usize = 1024;
/// Resumes kept: up to 64 x 384 floats, about 100 KB each.
const RESUMES: usize = 256;
/// Pair values kept (about 150 bytes each).
const PAIRS: usize = 100_000;

struct JobVectors {
    vectors: Vec<Vec<f32>>,
    weights: Vec<f32>,
}

pub struct SemanticScorer {
    engine: Engine,
    jobs: Bounded<String, Arc<JobVectors>>,
    resumes: Bounded<String, Arc<Vec<Vec<f32>>>>,
    pairs: Bounded<(String, String), Option<u8>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for SemanticScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticScorer")
            .field("model_id", &self.engine.model_id())
            .finish_non_exhaustive()
    }
}

fn digest(parts: impl IntoIterator<Item = impl AsRef<[u8]>>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        let p = p.as_ref();
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

impl SemanticScorer {
    /// Loads the model from `dir` (see [`Engine::load`]).
    pub fn load(dir: &Path, kind: EngineKind) -> Result<Self, SemanticError> {
        Ok(Self::new(Engine::load(dir, kind)?))
    }

    pub fn new(engine: Engine) -> Self {
        SemanticScorer {
            engine,
            jobs: Bounded::new(JOBS),
            resumes: Bounded::new(RESUMES),
            pairs: Bounded::new(PAIRS),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn model_id(&self) -> &str {
        self.engine.model_id()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Pair values served from the cache, and computed.
    pub fn cache_counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn job_key(&self, reqs: &[Requirement]) -> String {
        let weights: Vec<[u8; 4]> = reqs.iter().map(|r| r.weight.to_le_bytes()).collect();
        digest(
            std::iter::once(self.model_id().as_bytes())
                .chain(reqs.iter().map(|r| r.text.as_bytes()))
                .chain(weights.iter().map(|w| w.as_slice())),
        )
    }

    fn resume_key(&self, sentences: &[String]) -> String {
        digest(
            std::iter::once(self.model_id().as_bytes())
                .chain(sentences.iter().map(|s| s.as_bytes())),
        )
    }

    fn job_vectors(
        &self,
        key: &str,
        reqs: &[Requirement],
    ) -> Result<Arc<JobVectors>, SemanticError> {
        if let Some(v) = self.jobs.get(&key.to_string()) {
            return Ok(v);
        }
        let texts: Vec<&str> = reqs.iter().map(|r| r.text.as_str()).collect();
        let v = Arc::new(JobVectors {
            vectors: self.engine.embed(&texts)?,
            weights: reqs.iter().map(|r| r.weight).collect(),
        });
        self.jobs.put(key.to_string(), v.clone());
        Ok(v)
    }

    fn resume_vectors(
        &self,
        key: &str,
        sentences: &[String],
    ) -> Result<Arc<Vec<Vec<f32>>>, SemanticError> {
        if let Some(v) = self.resumes.get(&key.to_string()) {
            return Ok(v);
        }
        let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
        let v = Arc::new(self.engine.embed(&texts)?);
        self.resumes.put(key.to_string(), v.clone());
        Ok(v)
    }

    /// The component value, 0-100, or `None` when the job has no text to
    /// compare with. Deterministic: a function of the two texts and the model.
    pub fn score(
        &self,
        job: &Job,
        candidate: &BlindCandidate,
    ) -> Result<Option<u8>, SemanticError> {
        let reqs = job_requirements(job);
        if reqs.is_empty() {
            return Ok(None);
        }
        let sentences = resume_sentences(candidate);
        let pair = (self.job_key(&reqs), self.resume_key(&sentences));
        if let Some(v) = self.pairs.get(&pair) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(v);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let job_v = self.job_vectors(&pair.0, &reqs)?;
        let resume_v = self.resume_vectors(&pair.1, &sentences)?;
        let v = similarity::value(
            &job_v.vectors,
            &job_v.weights,
            &resume_v,
            self.engine.bounds(),
        );
        self.pairs.put(pair, v);
        Ok(v)
    }
}

impl SemanticScorer {
    /// [`SemanticScorer::score`] on a blocking thread (a forward pass takes
    /// milliseconds to a second). A failure is logged (without the texts) and
    /// leaves the component out of this score.
    pub async fn value_off_thread(
        self: Arc<Self>,
        job: &Job,
        candidate: &BlindCandidate,
    ) -> Option<u8> {
        let (job, candidate) = (job.clone(), candidate.clone());
        match tokio::task::spawn_blocking(move || self.score(&job, &candidate)).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "semantic component failed; scored without it");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "semantic component panicked; scored without it");
                None
            }
        }
    }
}
