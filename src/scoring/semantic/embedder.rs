//! all-MiniLM-L6-v2 as sentence-transformers runs it: BERT, masked mean
//! pooling, L2 normalisation (its modules.json: Transformer, Pooling, Normalize).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use super::SemanticError;

/// The model's own limit (sentence_bert_config.json: max_seq_length 256).
const MAX_TOKENS: usize = 256;
/// Sentences per forward pass: bounds memory; a document's batches depend on
/// its sentences alone, so it always gets the same batches (and floats).
pub const BATCH: usize = 16;

/// The files a model directory must hold.
pub const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    model_id: String,
    dim: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model_id", &self.model_id)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

fn read(dir: &Path, file: &'static str) -> Result<Vec<u8>, SemanticError> {
    let path: PathBuf = dir.join(file);
    if !path.is_file() {
        return Err(SemanticError::MissingFile {
            dir: dir.display().to_string(),
            file,
        });
    }
    std::fs::read(&path).map_err(|source| SemanticError::Io {
        file: path.display().to_string(),
        source,
    })
}

impl Embedder {
    /// Loads config.json, tokenizer.json and model.safetensors from `dir`.
    /// Reads local files only.
    pub fn load(dir: &Path) -> Result<Self, SemanticError> {
        let config = read(dir, "config.json")?;
        let config: Config =
            serde_json::from_slice(&config).map_err(|e| SemanticError::Config(e.to_string()))?;
        let tokenizer = read(dir, "tokenizer.json")?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer)
            .map_err(|e| SemanticError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| SemanticError::Tokenizer(e.to_string()))?;
        // Read once: the bytes are hashed (the model's identity in the ledger)
        // and loaded; no mmap, so no unsafe.
        let weights = read(dir, "model.safetensors")?;
        let model_id = format!(
            "all-MiniLM-L6-v2@sha256:{}",
            hex::encode(Sha256::digest(&weights))
        );
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)?;
        let model = BertModel::load(vb, &config)?;
        Ok(Embedder {
            model,
            tokenizer,
            device,
            model_id,
            dim: config.hidden_size,
        })
    }

    /// `all-MiniLM-L6-v2@sha256:<hex of model.safetensors>`.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Token ids as the model sees them (with [CLS]/[SEP], unpadded).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, SemanticError> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| SemanticError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The tokenizer as loaded (padding and truncation set for batches).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// One vector per vocabulary id, for distilling a static model: each
    /// token alone between the special tokens, `[SEP] token [CLS]` (Model2Vec
    /// found the reversed order works better), mean of the three outputs.
    /// Row-major, `vocab * dim` floats, in [`BATCH`]-independent chunks.
    pub fn vocabulary_vectors(&self) -> Result<(usize, Vec<f32>), SemanticError> {
        let special = |t: &str| {
            self.tokenizer
                .token_to_id(t)
                .ok_or_else(|| SemanticError::Tokenizer(format!("no {t} token")))
        };
        let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
        let vocab = u32::try_from(self.tokenizer.get_vocab_size(false))
            .map_err(|_| SemanticError::Tokenizer("vocabulary too large".into()))?;
        let mut out = Vec::with_capacity(vocab as usize * self.dim);
        // Equal lengths: no padding, so each row depends on its token alone.
        const CHUNK: u32 = 512;
        let mut start = 0u32;
        while start < vocab {
            let end = start.saturating_add(CHUNK).min(vocab);
            let ids: Vec<u32> = (start..end).flat_map(|id| [sep, id, cls]).collect();
            let n = (end - start) as usize;
            let ids = Tensor::from_vec(ids, (n, 3), &self.device)?;
            let hidden = self.model.forward(&ids, &ids.zeros_like()?, None)?;
            let mean = hidden.mean(1)?;
            out.extend(mean.flatten_all()?.to_vec1::<f32>()?);
            start = end;
        }
        Ok((vocab as usize, out))
    }

    /// Unit-length embeddings, one per text, in batches of [`BATCH`]. Texts
    /// are batched by length (less padding to compute), a stable order that
    /// depends on the texts alone.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, SemanticError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, SemanticError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| SemanticError::Tokenizer(e.to_string()))?;
        let ids = enc
            .iter()
            .map(|e| Tensor::new(e.get_ids(), &self.device))
            .collect::<Result<Vec<_>, _>>()?;
        let mask = enc
            .iter()
            .map(|e| Tensor::new(e.get_attention_mask(), &self.device))
            .collect::<Result<Vec<_>, _>>()?;
        let ids = Tensor::stack(&ids, 0)?;
        let mask = Tensor::stack(&mask, 0)?;
        let hidden = self.model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
        // Masked mean pooling: padding does not count.
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&m)?.sum(1)?;
        let counts = m.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        Ok(mean.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}
