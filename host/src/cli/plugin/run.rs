//! `loa plugin run`: one call of a built plugin, in the server's sandbox, with its result,
//! logs, time and memory peak.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use loa::plugins::types::{CallContext, ContactRef, ConversationRef, HttpRequest, Message};
use loa::plugins::{BindOptions, CallReport, PluginEngine, PluginLogLine, TenantPlugin};
use loa::store::sqlite::SqliteStore;
use loa::store::{Store, TenantPluginSettings};
use serde::Serialize;

use super::{DirArg, parse_key_value};
use crate::cli::Context;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(false))]
pub(crate) struct RunArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Tool plugins: the tool to call.
    #[arg(long, group = "what", requires = "args")]
    call: Option<String>,
    /// Tool plugins: the tool's arguments, a JSON object.
    #[arg(long)]
    args: Option<String>,
    /// Tool plugins: list the tools and their JSON Schemas.
    #[arg(long, group = "what")]
    list_tools: bool,
    /// Middleware: run `on-inbound` on a customer message with this text.
    #[arg(long, group = "what")]
    inbound: Option<String>,
    /// Middleware: run `on-outbound` on a reply with this text.
    #[arg(long, group = "what")]
    outbound: Option<String>,
    /// Channels: hand this file to `handle-webhook` as the body of a POST.
    #[arg(long, group = "what")]
    webhook: Option<PathBuf>,
    /// Channels: a header of the webhook request, `Name: value` (repeatable).
    #[arg(long = "header", requires = "webhook")]
    headers: Vec<String>,
    /// Channels: send a message with this text to `--to`.
    #[arg(long, group = "what", requires = "to")]
    send: Option<String>,
    /// Channels: the channel user id `--send` goes to.
    #[arg(long)]
    to: Option<String>,
    /// Channels: show what the channel can render.
    #[arg(long, group = "what")]
    capabilities: bool,
    /// A config value for the plugin, `key=value` (repeatable).
    #[arg(long = "config", value_parser = parse_key_value)]
    config: Vec<(String, String)>,
    /// Hosts the "tenant" grants (repeatable). Default: the hosts the manifest declares.
    #[arg(long = "grant")]
    grants: Vec<String>,
    /// Let the plugin reach loopback and private addresses (a local stub of an API).
    #[arg(long)]
    allow_private_network: bool,
    /// Conversation language passed in the call context.
    #[arg(long, default_value = "vi")]
    locale: String,
    /// Run as this tenant, with its key-value store in the configured database (e.g. the
    /// catalog `loa catalog import` wrote) instead of an empty throwaway one. Config still
    /// comes from `--config` only.
    #[arg(long)]
    tenant: Option<String>,
    /// Print one JSON object instead of the human-readable report.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonReport<'a, T: Serialize> {
    plugin: String,
    ok: Option<&'a T>,
    error: Option<serde_json::Value>,
    logs: &'a [PluginLogLine],
    handover: Option<&'a str>,
    elapsed_ms: f64,
    memory_peak_bytes: usize,
}

