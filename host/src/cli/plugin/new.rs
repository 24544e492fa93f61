//! `loa plugin new`: a plugin crate from a template that builds and passes its own tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;

use super::KindArg;

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Plugin name: lowercase letters, digits and '-', starting with a letter.
    name: String,
    /// What the plugin is.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Where to create it. Default: `./<name>`.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Path of the `loa-sdk` crate to depend on. Default: the SDK next to this `loa` build
    /// when it exists, else `loa-sdk` from crates.io.
    #[arg(long)]
    sdk_path: Option<PathBuf>,
}

const CARGO_TOML: &str = include_str!("templates/Cargo.toml.tmpl");
const GITIGNORE: &str = include_str!("templates/gitignore.tmpl");
const README: &str = include_str!("templates/README.md.tmpl");

/// (`plugin.toml`, `src/lib.rs`, sdk feature, example run command) of a kind.
fn kind_templates(kind: KindArg) -> (&'static str, &'static str, &'static str, &'static str) {
    match kind {
        KindArg::Tool => (
            include_str!("templates/tool.plugin.toml.tmpl"),
            include_str!("templates/tool.lib.rs.tmpl"),
            "tool",
            "loa plugin run --call greet --args '{\"name\":\"Lan\"}'",
        ),
        KindArg::Middleware => (
            include_str!("templates/middleware.plugin.toml.tmpl"),
            include_str!("templates/middleware.lib.rs.tmpl"),
            "middleware",
            "loa plugin run --inbound \"mua spam\"",
        ),
        KindArg::Channel => (
            include_str!("templates/channel.plugin.toml.tmpl"),
            include_str!("templates/channel.lib.rs.tmpl"),
            "channel",
            "loa plugin run --config webhook_secret=s3cret --header \"X-Webhook-Secret: s3cret\" --webhook event.json",
        ),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The SDK checked out next to the `loa` sources this binary was built from, if still there.
fn bundled_sdk() -> Option<PathBuf> {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    sdk.join("Cargo.toml")
        .is_file()
        .then(|| sdk.canonicalize().ok())
        .flatten()
}

/// Inside an existing cargo workspace the crate must not declare its own.
fn inside_workspace(dir: &Path) -> bool {
    dir.ancestors().skip(1).any(|ancestor| {
        std::fs::read_to_string(ancestor.join("Cargo.toml"))
            .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
    })
}

pub(crate) fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    if !valid_name(&args.name) {
        bail!(
            "plugin name '{}' must be 1-64 lowercase letters, digits or '-', starting with a letter",
            args.name
        );
    }
    let dir = std::path::absolute(
        args.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&args.name)),
    )?;
    if dir.join("Cargo.toml").exists() || dir.join("plugin.toml").exists() {
        bail!(
            "{} already holds a crate; pick another --dir",
            dir.display()
        );
    }
    let (manifest, lib, feature, run_example) = kind_templates(args.kind);
    let sdk_dependency = match args
        .sdk_path
        .map(std::path::absolute)
        .transpose()?
        .or_else(bundled_sdk)
    {
        Some(path) => format!(
            "loa-sdk = {{ path = {:?}, features = [\"{feature}\"] }}",
            path.display().to_string()
        ),
        None => format!("loa-sdk = {{ version = \"0.1\", features = [\"{feature}\"] }}"),
    };
    let workspace_table = if inside_workspace(&dir) {
        ""
    } else {
        "\n# Its own workspace, so it builds wherever it is created.\n[workspace]\n"
    };
    let fill = |template: &str| {
        template
            .replace("{{name}}", &args.name)
            .replace("{{kind}}", feature)
            .replace("{{sdk_dependency}}", &sdk_dependency)
            .replace("{{workspace_table}}", workspace_table)
            .replace("{{run_example}}", run_example)
    };
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    for (file, template) in [
        ("Cargo.toml", CARGO_TOML),
        ("plugin.toml", manifest),
        ("src/lib.rs", lib),
        (".gitignore", GITIGNORE),
        ("README.md", README),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, fill(template))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if matches!(args.kind, KindArg::Channel) {
        std::fs::write(
            dir.join("event.json"),
            "{\"id\": \"m1\", \"user\": \"u1\", \"text\": \"Shop ơi còn áo size M không?\"}\n",
        )?;
    }
    println!(
        "created {} plugin '{}' in {}",
        feature,
        args.name,
        dir.display()
    );
    println!(
        "next:\n  cd {}\n  cargo test\n  loa plugin build\n  {run_example}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_manifest_rule() {
        assert!(valid_name("order-status"));
        assert!(!valid_name("Order"));
        assert!(!valid_name("1st"));
        assert!(!valid_name(""));
    }
}
