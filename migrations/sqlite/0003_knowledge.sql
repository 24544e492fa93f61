-- A bot's knowledge beyond the FAQ: documents split into chunks, and the embedding
-- vectors of FAQ entries and chunks, keyed by model and the SHA-256 of the text embedded.

CREATE TABLE knowledge_documents (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    bot_id        TEXT NOT NULL REFERENCES bots(id),
    id            TEXT NOT NULL,
    title         TEXT NOT NULL,
    source        TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    chunks_json   TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, bot_id, id)
);

-- vector: the components as little-endian f32, 4 bytes each. A rowid table, not WITHOUT
-- ROWID: a row of a 384-dimension vector is 1.5 KB, far above the size where WITHOUT
-- ROWID pays off.
CREATE TABLE knowledge_embeddings (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    bot_id      TEXT NOT NULL REFERENCES bots(id),
    model       TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, bot_id, model, text_sha256)
);
