//! Test plugin `panic`: its tool call panics, which traps the component; the host must turn
//! the trap into an error and keep serving.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec};

/// The plugin; exported below.
pub struct Panic;

impl Tool for Panic {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "boom",
            "Always panics.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        panic!("boom: this plugin always panics");
    }
}

loa_sdk::export_tool!(Panic);
