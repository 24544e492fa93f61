//! A bot's LLM settings: which OpenAI-compatible endpoint, which model, and the bounds of
//! one agentic turn (steps, tokens, time).

use serde::{Deserialize, Serialize};

/// The LLM a bot uses for its agentic tier. Without it, the tier is skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Base URL of an OpenAI-compatible API, up to and including `/v1`
    /// (`https://api.openai.com/v1`, `http://127.0.0.1:8080/v1` for llama.cpp,
    /// `http://127.0.0.1:11434/v1` for Ollama).
    pub base_url: String,
    /// Model name as the endpoint knows it (`gpt-4o-mini`, `qwen2.5:7b-instruct`).
    pub model: String,
    /// API key sent as a Bearer token; none for local servers. A secret: stored encrypted,
    /// shown as `"********"`, and `"********"` in a write keeps the stored key.
    pub api_key: Option<String>,
    /// Sampling temperature, `0.0..=2.0`. Default 0.2: answers grounded in tool results,
    /// not creative writing.
    pub temperature: f32,
    /// Most model calls in one turn (each may call tools). Default 4, at most 10.
    pub max_steps: u32,
    /// Most tokens (prompt + completion, summed over the steps) one turn may use. Default
    /// 8,000.
    pub token_budget: u32,
    /// Most completion tokens per model call. Default 600: a chat reply, not an essay.
    pub max_reply_tokens: u32,
    /// Deadline of one model call in ms, retries not included. Default 20,000.
    pub timeout_ms: u64,
    /// Retries of one model call after a 429, a 5xx or a timeout. Default 2.
    pub max_retries: u32,
    /// Price per million tokens, for the cost in each turn's trace; when absent, the host's
    /// table for well-known models, else 0 (a local model).
    pub price: Option<Price>,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-4o-mini".into(),
            api_key: None,
            temperature: 0.2,
            max_steps: 4,
            token_budget: 8_000,
            max_reply_tokens: 600,
            timeout_ms: 20_000,
            max_retries: 2,
            price: None,
        }
    }
}

/// The host's policy for every bot's model endpoint (`[llm]` in `loa.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmHostConfig {
    /// Let bots' `llm.base_url` reach loopback, private and link-local addresses. Default
    /// false: a tenant's admin must not make this host probe its own network (cloud metadata
    /// at 169.254.169.254 …). Set it to run a model on this machine or the shop's LAN
    /// (llama.cpp, Ollama).
    pub allow_private_network: bool,
}

/// What a model's tokens cost, in US dollars per million.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million prompt tokens.
    pub input_per_million: f64,
    /// Per million completion tokens.
    pub output_per_million: f64,
}

impl LlmSettings {
    /// What is wrong with these settings, if anything, naming the field.
    pub fn problem(&self) -> Option<String> {
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Some(format!(
                "llm.base_url '{url}' must be an http:// or https:// URL"
            ));
        }
        if self.model.trim().is_empty() {
            return Some("llm.model must name a model".into());
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Some(format!(
                "llm.temperature is {}; it must be between 0 and 2",
                self.temperature
            ));
        }
        if !(1..=10).contains(&self.max_steps) {
            return Some(format!(
                "llm.max_steps is {}; it must be between 1 and 10",
                self.max_steps
            ));
        }
        if !(500..=200_000).contains(&self.token_budget) {
            return Some(format!(
                "llm.token_budget is {}; it must be between 500 and 200000",
                self.token_budget
            ));
        }
        if !(16..=8_000).contains(&self.max_reply_tokens) {
            return Some(format!(
                "llm.max_reply_tokens is {}; it must be between 16 and 8000",
                self.max_reply_tokens
            ));
        }
        if !(100..=120_000).contains(&self.timeout_ms) {
            return Some(format!(
                "llm.timeout_ms is {}; it must be between 100 and 120000",
                self.timeout_ms
            ));
        }
        if self.max_retries > 5 {
            return Some(format!(
                "llm.max_retries is {}; it must be at most 5",
                self.max_retries
            ));
        }
        if let Some(price) = self.price
            && !(price.input_per_million >= 0.0 && price.output_per_million >= 0.0)
        {
            return Some("llm.price must not be negative".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_bad_field_is_named() {
        assert_eq!(LlmSettings::default().problem(), None);
        let bad = LlmSettings {
            max_steps: 0,
            ..LlmSettings::default()
        };
        assert!(bad.problem().is_some_and(|p| p.contains("llm.max_steps")));
        let bad = LlmSettings {
            base_url: "ftp://x".into(),
            ..LlmSettings::default()
        };
        assert!(bad.problem().is_some_and(|p| p.contains("llm.base_url")));
    }

    #[test]
    fn a_partial_section_takes_defaults() {
        let settings: LlmSettings =
            serde_json::from_str(r#"{"base_url":"http://127.0.0.1:8080/v1","model":"qwen"}"#)
                .expect("parse");
        assert_eq!(settings.max_steps, 4);
        assert_eq!(settings.api_key, None);
    }
}
