//! The tools one turn may call: the `list-tools` of the bot's tool plugins its tenant
//! enabled, named `<plugin>__<tool>`, each call checked against its JSON Schema before the
//! plugin sees it and run through the plugin sandbox. Built from the bot's own tenant only: a model cannot
//! name a tool of another tenant, because no such tool is in the box.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::conversation::bot_plugins;
use crate::conversation::model::Bot;
use crate::llm::excerpt;
use crate::llm::wire::{FunctionDefinition, ToolDefinition};
use crate::plugins::registry::PluginRegistry;
use crate::plugins::types::CallContext;
use crate::plugins::{PluginKind, TenantPlugin};

/// Separates the plugin from the tool in an offered name (`catalog__search_products`):
/// OpenAI function names allow only `[a-zA-Z0-9_-]`.
const SEPARATOR: &str = "__";
/// Characters of a tool result the model sees; the rest is cut and the cut is said.
pub const RESULT_CHARS: usize = 6_000;

/// One tool of one plugin, with its compiled argument schema.
struct ToolEntry {
    plugin: usize,
    tool: String,
    definition: ToolDefinition,
    validator: jsonschema::Validator,
}

/// A plugin's tools as `list-tools` gave them, compiled once per plugin version (the list
/// is fixed per version, by the WIT contract).
struct PluginTools {
    tools: Vec<(String, String, Value)>,
}

/// Caches tool lists across turns, by plugin id (`name@version`).
#[derive(Default)]
pub struct ToolListCache {
    lists: Mutex<HashMap<String, Arc<PluginTools>>>,
}

/// What one call gave, for the model and for the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// What the model is told: the result (maybe cut), or what went wrong.
    pub for_model: String,
    /// Whether the tool ran and returned a result.
    pub ok: bool,
    /// Error code when it did not (`unknown_tool`, `invalid_arguments`, the plugin's code).
    pub error: Option<String>,
    /// The result was longer than [`RESULT_CHARS`].
    pub truncated: bool,
    /// The plugin asked for a person, with its reason.
    pub handover: Option<String>,
    /// The plugin (`name@version`) that ran, when one did.
    pub plugin: Option<String>,
    /// Time of the call, sandbox included.
    pub latency_ms: u64,
}

/// The tools of one turn.
pub struct Toolbox {
    registry: Option<Arc<PluginRegistry>>,
    plugins: Vec<TenantPlugin>,
    tools: Vec<ToolEntry>,
}

impl Toolbox {
    /// The tools of `bot`'s enabled tool plugins. A plugin that cannot be loaded or listed
    /// is left out with a warning: the other tools still serve.
    pub async fn for_bot(
        registry: Option<&Arc<PluginRegistry>>,
        cache: &ToolListCache,
        bot: &Bot,
    ) -> Self {
        let mut toolbox = Self {
            registry: registry.cloned(),
            plugins: Vec::new(),
            tools: Vec::new(),
        };
        let Some(registry) = registry else {
            return toolbox;
        };
        for plugin in bot_plugins::bound(registry, bot, PluginKind::Tool).await {
            let Some(listed) = cache.list(registry, &plugin).await else {
                continue;
            };
            let index = toolbox.plugins.len();
            let name = plugin.plugin.manifest.plugin.name.clone();
            for (tool, description, schema) in &listed.tools {
                let offered = format!("{name}{SEPARATOR}{tool}");
                let validator = match jsonschema::validator_for(schema) {
                    Ok(validator) => validator,
                    Err(error) => {
                        tracing::warn!(plugin = %name, tool = %tool, %error, "tool skipped: its input schema does not compile");
                        continue;
                    }
                };
                toolbox.tools.push(ToolEntry {
                    plugin: index,
                    tool: tool.clone(),
                    definition: ToolDefinition {
                        kind: "function",
                        function: FunctionDefinition {
                            name: offered,
                            description: description.clone(),
                            parameters: schema.clone(),
                        },
                    },
                    validator,
                });
            }
            toolbox.plugins.push(plugin);
        }
        toolbox
    }

    /// Definitions to offer the model.
    pub fn definitions(&self) -> impl Iterator<Item = &ToolDefinition> {
        self.tools.iter().map(|entry| &entry.definition)
    }

    /// The offered names.
    pub fn names(&self) -> Vec<&str> {
        self.tools
            .iter()
            .map(|entry| entry.definition.function.name.as_str())
            .collect()
    }

