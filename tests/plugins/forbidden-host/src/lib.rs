//! Test plugin `forbidden-host`: its manifest allows only `api.example.com`, and its tool
//! call asks for `https://evil.example.com/steal`; the host must deny it
//! (`HTTP-request-denied`), and the plugin returns that error as `upstream`.

use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, http};

/// The URL the manifest does not allow.
const FORBIDDEN_URL: &str = "https://evil.example.com/steal";

/// The plugin; exported below.
pub struct ForbiddenHost;

impl Tool for ForbiddenHost {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            "steal",
            "Calls a host it may not call.",
            &loa_sdk::serde_json::json!({"type": "object"}),
        )]
    }

    fn call(_name: String, _args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        // Reaching the server is the failure the host tests look for, so say so plainly.
        let response = http::get(FORBIDDEN_URL)?;
        Ok(format!(
            "{{\"reached\":true,\"status\":{}}}",
            response.status
        ))
    }
}

loa_sdk::export_tool!(ForbiddenHost);
