//! The OpenAI chat-completions format on the wire: what the client sends and reads.
//! Fields other servers add are ignored; fields they leave out take defaults.

use serde::{Deserialize, Serialize};

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text; `null` on an assistant message that only calls tools.
    #[serde(default)]
    pub content: Option<String>,
    /// Tools the assistant calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// On a `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    /// A message from `role` with `text`.
    pub fn text(role: &str, text: impl Into<String>) -> Self {
        Self {
            role: role.to_owned(),
            content: Some(text.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A tool's result for the call `call_id`.
    pub fn tool_result(call_id: &str, text: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.to_owned()),
            ..Self::text("tool", text)
        }
    }
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The model's id for the call, echoed in the `tool` message answering it.
    #[serde(default)]
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// Which function, with what arguments.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".into()
}

/// The function part of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The tool's name as offered.
    pub name: String,
    /// The arguments as JSON text (as the model wrote it: may be malformed).
    #[serde(default)]
    pub arguments: String,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDefinition {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: FunctionDefinition,
}

/// Name, description and parameters of an offered function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionDefinition {
    /// `^[a-zA-Z0-9_-]{1,64}$`.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// The body of `POST {base_url}/chat/completions`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest<'a> {
    /// Model name.
    pub model: &'a str,
    /// The conversation so far.
    pub messages: &'a [ChatMessage],
    /// Tools the model may call; left out when none.
    #[serde(skip_serializing_if = "<[ToolDefinition]>::is_empty")]
    pub tools: &'a [ToolDefinition],
    /// Sampling temperature.
    pub temperature: f32,
    /// Most completion tokens.
    pub max_tokens: u32,
}

/// The parts of a chat-completions answer the host reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatResponse {
    /// Alternatives; the host asks for one.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Tokens used, when the server reports them.
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// One alternative of an answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    /// What the model said.
    pub message: ChatMessage,
    /// `stop`, `tool_calls`, `length` …
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Tokens one call used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// In the prompt.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// In the completion.
    #[serde(default)]
    pub completion_tokens: u32,
}

impl Usage {
    /// Prompt and completion together.
    pub fn total(&self) -> u32 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    /// Adds `other` to this.
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_answer_with_tool_calls_and_usage() {
        let body = r#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":null,
            "tool_calls":[{"id":"call_1","type":"function","function":{"name":"catalog__search_products",
            "arguments":"{\"query\":\"linen\"}"}}]},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150}}"#;
        let answer: ChatResponse = serde_json::from_str(body).expect("parse");
        let message = &answer.choices[0].message;
        assert_eq!(message.content, None);
        assert_eq!(
            message.tool_calls[0].function.name,
            "catalog__search_products"
        );
        assert_eq!(answer.usage.map(|usage| usage.total()), Some(150));
    }

    #[test]
    fn a_request_leaves_out_empty_tools() {
        let messages = [ChatMessage::text("user", "chào")];
        let request = ChatRequest {
            model: "m",
            messages: &messages,
            tools: &[],
            temperature: 0.2,
            max_tokens: 100,
        };
        let json = serde_json::to_value(&request).expect("json");
        assert!(json.get("tools").is_none());
        assert_eq!(json["messages"][0]["content"], "chào");
        assert!(json["messages"][0].get("tool_calls").is_none());
    }
}
