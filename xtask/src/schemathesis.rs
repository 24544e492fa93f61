//! `cargo xtask schemathesis`: the schemathesis CLI (`st`) that the OpenAPI contract test
//! (`tests/tests/openapi_contract.rs`) runs against the real `loa serve`, in a venv of its
//! own under `~/.cache/loa/schemathesis`, from pinned PyPI wheels.
//!
//! pip installs exactly the wheels below with `--require-hashes --no-deps`: the list is
//! the whole dependency tree of schemathesis for CPython 3.11 on Linux x86_64, each file
//! checked against its SHA-256, so a compromised or re-uploaded release cannot slip in and
//! a new upstream release changes nothing here. To move to another version:
//! `pip download schemathesis==X --only-binary=:all: -d DIR`, then `sha256sum DIR/*.whl`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::model::{python_with_pip, remove_dir_if_present};
use crate::run;

/// What the tests read to find `st`; `cargo xtask test` sets it for the test run.
pub const ENV_VARIABLE: &str = "LOA_SCHEMATHESIS";

/// Written last into the venv, holding the requirements it was built from: a venv without
/// it (or with other pins in it) is a half-done or outdated install, built again.
const MARKER: &str = "complete";

/// schemathesis and everything it imports, pinned with each wheel's SHA-256 (the
/// platform wheels are the `cp311` manylinux x86_64 builds).
const WHEELS: &[(&str, &str)] = &[
    (
        "anyio==4.16.0",
        "c66ae634e0b8228396b801741beb3294326d4b6102f7bba4041c0dfb58c29026",
    ),
    (
        "certifi==2026.10.18",
        "73191c47aaa79da394e8fee2dbc2ec827432cab56311122c9e47abf79e390f62",
    ),
    (
        "charset_normalizer==3.5.2",
        "211d5a3eb6af8f513b8d4ca19a8c1b7accab1b5f0d3175f9826b03c1a920dc1f",
    ),
    (
        "click==8.5.1",
        "8bb5376d2006950386f8c6427613334a2acadc5f559cb80e638d00b4df957e37",
    ),
    (
        "graphql_core==3.3.2",
        "d83f49ee18d2db89fb575dab6ffefa8aa1bf5f60dff8a6781db6f63420041348",
    ),
    (
        "harfile==0.6.0",
        "0f2209d6ec164a2aea7e8fb2b49d9fef5ddeee51b65dbfd28a4167185c34bb30",
    ),
    (
        "hypothesis==6.170.15",
        "ecbd6294a636594580689debc3011a0ca3eb76577770f661224314202f107e14",
    ),
    (
        "hypothesis_graphql==0.13.5",
        "7bf16b290fc5b870539e0181446cda1f2aadc3b233a8b475331abc1764fe4e40",
    ),
    (
        "idna==3.20",
        "ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c",
    ),
    (
        "iniconfig==2.3.1",
        "9121e2c1fdb355232495be3194c8dfe87ccc2d5dee45947b78e68f499790d7a7",
    ),
    (
        "jsonschema_rs==0.60.3",
        "326ec5b6800552ccd76a1acca131f70511ac013b377230bdd541db3244adc9fa",
    ),
    (
        "markdown_it_py==4.3.0",
        "7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa",
    ),
    (
        "markupsafe==3.0.4",
        "6da83a088f8ef93b2d483a8232a4dbf4d69d3d8496b568a03c56becac43e1808",
    ),
    (
        "mdurl==0.1.2",
        "84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8",
    ),
    (
        "packaging==26.3",
        "d7193f7c8e4e93f444fde0262bf90af30e16fa0ad0ad44cb553c87339b23cd1c",
    ),
    (
        "pluggy==1.7.0",
        "7dd7b0d8832ba3cb632c306926ded123429211b83641b35dc5c41ad2d34f9bec",
    ),
    (
        "pygments==2.21.0",
        "2363c69b61c4a97c838da3b130dcd6468f4848992b21a82f2a63ec34377137d9",
    ),
    (
        "pyrate_limiter==4.5.1",
        "bb8dd2926b0679e4ada6629a865e85daa5599268f930c61a8992dafa8bf3ba0d",
    ),
    (
        "pytest==9.2.0",
        "07acdcf88ec174f907dc01af70bf52d49b014bbab03faeeade31c96b18c2e588",
    ),
    (
        "pyyaml==6.0.3",
        "b8bb0864c5a28024fac8a632c443c87c5aa6f215c0b126c449ae1a150412f31d",
    ),
    (
        "requests==2.34.2",
        "2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0",
    ),
    (
        "rich==15.0.0",
        "33bd4ef74232fb73fe9279a257718407f169c09b78a87ad3d296f548e27de0bb",
    ),
    (
        "schemathesis==4.32.5",
        "5ec7e532ebdf9b0e0239a943df2a565174aecda513b61e564d8ad2a3ac801f22",
    ),
    (
        "sortedcontainers==2.4.0",
        "a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0",
    ),
    (
        "typing_extensions==4.16.0",
        "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8",
    ),
    (
        "urllib3==2.8.0",
        "0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3",
    ),
    (
        "werkzeug==3.1.9",
        "6392e50c78460ba618e5b21f08a71f59c99ce99cdc6cf6e3dd7e6ccca8754fab",
    ),
];

