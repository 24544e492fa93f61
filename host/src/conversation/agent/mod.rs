//! The agentic tier: an LLM answers with the tools of the bot's tool plugins, in a bounded
//! number of steps and tokens, grounded in what the tools return and the shop's knowledge.
//! Every step lands in an [`AgentTrace`]; whatever the model does (malformed calls, unknown
//! tools, loops, errors) the turn ends with an answer, a bounded stop or a handover.

pub mod prompt;
pub mod toolbox;
pub mod trace;

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use self::prompt::{CANNOT_ANSWER, Passage};
use self::toolbox::{ToolListCache, Toolbox};
use self::trace::{AgentTrace, CallTrace, StepTrace, Stop, ToolHandover};
use super::model::Bot;
use crate::llm::text_calls::{self, TextReply};
use crate::llm::wire::{ChatMessage, ToolCall, ToolDefinition, Usage};
use crate::llm::{LlmClient, LlmSettings, excerpt, prices};
use crate::plugins::registry::PluginRegistry;
use crate::plugins::types::CallContext;

/// Fewest completion tokens worth asking for; below it the budget counts as spent.
const MIN_REPLY_TOKENS: u32 = 16;

/// Runs agentic turns. One per host.
pub struct Agent {
    client: LlmClient,
    registry: Option<Arc<PluginRegistry>>,
    tool_lists: ToolListCache,
}

/// What one agentic turn is about.
pub struct AgentRequest<'a> {
    /// The bot answering.
    pub bot: &'a Bot,
    /// Its LLM.
    pub settings: &'a LlmSettings,
    /// Who is asking, passed to every tool.
    pub context: &'a CallContext,
    /// The conversation's language (`vi`, `en`).
    pub language: &'a str,
    /// Knowledge given to the model, with sources.
    pub passages: Vec<Passage>,
    /// Earlier messages of the conversation.
    pub history: Vec<ChatMessage>,
    /// The customer's question.
    pub question: &'a str,
}

/// How one agentic turn ended.
#[derive(Debug, Clone)]
pub struct AgentRun {
    /// The answer for the customer, when the model gave a grounded one.
    pub answer: Option<String>,
    /// Everything that happened.
    pub trace: AgentTrace,
}

impl AgentRun {
    /// Tokens spent, prompt and completion.
    pub fn tokens(&self) -> u64 {
        u64::from(self.trace.prompt_tokens) + u64::from(self.trace.completion_tokens)
    }
}

impl Agent {
    /// An agent whose tools come from `registry` (none: the model gets no tools).
    pub fn new(client: LlmClient, registry: Option<Arc<PluginRegistry>>) -> Self {
        Self {
            client,
            registry,
            tool_lists: ToolListCache::default(),
        }
    }

    /// Runs one turn.
    pub async fn run(&self, request: AgentRequest<'_>) -> AgentRun {
        let toolbox = Toolbox::for_bot(self.registry.as_ref(), &self.tool_lists, request.bot).await;
        let mut definitions: Vec<ToolDefinition> = toolbox.definitions().cloned().collect();
        definitions.push(prompt::cannot_answer_definition());
        let mut offered = toolbox.names();
        offered.push(CANNOT_ANSWER);
        let mut messages = vec![prompt::system(
            request.bot,
            request.language,
            &request.passages,
        )];
        messages.extend(request.history);
        messages.push(ChatMessage::text("user", request.question));
        let mut turn = Turn {
            trace: AgentTrace {
                model: request.settings.model.clone(),
                knowledge: request.passages.iter().map(|p| p.source.clone()).collect(),
                tools_offered: toolbox
                    .names()
                    .iter()
                    .map(|name| (*name).to_owned())
                    .collect(),
                steps: Vec::new(),
                prompt_tokens: 0,
                completion_tokens: 0,
                cost_usd: 0.0,
                stop: Stop::StepLimit,
                error: None,
                handover: None,
            },
            usage: Usage::default(),
            tool_succeeded: false,
            calls_made: Vec::new(),
        };
        let tools_chars = serde_json::to_string(&definitions).map_or(0, |text| text.len());
        let settings = request.settings;
        let mut answer = None;
        for step in 1..=settings.max_steps {
            let left = settings.token_budget.saturating_sub(turn.usage.total());
            if left < MIN_REPLY_TOKENS {
                turn.trace.stop = Stop::TokenBudget;
                break;
            }
            let mut record = StepTrace {
                step,
                prompt_messages: messages.len(),
                prompt_chars: tools_chars + prompt_chars(&messages),
                ..StepTrace::default()
            };
            let completion = match self
                .client
                .complete(
                    settings,
                    &messages,
                    &definitions,
                    settings.max_reply_tokens.min(left),
                )
                .await
            {
                Ok(completion) => completion,
                Err(error) => {
                    record.error = Some(error.to_string());
                    turn.trace.steps.push(record);
                    turn.trace.stop = Stop::ModelError;
                    turn.trace.error = Some(error.to_string());
                    break;
                }
            };
            turn.usage.add(completion.usage);
            record.prompt_tokens = completion.usage.prompt_tokens;
            record.completion_tokens = completion.usage.completion_tokens;
            record.latency_ms = u64::try_from(completion.latency.as_millis()).unwrap_or(u64::MAX);
            record.attempts = completion.attempts;
            record.finish_reason = completion.finish_reason.clone();
            let text = completion.message.content.clone().unwrap_or_default();
            record.text = (!text.trim().is_empty()).then(|| excerpt(&text));
            let calls = if completion.message.tool_calls.is_empty() {
                match text_calls::read(&text, &offered) {
                    TextReply::Answer => Vec::new(),
                    TextReply::Calls(calls) => calls,
                    TextReply::Malformed(reason) => {
                        // Told to the model; the next step may get it right.
                        record.rejected = Some(reason.clone());
                        messages.push(ChatMessage::text("assistant", text));
                        messages.push(ChatMessage::text(
                            "user",
                            format!(
                                "(host) Your last reply was neither an answer nor a valid tool \
                                 call: {reason}. Call a tool with valid JSON arguments, or \
                                 answer the customer in plain text."
                            ),
                        ));
                        turn.trace.steps.push(record);
                        continue;
                    }
                }
            } else {
                completion.message.tool_calls.clone()
            };
            if calls.is_empty() {
                turn.trace.steps.push(record);
                if text.trim().is_empty() {
                    turn.trace.stop = Stop::ModelError;
                    turn.trace.error = Some("the model answered nothing".into());
                } else if turn.tool_succeeded || !request.passages.is_empty() {
                    turn.trace.stop = Stop::Answered;
                    answer = Some(text.trim().to_owned());
                } else {
                    turn.trace.stop = Stop::Ungrounded;
                }
                break;
            }
            if let Some(cannot) = calls.iter().find(|c| c.function.name == CANNOT_ANSWER) {
                record.tool_calls.push(cannot_answer_trace(cannot));
                turn.trace.steps.push(record);
                turn.trace.stop = Stop::CannotAnswer;
                break;
            }
            let calls = with_ids(calls, step);
            messages.push(ChatMessage {
                role: "assistant".into(),
                content: None,
                tool_calls: calls.clone(),
                tool_call_id: None,
            });
            for call in &calls {
                let (for_model, call_trace) = turn.call(&toolbox, call, request.context).await;
                messages.push(ChatMessage::tool_result(&call.id, for_model));
                record.tool_calls.push(call_trace);
            }
            turn.trace.steps.push(record);
        }
        turn.trace.prompt_tokens = turn.usage.prompt_tokens;
        turn.trace.completion_tokens = turn.usage.completion_tokens;
        turn.trace.cost_usd = prices::cost_usd(prices::price_of(settings), turn.usage);
        AgentRun {
            answer,
            trace: turn.trace,
        }
    }
}

