//! Tool calls written as JSON in the message text. Small local models (Qwen2.5 0.5B–7B on
//! llama.cpp or Ollama) often answer `{"name": "...", "arguments": {...}}`, maybe inside a
//! ```json fence or `<tool_call>` tags, instead of using `tool_calls`. Such a reply is taken
//! as a call only when the whole text is one call (or a list of calls) naming an offered
//! tool; the arguments are then checked against the tool's schema like any other call.

use serde_json::Value;

use super::wire::{FunctionCall, ToolCall};

/// What the text of a model's reply is.
#[derive(Debug, Clone, PartialEq)]
pub enum TextReply {
    /// An answer for the customer.
    Answer,
    /// Tool calls, as if the model had used `tool_calls`.
    Calls(Vec<ToolCall>),
    /// It tries to be a tool call and is not one; the reason is told to the model.
    Malformed(String),
}

/// Reads `text` as tool calls when it is one, given the offered tool names.
pub fn read(text: &str, offered: &[&str]) -> TextReply {
    let Some(body) = unwrap(text) else {
        return TextReply::Answer;
    };
    let value: Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(error) => {
            return TextReply::Malformed(format!("the tool call is not valid JSON: {error}"));
        }
    };
    let items = match value {
        Value::Array(items) if !items.is_empty() => items,
        Value::Object(_) => vec![value],
        _ => {
            return TextReply::Malformed(
                "a tool call must be an object {\"name\": ..., \"arguments\": {...}}".into(),
            );
        }
    };
    let mut calls = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match call(item, offered) {
            Ok(function) => calls.push(ToolCall {
                id: format!("text_call_{}", index + 1),
                kind: "function".into(),
                function,
            }),
            Err(reason) => return TextReply::Malformed(reason),
        }
    }
    TextReply::Calls(calls)
}

/// The JSON inside `text` when the text is meant as JSON (bare, fenced or tagged).
fn unwrap(text: &str) -> Option<&str> {
    let mut body = text.trim();
    if let Some(inner) = body
        .strip_prefix("<tool_call>")
        .and_then(|rest| rest.strip_suffix("</tool_call>"))
    {
        body = inner.trim();
    } else if let Some(inner) = body
        .strip_prefix("```")
        .and_then(|rest| rest.strip_suffix("```"))
    {
        let inner = inner.trim_start();
        body = inner.strip_prefix("json").unwrap_or(inner).trim();
    }
    // A reply for a customer does not start with a brace; a cut-off call does.
    (body.starts_with('{') || body.starts_with('[')).then_some(body)
}

/// One `{"name": .., "arguments": ..}` object; `parameters` is accepted for `arguments`, and
/// arguments given as a JSON string are read as the object inside it.
fn call(item: Value, offered: &[&str]) -> Result<FunctionCall, String> {
    let Value::Object(mut object) = item else {
        return Err("each tool call must be an object".into());
    };
    let name = match object.remove("name") {
        Some(Value::String(name)) => name,
        _ => return Err("a tool call needs a string \"name\"".into()),
    };
    if !offered.contains(&name.as_str()) {
        return Err(format!(
            "there is no tool '{name}'; the tools are: {}",
            offered.join(", ")
        ));
    }
    let arguments = object
        .remove("arguments")
        .or_else(|| object.remove("parameters"))
        .unwrap_or_else(|| Value::Object(Default::default()));
    let arguments = match arguments {
        Value::String(text) => text,
        object @ Value::Object(_) => object.to_string(),
        _ => return Err(format!("the arguments of '{name}' must be a JSON object")),
    };
    if let Some(extra) = object.keys().next() {
        return Err(format!(
            "unexpected field '{extra}' in the call of '{name}'; use {{\"name\": ..., \"arguments\": {{...}}}}"
        ));
    }
    Ok(FunctionCall { name, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: &[&str] = &["catalog__search_products", "catalog__get_product"];

    fn calls(reply: TextReply) -> Vec<(String, String)> {
        match reply {
            TextReply::Calls(calls) => calls
                .into_iter()
                .map(|call| (call.function.name, call.function.arguments))
                .collect(),
            other => panic!("not calls: {other:?}"),
        }
    }

    #[test]
    fn plain_text_is_an_answer() {
        assert_eq!(read("Dạ, áo còn size M ạ.", OFFERED), TextReply::Answer);
        assert_eq!(read("Giá {tuỳ} mẫu", OFFERED), TextReply::Answer);
    }

    #[test]
    fn bare_fenced_and_tagged_calls_are_read() {
        let bare = r#"{"name":"catalog__search_products","arguments":{"query":"linen"}}"#;
        assert_eq!(
            calls(read(bare, OFFERED)),
            vec![(
                "catalog__search_products".into(),
                r#"{"query":"linen"}"#.into()
            )]
        );
        let fenced = format!("```json\n{bare}\n```");
        assert_eq!(calls(read(&fenced, OFFERED)).len(), 1);
        let tagged = format!("<tool_call>\n{bare}\n</tool_call>");
        assert_eq!(calls(read(&tagged, OFFERED)).len(), 1);
        let string_args =
            r#"{"name":"catalog__get_product","parameters":"{\"product_id\":\"sm-01\"}"}"#;
        assert_eq!(
            calls(read(string_args, OFFERED))[0].1,
            r#"{"product_id":"sm-01"}"#
        );
    }

    #[test]
    fn broken_or_unknown_calls_say_what_is_wrong() {
        let TextReply::Malformed(reason) = read(r#"{"name":"catalog__search_products","#, OFFERED)
        else {
            panic!("not malformed");
        };
        assert!(reason.contains("not valid JSON"), "{reason}");
        let TextReply::Malformed(reason) = read(r#"{"name":"other__drop_db"}"#, OFFERED) else {
            panic!("not malformed");
        };
        assert!(reason.contains("no tool 'other__drop_db'"), "{reason}");
        let TextReply::Malformed(reason) = read(
            r#"{"name":"catalog__get_product","arguments":[1],"x":1}"#,
            OFFERED,
        ) else {
            panic!("not malformed");
        };
        assert!(reason.contains("must be a JSON object"), "{reason}");
    }
}
