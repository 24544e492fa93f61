//! `loa eval`: loads an FAQ (and documents) into a private in-memory bot, runs a query set
//! through the real orchestrator and prints how well it answered.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;

use super::progress::SyncProgress;
use loa::conversation::model::{Bot, BotSettings, Conversation, SessionState, Tenant};
use loa::conversation::orchestrator::Orchestrator;
use loa::conversation::shop_file::read_faq;
use loa::knowledge::documents::read_document;
use loa::knowledge::embedder::DIMENSION;
use loa::knowledge::eval::{evaluate, read_queries, table};
use loa::knowledge::vector::MemoryIndex;
use loa::knowledge::{Knowledge, KnowledgeConfig};
use loa::store::Store;
use loa::store::sqlite::SqliteStore;

/// Flags of `loa eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The FAQ (JSONL: `{"id", "question", "answer", "variants"?, "tags"?}` per line).
    #[arg(long)]
    faq: PathBuf,
    /// The queries (JSONL: `{"query", "expect", "style", "doc"?}` per line).
    #[arg(long)]
    queries: PathBuf,
    /// A folder of documents (markdown, text, PDF) for the knowledge tier.
    #[arg(long)]
    docs: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Also print every query with what the bot did.
    #[arg(long)]
    verbose: bool,
    /// Print every query's decision trace (tiers, candidates, scores) as JSON lines.
    #[arg(long)]
    trace: bool,
}

const EVAL_TENANT: &str = "eval";
const EVAL_BOT: &str = "eval";

pub(crate) async fn run(config: &KnowledgeConfig, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let queries = read_queries(&args.queries)?;
    let faq = read_faq(&args.faq)?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory()?);
    let bot = eval_bot();
    store
        .put_tenant(&Tenant {
            id: EVAL_TENANT.into(),
            name: "eval".into(),
            created_at_ms: 0,
        })
        .await?;
    store.put_bot(&bot).await?;
    store.replace_faq(EVAL_TENANT, EVAL_BOT, &faq).await?;
    if let Some(dir) = &args.docs {
        for document in read_documents(dir)? {
            store.put_document(EVAL_TENANT, EVAL_BOT, &document).await?;
        }
    }
    // Always the in-process index: an evaluation must not write into a shared Qdrant.
    let paths = config.embedder_paths();
    paths.check()?;
    let knowledge = Arc::new(Knowledge::new(
        Arc::clone(&store),
        Arc::new(MemoryIndex::new(DIMENSION)),
        paths,
    ));
    let progress = SyncProgress::new("embedding", !args.json);
    knowledge
        .sync(&bot, &|done, total| progress.update(done, total))
        .await
        .context("embedding the FAQ and documents")?;
    progress.finish();
    let orchestrator = Orchestrator::new(Arc::clone(&store), Some(knowledge));
    let report = evaluate(&orchestrator, &bot, &eval_conversation(), &queries).await?;
    if args.trace {
        for outcome in &report.outcomes {
            let line = serde_json::json!({"query": outcome.query, "trace": outcome.trace});
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        if args.verbose {
            for outcome in &report.outcomes {
                println!(
                    "{:<13} expect={:<7} top={:<7} answered={:<7} tier={:<9} docs={:?} score={} | {}",
                    outcome.query.style,
                    outcome.query.expect.as_deref().unwrap_or("-"),
                    outcome.top_faq.as_deref().unwrap_or("-"),
                    outcome.answered_faq.as_deref().unwrap_or("-"),
                    outcome.tier,
                    outcome.documents,
                    outcome.score.map_or("-".into(), |s| format!("{s:.3}")),
                    outcome.query.query
                );
            }
        }
        println!("{}", table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Every markdown, text or PDF file directly in `dir`, by name.
fn read_documents(dir: &Path) -> anyhow::Result<Vec<loa::store::Document>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| read_document(path).map_err(anyhow::Error::from))
        .collect()
}

fn eval_bot() -> Bot {
    Bot {
        id: EVAL_BOT.into(),
        tenant_id: EVAL_TENANT.into(),
        name: "eval".into(),
        settings: BotSettings::default(),
        widget_secret: String::new(),
        created_at_ms: 0,
    }
}

fn eval_conversation() -> Conversation {
    Conversation {
        id: "eval".into(),
        tenant_id: EVAL_TENANT.into(),
        bot_id: EVAL_BOT.into(),
        channel_id: "eval".into(),
        contact_id: "eval".into(),
        state: SessionState::Bot,
        assigned_to: None,
        state_changed_at_ms: 0,
        language: "vi".into(),
        consecutive_misses: 0,
        last_activity_ms: 0,
        created_at_ms: 0,
    }
}
