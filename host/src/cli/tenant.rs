//! `loa tenant apply FILE`: create or update a shop (tenant, bots, FAQ) from a TOML file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::Context;

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create or update a tenant, its bots and their FAQ from a shop file (idempotent).
    Apply {
        /// The shop file (see `samples/demo-shop/shop.toml`).
        file: PathBuf,
    },
}

pub(crate) async fn run(context: &Context, command: TenantCommand) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Apply { file } => {
            let store = context.open_store().await?;
            let applied = loa::conversation::shop_file::apply(&*store, &file).await?;
            println!(
                "tenant '{}' applied from {}",
                applied.tenant_id,
                file.display()
            );
            for (bot, faq, widget) in applied.bots {
                let widget = if widget { "widget on" } else { "no widget" };
                println!("  bot '{bot}': {faq} FAQ entries, {widget}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
