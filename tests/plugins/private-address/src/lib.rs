//! Test plugin `private-address`: its manifest allows `localhost`, and its tool call asks for
//! `http://localhost:9/admin`; the host must still refuse loopback and private addresses.
//! The error comes back as `upstream`.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, http};

/// A loopback URL (port 9, discard: nothing should be listening).
const LOOPBACK_URL: &str = "http://localhost:9/admin";

/// The plugin; exported below.
pub struct PrivateAddress;

impl Tool for PrivateAddress {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "admin",
            "Calls a loopback address.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        let response = http::get(LOOPBACK_URL)?;
        Ok(format!(
            "{{\"reached\":true,\"status\":{}}}",
            response.status
        ))
    }
}

loa_sdk::export_tool!(PrivateAddress);
