//! Command-line parsing and dispatch. `anyhow` lives here, at the edge, and nowhere else.

mod catalog;
mod context;
mod eval;
mod knowledge;
mod plugin;
mod progress;
mod serve;
mod tenant;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) use context::Context;

/// loa: a bot runtime for shops that talk to customers on Zalo, Messenger, Telegram and the web.
#[derive(Debug, Parser)]
#[command(name = "loa", version, about, propagate_version = true)]
struct Cli {
    /// Host configuration file (TOML). Missing file: built-in defaults.
    #[arg(long, global = true, env = "LOA_CONFIG", default_value = "loa.toml")]
    host_config: PathBuf,
    /// Data directory (SQLite database, installed plugins). Overrides the config file.
    #[arg(long, global = true, env = "LOA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (`postgres://user:pass@host:5432/db`) instead of the SQLite file in
    /// the data directory. Overrides the config file.
    #[arg(long, global = true, env = "LOA_DATABASE_URL")]
    database_url: Option<String>,
    /// Log filter, e.g. `info` or `loa=debug`. Default `warn` (and, for `plugin run`, no
    /// copy of the plugin's own log lines, which the report already shows).
    #[arg(long, global = true, env = "LOA_LOG")]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only add noise"
)]
enum Command {
    /// Create, build, run, install and manage plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Apply pending database migrations to the configured database.
    Migrate,
    /// Measure how well a bot answers a query set (top-1, answered correctly, false
    /// answers, knowledge hits), per style and overall.
    Eval(eval::EvalArgs),
    /// Run the host: widget, webhooks, workers and delivery, until Ctrl-C / SIGTERM.
    Serve(serve::ServeArgs),
    /// Import, list and delete a bot's FAQ entries.
    #[command(subcommand)]
    Faq(knowledge::FaqCommand),
    /// Import, list and delete a bot's documents (markdown, text, PDF).
    #[command(subcommand)]
    Docs(knowledge::DocsCommand),
    /// Import a shop's product catalog for the `catalog` tool plugin.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Create tenants (shops) with their owner, and apply shop files.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Create accounts and reset passwords.
    #[command(subcommand)]
    User(user::UserCommand),
}

/// Parses the command line, runs it, and turns any error into a message and exit code 1.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_filter = match &cli.command {
        // The report shows the plugin's logs and the failure; tracing would repeat them.
        Command::Plugin(plugin::PluginCommand::Run(_)) => {
            "warn,loa::plugins::host_api=off,loa::plugins::lifecycle=off"
        }
        Command::Serve(_) => "info,tower_http=warn",
        _ => "warn",
    };
    let filter = cli.log.as_deref().unwrap_or(default_filter);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut context = Context::new(
        &cli.host_config,
        cli.data_dir.as_deref(),
        cli.database_url.as_deref(),
    )?;
    match cli.command {
        Command::Plugin(command) => plugin::run(&context, command).await,
        Command::Serve(args) => serve::run(&mut context, args).await,
        Command::Tenant(command) => tenant::run(&context, command).await,
        Command::User(command) => user::run(&context, command).await,
        Command::Faq(command) => knowledge::run_faq(&context, command).await,
        Command::Docs(command) => knowledge::run_docs(&context, command).await,
        Command::Catalog(command) => catalog::run(&context, command).await,
        Command::Eval(args) => eval::run(&context.config.knowledge, args).await,
        Command::Migrate => {
            // Opening the store applies pending migrations; this reports on them.
            let store = context.open_store().await?;
            let applied = loa::store::Store::migrate(&*store).await?;
            println!(
                "database {} is up to date ({applied} migration(s) applied now)",
                context.database_label()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
