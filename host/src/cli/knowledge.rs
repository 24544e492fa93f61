//! `loa faq …` and `loa docs …`: a bot's FAQ and documents from the command line. Imports
//! write the store, then embed what changed (with a progress bar) so the bot answers from
//! the new content at once; a re-import of the same files changes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Subcommand;

use super::Context;
use super::progress::SyncProgress;
use loa::conversation::model::Bot;
use loa::conversation::pipeline::now_ms;
use loa::knowledge::documents::read_document;
use loa::knowledge::faq_file::read_faq_file;
use loa::knowledge::{Knowledge, SyncReport};
use loa::store::Store;

/// FAQ commands.
#[derive(Debug, Subcommand)]
pub(crate) enum FaqCommand {
    /// Replace a bot's FAQ with a JSONL or CSV file and embed what changed.
    Import {
        /// `faq.jsonl` (`{"id","question","answer","variants"?,"tags"?}` per line) or
        /// `faq.csv` (columns id, question, answer, variants, tags; `|` between several).
        file: PathBuf,
        /// The bot.
        #[arg(long)]
        bot: String,
        /// Import the good lines and report the bad ones (default: import nothing if any
        /// line is bad).
        #[arg(long)]
        skip_bad: bool,
    },
    /// List a bot's FAQ entries.
    List {
        /// The bot.
        #[arg(long)]
        bot: String,
    },
    /// Delete one FAQ entry.
    Delete {
        /// The entry id.
        id: String,
        /// The bot.
        #[arg(long)]
        bot: String,
    },
}

/// Document commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DocsCommand {
    /// Add or update documents (markdown, text, PDF; files or folders) and embed their
    /// chunks. A document whose text did not change is skipped.
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The bot.
        #[arg(long)]
        bot: String,
    },
    /// List a bot's documents.
    List {
        /// The bot.
        #[arg(long)]
        bot: String,
    },
    /// Delete a document.
    Delete {
        /// The document id (its file name).
        id: String,
        /// The bot.
        #[arg(long)]
        bot: String,
    },
}

async fn open(context: &Context, bot_id: &str) -> anyhow::Result<(Arc<dyn Store>, Bot)> {
    let store = context.open_store().await?;
    let bot = store
        .bot(bot_id)
        .await?
        .with_context(|| format!("no bot '{bot_id}' (create it with `loa tenant apply`)"))?;
    Ok((store, bot))
}

async fn sync(context: &Context, store: Arc<dyn Store>, bot: &Bot) -> anyhow::Result<SyncReport> {
    let knowledge: Knowledge = context
        .config
        .knowledge
        .open(store)
        .await
        .context("opening the knowledge index")?;
    let progress = SyncProgress::new("embedding", true);
    let report = knowledge
        .sync(bot, &|done, total| progress.update(done, total))
        .await?;
    progress.finish();
    Ok(report)
}

