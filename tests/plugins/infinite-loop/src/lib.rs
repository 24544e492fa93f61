//! Test plugin `infinite-loop`: its tool call spins forever, so the host's time limit
//! (epoch interruption or fuel) must stop it.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec};

/// The plugin; exported below.
pub struct InfiniteLoop;

impl Tool for InfiniteLoop {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "spin",
            "Never returns.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        let mut counter: u64 = 0;
        loop {
            // black_box: without it the optimizer may prove the loop pointless.
            counter = core::hint::black_box(counter.wrapping_add(1));
        }
    }
}

loa_sdk::export_tool!(InfiniteLoop);