pub(crate) async fn run(context: &Context, args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut host_config = context.config.plugins.clone();
    host_config.allow_private_network |= args.allow_private_network;
    let (store, tenant_id) = match &args.tenant {
        Some(tenant) => {
            let store = context.open_store().await?;
            if store.tenant(tenant).await?.is_none() {
                bail!(
                    "no tenant '{tenant}' (create it with `loa tenant create` or `loa tenant apply`)"
                );
            }
            (store, tenant.clone())
        }
        // A throwaway tenant: key-value data lives in memory and is gone afterwards.
        None => {
            let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory()?);
            (store, "local".to_owned())
        }
    };
    let cache = context.compile_cache_dir();
    let cache = std::fs::create_dir_all(&cache).ok().map(|()| cache);
    let engine = PluginEngine::new(host_config, store, cache.as_deref())?;
    let plugin = Arc::new(engine.load(&args.dir.dir)?);
    let grants = if args.grants.is_empty() {
        plugin.manifest.capabilities.http.clone()
    } else {
        args.grants.clone()
    };
    let settings = TenantPluginSettings {
        tenant_id: tenant_id.clone(),
        plugin: plugin.manifest.plugin.name.clone(),
        enabled: true,
        config: args.config.iter().cloned().collect::<BTreeMap<_, _>>(),
        http_grants: grants,
        ..TenantPluginSettings::default()
    };
    let target = engine.bind(plugin, &settings, BindOptions { capture_logs: true });
    let call_context = CallContext {
        tenant_id: tenant_id.clone(),
        bot_id: "local-bot".into(),
        conversation_id: Some("local-conversation".into()),
        channel_id: None,
        locale: Some(args.locale.clone()),
        contact: Some(ContactRef {
            channel_user_id: "local-customer".into(),
            display_name: Some("Local Customer".into()),
        }),
    };
    let json = args.json;
    if let Some(tool) = &args.call {
        let arguments = args.args.as_deref().unwrap_or("{}");
        let report = engine
            .call_tool(&target, tool, arguments, &call_context)
            .await;
        let report = map_ok(report, |text| {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or(serde_json::Value::String(text))
        });
        return Ok(show(&target, report, json));
    }
    if args.list_tools {
        let report = engine.list_tools(&target).await;
        let report = map_ok(report, |tools| {
            tools
                .into_iter()
                .map(|tool| {
                    let schema = serde_json::from_str::<serde_json::Value>(&tool.input_schema)
                        .unwrap_or(serde_json::Value::String(tool.input_schema));
                    serde_json::json!({"name": tool.name, "description": tool.description, "input_schema": schema})
                })
                .collect::<Vec<_>>()
        });
        return Ok(show(&target, report, json));
    }
    if let Some(text) = &args.inbound {
        let report = engine
            .on_inbound(&target, &call_context, &text_message(text))
            .await;
        return Ok(show(&target, report, json));
    }
    if let Some(text) = &args.outbound {
        let report = engine
            .on_outbound(&target, &call_context, &text_message(text))
            .await;
        return Ok(show(&target, report, json));
    }
    if let Some(path) = &args.webhook {
        let request = webhook_request(path, &args.headers)?;
        let report = engine.handle_webhook(&target, &request).await;
        return Ok(show(&target, report, json));
    }
    if let (Some(text), Some(to)) = (&args.send, &args.to) {
        let conversation = ConversationRef {
            tenant_id: tenant_id.clone(),
            bot_id: "local-bot".into(),
            channel_id: "local-channel".into(),
            conversation_id: "local-conversation".into(),
            contact: ContactRef {
                channel_user_id: to.clone(),
                display_name: None,
            },
        };
        let report = engine
            .send(&target, &conversation, &text_message(text))
            .await;
        return Ok(show(&target, report, json));
    }
    if args.capabilities {
        let report = engine.capabilities(&target).await;
        return Ok(show(&target, report, json));
    }
    bail!(
        "say what to run: --call, --list-tools, --inbound, --outbound, --webhook, --send or --capabilities"
    )
}

fn text_message(text: &str) -> Message {
    Message {
        text: Some(text.to_owned()),
        attachments: Vec::new(),
        quick_replies: Vec::new(),
        buttons: Vec::new(),
        cards: Vec::new(),
    }
}

fn webhook_request(path: &PathBuf, headers: &[String]) -> anyhow::Result<HttpRequest> {
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = headers
        .iter()
        .map(|header| match header.split_once(':') {
            Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
            None => bail!("--header must look like 'Name: value', got '{header}'"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(HttpRequest {
        method: "POST".into(),
        path_with_query: "/v1/hooks/local-channel".into(),
        headers,
        body,
    })
}

fn map_ok<T, U>(report: CallReport<T>, map: impl FnOnce(T) -> U) -> CallReport<U> {
    CallReport {
        outcome: report.outcome.map(map),
        logs: report.logs,
        handover: report.handover,
        elapsed: report.elapsed,
        memory_peak_bytes: report.memory_peak_bytes,
    }
}

/// Prints the report; exit code 1 when the call failed.
fn show<T: Serialize>(target: &TenantPlugin, report: CallReport<T>, json: bool) -> ExitCode {
    let plugin = target.plugin.id();
    let elapsed_ms = report.elapsed.as_secs_f64() * 1000.0;
    let failed = report.outcome.is_err();
    if json {
        let error = report.outcome.as_ref().err().map(|error| {
            serde_json::json!({"code": error.code(), "message": error.to_string(), "detail": error})
        });
        let printed = JsonReport {
            plugin,
            ok: report.outcome.as_ref().ok(),
            error,
            logs: &report.logs,
            handover: report.handover.as_deref(),
            elapsed_ms,
            memory_peak_bytes: report.memory_peak_bytes,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&printed).unwrap_or_default()
        );
    } else {
        println!("plugin  {plugin}");
        match &report.outcome {
            Ok(value) => println!(
                "result  {}",
                serde_json::to_string_pretty(value)
                    .unwrap_or_default()
                    .replace('\n', "\n        ")
            ),
            Err(error) => println!("error   [{}] {error}", error.code()),
        }
        if let Some(reason) = &report.handover {
            println!("person  asked for: {reason}");
        }
        if report.logs.is_empty() {
            println!("logs    (none)");
        }
        for (index, line) in report.logs.iter().enumerate() {
            let fields: Vec<String> = line
                .fields
                .iter()
                .map(|(key, value)| format!("{key}={value:?}"))
                .collect();
            let label = if index == 0 { "logs" } else { "" };
            println!(
                "{label:<8}{:<5} {} {}",
                line.level.to_uppercase(),
                line.message,
                fields.join(" ")
            );
        }
        println!("time    {elapsed_ms:.2} ms (fresh instance + call)");
        println!(
            "memory  {:.2} MiB peak (cap {} MiB)",
            report.memory_peak_bytes as f64 / f64::from(1 << 20),
            target.plugin.limits.memory_mib
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
