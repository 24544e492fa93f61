//! `loa plugin build`: cargo for wasm32-wasip2, then `plugin.wasm` checked and put in place.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context as _, bail};
use clap::Args;

use super::DirArg;
use crate::cli::Context;

const TARGET: &str = "wasm32-wasip2";

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Build without optimizations (faster to build, slower and larger component).
    #[arg(long)]
    debug: bool,
}

pub(crate) fn run(context: &Context, args: BuildArgs) -> anyhow::Result<ExitCode> {
    let dir = std::path::absolute(&args.dir.dir)?;
    let wasm = build_component(&dir, !args.debug)?;
    let destination = dir.join("plugin.wasm");
    std::fs::copy(&wasm, &destination)
        .with_context(|| format!("copying {} to {}", wasm.display(), destination.display()))?;
    let store: std::sync::Arc<dyn loa::store::Store> =
        std::sync::Arc::new(loa::store::sqlite::SqliteStore::in_memory()?);
    let plugin = context.engine(store)?.load(&dir)?;
    println!(
        "built {} ({} plugin, {:.1} KiB) -> {}",
        plugin.id(),
        plugin.kind(),
        plugin.wasm_bytes as f64 / 1024.0,
        destination.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Adds the wasm32-wasip2 target through rustup when it is missing (idempotent).
pub(crate) fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(output)
            if String::from_utf8_lossy(&output.stdout)
                .lines()
                .any(|t| t == TARGET) =>
        {
            Ok(())
        }
        Ok(_) => {
            let status = Command::new("rustup")
                .args(["target", "add", TARGET])
                .status()
                .context("running rustup target add")?;
            if !status.success() {
                bail!("`rustup target add {TARGET}` failed");
            }
            Ok(())
        }
        // No rustup: the toolchain may still have the target (distro packages); let cargo say.
        Err(_) => Ok(()),
    }
}

/// Runs cargo in `dir` and returns the path of the component it produced.
pub(crate) fn build_component(dir: &Path, release: bool) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!("{} has no Cargo.toml: is it a plugin crate?", dir.display());
    }
    if !dir.join("plugin.toml").is_file() {
        bail!(
            "{} has no plugin.toml: is it a plugin crate?",
            dir.display()
        );
    }
    ensure_wasm_target()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args([
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if release {
        command.arg("--release");
    }
    let output = command.output().context("running cargo")?;
    if !output.status.success() {
        bail!("cargo build failed for {}", manifest.display());
    }
    let manifest = manifest.canonicalize()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let same_crate = message["manifest_path"]
            .as_str()
            .and_then(|path| Path::new(path).canonicalize().ok())
            .is_some_and(|path| path == manifest);
        if !same_crate {
            continue;
        }
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|file| file.as_str())
            .find(|file| file.ends_with(".wasm"));
        if let Some(wasm) = wasm {
            return Ok(PathBuf::from(wasm));
        }
    }
    bail!(
        "cargo built {} but produced no .wasm: does Cargo.toml have `crate-type = [\"cdylib\", \"rlib\"]`?",
        manifest.display()
    )
}
