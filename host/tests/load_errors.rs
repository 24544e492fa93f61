//! Bad plugin files give a clear error naming the file and the problem, never a panic.

mod common;

use std::path::Path;

use common::{engine, engine_with, test_config};
use loa::config::PluginHostConfig;

const MANIFEST: &str = r#"
[plugin]
name = "broken"
version = "0.1.0"
kind = "tool"
"#;

fn plugin_with(manifest: &str, wasm: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("plugin.wasm"), wasm).unwrap();
    dir
}

fn echo_wasm() -> Vec<u8> {
    std::fs::read(common::plugin_dir("tests/plugins/echo").join("plugin.wasm")).unwrap()
}

fn load_error(dir: &Path) -> String {
    engine().load(dir).expect_err("must not load").to_string()
}

#[test]
fn malformed_manifest_names_the_file_and_the_line() {
    let dir = plugin_with("[plugin\nname = ", &echo_wasm());
    let message = load_error(dir.path());
    assert!(message.contains("plugin.toml"), "{message}");
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn missing_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let message = load_error(dir.path());
    assert!(message.contains("plugin.toml"), "{message}");
}

#[test]
fn missing_component_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), MANIFEST).unwrap();
    let message = load_error(dir.path());
    assert!(message.contains("plugin.wasm"), "{message}");
}

#[test]
fn core_module_is_not_a_component() {
    let dir = plugin_with(MANIFEST, b"\0asm\x01\0\0\0");
    let message = load_error(dir.path());
    assert!(message.contains("core WebAssembly module"), "{message}");
    assert!(message.contains("loa plugin build"), "{message}");
}

#[test]
fn text_file_is_not_webassembly() {
    let dir = plugin_with(MANIFEST, b"#!/bin/sh\necho hi\n");
    let message = load_error(dir.path());
    assert!(message.contains("not WebAssembly at all"), "{message}");
}

#[test]
fn truncated_component_fails_to_compile_with_the_file_named() {
    let wasm = echo_wasm();
    let dir = plugin_with(MANIFEST, &wasm[..wasm.len() / 2]);
    let message = load_error(dir.path());
    assert!(message.contains("cannot compile"), "{message}");
    assert!(message.contains("plugin.wasm"), "{message}");
}

#[test]
fn component_over_the_size_limit_is_refused_before_compiling() {
    let (engine, _) = engine_with(PluginHostConfig {
        max_component_mib: 1,
        ..test_config()
    });
    let dir = plugin_with(MANIFEST, &vec![0u8; 2 << 20]);
    let message = engine.load(dir.path()).unwrap_err().to_string();
    assert!(message.contains("over the 1 MiB limit"), "{message}");
}

#[test]
fn manifest_limits_only_lower_the_host_limits() {
    let manifest = r#"
[plugin]
name = "echo"
version = "0.1.0"
kind = "tool"

[limits]
memory_mib = 4096
timeout_ms = 100
"#;
    let dir = plugin_with(manifest, &echo_wasm());
    let plugin = engine().load(dir.path()).expect("loads");
    assert_eq!(plugin.limits.memory_mib, 32, "capped by the host");
    assert_eq!(
        plugin.limits.timeout.as_millis(),
        100,
        "lowered by the manifest"
    );
}
