//! PostgreSQL side of [`KnowledgeStore`]: documents, embedding vectors, and edits of one
//! FAQ entry.

use std::collections::BTreeMap;

use async_trait::async_trait;
use deadpool_postgres::tokio_postgres::types::Json;

use super::PostgresStore;
use super::error::database;
use super::statements::{column, execute, query};
use super::tenant_scope::in_tenant;
use crate::conversation::model::FaqEntry;
use crate::store::knowledge::{vector_from_bytes, vector_to_bytes};
use crate::store::{Document, DocumentChunk, KnowledgeStore, StoreError, StoredEmbedding};

/// Rows per INSERT of embeddings: 1,000 vectors of 384 dimensions make a 1.5 MB statement,
/// few round trips for a whole bot, and a batch of any size stays far below PostgreSQL's
/// 1 GB message limit.
const EMBEDDING_BATCH: usize = 1_000;

/// One statement upserts a whole batch: the hashes and vectors go in as two arrays and
/// UNNEST pairs them up again.
const UPSERT_EMBEDDINGS: &str =
    "INSERT INTO knowledge_embeddings (tenant_id, bot_id, model, text_sha256, vector)
     SELECT $1, $2, $3, batch.text_sha256, batch.vector
     FROM UNNEST($4::text[], $5::bytea[]) AS batch (text_sha256, vector)
     ON CONFLICT (tenant_id, bot_id, model, text_sha256) DO UPDATE SET vector = excluded.vector";

/// The batch with one vector per text, the last one given winning (as if each were
/// written in turn): a single INSERT may not touch the same row twice.
fn last_per_text(embeddings: &[StoredEmbedding]) -> Vec<(&str, &[f32])> {
    let mut latest = BTreeMap::new();
    for embedding in embeddings {
        latest.insert(embedding.text_sha256.as_str(), embedding.vector.as_slice());
    }
    latest.into_iter().collect()
}

#[async_trait]
impl KnowledgeStore for PostgresStore {
    async fn put_document(
        &self,
        tenant_id: &str,
        bot_id: &str,
        document: &Document,
    ) -> Result<(), StoreError> {
        in_tenant!(self, tenant_id, |scope| execute(
            &scope,
            "INSERT INTO knowledge_documents
                 (tenant_id, bot_id, id, title, source, sha256, chunks, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (tenant_id, bot_id, id) DO UPDATE SET title = excluded.title,
                 source = excluded.source, sha256 = excluded.sha256, chunks = excluded.chunks,
                 updated_at_ms = excluded.updated_at_ms",
            &[
                &tenant_id,
                &bot_id,
                &document.id,
                &document.title,
                &document.source,
                &document.sha256,
                &Json(&document.chunks),
                &document.updated_at_ms,
            ],
        ))?;
        Ok(())
    }

    async fn delete_document(
        &self,
        tenant_id: &str,
        bot_id: &str,
        document_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = in_tenant!(self, tenant_id, |scope| execute(
            &scope,
            "DELETE FROM knowledge_documents WHERE tenant_id = $1 AND bot_id = $2 AND id = $3",
            &[&tenant_id, &bot_id, &document_id],
        ))?;
        Ok(deleted > 0)
    }

    async fn documents(&self, tenant_id: &str, bot_id: &str) -> Result<Vec<Document>, StoreError> {
        let rows = in_tenant!(self, tenant_id, |scope| query(
            &scope,
            "SELECT id, title, source, sha256, chunks, updated_at_ms FROM knowledge_documents
             WHERE tenant_id = $1 AND bot_id = $2 ORDER BY id",
            &[&tenant_id, &bot_id],
        ))?;
        rows.iter()
            .map(|row| {
                let Json(chunks): Json<Vec<DocumentChunk>> = column(row, "chunks")?;
                Ok(Document {
                    id: column(row, "id")?,
                    title: column(row, "title")?,
                    source: column(row, "source")?,
                    sha256: column(row, "sha256")?,
                    chunks,
                    updated_at_ms: column(row, "updated_at_ms")?,
                })
            })
            .collect()
    }

    async fn put_embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
        embeddings: &[StoredEmbedding],
    ) -> Result<(), StoreError> {
        let embeddings = last_per_text(embeddings);
        let mut client = self.client().await?;
        let transaction = self.tenant_scope(&mut client, tenant_id).await?;
        for batch in embeddings.chunks(EMBEDDING_BATCH) {
            let hashes: Vec<&str> = batch.iter().map(|(hash, _)| *hash).collect();
            let vectors: Vec<Vec<u8>> = batch
                .iter()
                .map(|(_, vector)| vector_to_bytes(vector))
                .collect();
            execute(
                &transaction,
                UPSERT_EMBEDDINGS,
                &[&tenant_id, &bot_id, &model, &hashes, &vectors],
            )
            .await?;
        }
        transaction.commit().await.map_err(database)
    }

