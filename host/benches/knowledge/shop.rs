//! The demo shop in an in-memory SQLite store (the same set-up as `loa eval`): its 50 FAQ
//! entries and 3 documents, the knowledge service over an in-process index, and the
//! timed import (model load, store writes, first and second sync).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loa::conversation::model::{Bot, BotSettings, Conversation, FaqEntry, SessionState, Tenant};
use loa::conversation::shop_file::read_faq;
use loa::knowledge::documents::read_document;
use loa::knowledge::embedder::{DIMENSION, Embedder, EmbedderPaths, Role};
use loa::knowledge::units::{Unit, units};
use loa::knowledge::vector::MemoryIndex;
use loa::knowledge::{Knowledge, SyncReport};
use loa::store::sqlite::SqliteStore;
use loa::store::{Document, Store};

const TENANT: &str = "bench";
const BOT: &str = "bench";

/// The demo shop's evaluation files (`samples/demo-shop/eval`: `shop-faq.jsonl`,
/// `faq-eval-public.jsonl`), or `$LOA_BENCH_DATA`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("LOA_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/demo-shop/eval"))
}

/// The demo shop's documents: `shop-docs` beside the data files when `$LOA_BENCH_DATA`
/// names a copy of `shared/data`, else `samples/demo-shop/docs`.
pub fn docs_dir() -> PathBuf {
    let beside = data_dir().join("shop-docs");
    if beside.is_dir() {
        beside
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/demo-shop/docs")
    }
}

/// What importing the demo shop cost.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Loading the embedding model (once per process, before any sync).
    pub model_load: Duration,
    /// The first embed after loading (ONNX Runtime sets up its buffers), excluded from the
    /// sync below so it times steady-state embedding.
    pub first_embed: Duration,
    /// FAQ entries and documents stored.
    pub faq_entries: usize,
    /// Documents stored.
    pub documents: usize,
    /// Reading and chunking the files, then writing them to the store.
    pub store_writes: Duration,
    /// Texts the first sync embeds as queries (questions) and as passages (question with
    /// answer, document chunks), with their mean length in characters: passages are
    /// longer, and a batch costs about its longest text times its size.
    pub texts_by_role: [(Role, usize, f64); 2],
    /// The first sync: every text embedded and indexed.
    pub first: (SyncReport, Duration),
    /// A second sync with nothing changed.
    pub second: (SyncReport, Duration),
}

impl ImportReport {
    /// Texts embedded per second by the first sync.
    pub fn texts_per_second(&self) -> f64 {
        self.first.0.embedded as f64 / self.first.1.as_secs_f64().max(1e-9)
    }
}

/// The demo shop, loaded and synced.
pub struct Shop {
    /// The store holding it.
    pub store: Arc<dyn Store>,
    /// Its knowledge service (model loaded).
    pub knowledge: Arc<Knowledge>,
    /// The model the knowledge service loaded, for raw embedding.
    pub embedder: Arc<Embedder>,
    /// Its bot.
    pub bot: Bot,
    /// The conversation every turn is asked in.
    pub conversation: Conversation,
    /// Its FAQ, to tell which queries the exact match answers.
    pub faq: Vec<FaqEntry>,
    /// What the import cost.
    pub import: ImportReport,
}

/// Stores the demo shop, loads the model, and times two syncs.
pub async fn import() -> Shop {
    let data = data_dir();
    let paths = EmbedderPaths::from_env();
    if let Err(error) = paths.check() {
        panic!("{error}");
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("in-memory store"));
    let bot = bot();
    store
        .put_tenant(&Tenant {
            id: TENANT.into(),
            name: "bench".into(),
            created_at_ms: 0,
        })
        .await
        .expect("tenant");
    store.put_bot(&bot).await.expect("bot");
    let knowledge = Arc::new(Knowledge::new(
        Arc::clone(&store),
        Arc::new(MemoryIndex::new(DIMENSION)),
        paths,
    ));

    let started = Instant::now();
    let embedder = knowledge.embedder().await.expect("the model loads");
    let model_load = started.elapsed();
    let started = Instant::now();
    embedder
        .embed_one("xin chào", Role::Query)
        .expect("first embed");
    let first_embed = started.elapsed();

    let started = Instant::now();
    let faq = read_faq(&data.join("shop-faq.jsonl")).unwrap_or_else(|error| panic!("{error}"));
    let documents = read_documents(&docs_dir());
    store
        .replace_faq(TENANT, BOT, &faq)
        .await
        .expect("FAQ stored");
    for document in &documents {
        store
            .put_document(TENANT, BOT, document)
            .await
            .expect("document stored");
    }
    let store_writes = started.elapsed();

    let texts_by_role = texts_by_role(&units(&faq, &documents));
    let sync = || async {
        let started = Instant::now();
        let report = knowledge.sync(&bot, &|_, _| {}).await.expect("sync");
        (report, started.elapsed())
    };
    let first = sync().await;
    let second = sync().await;
    let import = ImportReport {
        model_load,
        first_embed,
        faq_entries: faq.len(),
        documents: documents.len(),
        store_writes,
        texts_by_role,
        first,
        second,
    };
    Shop {
        store,
        knowledge,
        embedder,
        bot,
        conversation: conversation(),
        faq,
        import,
    }
}

/// How many `units` embed in each role and their mean length in characters.
fn texts_by_role(units: &[Unit]) -> [(Role, usize, f64); 2] {
    [Role::Query, Role::Passage].map(|role| {
        let lengths: Vec<usize> = units
            .iter()
            .filter(|unit| unit.role == role)
            .map(|unit| unit.text.chars().count())
            .collect();
        let mean = lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64;
        (role, lengths.len(), mean)
    })
}

/// Every file in `dir`, by name, read and chunked as `loa knowledge import` does.
fn read_documents(dir: &Path) -> Vec<Document> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| read_document(path).unwrap_or_else(|error| panic!("{error}")))
        .collect()
}

fn bot() -> Bot {
    Bot {
        id: BOT.into(),
        tenant_id: TENANT.into(),
        name: "bench".into(),
        settings: BotSettings::default(),
        widget_secret: String::new(),
        created_at_ms: 0,
    }
}

fn conversation() -> Conversation {
    Conversation {
        id: "bench".into(),
        tenant_id: TENANT.into(),
        bot_id: BOT.into(),
        channel_id: "bench".into(),
        contact_id: "bench".into(),
        state: SessionState::Bot,
        assigned_to: None,
        state_changed_at_ms: 0,
        language: "vi".into(),
        consecutive_misses: 0,
        last_activity_ms: 0,
        created_at_ms: 0,
    }
}