    /// Runs the tool offered as `name` with the model's `arguments` text.
    pub async fn call(&self, name: &str, arguments: &str, context: &CallContext) -> ToolOutcome {
        let started = Instant::now();
        let refused = |code: &str, message: String| ToolOutcome {
            for_model: format!("error ({code}): {message}"),
            ok: false,
            error: Some(code.to_owned()),
            truncated: false,
            handover: None,
            plugin: None,
            latency_ms: 0,
        };
        let Some(entry) = self
            .tools
            .iter()
            .find(|entry| entry.definition.function.name == name)
        else {
            return refused(
                "unknown_tool",
                format!(
                    "there is no tool '{name}'; the tools are: {}",
                    self.names().join(", ")
                ),
            );
        };
        let text = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let parsed: Value = match serde_json::from_str(text) {
            Ok(parsed) => parsed,
            Err(error) => {
                return refused(
                    "invalid_arguments",
                    format!("the arguments are not valid JSON: {error}"),
                );
            }
        };
        let problems: Vec<String> = entry
            .validator
            .iter_errors(&parsed)
            .take(5)
            .map(|error| {
                let at = error.instance_path().to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                format!("{at}: {error}")
            })
            .collect();
        if !problems.is_empty() {
            return refused(
                "invalid_arguments",
                format!(
                    "the arguments do not match the tool's schema: {}",
                    problems.join("; ")
                ),
            );
        }
        let (Some(registry), Some(plugin)) = (&self.registry, self.plugins.get(entry.plugin))
        else {
            return refused("unknown_tool", format!("the tool '{name}' is gone"));
        };
        let report = registry
            .engine()
            .call_tool(plugin, &entry.tool, &parsed.to_string(), context)
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut outcome = match report.outcome {
            Ok(result) => {
                let (for_model, truncated) = cut(&result);
                ToolOutcome {
                    for_model,
                    ok: true,
                    error: None,
                    truncated,
                    handover: None,
                    plugin: None,
                    latency_ms,
                }
            }
            Err(error) => ToolOutcome {
                latency_ms,
                ..refused(error.code(), error.to_string())
            },
        };
        outcome.plugin = Some(plugin.plugin.id());
        outcome.handover = report.handover;
        outcome
    }
}

impl ToolListCache {
    /// `plugin`'s tools, from the cache or one `list-tools` call.
    async fn list(
        &self,
        registry: &PluginRegistry,
        plugin: &TenantPlugin,
    ) -> Option<Arc<PluginTools>> {
        let id = plugin.plugin.id();
        if let Some(cached) = self.locked().get(&id) {
            return Some(Arc::clone(cached));
        }
        let report = registry.engine().list_tools(plugin).await;
        let specs = match report.outcome {
            Ok(specs) => specs,
            Err(error) => {
                tracing::warn!(plugin = %id, %error, "tools skipped: list-tools failed");
                return None;
            }
        };
        let tools = specs
            .into_iter()
            .filter_map(|spec| match serde_json::from_str(&spec.input_schema) {
                Ok(schema) => Some((spec.name, spec.description, schema)),
                Err(error) => {
                    tracing::warn!(plugin = %id, tool = %spec.name, %error, "tool skipped: its input schema is not JSON");
                    None
                }
            })
            .collect();
        let listed = Arc::new(PluginTools { tools });
        self.locked().insert(id, Arc::clone(&listed));
        Some(listed)
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<PluginTools>>> {
        self.lists
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `result` cut to [`RESULT_CHARS`], saying so when it was.
fn cut(result: &str) -> (String, bool) {
    let total = result.chars().count();
    if total <= RESULT_CHARS {
        return (result.to_owned(), false);
    }
    let kept: String = result.chars().take(RESULT_CHARS).collect();
    (
        format!(
            "{kept}\n[truncated: the result has {total} characters, only the first {RESULT_CHARS} are shown]"
        ),
        true,
    )
}

/// The start of a tool's text, for the trace.
pub fn result_excerpt(text: &str) -> String {
    excerpt(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_results_are_cut_and_say_so() {
        let long = "é".repeat(RESULT_CHARS + 10);
        let (shown, truncated) = cut(&long);
        assert!(truncated);
        assert!(shown.contains(&format!("has {} characters", RESULT_CHARS + 10)));
        assert_eq!(cut("{\"ok\":1}"), ("{\"ok\":1}".to_owned(), false));
    }
}
