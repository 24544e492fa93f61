//! Test plugin `huge-response`: its tool call returns a 16 MiB string; the host must refuse
//! results over its size limit without running out of memory itself.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec};

/// 16 MiB: well over any sane tool result limit.
const RESULT_BYTES: usize = 16 * 1024 * 1024;

/// The plugin; exported below.
pub struct HugeResponse;

impl Tool for HugeResponse {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "huge",
            "Returns 16 MiB.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        Ok("x".repeat(RESULT_BYTES))
    }
}

loa_sdk::export_tool!(HugeResponse);
