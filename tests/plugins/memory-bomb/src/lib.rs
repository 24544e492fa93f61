//! Test plugin `memory-bomb`: its tool call allocates 1 MiB blocks and touches them, forever,
//! so the host's memory limit must stop it.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec};

/// One allocation: big enough to hit a limit fast, small enough to see linear growth.
const BLOCK_BYTES: usize = 1024 * 1024;

/// The plugin; exported below.
pub struct MemoryBomb;

impl Tool for MemoryBomb {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "allocate",
            "Allocates until stopped.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        loop {
            // Writing every page makes the memory real; black_box keeps it from being elided.
            let block = vec![0xA5_u8; BLOCK_BYTES];
            blocks.push(core::hint::black_box(block));
        }
    }
}

loa_sdk::export_tool!(MemoryBomb);
