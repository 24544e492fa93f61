//! `loa plugin …`: the plugin author's loop (new, build, run) and the operator's (install,
//! list, inspect, enable, disable).

mod build;
mod manage;
mod new;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use super::Context;

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// Create a plugin crate that builds and passes its own test as generated.
    New(new::NewArgs),
    /// Build a plugin for wasm32-wasip2 and write `plugin.wasm` next to `plugin.toml`.
    Build(build::BuildArgs),
    /// Run one call of a built plugin in the same sandbox the server uses.
    Run(run::RunArgs),
    /// Check a built plugin and install it into the data directory (no restart needed).
    Install(manage::InstallArgs),
    /// List installed plugins and their versions.
    List,
    /// Show a plugin's manifest, world, exports, imports, size and capabilities.
    Inspect(manage::InspectArgs),
    /// Turn a plugin on for a tenant (pin a version, set config, grant hosts); also
    /// switches a plugin the breaker turned off back on.
    Enable(manage::EnableArgs),
    /// Turn a plugin off for a tenant.
    Disable(manage::DisableArgs),
}

/// `tool`, `middleware` or `channel`, as the CLI spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KindArg {
    /// Offers tools (world `tool-provider`).
    Tool,
    /// Looks at every message in and out (world `middleware`).
    Middleware,
    /// Connects a chat channel (world `channel-adapter`).
    Channel,
}

/// A plugin directory argument, defaulting to the current directory.
#[derive(Debug, Clone, Args)]
pub(crate) struct DirArg {
    /// The plugin's directory (with `plugin.toml`). Default: the current directory.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
}

pub(crate) async fn run(context: &Context, command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::New(args) => new::run(args),
        PluginCommand::Build(args) => build::run(context, args),
        PluginCommand::Run(args) => run::run(context, args).await,
        PluginCommand::Install(args) => manage::install(context, args).await,
        PluginCommand::List => manage::list(context).await,
        PluginCommand::Inspect(args) => manage::inspect(context, args).await,
        PluginCommand::Enable(args) => manage::enable(context, args).await,
        PluginCommand::Disable(args) => manage::disable(context, args).await,
    }
}

/// Parses `key=value`.
pub(crate) fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected key=value, got '{text}'")),
    }
}
