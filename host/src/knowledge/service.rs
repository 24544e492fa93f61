//! The knowledge service: keeps each bot's vectors in the store and the vector index in
//! step with its FAQ and documents (embedding only what changed), and answers retrieval
//! queries. The embedding model loads on first use, so a host whose bots never get past
//! the exact FAQ match never pays for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::OnceCell;

use super::analyze::{AnalyzedQuery, analyze};
use super::embedder::{DIMENSION, EmbedError, Embedder, EmbedderPaths, MODEL_NAME, Role};
use super::lexicon::Lexicon;
use super::retrieval::{BotKnowledge, Candidate, FusionWeights};
use super::units::{Unit, units};
use super::vector::{IndexError, Partition, PointKind, VectorIndex};
use crate::conversation::cache::TtlCache;
use crate::conversation::model::Bot;
use crate::store::{Store, StoreError, StoredEmbedding};

/// How long a bot's loaded knowledge is trusted before the store is read again: an
/// import from another process shows up within this time.
const KNOWLEDGE_CACHE_TTL: Duration = Duration::from_secs(10);
/// Dense hits fetched per query and kind; enough to score every FAQ entry of a shop.
const DENSE_LIMIT: usize = 256;
/// Characters of a message retrieval reads.
const MAX_QUERY_CHARS: usize = 1_000;
/// Chunks whose text a retrieval carries for quoting.
const QUOTABLE_CHUNKS: usize = 5;
/// Texts embedded per progress step during a sync.
const SYNC_BATCH: usize = 32;

/// Why knowledge could not be read or updated.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vector index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The embedding model is missing or failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// A blocking task died.
    #[error("embedding task failed: {0}")]
    Task(String),
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Units (texts) the bot's knowledge has.
    pub units: usize,
    /// Of those, embedded now (new or changed text).
    pub embedded: usize,
    /// Points written to the vector index.
    pub indexed: usize,
    /// Points removed from the index (deleted or changed items).
    pub removed: usize,
}

/// The result of one retrieval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retrieval {
    /// What the question was read as.
    #[serde(skip)]
    pub query: AnalyzedQuery,
    /// FAQ entries, best first.
    pub faq: Vec<Candidate>,
    /// Document chunks, best first.
    pub chunks: Vec<Candidate>,
    /// The text of the best chunks, by chunk id (what a knowledge answer quotes).
    #[serde(skip)]
    pub chunk_texts: HashMap<String, String>,
}

/// A bot's knowledge: store, index, model.
pub struct Knowledge {
    store: Arc<dyn Store>,
    index: Arc<dyn VectorIndex>,
    paths: EmbedderPaths,
    embedder: OnceCell<Arc<Embedder>>,
    lexicon: &'static Lexicon,
    weights: FusionWeights,
    bots: TtlCache<BotKnowledge>,
    /// Unit id → text hash of what this process put in the index, per partition.
    indexed: tokio::sync::Mutex<HashMap<Partition, HashMap<String, String>>>,
    /// Serialises syncs per bot so two turns do not embed the same texts twice.
    sync_locks: Mutex<HashMap<Partition, Arc<tokio::sync::Mutex<()>>>>,
}

