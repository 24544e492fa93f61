//! loa tool plugin `order-status`: tool `get_order_status` asks the shop's order API
//! (`GET {api_base_url}/orders/{order_id}`) and returns what it says. An order in a status
//! staff must handle (a failed delivery …) also asks the host for a person.

mod lookup;

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::{CallContext, PluginError, Tool, ToolSpec, config, handover, log};

/// Name of the one tool this plugin offers.
const TOOL_NAME: &str = "get_order_status";

/// Per-request HTTP timeout: under the manifest's 1500 ms call limit, so a slow API gives a
/// clear upstream error instead of the host killing the call.
const HTTP_TIMEOUT: Duration = Duration::from_millis(1200);

/// The plugin; exported below.
pub struct OrderStatus;

impl Tool for OrderStatus {
    fn list_tools() -> Vec<ToolSpec> {
        vec![ToolSpec::new(
            TOOL_NAME,
            "Looks up the current status of a customer's order (e.g. pending, shipped, \
             delivered) by its order id, as printed on the receipt or confirmation message.",
            &lookup::input_schema(),
        )]
    }

    fn call(name: String, args_json: String, _ctx: CallContext) -> Result<String, PluginError> {
        if name != TOOL_NAME {
            return Err(PluginError::NotFound(format!(
                "no tool named '{name}' (this plugin has '{TOOL_NAME}')"
            )));
        }
        let order_id = lookup::parse_order_id(&args_json)?;
        let url = lookup::order_url(&config::require("api_base_url")?, &order_id);
        let api_key = config::require("api_key")?;

        let response = Request::get(url)
            .bearer_auth(&api_key)
            .header("accept", "application/json")
            .timeout(HTTP_TIMEOUT)
            .send()
            .inspect_err(|error| {
                log::warn(
                    "order lookup failed",
                    &[("order_id", &order_id), ("error", &error.to_string())],
                );
            })?;
        log::info(
            "order lookup",
            &[
                ("order_id", &order_id),
                ("http_status", &response.status.to_string()),
            ],
        );
        let result = lookup::interpret_response(&order_id, response.status, &response.body)?;
        let statuses = config::get_or("handover_statuses", lookup::DEFAULT_HANDOVER_STATUSES);
        if let Some(reason) = lookup::needs_person(&result, &statuses) {
            log::info("order needs a person", &[("order_id", &order_id)]);
            handover::request(&reason);
        }
        Ok(result)
    }
}

loa_sdk::export_tool!(OrderStatus);
