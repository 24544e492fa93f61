//! The part of the [`Store`](super::Store) that keeps a bot's knowledge beyond the FAQ:
//! documents (split into chunks) and the embedding vectors computed for FAQ entries and
//! chunks. Vectors are keyed by the SHA-256 of the exact text embedded and the model's
//! name, so only what changed is ever embedded again, and the vector index (in memory or
//! Qdrant) can always be rebuilt from the store.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;

/// A document of a bot's knowledge base, already split into chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    /// Id within the bot (the file name by default: `chinh-sach-doi-tra.md`).
    pub id: String,
    /// Its title (the first heading, else the id).
    pub title: String,
    /// Where it came from (a path or URL), for admins.
    pub source: String,
    /// SHA-256 (hex) of the original text: a re-import of the same text changes nothing.
    pub sha256: String,
    /// Its chunks, in document order.
    pub chunks: Vec<DocumentChunk>,
    /// When it was last written, ms since the Unix epoch.
    pub updated_at_ms: i64,
}

/// One retrievable piece of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentChunk {
    /// The headings above it, outermost first (kept so a chunk makes sense alone).
    pub headings: Vec<String>,
    /// Its text.
    pub text: String,
}

/// An embedding vector of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    /// SHA-256 (hex) of the exact text embedded (prefix included).
    pub text_sha256: String,
    /// The vector.
    pub vector: Vec<f32>,
}

/// Documents and embedding vectors, per tenant and bot.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Creates or replaces a document (by tenant, bot and id).
    async fn put_document(
        &self,
        tenant_id: &str,
        bot_id: &str,
        document: &Document,
    ) -> Result<(), StoreError>;
    /// Deletes a document; returns whether it existed.
    async fn delete_document(
        &self,
        tenant_id: &str,
        bot_id: &str,
        document_id: &str,
    ) -> Result<bool, StoreError>;
    /// A bot's documents, by id.
    async fn documents(&self, tenant_id: &str, bot_id: &str) -> Result<Vec<Document>, StoreError>;

    /// Stores vectors computed with `model` (replacing any with the same text hash).
    async fn put_embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
        embeddings: &[StoredEmbedding],
    ) -> Result<(), StoreError>;
    /// Every vector a bot has for `model`.
    async fn embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
    ) -> Result<Vec<StoredEmbedding>, StoreError>;
    /// Deletes the bot's vectors for `model` whose hash is not in `keep` (texts no FAQ
    /// entry or chunk uses any more); returns how many went.
    async fn retain_embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
        keep: &[String],
    ) -> Result<usize, StoreError>;

    /// Creates or replaces one FAQ entry of a bot, keeping the others (the admin API's
    /// edit; [`replace_faq`](super::ConversationStore::replace_faq) is the import).
    async fn put_faq_entry(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entry: &crate::conversation::model::FaqEntry,
    ) -> Result<(), StoreError>;
    /// Deletes one FAQ entry; returns whether it existed.
    async fn delete_faq_entry(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entry_id: &str,
    ) -> Result<bool, StoreError>;
}

/// A vector as both databases store it: each component as a little-endian `f32`, 4 bytes
/// apiece. Raw bits rather than text or JSON, so a read gives back exactly the bits written
/// (-0.0, subnormals) at a quarter of the size of decimal text.
pub(crate) fn vector_to_bytes(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .flat_map(|component| component.to_le_bytes())
        .collect()
}

/// Stored bytes back as a vector; `text_sha256` names the row in the error.
pub(crate) fn vector_from_bytes(bytes: &[u8], text_sha256: &str) -> Result<Vec<f32>, StoreError> {
    let (components, rest) = bytes.as_chunks::<4>();
    if !rest.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "embedding of text {text_sha256}: {} bytes is not a whole number of 4-byte f32 components",
            bytes.len()
        )));
    }
    Ok(components
        .iter()
        .map(|component| f32::from_le_bytes(*component))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_survives_its_bytes_bit_for_bit() {
        let vector = [-0.0, 1.0e-45, f32::MIN_POSITIVE, -f32::MAX, 0.1, -1.5];
        let bytes = vector_to_bytes(&vector);
        assert_eq!(bytes.len(), 4 * vector.len());
        assert_eq!(&bytes[..4], &[0, 0, 0, 0x80], "little-endian -0.0");
        let back = vector_from_bytes(&bytes, "h").expect("decodes");
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&vector));
    }

    #[test]
    fn an_empty_vector_is_zero_bytes() {
        assert!(vector_to_bytes(&[]).is_empty());
        assert_eq!(
            vector_from_bytes(&[], "h").expect("decodes"),
            Vec::<f32>::new()
        );
    }

    #[test]
    fn bytes_that_are_not_whole_components_are_corrupt() {
        let error = vector_from_bytes(&[0; 7], "abc").expect_err("7 bytes");
        assert!(
            matches!(&error, StoreError::Corrupt(message) if message.contains("abc") && message.contains("7 bytes")),
            "{error:?}"
        );
    }
}