pub(crate) async fn run_faq(context: &Context, command: FaqCommand) -> anyhow::Result<ExitCode> {
    match command {
        FaqCommand::Import {
            file,
            bot,
            skip_bad,
        } => {
            let parsed = read_faq_file(&file)?;
            for bad in &parsed.bad {
                eprintln!("{}:{}: {}", file.display(), bad.line, bad.message);
            }
            if !parsed.bad.is_empty() && !skip_bad {
                bail!(
                    "{} bad line(s) in {}: nothing imported (fix them, or pass --skip-bad to import the {} good ones)",
                    parsed.bad.len(),
                    file.display(),
                    parsed.entries.len()
                );
            }
            if parsed.entries.is_empty() {
                bail!("{} holds no FAQ entry: nothing imported", file.display());
            }
            let (store, bot) = open(context, &bot).await?;
            let before: HashMap<String, _> = store
                .faq_entries(&bot.tenant_id, &bot.id)
                .await?
                .into_iter()
                .map(|entry| (entry.id.clone(), entry))
                .collect();
            let added = parsed
                .entries
                .iter()
                .filter(|e| !before.contains_key(&e.id))
                .count();
            let changed = parsed
                .entries
                .iter()
                .filter(|e| before.get(&e.id).is_some_and(|old| old != *e))
                .count();
            let removed = before
                .keys()
                .filter(|id| !parsed.entries.iter().any(|e| &e.id == *id))
                .count();
            store
                .replace_faq(&bot.tenant_id, &bot.id, &parsed.entries)
                .await?;
            let report = sync(context, store, &bot).await?;
            println!(
                "bot '{}': {} FAQ entries ({added} added, {changed} changed, {removed} removed, {} unchanged); {} texts embedded, {} skipped lines",
                bot.id,
                parsed.entries.len(),
                parsed.entries.len() - added - changed,
                report.embedded,
                parsed.bad.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        FaqCommand::List { bot } => {
            let (store, bot) = open(context, &bot).await?;
            for entry in store.faq_entries(&bot.tenant_id, &bot.id).await? {
                println!("{}\t{}", entry.id, entry.question);
            }
            Ok(ExitCode::SUCCESS)
        }
        FaqCommand::Delete { id, bot } => {
            let (store, bot) = open(context, &bot).await?;
            if !store.delete_faq_entry(&bot.tenant_id, &bot.id, &id).await? {
                bail!("bot '{}' has no FAQ entry '{id}'", bot.id);
            }
            sync(context, store, &bot).await?;
            println!("deleted FAQ entry '{id}' of bot '{}'", bot.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The document files named by `paths` (folders: the supported files directly in them).
fn document_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading the folder {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.is_file() && is_document(file))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn is_document(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            ["md", "markdown", "txt", "pdf"].contains(&extension.to_ascii_lowercase().as_str())
        })
}

pub(crate) async fn run_docs(context: &Context, command: DocsCommand) -> anyhow::Result<ExitCode> {
    match command {
        DocsCommand::Import { paths, bot } => {
            let files = document_files(&paths)?;
            if files.is_empty() {
                bail!("no markdown, text or PDF file found in {paths:?}");
            }
            // Parse everything first: one unreadable file stops the import before any write.
            let mut documents = Vec::new();
            for file in &files {
                documents.push(read_document(file)?);
            }
            let (store, bot) = open(context, &bot).await?;
            let stored: HashMap<String, String> = store
                .documents(&bot.tenant_id, &bot.id)
                .await?
                .into_iter()
                .map(|document| (document.id, document.sha256))
                .collect();
            let mut written = 0;
            let mut chunks = 0;
            for mut document in documents {
                chunks += document.chunks.len();
                if stored.get(&document.id) == Some(&document.sha256) {
                    continue;
                }
                document.updated_at_ms = now_ms();
                store
                    .put_document(&bot.tenant_id, &bot.id, &document)
                    .await?;
                written += 1;
            }
            let report = sync(context, store, &bot).await?;
            println!(
                "bot '{}': {} documents ({written} new or changed, {} unchanged), {chunks} chunks; {} texts embedded",
                bot.id,
                files.len(),
                files.len() - written,
                report.embedded
            );
            Ok(ExitCode::SUCCESS)
        }
        DocsCommand::List { bot } => {
            let (store, bot) = open(context, &bot).await?;
            for document in store.documents(&bot.tenant_id, &bot.id).await? {
                println!(
                    "{}\t{} chunks\t{}",
                    document.id,
                    document.chunks.len(),
                    document.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DocsCommand::Delete { id, bot } => {
            let (store, bot) = open(context, &bot).await?;
            if !store.delete_document(&bot.tenant_id, &bot.id, &id).await? {
                bail!("bot '{}' has no document '{id}'", bot.id);
            }
            sync(context, store, &bot).await?;
            println!("deleted document '{id}' of bot '{}'", bot.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}
