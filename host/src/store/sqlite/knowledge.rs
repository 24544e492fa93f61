//! SQLite side of [`KnowledgeStore`]: documents, embedding vectors, and edits of one FAQ
//! entry. Each method moves its arguments into a job for the writer thread or a reader and
//! runs the matching function, like the other traits in `traits.rs`.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::cached::CachedStatements;
use super::{SqliteStore, backend};
use crate::conversation::model::FaqEntry;
use crate::store::codec::{decode, encode};
use crate::store::knowledge::{vector_from_bytes, vector_to_bytes};
use crate::store::{Document, KnowledgeStore, StoreError, StoredEmbedding};

fn put_document(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
    document: &Document,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "INSERT INTO knowledge_documents
                 (tenant_id, bot_id, id, title, source, sha256, chunks_json, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (tenant_id, bot_id, id) DO UPDATE SET title = excluded.title,
                 source = excluded.source, sha256 = excluded.sha256,
                 chunks_json = excluded.chunks_json, updated_at_ms = excluded.updated_at_ms",
            params![
                tenant_id,
                bot_id,
                document.id,
                document.title,
                document.source,
                document.sha256,
                encode(&document.chunks)?,
                document.updated_at_ms
            ],
        )
        .map_err(backend)?;
    Ok(())
}

fn delete_document(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
    document_id: &str,
) -> Result<bool, StoreError> {
    let deleted = connection
        .execute_cached(
            "DELETE FROM knowledge_documents WHERE tenant_id = ?1 AND bot_id = ?2 AND id = ?3",
            [tenant_id, bot_id, document_id],
        )
        .map_err(backend)?;
    Ok(deleted > 0)
}

fn documents(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
) -> Result<Vec<Document>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT id, title, source, sha256, chunks_json, updated_at_ms
             FROM knowledge_documents WHERE tenant_id = ?1 AND bot_id = ?2 ORDER BY id",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id, bot_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (id, title, source, sha256, chunks, updated_at_ms) = row.map_err(backend)?;
        Ok(Document {
            id,
            title,
            source,
            sha256,
            chunks: decode(&chunks)?,
            updated_at_ms,
        })
    })
    .collect()
}

/// One transaction and one prepared statement for the whole batch: thousands of rows
/// commit in milliseconds, where a transaction per row would sync the file each time.
fn put_embeddings(
    connection: &mut Connection,
    tenant_id: &str,
    bot_id: &str,
    model: &str,
    embeddings: &[StoredEmbedding],
) -> Result<(), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    {
        let mut upsert = transaction
            .prepare_cached(
                "INSERT INTO knowledge_embeddings (tenant_id, bot_id, model, text_sha256, vector)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant_id, bot_id, model, text_sha256)
                     DO UPDATE SET vector = excluded.vector",
            )
            .map_err(backend)?;
        for embedding in embeddings {
            upsert
                .execute(params![
                    tenant_id,
                    bot_id,
                    model,
                    embedding.text_sha256,
                    vector_to_bytes(&embedding.vector)
                ])
                .map_err(backend)?;
        }
    }
    transaction.commit().map_err(backend)
}

fn embeddings(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
    model: &str,
) -> Result<Vec<StoredEmbedding>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT text_sha256, vector FROM knowledge_embeddings
             WHERE tenant_id = ?1 AND bot_id = ?2 AND model = ?3 ORDER BY text_sha256",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id, bot_id, model], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (text_sha256, bytes) = row.map_err(backend)?;
        let vector = vector_from_bytes(&bytes, &text_sha256)?;
        Ok(StoredEmbedding {
            text_sha256,
            vector,
        })
    })
    .collect()
}

/// `keep` goes in as one JSON array read with `json_each`: thousands of hashes in one
/// parameter, where `NOT IN (?, ?, ...)` would hit SQLite's limit on parameters.
fn retain_embeddings(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
    model: &str,
    keep: &[String],
) -> Result<usize, StoreError> {
    connection
        .execute_cached(
            "DELETE FROM knowledge_embeddings
             WHERE tenant_id = ?1 AND bot_id = ?2 AND model = ?3
               AND text_sha256 NOT IN (SELECT value FROM json_each(?4))",
            params![tenant_id, bot_id, model, encode(keep)?],
        )
        .map_err(backend)
}

