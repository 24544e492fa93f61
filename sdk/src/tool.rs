//! Tool plugins: the [`Tool`] trait, [`export_tool!`](crate::export_tool), and argument helpers.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::{CallContext, PluginError, ToolSpec};

/// A plugin that offers tools to an LLM or a flow (WIT interface `loa:plugin/tools`).
///
/// The functions take no `self`: every call may land on a fresh instance, so a plugin keeps
/// nothing between calls except what it puts in [`kv`](crate::kv).
pub trait Tool {
    /// The tools this plugin offers (the same list on every call: it may be cached).
    fn list_tools() -> Vec<ToolSpec>;

    /// Calls the tool `name` with its arguments (a JSON object as text); returns a JSON value
    /// as text. An unknown `name` should give [`PluginError::NotFound`].
    fn call(name: String, args_json: String, ctx: CallContext) -> Result<String, PluginError>;
}

/// Parses a tool's JSON arguments; a parse failure becomes [`PluginError::InvalidInput`] with
/// serde's explanation (`missing field `order_id``), which the model can act on.
pub fn parse_args<T: DeserializeOwned>(args_json: &str) -> Result<T, PluginError> {
    serde_json::from_str(args_json)
        .map_err(|error| PluginError::InvalidInput(format!("invalid arguments: {error}")))
}

/// Serializes a tool's result to JSON text; a failure (a map with non-string keys ...) is a
/// bug in the plugin, so it becomes [`PluginError::Internal`].
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, PluginError> {
    serde_json::to_string(value)
        .map_err(|error| PluginError::Internal(format!("cannot serialize result: {error}")))
}

/// Exports a type implementing [`Tool`] as this component's `loa:plugin/tools` interface.
///
/// Call it once, in the plugin's `lib.rs`: `loa_sdk::export_tool!(MyTools);`. Needs the
/// sdk's `tool` feature.
#[cfg(feature = "tool")]
#[macro_export]
macro_rules! export_tool {
    ($ty:ident) => {
        impl $crate::bindings::tool::exports::loa::plugin::tools::Guest for $ty {
            fn list_tools() -> ::std::vec::Vec<$crate::ToolSpec> {
                <$ty as $crate::Tool>::list_tools()
            }

            fn call(
                name: ::std::string::String,
                args_json: ::std::string::String,
                context: $crate::CallContext,
            ) -> ::core::result::Result<::std::string::String, $crate::PluginError> {
                <$ty as $crate::Tool>::call(name, args_json, context)
            }
        }

        // Only wasm gets the export glue: its symbol names (`loa:plugin/tools@0.3.0#call`)
        // are not valid in a native linker's version script, and nothing native calls them.
        #[cfg(target_arch = "wasm32")]
        $crate::__export_tool_provider_impl!($ty with_types_in $crate::bindings::tool);
    };
}

/// Exports a type implementing [`Tool`] as this component's `loa:plugin/tools` interface.
///
/// The sdk's `tool` feature is off, so this export does nothing on a native build (native
/// builds never export anything) and fails the build for `wasm32`, where it matters.
#[cfg(not(feature = "tool"))]
#[macro_export]
macro_rules! export_tool {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        compile_error!(
            "loa_sdk::export_tool! needs the sdk's `tool` feature: \
             loa-sdk = { path = \"...\", features = [\"tool\"] }"
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Args {
        #[allow(dead_code, reason = "only its presence is tested")]
        order_id: String,
    }

    #[test]
    fn parse_args_reports_missing_field_as_invalid_input() {
        let error = parse_args::<Args>("{}").unwrap_err();
        assert!(
            matches!(&error, PluginError::InvalidInput(message) if message.contains("missing field `order_id`")),
            "{error:?}"
        );
    }

    #[test]
    fn parse_args_reports_broken_json_as_invalid_input() {
        let error = parse_args::<Args>("{not json").unwrap_err();
        assert_eq!(error.kind(), "invalid-input");
    }
}
