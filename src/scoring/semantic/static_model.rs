//! A static embedding model distilled from all-MiniLM-L6-v2 (Model2Vec's
//! recipe): every vocabulary token is passed through the transformer once,
//! the vectors are centred (PCA without reduction: a rotation does not move a
//! cosine) and weighted by SIF with Zipf-estimated frequencies; a sentence is
//! the mean of its tokens' rows. Embedding then costs a tokenizer pass and a
//! few hundred additions instead of a forward pass: about a thousand times
//! less CPU, for some loss of quality (BENCHMARKS.md measures both).
//!
//! The table is a deterministic function of the model's weights; it is
//! written next to the model as `static-<model sha256 prefix>.safetensors`
//! when that directory is writable, so it is distilled once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use super::SemanticError;
use super::embedder::Embedder;

/// Model2Vec's default SIF coefficient.
const SIF: f64 = 1e-4;
/// Tokens read per sentence; [`super::text`] already caps sentences at 48
/// words, so this only bounds hostile input.
const MAX_TOKENS: usize = 512;
const TENSOR: &str = "embeddings";

pub struct StaticEmbedder {
    tokenizer: Tokenizer,
    table: Vec<f32>,
    vocab: usize,
    dim: usize,
    skip: Vec<u32>,
    model_id: String,
}

impl std::fmt::Debug for StaticEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticEmbedder")
            .field("model_id", &self.model_id)
            .field("vocab", &self.vocab)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

/// Where the table distilled from the model whose weights hash to
/// `source_sha256` is kept.
pub fn table_path(dir: &Path, source_sha256: &str) -> PathBuf {
    let prefix = source_sha256.get(..16).unwrap_or(source_sha256);
    dir.join(format!("static-{prefix}.safetensors"))
}

/// Centres the rows and applies SIF weights from Zipf ranks. `unused` ids
/// (BERT's `[unused*]` placeholders) are left out of the ranks, as Model2Vec
/// removes them. Pure.
pub fn post_process(table: &mut [f32], dim: usize, unused: &[bool]) {
    let rows = table.len() / dim.max(1);
    if rows == 0 {
        return;
    }
    let mut mean = vec![0f64; dim];
    for row in table.chunks(dim) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += f64::from(*x);
        }
    }
    for m in &mut mean {
        *m /= rows as f64;
    }
    let ranked = unused.iter().filter(|u| !**u).count();
    let norm: f64 = (0..ranked).map(|r| 1.0 / (r as f64 + 2.0)).sum();
    let mut rank = 0usize;
    for (i, row) in table.chunks_mut(dim).enumerate() {
        let weight = if unused.get(i).copied().unwrap_or(false) {
            0.0
        } else {
            let p = 1.0 / (rank as f64 + 2.0) / norm;
            rank += 1;
            SIF / (SIF + p)
        };
        for (x, m) in row.iter_mut().zip(&mean) {
            *x = ((f64::from(*x) - m) * weight) as f32;
        }
    }
}

/// Unit length (a zero vector stays zero).
fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 1e-12 {
        for x in v {
            *x /= n;
        }
    }
}

fn table_id(table: &[f32]) -> String {
    let mut h = Sha256::new();
    for x in table {
        h.update(x.to_le_bytes());
    }
    format!(
        "all-MiniLM-L6-v2-static@sha256:{}",
        hex::encode(h.finalize())
    )
}