/// One statement, so the position read and the insert cannot be split by another writer
/// (SQLite has one at a time).
fn put_faq_entry(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
    entry: &FaqEntry,
) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "INSERT INTO faq_entries (tenant_id, bot_id, id, position, entry_json)
             VALUES (?1, ?2, ?3,
                     (SELECT coalesce(max(position) + 1, 0) FROM faq_entries
                      WHERE tenant_id = ?1 AND bot_id = ?2),
                     ?4)
             ON CONFLICT (tenant_id, bot_id, id) DO UPDATE SET entry_json = excluded.entry_json",
            params![tenant_id, bot_id, entry.id, encode(entry)?],
        )
        .map_err(backend)?;
    Ok(())
}

fn delete_faq_entry(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
    entry_id: &str,
) -> Result<bool, StoreError> {
    let deleted = connection
        .execute_cached(
            "DELETE FROM faq_entries WHERE tenant_id = ?1 AND bot_id = ?2 AND id = ?3",
            [tenant_id, bot_id, entry_id],
        )
        .map_err(backend)?;
    Ok(deleted > 0)
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn put_document(
        &self,
        tenant_id: &str,
        bot_id: &str,
        document: &Document,
    ) -> Result<(), StoreError> {
        let (tenant_id, bot_id, document) =
            (tenant_id.to_owned(), bot_id.to_owned(), document.clone());
        self.with(move |connection| put_document(connection, &tenant_id, &bot_id, &document))
            .await
    }

    async fn delete_document(
        &self,
        tenant_id: &str,
        bot_id: &str,
        document_id: &str,
    ) -> Result<bool, StoreError> {
        let (tenant_id, bot_id, id) = (
            tenant_id.to_owned(),
            bot_id.to_owned(),
            document_id.to_owned(),
        );
        self.with(move |connection| delete_document(connection, &tenant_id, &bot_id, &id))
            .await
    }

    async fn documents(&self, tenant_id: &str, bot_id: &str) -> Result<Vec<Document>, StoreError> {
        let (tenant_id, bot_id) = (tenant_id.to_owned(), bot_id.to_owned());
        self.read(move |connection| documents(connection, &tenant_id, &bot_id))
            .await
    }

    async fn put_embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
        embeddings: &[StoredEmbedding],
    ) -> Result<(), StoreError> {
        let (tenant_id, bot_id, model, embeddings) = (
            tenant_id.to_owned(),
            bot_id.to_owned(),
            model.to_owned(),
            embeddings.to_vec(),
        );
        self.with(move |connection| {
            put_embeddings(connection, &tenant_id, &bot_id, &model, &embeddings)
        })
        .await
    }

    async fn embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
    ) -> Result<Vec<StoredEmbedding>, StoreError> {
        let (tenant_id, bot_id, model) =
            (tenant_id.to_owned(), bot_id.to_owned(), model.to_owned());
        self.read(move |connection| embeddings(connection, &tenant_id, &bot_id, &model))
            .await
    }

    async fn retain_embeddings(
        &self,
        tenant_id: &str,
        bot_id: &str,
        model: &str,
        keep: &[String],
    ) -> Result<usize, StoreError> {
        let (tenant_id, bot_id, model, keep) = (
            tenant_id.to_owned(),
            bot_id.to_owned(),
            model.to_owned(),
            keep.to_vec(),
        );
        self.with(move |connection| {
            retain_embeddings(connection, &tenant_id, &bot_id, &model, &keep)
        })
        .await
    }

    async fn put_faq_entry(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entry: &FaqEntry,
    ) -> Result<(), StoreError> {
        let (tenant_id, bot_id, entry) = (tenant_id.to_owned(), bot_id.to_owned(), entry.clone());
        self.with(move |connection| put_faq_entry(connection, &tenant_id, &bot_id, &entry))
            .await
    }

    async fn delete_faq_entry(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entry_id: &str,
    ) -> Result<bool, StoreError> {
        let (tenant_id, bot_id, id) =
            (tenant_id.to_owned(), bot_id.to_owned(), entry_id.to_owned());
        self.with(move |connection| delete_faq_entry(connection, &tenant_id, &bot_id, &id))
            .await
    }
}
