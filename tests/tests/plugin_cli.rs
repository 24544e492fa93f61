//! The plugin author's and operator's loop through the real `loa` binary.

use loa_e2e::{finish, loa, workspace_root};

fn built(relative: &str) -> std::path::PathBuf {
    let dir = workspace_root().join(relative);
    assert!(
        dir.join("plugin.wasm").is_file(),
        "{} has no plugin.wasm: run `cargo xtask build-plugins` first",
        dir.display()
    );
    dir
}

/// The generated crate gets a name no workspace crate has: it shares the build directory,
/// where two crates of one name would overwrite each other's `.wasm`.
#[test]
fn new_plugin_builds_passes_its_tests_and_runs_in_the_sandbox() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    finish(loa(data.path()).current_dir(work.path()).args([
        "plugin",
        "new",
        "shop-greeter",
        "--kind",
        "tool",
    ]))
    .success();
    let crate_dir = work.path().join("shop-greeter");
    assert!(crate_dir.join("plugin.toml").is_file());

    // Reuse the workspace's target dir when set (CI), so the SDK is not compiled again.
    let test = finish(
        std::process::Command::new(env!("CARGO"))
            .current_dir(&crate_dir)
            .args(["test", "--quiet"]),
    );
    assert_eq!(
        test.code, 0,
        "generated crate's tests:\n{}\n{}",
        test.stdout, test.stderr
    );

    let build = finish(
        loa(data.path())
            .current_dir(&crate_dir)
            .args(["plugin", "build"]),
    )
    .success();
    assert!(
        build.contains("built shop-greeter@0.1.0 (tool plugin"),
        "{build}"
    );

    let run = finish(loa(data.path()).current_dir(&crate_dir).args([
        "plugin",
        "run",
        "--call",
        "greet",
        "--args",
        r#"{"name":"Lan"}"#,
    ]))
    .success();
    assert!(run.contains("Xin chào Lan!"), "{run}");
    assert!(
        run.contains("greeting a customer"),
        "the log line is shown: {run}"
    );
    assert!(run.contains("time "), "{run}");
    assert!(run.contains("MiB peak"), "{run}");

    let bad = finish(
        loa(data.path())
            .current_dir(&crate_dir)
            .args(["plugin", "run", "--call", "greet", "--args", "{}"]),
    )
    .failure();
    assert!(bad.contains("invalid_input"), "{bad}");
}

#[test]
fn run_reports_a_hostile_plugin_failure_with_exit_code_one() {
    let data = tempfile::tempdir().unwrap();
    let output = finish(
        loa(data.path())
            .arg("plugin")
            .arg("run")
            .arg(built("tests/plugins/panic"))
            .args(["--call", "x", "--args", "{}"]),
    )
    .failure();
    assert!(output.contains("[trap]"), "{output}");
    assert!(
        output.contains("boom: this plugin always panics"),
        "{output}"
    );
}

#[test]
fn run_json_output_is_machine_readable() {
    let data = tempfile::tempdir().unwrap();
    let stdout = finish(
        loa(data.path())
            .arg("plugin")
            .arg("run")
            .arg(built("tests/plugins/echo"))
            .args(["--call", "echo", "--args", r#"{"a":[1,2]}"#, "--json"]),
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["plugin"], "echo@0.1.0");
    assert_eq!(report["ok"], serde_json::json!({"a": [1, 2]}));
    assert!(report["elapsed_ms"].as_f64().unwrap() > 0.0);
    assert!(report["error"].is_null());
}

#[test]
fn arguments_that_are_not_json_are_refused_clearly() {
    let data = tempfile::tempdir().unwrap();
    let output = finish(
        loa(data.path())
            .arg("plugin")
            .arg("run")
            .arg(built("tests/plugins/echo"))
            .args(["--call", "echo", "--args", "order A123"]),
    )
    .failure();
    assert!(output.contains("invalid_arguments"), "{output}");
    assert!(output.contains("not valid JSON"), "{output}");
}

#[test]
fn install_keeps_versions_side_by_side_and_enable_pins_one() {
    let data = tempfile::tempdir().unwrap();
    let source = built("plugins/order-status");
    // A second version: same component, bumped manifest.
    let second = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(source.join("plugin.toml")).unwrap();
    std::fs::write(
        second.path().join("plugin.toml"),
        manifest.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1),
    )
    .unwrap();
    std::fs::copy(
        source.join("plugin.wasm"),
        second.path().join("plugin.wasm"),
    )
    .unwrap();

    let installed = finish(loa(data.path()).args(["plugin", "install"]).arg(&source)).success();
    assert!(
        installed.contains("installed order-status@0.1.0"),
        "{installed}"
    );
    finish(
        loa(data.path())
            .args(["plugin", "install"])
            .arg(second.path()),
    )
    .success();

    let list = finish(loa(data.path()).args(["plugin", "list"])).success();
    assert!(list.contains("0.1.0") && list.contains("0.2.0"), "{list}");

    let inspect =
        finish(loa(data.path()).args(["plugin", "inspect", "order-status@0.1.0"])).success();
    assert!(inspect.contains("loa:plugin/tools@0.3.0"), "{inspect}");
    assert!(inspect.contains("api_key (required, secret)"), "{inspect}");

    let enabled = finish(loa(data.path()).args([
        "plugin",
        "enable",
        "order-status",
        "--tenant",
        "may",
        "--pin",
        "0.1.0",
        "--config",
        "api_base_url=https://shop.example.com/api",
    ]))
    .success();
    assert!(enabled.contains("version 0.1.0"), "{enabled}");
    assert!(
        enabled.contains("required config not set yet: api_key"),
        "{enabled}"
    );

    let missing = finish(loa(data.path()).args([
        "plugin",
        "enable",
        "order-status",
        "--tenant",
        "may",
        "--pin",
        "9.9.9",
    ]))
    .failure();
    assert!(
        missing.contains("order-status@9.9.9 is not installed"),
        "{missing}"
    );
}

#[test]
fn inspecting_a_broken_plugin_names_the_file_and_problem() {
    let data = tempfile::tempdir().unwrap();
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(
        broken.path().join("plugin.toml"),
        "[plugin]\nname = \"x\"\nversion = \"1\"\nkind = \"tool\"\n",
    )
    .unwrap();
    let output = finish(
        loa(data.path())
            .args(["plugin", "inspect"])
            .arg(broken.path()),
    )
    .failure();
    assert!(output.contains("plugin.toml"), "{output}");
    assert!(output.contains("version"), "{output}");
}
