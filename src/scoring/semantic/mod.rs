//! The optional semantic component (`semantic: true` in a profile):
//! all-MiniLM-L6-v2 sentence embeddings, computed on the CPU with candle from a
//! local model directory (`--model-dir`), never downloaded at run time; by
//! default through a static table distilled from it (`--semantic-engine`).
//!
//! The value is a pure function of the job's text and the resume's text (fixed
//! tokenisation, fixed batching per document, f32), so the same inputs give
//! the same score; it is cached per (job revision, resume) so re-scoring is cheap.

pub mod cache;
pub mod embedder;
pub mod engine;
pub mod profile;
pub mod scorer;
pub mod similarity;
pub mod static_model;
pub mod text;

pub use embedder::Embedder;
pub use engine::{Engine, EngineKind};
pub use profile::{DEFAULT_WEIGHT, model_condition, tag_identity, validate, weight};
pub use scorer::SemanticScorer;

/// What can go wrong loading or running the model. Messages name files and
/// the model, never the text being embedded.
#[derive(Debug, thiserror::Error)]
pub enum SemanticError {
    #[error(
        "{dir}: {file} is missing; fetch the model with scripts/model.sh and pass the \
         directory it prints as --model-dir (ATS_MODEL_DIR)"
    )]
    MissingFile { dir: String, file: &'static str },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config.json: {0}")]
    Config(String),
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
}