/// What one turn has done so far.
struct Turn {
    trace: AgentTrace,
    usage: Usage,
    tool_succeeded: bool,
    /// (name, arguments) of every call made, with what the model was told.
    calls_made: Vec<(String, Value, String)>,
}

impl Turn {
    /// Runs `call` (once: a repeat of an earlier identical call gets the earlier result and
    /// a nudge to answer, which is how endless tool loops end early).
    async fn call(
        &mut self,
        toolbox: &Toolbox,
        call: &ToolCall,
        context: &CallContext,
    ) -> (String, CallTrace) {
        let name = call.function.name.clone();
        let arguments = serde_json::from_str::<Value>(&call.function.arguments)
            .unwrap_or_else(|_| Value::String(call.function.arguments.clone()));
        if let Some((.., earlier)) = self
            .calls_made
            .iter()
            .find(|(made, args, _)| *made == name && *args == arguments)
        {
            let for_model = format!(
                "You already called {name} with these arguments; its result was: {earlier}\n\
                 Answer the customer now, or call {CANNOT_ANSWER}."
            );
            let trace = CallTrace {
                tool: name,
                arguments,
                ok: true,
                error: None,
                result: excerpt(earlier),
                truncated: false,
                plugin: None,
                latency_ms: 0,
                repeated: true,
            };
            return (for_model, trace);
        }
        let started = Instant::now();
        let outcome = toolbox.call(&name, &call.function.arguments, context).await;
        self.tool_succeeded |= outcome.ok;
        if let (Some(reason), Some(plugin), None) =
            (&outcome.handover, &outcome.plugin, &self.trace.handover)
        {
            self.trace.handover = Some(ToolHandover {
                plugin: plugin.clone(),
                reason: reason.clone(),
            });
        }
        self.calls_made
            .push((name.clone(), arguments.clone(), outcome.for_model.clone()));
        let trace = CallTrace {
            tool: name,
            arguments,
            ok: outcome.ok,
            error: outcome.error,
            result: excerpt(&outcome.for_model),
            truncated: outcome.truncated,
            plugin: outcome.plugin,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            repeated: false,
        };
        (outcome.for_model, trace)
    }
}

/// Calls with an id each: some servers (and every text call) leave ids out or repeat them,
/// and each `tool` message must name the call it answers.
fn with_ids(calls: Vec<ToolCall>, step: u32) -> Vec<ToolCall> {
    calls
        .into_iter()
        .enumerate()
        .map(|(index, mut call)| {
            if call.id.trim().is_empty() || call.id.starts_with("text_call_") {
                call.id = format!("call_{step}_{}", index + 1);
            }
            call
        })
        .collect()
}

fn cannot_answer_trace(call: &ToolCall) -> CallTrace {
    CallTrace {
        tool: CANNOT_ANSWER.to_owned(),
        arguments: serde_json::from_str(&call.function.arguments)
            .unwrap_or_else(|_| Value::String(call.function.arguments.clone())),
        ok: true,
        error: None,
        result: String::new(),
        truncated: false,
        plugin: None,
        latency_ms: 0,
        repeated: false,
    }
}

/// Characters of the messages' texts and tool calls.
fn prompt_chars(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|message| {
            message.content.as_deref().map_or(0, str::len)
                + message
                    .tool_calls
                    .iter()
                    .map(|call| call.function.name.len() + call.function.arguments.len())
                    .sum::<usize>()
        })
        .sum()
}
