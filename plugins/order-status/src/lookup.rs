//! The pure part of the lookup: arguments in, URL out, API answer to tool result.

use loa_sdk::{PluginError, http};
use serde_json::{Map, Value};

/// Longest order id accepted; real ids are short, and this keeps junk out of URLs and logs.
const MAX_ORDER_ID_CHARS: usize = 64;

/// JSON Schema of the tool's arguments.
pub fn input_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "order_id": {
                "type": "string",
                "description": "The order id, e.g. A123",
                "minLength": 1,
                "maxLength": MAX_ORDER_ID_CHARS
            }
        },
        "required": ["order_id"],
        "additionalProperties": false
    })
}

/// The order id from the arguments. A number is accepted too (models sometimes drop the
/// quotes around numeric ids); anything else is [`PluginError::InvalidInput`].
pub fn parse_order_id(args_json: &str) -> Result<String, PluginError> {
    let invalid = |message: String| PluginError::InvalidInput(message);
    let args: Value = serde_json::from_str(args_json)
        .map_err(|error| invalid(format!("arguments are not valid JSON: {error}")))?;
    let Value::Object(args) = args else {
        return Err(invalid(
            r#"arguments must be a JSON object like {"order_id": "A123"}"#.into(),
        ));
    };
    let order_id = match args.get("order_id") {
        Some(Value::String(id)) => id.trim().to_owned(),
        Some(Value::Number(id)) => id.to_string(),
        Some(_) => return Err(invalid("order_id must be a string, e.g. \"A123\"".into())),
        None => return Err(invalid("missing argument order_id".into())),
    };
    if order_id.is_empty() {
        return Err(invalid("order_id must not be empty".into()));
    }
    if order_id.chars().count() > MAX_ORDER_ID_CHARS {
        return Err(invalid(format!(
            "order_id is longer than {MAX_ORDER_ID_CHARS} characters"
        )));
    }
    Ok(order_id)
}

/// `{base}/orders/{order_id}`, the id percent-encoded so `A/1` cannot escape the path.
pub fn order_url(api_base_url: &str, order_id: &str) -> String {
    format!(
        "{}/orders/{}",
        api_base_url.trim().trim_end_matches('/'),
        http::percent_encode(order_id)
    )
}

/// The tool result for the API's answer: on 200 the API's JSON object with `order_id` added
/// when it lacks one; 404 is [`PluginError::NotFound`]; anything else is upstream trouble.
pub fn interpret_response(order_id: &str, status: u16, body: &[u8]) -> Result<String, PluginError> {
    match status {
        200 => {
            let mut order = parse_order(order_id, body)?;
            order
                .entry("order_id")
                .or_insert_with(|| Value::String(order_id.to_owned()));
            Ok(Value::Object(order).to_string())
        }
        404 => Err(PluginError::NotFound(format!("order {order_id} not found"))),
        401 | 403 => Err(PluginError::Upstream(format!(
            "order API refused the request (HTTP {status}); check the api_key setting"
        ))),
        _ => Err(PluginError::Upstream(format!(
            "order API answered HTTP {status} for order {order_id}"
        ))),
    }
}

/// Order statuses a person must handle, by default (the config key `handover_statuses`
/// replaces them): a failed or lost delivery needs staff to arrange a new one.
pub const DEFAULT_HANDOVER_STATUSES: &str = "delivery_failed,lost,damaged,returned_to_sender";

/// Why a person should take over, when the order's `status` (in a tool result from
/// [`interpret_response`]) is one of `statuses` (comma-separated, case-insensitive).
pub fn needs_person(result: &str, statuses: &str) -> Option<String> {
    let order: Value = serde_json::from_str(result).ok()?;
    let status = order.get("status")?.as_str()?;
    let listed = statuses
        .split(',')
        .map(str::trim)
        .any(|listed| !listed.is_empty() && listed.eq_ignore_ascii_case(status));
    listed.then(|| {
        let id = order.get("order_id").and_then(Value::as_str).unwrap_or("?");
        let text = order
            .get("status_text")
            .and_then(Value::as_str)
            .unwrap_or(status);
        format!("order {id} is '{status}' ({text}): staff must arrange what happens next")
    })
}

