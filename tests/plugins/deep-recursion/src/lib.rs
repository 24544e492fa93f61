//! Test plugin `deep-recursion`: its tool call recurses without end until the stack
//! overflows; the host must report the trap.

use core::hint::black_box;

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec};

/// The plugin; exported below.
pub struct DeepRecursion;

impl Tool for DeepRecursion {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "recurse",
            "Recurses until the stack overflows.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        Ok(recurse(0).to_string())
    }
}

/// Never returns. Frames stay small and in wasm locals, so it is the engine's call stack
/// that overflows (a large local buffer would overflow Rust's shadow stack in linear memory
/// first, which shows up as an out-of-bounds access instead). The addition after the call
/// keeps it from becoming a tail call, and black_box from becoming a loop.
#[inline(never)]
#[allow(unconditional_recursion, reason = "overflowing the stack is the point")]
fn recurse(depth: u64) -> u64 {
    let below = recurse(black_box(depth + 1));
    below.wrapping_add(depth)
}

loa_sdk::export_tool!(DeepRecursion);
