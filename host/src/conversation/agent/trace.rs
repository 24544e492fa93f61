//! The record of one agentic turn, stored in its decision and shown in the console: every
//! step (prompt size, tokens, latency, what the model said), every tool call (arguments,
//! result excerpt, error), the totals, the cost and why the turn stopped.

use serde::Serialize;

/// Why an agentic turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The model answered from tools or knowledge.
    Answered,
    /// The model said the tools and knowledge do not answer.
    CannotAnswer,
    /// It answered with neither a tool result nor knowledge to rest on.
    Ungrounded,
    /// It still wanted tools after the last allowed step.
    StepLimit,
    /// The turn's token budget ran out.
    TokenBudget,
    /// The model endpoint failed (after its retries) or answered nothing usable.
    ModelError,
}

impl Stop {
    /// Its name in the trace (`step_limit` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::CannotAnswer => "cannot_answer",
            Self::Ungrounded => "ungrounded",
            Self::StepLimit => "step_limit",
            Self::TokenBudget => "token_budget",
            Self::ModelError => "model_error",
        }
    }
}

/// One agentic turn.
#[derive(Debug, Clone, Serialize)]
pub struct AgentTrace {
    /// The model asked.
    pub model: String,
    /// Sources of the knowledge passages given to the model.
    pub knowledge: Vec<String>,
    /// Tools offered (besides `cannot_answer`).
    pub tools_offered: Vec<String>,
    /// Each model call, in order.
    pub steps: Vec<StepTrace>,
    /// Tokens over all steps.
    pub prompt_tokens: u32,
    /// Completion tokens over all steps.
    pub completion_tokens: u32,
    /// What they cost, in US dollars (0 for a model without a price).
    pub cost_usd: f64,
    /// Why the turn ended.
    pub stop: Stop,
    /// What went wrong, when something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A tool asked for a person: which plugin, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handover: Option<ToolHandover>,
}

/// One model call.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepTrace {
    /// 1-based.
    pub step: u32,
    /// Messages sent.
    pub prompt_messages: usize,
    /// Characters sent (messages and tool definitions).
    pub prompt_chars: usize,
    /// Prompt tokens, as the server counted them.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Time of the call, retries included.
    pub latency_ms: u64,
    /// HTTP attempts (more than 1 after a 429, 5xx or timeout).
    pub attempts: u32,
    /// `stop`, `tool_calls`, `length` …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// What the model wrote, cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Tools it called.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<CallTrace>,
    /// Why its text was not taken (a broken JSON tool call …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// Why the call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One tool call.
#[derive(Debug, Clone, Serialize)]
pub struct CallTrace {
    /// The offered name (`catalog__search_products`).
    pub tool: String,
    /// The arguments (JSON when they parsed, else the text as written).
    pub arguments: serde_json::Value,
    /// Whether it returned a result.
    pub ok: bool,
    /// The error code when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The start of what the model was told.
    pub result: String,
    /// The result was cut for the model.
    pub truncated: bool,
    /// The plugin that ran (`catalog@0.1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// Time of the call.
    pub latency_ms: u64,
    /// The same call was made earlier in the turn; the plugin was not called again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
}

/// A tool's request for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolHandover {
    /// The plugin (`order-status@0.1.0`).
    pub plugin: String,
    /// Its reason.
    pub reason: String,
}