impl Knowledge {
    /// Knowledge over `store` and `index`, with the model at `paths` (loaded on first use).
    pub fn new(store: Arc<dyn Store>, index: Arc<dyn VectorIndex>, paths: EmbedderPaths) -> Self {
        Self {
            store,
            index,
            paths,
            embedder: OnceCell::new(),
            lexicon: Lexicon::builtin(),
            weights: FusionWeights::default(),
            bots: TtlCache::new(KNOWLEDGE_CACHE_TTL),
            indexed: tokio::sync::Mutex::new(HashMap::new()),
            sync_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The same, with other fusion weights (evaluation, tuning).
    pub fn with_weights(mut self, weights: FusionWeights) -> Self {
        self.weights = weights;
        self
    }

    /// The vector length the index must hold.
    pub const fn dimension() -> usize {
        DIMENSION
    }

    /// The embedding model, loaded on first call (seconds).
    pub async fn embedder(&self) -> Result<Arc<Embedder>, KnowledgeError> {
        self.embedder
            .get_or_try_init(|| async {
                let paths = self.paths.clone();
                tracing::info!(model = MODEL_NAME, dir = %paths.model_dir.display(), "loading the embedding model");
                let embedder = tokio::task::spawn_blocking(move || Embedder::load(&paths))
                    .await
                    .map_err(|error| KnowledgeError::Task(error.to_string()))??;
                Ok(Arc::new(embedder))
            })
            .await
            .cloned()
    }

    async fn embed(&self, texts: Vec<String>, role: Role) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        let embedder = self.embedder().await?;
        tokio::task::spawn_blocking(move || embedder.embed(&texts, role))
            .await
            .map_err(|error| KnowledgeError::Task(error.to_string()))?
            .map_err(KnowledgeError::from)
    }

    /// Forgets a bot's cached knowledge (after a write in this process).
    pub fn invalidate(&self, bot_id: &str) {
        self.bots.invalidate(bot_id);
    }

    fn sync_lock(&self, partition: &Partition) -> Arc<tokio::sync::Mutex<()>> {
        self.sync_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(partition.clone())
            .or_default()
            .clone()
    }

    /// Brings the bot's stored vectors and index points in line with its FAQ and
    /// documents: embeds new or changed texts (reporting `progress(done, total)`), drops
    /// vectors nothing uses, and updates the index.
    pub async fn sync(
        &self,
        bot: &Bot,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<SyncReport, KnowledgeError> {
        let partition = Partition::new(&bot.tenant_id, &bot.id);
        let lock = self.sync_lock(&partition);
        let _guard = lock.lock().await;
        let faq = self.store.faq_entries(&bot.tenant_id, &bot.id).await?;
        let documents = self.store.documents(&bot.tenant_id, &bot.id).await?;
        let wanted = units(&faq, &documents);
        let mut indexed = self.indexed.lock().await;
        let current = indexed.entry(partition.clone()).or_default();
        let stale_units: Vec<&Unit> = wanted
            .iter()
            .filter(|unit| current.get(&unit.id) != Some(&unit.text_sha256))
            .collect();
        let wanted_ids: std::collections::HashSet<&str> =
            wanted.iter().map(|unit| unit.id.as_str()).collect();
        let removed: Vec<String> = current
            .keys()
            .filter(|id| !wanted_ids.contains(id.as_str()))
            .cloned()
            .collect();
        let mut report = SyncReport {
            units: wanted.len(),
            ..SyncReport::default()
        };
        if stale_units.is_empty() && removed.is_empty() {
            return Ok(report);
        }
        // Vectors already stored (by any process) are reused; only new texts are embedded.
        let mut stored: HashMap<String, Vec<f32>> = self
            .store
            .embeddings(&bot.tenant_id, &bot.id, MODEL_NAME)
            .await?
            .into_iter()
            .map(|embedding| (embedding.text_sha256, embedding.vector))
            .collect();
        let missing: Vec<&Unit> = stale_units
            .iter()
            .copied()
            .filter(|unit| !stored.contains_key(&unit.text_sha256))
            .collect();
        let total = missing.len();
        progress(0, total);
        for batch in missing.chunks(SYNC_BATCH) {
            for role in [Role::Query, Role::Passage] {
                let of_role: Vec<&Unit> =
                    batch.iter().copied().filter(|u| u.role == role).collect();
                if of_role.is_empty() {
                    continue;
                }
                let texts = of_role.iter().map(|unit| unit.text.clone()).collect();
                let vectors = self.embed(texts, role).await?;
                let fresh: Vec<StoredEmbedding> = of_role
                    .iter()
                    .zip(vectors)
                    .map(|(unit, vector)| StoredEmbedding {
                        text_sha256: unit.text_sha256.clone(),
                        vector,
                    })
                    .collect();
                self.store
                    .put_embeddings(&bot.tenant_id, &bot.id, MODEL_NAME, &fresh)
                    .await?;
                for embedding in fresh {
                    stored.insert(embedding.text_sha256, embedding.vector);
                }
                report.embedded += of_role.len();
            }
            progress(report.embedded, total);
        }
        let keep: Vec<String> = wanted.iter().map(|unit| unit.text_sha256.clone()).collect();
        self.store
            .retain_embeddings(&bot.tenant_id, &bot.id, MODEL_NAME, &keep)
            .await?;
        let points = stale_units
            .iter()
            .filter_map(|unit| stored.get(&unit.text_sha256).map(|v| unit.point(v.clone())))
            .collect::<Vec<_>>();
        report.indexed = points.len();
        report.removed = removed.len();
        self.index.delete(&partition, &removed).await?;
        self.index.upsert(&partition, points).await?;
        for id in &removed {
            current.remove(id);
        }
        for unit in stale_units {
            current.insert(unit.id.clone(), unit.text_sha256.clone());
        }
        tracing::info!(bot = %bot.id, units = report.units, embedded = report.embedded, indexed = report.indexed, removed = report.removed, "knowledge synced");
        Ok(report)
    }

    /// The bot's knowledge, synced and cached.
    pub async fn bot_knowledge(&self, bot: &Bot) -> Result<Arc<BotKnowledge>, KnowledgeError> {
        let loaded = self
            .bots
            .get_or_load(&bot.id, async {
                self.sync(bot, &|_, _| {}).await?;
                let faq = self.store.faq_entries(&bot.tenant_id, &bot.id).await?;
                let documents = self.store.documents(&bot.tenant_id, &bot.id).await?;
                let partition = Partition::new(&bot.tenant_id, &bot.id);
                Ok::<_, KnowledgeError>(Some(BotKnowledge::new(partition, faq, &documents, &[])))
            })
            .await?;
        loaded.ok_or_else(|| KnowledgeError::Task("knowledge did not load".into()))
    }

    /// Retrieves FAQ entries and chunks for `question`.
    pub async fn retrieve(&self, bot: &Bot, question: &str) -> Result<Retrieval, KnowledgeError> {
        // e5 reads 512 tokens at most; a longer message is a paste, not a question, and its
        // start says what it is about.
        let question: String = question.chars().take(MAX_QUERY_CHARS).collect();
        let knowledge = self.bot_knowledge(bot).await?;
        let query = analyze(&question, self.lexicon, &knowledge.restorer);
        let nothing_to_search = query.rewritten.trim().is_empty()
            || (knowledge.faq.is_empty() && knowledge.chunks.is_empty());
        if nothing_to_search {
            return Ok(Retrieval {
                query,
                faq: Vec::new(),
                chunks: Vec::new(),
                chunk_texts: HashMap::new(),
            });
        }
        let vector = self
            .embed(vec![query.rewritten.clone()], Role::Query)
            .await?
            .pop()
            .unwrap_or_default();
        let faq_hits = self
            .index
            .search(
                &knowledge.partition,
                &vector,
                Some(PointKind::Faq),
                DENSE_LIMIT,
            )
            .await?;
        let chunk_hits = self
            .index
            .search(
                &knowledge.partition,
                &vector,
                Some(PointKind::Chunk),
                DENSE_LIMIT,
            )
            .await?;
        let chunks = knowledge.score_chunks(&query, &chunk_hits, &self.weights);
        let chunk_texts = chunks
            .iter()
            .take(QUOTABLE_CHUNKS)
            .filter_map(|chunk| {
                let info = knowledge.chunks.get(&chunk.id)?;
                Some((chunk.id.clone(), info.text.clone()))
            })
            .collect();
        Ok(Retrieval {
            faq: knowledge.score_faq(&query, &faq_hits, &self.weights),
            chunks,
            chunk_texts,
            query,
        })
    }
}