fn parse_order(order_id: &str, body: &[u8]) -> Result<Map<String, Value>, PluginError> {
    let upstream =
        |what: &str| PluginError::Upstream(format!("order API answer for order {order_id} {what}"));
    match serde_json::from_slice(body) {
        Ok(Value::Object(order)) if order.contains_key("status") => Ok(order),
        Ok(Value::Object(_)) => Err(upstream("has no 'status' field")),
        Ok(_) => Err(upstream("is not a JSON object")),
        Err(_) => Err(upstream("is not JSON")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_status_needs_a_person_and_others_do_not() {
        let failed =
            r#"{"order_id":"C789","status":"delivery_failed","status_text":"Giao thất bại"}"#;
        let reason = needs_person(failed, DEFAULT_HANDOVER_STATUSES).expect("needs a person");
        assert!(
            reason.contains("C789") && reason.contains("Giao thất bại"),
            "{reason}"
        );
        let shipping = r#"{"order_id":"A123","status":"shipping"}"#;
        assert_eq!(needs_person(shipping, DEFAULT_HANDOVER_STATUSES), None);
        assert!(needs_person(shipping, " Shipping ,x").is_some());
    }

    #[test]
    fn order_id_is_read_and_trimmed() {
        assert_eq!(parse_order_id(r#"{"order_id": " A123 "}"#).unwrap(), "A123");
    }

    #[test]
    fn numeric_order_id_is_accepted() {
        assert_eq!(parse_order_id(r#"{"order_id": 1042}"#).unwrap(), "1042");
    }

    #[test]
    fn missing_order_id_is_invalid_input() {
        assert_eq!(
            parse_order_id("{}").unwrap_err(),
            PluginError::InvalidInput("missing argument order_id".into())
        );
    }

    #[test]
    fn empty_wrong_type_and_broken_arguments_are_invalid_input() {
        for args in [
            r#"{"order_id": ""}"#,
            r#"{"order_id": true}"#,
            "[1]",
            "{oops",
        ] {
            let error = parse_order_id(args).unwrap_err();
            assert_eq!(error.kind(), "invalid-input", "{args}: {error:?}");
        }
    }

    #[test]
    fn overlong_order_id_is_invalid_input() {
        let args = serde_json::json!({ "order_id": "x".repeat(65) }).to_string();
        assert!(
            parse_order_id(&args)
                .unwrap_err()
                .message()
                .contains("longer than 64")
        );
    }

    #[test]
    fn url_joins_base_and_encoded_id() {
        assert_eq!(
            order_url("https://shop.example.com/api/", "A 1/2"),
            "https://shop.example.com/api/orders/A%201%2F2"
        );
    }

    #[test]
    fn ok_answer_passes_the_api_object_through_with_order_id() {
        let result = interpret_response("A123", 200, br#"{"status":"shipped","carrier":"GHN"}"#);
        let result: Value = serde_json::from_str(&result.unwrap()).unwrap();
        assert_eq!(
            result,
            serde_json::json!({"order_id": "A123", "status": "shipped", "carrier": "GHN"})
        );
    }

    #[test]
    fn not_found_names_the_order() {
        assert_eq!(
            interpret_response("A123", 404, b"").unwrap_err(),
            PluginError::NotFound("order A123 not found".into())
        );
    }

    #[test]
    fn other_status_is_upstream_with_the_status() {
        let error = interpret_response("A123", 502, b"bad gateway").unwrap_err();
        assert_eq!(error.kind(), "upstream");
        assert!(error.message().contains("HTTP 502"), "{error:?}");
    }

    #[test]
    fn answer_without_status_is_upstream() {
        let error = interpret_response("A123", 200, br#"{"id":"A123"}"#).unwrap_err();
        assert!(error.message().contains("no 'status' field"), "{error:?}");
    }
}
