//! Test plugin `wrong-version`: a tool component built against `loa:plugin@0.1.0` (its own
//! copy of the WIT in `wit/`); a host speaking 0.2 must refuse it, naming both versions.

/// wit-bindgen output for the 0.1.0 copy of the WIT; kept private.
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "loa:plugin/tool-provider@0.1.0",
        generate_all,
    });
}

use bindings::exports::loa::plugin::tools::{CallContext, Guest, PluginError, ToolSpec};

/// The plugin; exported below.
pub struct WrongVersion;

impl Guest for WrongVersion {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: "noop".into(),
            description: "Does nothing; the host should never get to call it.".into(),
            input_schema: r#"{"type":"object"}"#.into(),
        }]
    }

    fn call(
        _name: String,
        _args_json: String,
        _context: CallContext,
    ) -> Result<String, PluginError> {
        Ok("null".into())
    }
}

// wasm only: the export symbol names break native linking (see loa-sdk's export macros).
#[cfg(target_arch = "wasm32")]
bindings::export!(WrongVersion with_types_in bindings);
