//! Test plugin `kv-flood`: its tool call writes 4 KiB values under `k0`, `k1`, ... until the
//! host's key-value quota refuses one, then returns that refusal as `internal`.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, kv};

/// Size of each value written.
const VALUE_BYTES: usize = 4 * 1024;

/// The plugin; exported below.
pub struct KvFlood;

impl Tool for KvFlood {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "flood",
            "Fills the key-value store.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        let value = [b'x'; VALUE_BYTES];
        for index in 0_u64.. {
            if let Err(err) = kv::set(&format!("k{index}"), &value) {
                return Err(PluginError::Internal(format!("kv: {err}")));
            }
        }
        unreachable!("u64 keys do not run out before the quota")
    }
}

loa_sdk::export_tool!(KvFlood);
