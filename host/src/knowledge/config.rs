//! `[knowledge]` in `loa.toml`: where the embedding model is and which vector index holds
//! the vectors.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::embedder::{DIMENSION, EmbedderPaths};
use super::service::Knowledge;
use super::vector::qdrant::QdrantSettings;
use super::vector::{IndexError, MemoryIndex, QdrantIndex, VectorIndex};
use crate::store::Store;

/// Model and vector index settings. Defaults: the model `cargo xtask fetch-model`
/// installs, the in-process exact index.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// Directory of the embedding model. Default `$LOA_MODEL_DIR`, else
    /// `~/.cache/loa/models/multilingual-e5-small`.
    pub model_dir: Option<PathBuf>,
    /// The ONNX Runtime library. Default `$LOA_ORT_DYLIB`, else `$ORT_DYLIB_PATH`, else
    /// `~/.cache/loa/onnxruntime/libonnxruntime.so.1.32.0`.
    pub ort_library: Option<PathBuf>,
    /// gRPC URL of a Qdrant server (`http://qdrant:6334`) to keep vectors there instead of
    /// in this process. Default: none (in-process exact search). Also `LOA_QDRANT_URL`.
    pub qdrant_url: Option<String>,
    /// The Qdrant collection shared by every tenant. Default `loa_knowledge`.
    pub qdrant_collection: Option<String>,
    /// Qdrant API key, if the server wants one. Also `LOA_QDRANT_API_KEY`.
    pub qdrant_api_key: Option<String>,
}

impl KnowledgeConfig {
    /// Where the model and runtime are, defaults filled in.
    pub fn embedder_paths(&self) -> EmbedderPaths {
        let defaults = EmbedderPaths::from_env();
        EmbedderPaths {
            model_dir: self.model_dir.clone().unwrap_or(defaults.model_dir),
            ort_library: self.ort_library.clone().unwrap_or(defaults.ort_library),
        }
    }

    /// The configured vector index (connecting to Qdrant when one is named).
    pub async fn vector_index(&self) -> Result<Arc<dyn VectorIndex>, IndexError> {
        let url = self
            .qdrant_url
            .clone()
            .or_else(|| std::env::var("LOA_QDRANT_URL").ok());
        let Some(url) = url else {
            return Ok(Arc::new(MemoryIndex::new(DIMENSION)));
        };
        let mut settings = QdrantSettings::new(url);
        if let Some(collection) = &self.qdrant_collection {
            settings.collection = collection.clone();
        }
        settings.api_key = self
            .qdrant_api_key
            .clone()
            .or_else(|| std::env::var("LOA_QDRANT_API_KEY").ok());
        Ok(Arc::new(QdrantIndex::connect(&settings, DIMENSION).await?))
    }

    /// The knowledge service over `store`, after checking the model files are there (the
    /// model itself loads on first use).
    pub async fn open(&self, store: Arc<dyn Store>) -> Result<Knowledge, super::KnowledgeError> {
        let paths = self.embedder_paths();
        paths.check()?;
        let index = self.vector_index().await?;
        Ok(Knowledge::new(store, index, paths))
    }
}
