//! Test plugin `echo`: the well-behaved tool plugin host tests and benchmarks call, one tool
//! per host capability (echo, kv, config, log, http, clock).

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, clock, config, http, kv, log, to_json};
use serde_json::{Value, json};

/// The plugin; exported below.
pub struct Echo;

impl Tool for Echo {
    fn list_tools() -> Vec<ToolSpec> {
        let object = |properties: Value, required: &[&str]| json!({"type": "object", "properties": properties, "required": required});
        let string = json!({"type": "string"});
        vec![
            ToolSpec::new(
                "echo",
                "Returns its arguments unchanged.",
                &json!({"type": "object"}),
            ),
            ToolSpec::new(
                "kv_roundtrip",
                "Sets key to value, reads it back, then compare-and-swaps it to \"swapped\"; \
                 returns what it saw.",
                &object(json!({"key": string, "value": string}), &["key", "value"]),
            ),
            ToolSpec::new(
                "config_dump",
                "Returns the plugin's config as a JSON object.",
                &object(json!({}), &[]),
            ),
            ToolSpec::new(
                "log_levels",
                "Logs one line at each level; returns \"ok\".",
                &object(json!({}), &[]),
            ),
            ToolSpec::new(
                "fetch",
                "GETs url; returns {\"status\", \"body\"}.",
                &object(json!({"url": string}), &["url"]),
            ),
            ToolSpec::new(
                "now",
                "Returns the host's clock, ms since the Unix epoch.",
                &object(json!({}), &[]),
            ),
        ]
    }

    fn call(name: String, args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        match name.as_str() {
            // First and parse-free: benchmarks measure the host's per-call cost with it.
            "echo" => Ok(args_json),
            "kv_roundtrip" => kv_roundtrip(&args_json),
            "config_dump" => to_json(&config::all()),
            "log_levels" => log_levels(),
            "fetch" => fetch(&args_json),
            "now" => Ok(clock::now_ms().to_string()),
            _ => Err(PluginError::NotFound(format!("no tool named '{name}'"))),
        }
    }
}

#[derive(serde::Deserialize)]
struct KvArgs {
    key: String,
    value: String,
}

fn kv_roundtrip(args_json: &str) -> Result<String, PluginError> {
    let KvArgs { key, value } = loa_sdk::parse_args(args_json)?;
    kv::set(&key, value.as_bytes())?;
    let read = kv::get(&key)?;
    let swapped = kv::compare_and_swap(&key, Some(value.as_bytes()), Some(b"swapped"))?;
    let after = kv::get(&key)?;
    let text = |bytes: Option<Vec<u8>>| bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
    to_json(&json!({
        "set": value,
        "get": text(read),
        "swapped": swapped,
        "after": text(after),
    }))
}

fn log_levels() -> Result<String, PluginError> {
    log::trace("log level trace", &[("level", "trace")]);
    log::debug("log level debug", &[("level", "debug")]);
    log::info("log level info", &[("level", "info")]);
    log::warn("log level warn", &[("level", "warn")]);
    log::error("log level error", &[("level", "error")]);
    Ok("\"ok\"".into())
}

#[derive(serde::Deserialize)]
struct FetchArgs {
    url: String,
}

fn fetch(args_json: &str) -> Result<String, PluginError> {
    let FetchArgs { url } = loa_sdk::parse_args(args_json)?;
    let response = http::get(&url)?;
    to_json(&json!({"status": response.status, "body": response.text()}))
}

loa_sdk::export_tool!(Echo);
