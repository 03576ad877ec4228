//! Which embedding model the semantic component runs: the transformer itself
//! (all-MiniLM-L6-v2, a forward pass per sentence) or the static model
//! distilled from it (a table lookup per token). The operator picks one for
//! every tenant (`--semantic-engine`): it is a CPU budget, the platform
//! team's call, and one model id per operator keeps decisions comparable.

use std::path::Path;

use super::SemanticError;
use super::embedder::Embedder;
use super::similarity::Bounds;
use super::static_model::StaticEmbedder;

/// The `--semantic-engine` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// Distilled from all-MiniLM-L6-v2: thousands of applications per second.
    #[default]
    Static,
    /// all-MiniLM-L6-v2 itself: better paraphrase matching, about 8
    /// applications per second per core from a cold cache.
    Transformer,
}

pub enum Engine {
    Transformer(Box<Embedder>),
    Static(Box<StaticEmbedder>),
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.model_id())
    }
}

impl Engine {
    /// Loads the transformer from `dir`; for [`EngineKind::Static`], its
    /// distilled table too (kept in `dir` once distilled).
    pub fn load(dir: &Path, kind: EngineKind) -> Result<Self, SemanticError> {
        let embedder = Embedder::load(dir)?;
        Ok(match kind {
            EngineKind::Transformer => Engine::Transformer(Box::new(embedder)),
            EngineKind::Static => {
                let started = std::time::Instant::now();
                let (s, distilled) = StaticEmbedder::load_or_distill(dir, &embedder)?;
                if distilled {
                    tracing::info!(
                        seconds = started.elapsed().as_secs(),
                        model = s.model_id(),
                        "distilled the static embedding table from the transformer"
                    );
                }
                Engine::Static(Box::new(s))
            }
        })
    }

    pub fn model_id(&self) -> &str {
        match self {
            Engine::Transformer(e) => e.model_id(),
            Engine::Static(s) => s.model_id(),
        }
    }

    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, SemanticError> {
        match self {
            Engine::Transformer(e) => e.embed(texts),
            Engine::Static(s) => s.embed(texts),
        }
    }

    /// The cosines that mean "unrelated" and "the same", per model.
    pub fn bounds(&self) -> Bounds {
        match self {
            Engine::Transformer(_) => Bounds::TRANSFORMER,
            Engine::Static(_) => Bounds::STATIC,
        }
    }

    pub fn transformer(&self) -> Option<&Embedder> {
        match self {
            Engine::Transformer(e) => Some(e),
            Engine::Static(_) => None,
        }
    }
}
