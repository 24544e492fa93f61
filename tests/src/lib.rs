//! End-to-end tests of the real `loa` binary: helpers to find it and run it.
//!
//! The tests themselves live in `tests/tests/`; they start `loa` as a user would, with a
//! temporary data directory, and read its output. [`serve::Server`] runs `loa serve` on a
//! free port; [`browser::Browser`] drives a headless Chromium against it; [`accounts`]
//! logs people in to its admin API; [`stubs`] stand in for servers out of reach (an
//! OpenAI-compatible LLM); [`load`] posts signed webhooks at a fixed rate, as a provider.

pub mod accounts;
pub mod browser;
pub mod channels;
pub mod http;
pub mod load;
pub mod serve;
pub mod sse;
pub mod stubs;
pub mod widget;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    // Cargo sets it when it runs the tests: the clone being tested. The compiled-in value
    // may name another clone whose build this one reused from the shared target dir.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_owned()
}

/// Prefixes of the variables cargo sets for a crate it builds or runs, not for cargo itself.
const CRATE_VARIABLES: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_",
    "CARGO_BIN_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// The `loa` binary the tests run: `$LOA_BIN` when set, else the one next to this test
/// executable (`<target>/debug/loa`, or `<target>/release/loa` for a benchmark), built once
/// per test process: `cargo test -p loa-e2e` alone would not rebuild another package's
/// binary, and a stale one would test old code.
pub fn loa_binary() -> PathBuf {
    if let Some(binary) = std::env::var_os("LOA_BIN") {
        return PathBuf::from(binary);
    }
    let test_executable = std::env::current_exe().expect("test executable path");
    // <target>/debug/deps/<test> -> <target>/debug/loa
    let profile_dir = test_executable
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in <target>/<profile>/deps");
    let release = profile_dir.ends_with("release");
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        // `test --workspace --no-run` resolves features exactly as `cargo test --workspace`
        // does, so after that run it is a no-op; `build -p loa` would resolve them without
        // the dev-dependencies and recompile half the dependency tree. A benchmark (in
        // `release/`) measures the optimized binary, which only `build --release` makes.
        let args: &[&str] = match release {
            true => &["build", "--release", "-p", "loa", "--quiet"],
            false => &["test", "--workspace", "--no-run", "--quiet"],
        };
        let mut cargo = Command::new(env!("CARGO"));
        // Cargo gives this process the variables of the crate it runs (`CARGO_PKG_NAME`,
        // `CARGO_MANIFEST_DIR`, `OUT_DIR`, ...). Build scripts such as ring's rerun when one
        // of them changes, so passed on they would rebuild ring and all above it (loa too)
        // on every run, and again when cargo is next run from a shell.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if CRATE_VARIABLES
                .iter()
                .any(|prefix| name.starts_with(prefix))
            {
                cargo.env_remove(&*name);
            }
        }
        let status = cargo
            .current_dir(workspace_root())
            .args(args)
            .status()
            .expect("cargo starts");
        assert!(
            status.success(),
            "building the workspace (and the loa binary) failed"
        );
    });
    let binary = profile_dir.join("loa");
    assert!(
        binary.is_file(),
        "{} is missing: run the tests with `cargo test --workspace` (or `cargo build -p loa` first)",
        binary.display()
    );
    binary
}

/// A `loa` command with its own data directory and compile cache, no config file, and
/// the tests' master key ([`accounts::MASTER_KEY_BASE64`]): every command and server of
/// a test seals and reads secrets with the same key, whatever config file each reads.
pub fn loa(data_dir: &Path) -> Command {
    let mut command = Command::new(loa_binary());
    command
        .env("LOA_DATA_DIR", data_dir)
        .env("LOA_CONFIG", data_dir.join("absent-loa.toml"))
        .env("LOA_MASTER_KEY", accounts::MASTER_KEY_BASE64)
        .env_remove("LOA_LOG");
    command
}

/// What a finished command printed, decoded, with a readable failure message.
pub struct Finished {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Finished {
    /// Asserts success and returns stdout.
    pub fn success(self) -> String {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts a failure (exit code 1, no panic) and returns stdout + stderr.
    pub fn failure(self) -> String {
        assert_eq!(
            self.code, 1,
            "expected exit code 1:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        // A plugin's own panic message is part of the report; a panic of loa itself comes
        // with Rust's backtrace note.
        let loa_panicked =
            self.stderr.contains("stack backtrace") || self.stderr.contains("RUST_BACKTRACE");
        assert!(!loa_panicked, "loa panicked:\n{}", self.stderr);
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `command` to completion.
pub fn finish(command: &mut Command) -> Finished {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("command starts");
    Finished {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
