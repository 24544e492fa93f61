//! `loa serve`: the host on the configured database, until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Context;
use loa::auth::AuthService;
use loa::plugins::registry::PluginRegistry;

/// Flags of `loa serve` (each overrides the config file's `[http]`).
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one). Env `LOA_LISTEN`.
    #[arg(long, env = "LOA_LISTEN")]
    listen: Option<String>,
    /// A folder to serve at `/` (the shop's page embedding the widget).
    #[arg(long)]
    site_dir: Option<PathBuf>,
    /// Answer from exact FAQ matches only: no embedding model, no semantic search, no
    /// documents (for machines without the model, and tests of other parts).
    #[arg(long)]
    no_knowledge: bool,
}

pub(crate) async fn run(context: &mut Context, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        context.config.http.listen = listen;
    }
    if let Some(site_dir) = args.site_dir {
        anyhow::ensure!(
            site_dir.is_dir(),
            "--site-dir {} is not a folder",
            site_dir.display()
        );
        context.config.http.site_dir = Some(site_dir);
    }
    let store = context.open_store().await?;
    let (master_key, key_origin) = context.master_key()?;
    let auth = Arc::new(AuthService::new(
        Arc::clone(&store),
        &master_key,
        context.config.auth.clone(),
    ));
    drop(master_key);
    let knowledge = if args.no_knowledge {
        None
    } else {
        let knowledge = context
            .config
            .knowledge
            .open(Arc::clone(&store))
            .await
            .context("opening the knowledge index (`loa serve --no-knowledge` runs without)")?;
        Some(Arc::new(knowledge))
    };
    let engine = context.engine(Arc::clone(&store))?;
    let plugins = Arc::new(PluginRegistry::new(engine, &context.config.data_dir));
    let listener = TcpListener::bind(&context.config.http.listen)
        .await
        .with_context(|| format!("listening on {}", context.config.http.listen))?;
    let address = listener.local_addr()?;
    // The first line is for scripts and tests that start `loa serve` on port 0.
    println!("loa serve: listening on http://{address}");
    println!("  database: {}", context.database_label());
    println!("  master key: {key_origin}");
    if args.no_knowledge {
        println!("  knowledge: off (exact FAQ matches only)");
    }
    if let Some(site) = &context.config.http.site_dir {
        println!("  site:     http://{address}/ (from {})", site.display());
    }
    println!(
        "  widget:   <script src=\"http://{address}/widget.js\" data-bot=\"BOT_ID\"></script>"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    loa::serve::serve(
        &context.config,
        store,
        auth,
        Some(plugins),
        knowledge,
        listener,
        shutdown,
    )
    .await?;
    println!("loa serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM (what systemd and container runtimes send).
async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: draining");
    shutdown.cancel();
}
