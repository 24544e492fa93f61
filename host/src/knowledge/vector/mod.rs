//! Vector search: one [`VectorIndex`] trait, an exact in-memory index (the embedded
//! default) and a Qdrant client (scale-out). Both pass the same contract suite
//! (`host/tests/vector_contract/`).
//!
//! Every point lives in one [`Partition`] (a tenant's bot) and every search names one, so
//! a search never sees another tenant's vectors.

pub mod memory;
pub mod qdrant;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use memory::MemoryIndex;
pub use qdrant::QdrantIndex;

/// The tenant and bot a point belongs to; searches never cross partitions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Partition {
    /// The tenant.
    pub tenant_id: String,
    /// The tenant's bot.
    pub bot_id: String,
}

impl Partition {
    /// The partition of `bot_id` in `tenant_id`.
    pub fn new(tenant_id: impl Into<String>, bot_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            bot_id: bot_id.into(),
        }
    }
}

/// What a point was embedded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// An FAQ entry (its question, a variant, or question and answer together).
    Faq,
    /// A chunk of a document.
    Chunk,
}

impl PointKind {
    /// The name stored with the point (`faq`, `chunk`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Faq => "faq",
            Self::Chunk => "chunk",
        }
    }
}

/// One vector with what it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// Unique within the partition (`faq:faq-01:0`, `chunk:doc-id:3`).
    pub id: String,
    /// What it was embedded from.
    pub kind: PointKind,
    /// The FAQ entry or document it belongs to: several points may share one item.
    pub item_id: String,
    /// Unit length (the embedder normalises), so the dot product is the cosine.
    pub vector: Vec<f32>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    /// The point's id.
    pub id: String,
    /// What it was embedded from.
    pub kind: PointKind,
    /// The FAQ entry or document it belongs to.
    pub item_id: String,
    /// Cosine similarity to the query, higher is closer.
    pub score: f32,
}

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A vector's length differs from the index's dimension.
    #[error("vector has {got} dimensions, the index holds {expected}")]
    Dimension {
        /// The index's dimension.
        expected: usize,
        /// The vector's.
        got: usize,
    },
    /// The index server failed or could not be reached.
    #[error("vector index backend: {0}")]
    Backend(String),
}

/// A searchable set of vectors, partitioned by tenant and bot.
#[async_trait]
pub trait VectorIndex: Send + Sync + 'static {
    /// Whether the index keeps its points itself across restarts (Qdrant) or must be
    /// loaded from the store at start (the in-memory one).
    fn is_persistent(&self) -> bool;

    /// Adds points, replacing those with the same id in the partition.
    async fn upsert(
        &self,
        partition: &Partition,
        points: Vec<VectorPoint>,
    ) -> Result<(), IndexError>;

    /// Removes the points with these ids; unknown ids are fine.
    async fn delete(&self, partition: &Partition, ids: &[String]) -> Result<(), IndexError>;

    /// Removes every point of `item_id` (an FAQ entry or document) in the partition.
    async fn delete_item(
        &self,
        partition: &Partition,
        kind: PointKind,
        item_id: &str,
    ) -> Result<(), IndexError>;

    /// Removes the whole partition (a deleted bot).
    async fn drop_partition(&self, partition: &Partition) -> Result<(), IndexError>;

    /// The `limit` points of `kind` (any kind when `None`) closest to `query` in the
    /// partition, best first. An unknown partition has no points.
    async fn search(
        &self,
        partition: &Partition,
        query: &[f32],
        kind: Option<PointKind>,
        limit: usize,
    ) -> Result<Vec<VectorHit>, IndexError>;

    /// How many points the partition holds.
    async fn count(&self, partition: &Partition) -> Result<usize, IndexError>;
}