/// pip's hash-checking requirements file.
fn requirements() -> String {
    WHEELS
        .iter()
        .map(|(pin, sha256)| format!("{pin} --hash=sha256:{sha256}\n"))
        .collect()
}

/// `~/.cache/loa/schemathesis`: the venv.
fn venv_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set (the cache lives in it)")?;
    Ok(PathBuf::from(home).join(".cache/loa/schemathesis"))
}

/// Idempotent: when the venv holds the marker of these pins and its `st` runs, returns
/// the path of `st` without starting pip. Otherwise builds the venv from scratch.
pub fn ensure_schemathesis() -> anyhow::Result<PathBuf> {
    let venv = venv_dir()?;
    let st = venv.join("bin/st");
    let recipe = requirements();
    if is_complete(&venv, &recipe) && runs(&st) {
        eprintln!(
            "xtask: schemathesis already in place: {} (delete the folder to reinstall it)",
            venv.display()
        );
        return Ok(st);
    }
    let python = PathBuf::from(std::env::var_os("LOA_PYTHON").unwrap_or_else(|| "python3".into()));
    python_with_pip(&python)?;
    // A venv records its own path (in `bin/st`'s shebang), so it is built in place, not
    // moved there; the marker, written last, is what makes it count.
    remove_dir_if_present(&venv)?;
    eprintln!(
        "xtask: creating the schemathesis venv at {}",
        venv.display()
    );
    run(Command::new(&python).arg("-m").arg("venv").arg(&venv)).with_context(|| {
        format!(
            "{} -m venv failed (Debian: apt-get install python3-venv)",
            python.display()
        )
    })?;
    let requirements_file = venv.join("requirements.txt");
    std::fs::write(&requirements_file, &recipe)
        .with_context(|| format!("{}", requirements_file.display()))?;
    eprintln!(
        "xtask: installing {} pinned wheels (pip checks each SHA-256)",
        WHEELS.len()
    );
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "--requirement",
        ])
        .arg(&requirements_file))?;
    // `--no-deps` trusts the list: pip check says whether it really is the whole tree.
    run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "check",
        "--disable-pip-version-check",
    ]))
    .context("the pinned wheels miss a dependency of schemathesis: add it to WHEELS")?;
    run(Command::new(&st).arg("--version"))?;
    let marker = venv.join(MARKER);
    std::fs::write(&marker, &recipe).with_context(|| format!("{}", marker.display()))?;
    eprintln!("xtask: schemathesis ready: {}", st.display());
    Ok(st)
}

fn is_complete(venv: &Path, recipe: &str) -> bool {
    std::fs::read_to_string(venv.join(MARKER)).is_ok_and(|marker| marker == recipe)
}

/// Whether `st --version` runs (a venv whose Python was removed or upgraded does not).
fn runs(st: &Path) -> bool {
    Command::new(st)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wheel_is_pinned_once_with_a_full_sha256() {
        let mut names = Vec::new();
        for line in requirements().lines() {
            let (pin, hash) = line.split_once(" --hash=sha256:").expect(line);
            let (name, version) = pin.split_once("==").expect(line);
            assert!(!version.is_empty(), "{line}");
            assert_eq!(hash.len(), 64, "{line}");
            assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()), "{line}");
            names.push(name.to_lowercase().replace('-', "_"));
        }
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a package pinned twice");
        assert!(names.contains(&"schemathesis".to_owned()));
    }

    #[test]
    fn a_venv_without_the_marker_of_these_pins_is_incomplete() {
        let dir = std::env::temp_dir().join(format!("xtask-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!is_complete(&dir, "pins"));
        std::fs::write(dir.join(MARKER), "other pins").unwrap();
        assert!(!is_complete(&dir, "pins"));
        std::fs::write(dir.join(MARKER), "pins").unwrap();
        assert!(is_complete(&dir, "pins"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
