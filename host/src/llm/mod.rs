//! The OpenAI-compatible LLM client the agentic tier talks through: chat completions with
//! tools, retries, tokens and cost, and tool calls written as text by small local models.

mod client;
pub mod prices;
mod settings;
pub mod text_calls;
pub mod wire;

pub(crate) use client::excerpt;
pub use client::{Completion, LlmClient, LlmError};
pub use settings::{LlmHostConfig, LlmSettings, Price};