impl StaticEmbedder {
    fn from_table(
        tokenizer: &Tokenizer,
        table: Vec<f32>,
        dim: usize,
    ) -> Result<Self, SemanticError> {
        let mut tokenizer = tokenizer.clone();
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| SemanticError::Tokenizer(e.to_string()))?;
        let vocab = table.len() / dim.max(1);
        if vocab != tokenizer.get_vocab_size(false) || vocab * dim != table.len() {
            return Err(SemanticError::Config(format!(
                "static table of {} floats does not fit a vocabulary of {} x {dim}",
                table.len(),
                tokenizer.get_vocab_size(false)
            )));
        }
        let skip = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
            .iter()
            .filter_map(|t| tokenizer.token_to_id(t))
            .collect();
        Ok(StaticEmbedder {
            model_id: table_id(&table),
            tokenizer,
            table,
            vocab,
            dim,
            skip,
        })
    }

    /// Distils the table from the transformer (a minute or so of CPU).
    pub fn distill(embedder: &Embedder) -> Result<Self, SemanticError> {
        let (vocab, mut table) = embedder.vocabulary_vectors()?;
        let dim = embedder.dim();
        let tok = embedder.tokenizer();
        let unused: Vec<bool> = (0..vocab)
            .map(|id| {
                u32::try_from(id)
                    .ok()
                    .and_then(|id| tok.id_to_token(id))
                    .is_some_and(|t| t.starts_with("[unused"))
            })
            .collect();
        post_process(&mut table, dim, &unused);
        Self::from_table(tok, table, dim)
    }

    /// The table kept in `dir` for this model, else distilled and written
    /// there (atomically; a read-only directory keeps it in memory only).
    /// Returns whether it was distilled now.
    pub fn load_or_distill(dir: &Path, embedder: &Embedder) -> Result<(Self, bool), SemanticError> {
        let source = embedder
            .model_id()
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let path = table_path(dir, &source);
        if let Ok(bytes) = std::fs::read(&path) {
            match Self::from_safetensors(embedder.tokenizer(), &bytes) {
                Ok(s) => return Ok((s, false)),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "static table unreadable; distilling again")
                }
            }
        }
        let s = Self::distill(embedder)?;
        if let Err(e) = s.save(&path) {
            tracing::info!(file = %path.display(), error = %e, "static table kept in memory only");
        }
        Ok((s, true))
    }

    fn from_safetensors(tokenizer: &Tokenizer, bytes: &[u8]) -> Result<Self, SemanticError> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)?;
        let t = tensors
            .get(TENSOR)
            .ok_or_else(|| SemanticError::Config(format!("no tensor {TENSOR}")))?;
        let (_, dim) = t.dims2()?;
        let table = t.flatten_all()?.to_vec1::<f32>()?;
        Self::from_table(tokenizer, table, dim)
    }

    /// Writes the table as safetensors, through a temporary file and a rename
    /// so a concurrent reader never sees half a file.
    pub fn save(&self, path: &Path) -> Result<(), SemanticError> {
        let t = Tensor::from_slice(&self.table, (self.vocab, self.dim), &Device::Cpu)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let map: HashMap<String, Tensor> = HashMap::from([(TENSOR.to_string(), t)]);
        candle_core::safetensors::save(&map, &tmp)?;
        std::fs::rename(&tmp, path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            SemanticError::Io {
                file: path.display().to_string(),
                source,
            }
        })
    }

    /// `all-MiniLM-L6-v2-static@sha256:<hex of the table>`.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Unit-length embeddings, one per text: the mean of the token rows.
    /// Independent of the other texts (no batches).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, SemanticError> {
        texts
            .iter()
            .map(|t| {
                let enc = self
                    .tokenizer
                    .encode(*t, false)
                    .map_err(|e| SemanticError::Tokenizer(e.to_string()))?;
                let mut v = vec![0f32; self.dim];
                for &id in enc.get_ids().iter().take(MAX_TOKENS) {
                    if self.skip.contains(&id) {
                        continue;
                    }
                    let start = id as usize * self.dim;
                    if let Some(row) = self.table.get(start..start + self.dim) {
                        for (a, b) in v.iter_mut().zip(row) {
                            *a += b;
                        }
                    }
                }
                normalise(&mut v);
                Ok(v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_and_weights_frequent_tokens_down() {
        // Three tokens of two dims; the middle one is a placeholder.
        let mut t = vec![1.0, 0.0, 5.0, 5.0, 3.0, 2.0];
        post_process(&mut t, 2, &[false, true, false]);
        // The placeholder gets weight 0.
        assert_eq!(&t[2..4], &[0.0, 0.0]);
        // Mean (3, 7/3): row 0 centred is (-2, -7/3), row 2 is (0, -1/3).
        let w0 = t[0] / -2.0;
        let w2 = t[5] / (-1.0 / 3.0);
        assert_eq!(t[4], 0.0);
        assert!(w0 > 0.0 && w0 < 1.0, "{w0}");
        assert!((t[1] / (-7.0 / 3.0) - w0).abs() < 1e-6);
        assert!(
            w2 > w0 && w2 < 1.0,
            "the rarer token weighs more: {w2} vs {w0}"
        );
    }

    #[test]
    fn table_path_names_the_source_model() {
        let p = table_path(Path::new("/m"), "53aa51172d142c89d9012cce15ae4d6cc0ca");
        assert_eq!(p, PathBuf::from("/m/static-53aa51172d142c89.safetensors"));
    }
}