    async fn embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
    ) -> Result<Vec<StoredEmbedding>, StoreError> {
        let rows = in_tenant!(self, tenant_id, |scope| query(
            &scope,
            "SELECT text_sha256, vector FROM knowledge_embeddings
             WHERE tenant_id = $1 AND bot_id = $2 AND model = $3 ORDER BY text_sha256",
            &[&tenant_id, &bot_id, &model],
        ))?;
        rows.iter()
            .map(|row| {
                let text_sha256: String = column(row, "text_sha256")?;
                let vector = vector_from_bytes(column(row, "vector")?, &text_sha256)?;
                Ok(StoredEmbedding {
                    text_sha256,
                    vector,
                })
            })
            .collect()
    }

    async fn retain_embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
        keep: &[String],
    ) -> Result<usize, StoreError> {
        // NOT IN over the unnested array, not `<> ALL($4)` nor NOT EXISTS: it always plans
        // as a hashed subplan (measured on PostgreSQL 15, 2,000 stored and 1,000 kept:
        // 4 ms), where `<> ALL` with a cached generic plan scans the whole array for each
        // row (70 ms) and NOT EXISTS on a table without statistics yet became a nested
        // loop (440 ms). Neither side holds NULLs, so NOT IN's NULL trap does not apply.
        let deleted = in_tenant!(self, tenant_id, |scope| execute(
            &scope,
            "DELETE FROM knowledge_embeddings
             WHERE tenant_id = $1 AND bot_id = $2 AND model = $3
               AND text_sha256 NOT IN (SELECT UNNEST($4::text[]))",
            &[&tenant_id, &bot_id, &model, &keep],
        ))?;
        usize::try_from(deleted)
            .map_err(|_| StoreError::Backend(format!("{deleted} rows deleted: too many to count")))
    }

    async fn put_faq_entry(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entry: &FaqEntry,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = self.tenant_scope(&mut client, tenant_id).await?;
        // Edits of one bot's FAQ take turns on the bot's row, or two new entries added at
        // once would both take max + 1. NO KEY UPDATE rather than UPDATE: it does not hold
        // up the foreign-key checks of rows that reference the bot (channels, conversations).
        execute(
            &transaction,
            "SELECT 1 FROM bots WHERE id = $1 FOR NO KEY UPDATE",
            &[&bot_id],
        )
        .await?;
        execute(
            &transaction,
            "INSERT INTO faq_entries (tenant_id, bot_id, id, position, entry)
             VALUES ($1, $2, $3,
                     (SELECT coalesce(max(position) + 1, 0) FROM faq_entries
                      WHERE tenant_id = $1 AND bot_id = $2),
                     $4)
             ON CONFLICT (tenant_id, bot_id, id) DO UPDATE SET entry = excluded.entry",
            &[&tenant_id, &bot_id, &entry.id, &Json(entry)],
        )
        .await?;
        transaction.commit().await.map_err(database)
    }

    async fn delete_faq_entry(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entry_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = in_tenant!(self, tenant_id, |scope| execute(
            &scope,
            "DELETE FROM faq_entries WHERE tenant_id = $1 AND bot_id = $2 AND id = $3",
            &[&tenant_id, &bot_id, &entry_id],
        ))?;
        Ok(deleted > 0)
    }
}
