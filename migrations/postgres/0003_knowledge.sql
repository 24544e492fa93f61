-- A bot's knowledge beyond the FAQ: documents split into chunks, and the embedding
-- vectors of FAQ entries and chunks, keyed by model and the SHA-256 of the text embedded.

-- Chunks are JSONB like the FAQ: an admin imports them. id is COLLATE "C" so documents
-- list in byte order, as on SQLite, whatever the database's locale.
CREATE TABLE knowledge_documents (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    bot_id        TEXT NOT NULL REFERENCES bots(id),
    id            TEXT COLLATE "C" NOT NULL,
    title         TEXT NOT NULL,
    source        TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    chunks        JSONB NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, bot_id, id)
);

-- vector: the components as little-endian f32, 4 bytes each (the same bytes as SQLite).
CREATE TABLE knowledge_embeddings (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    bot_id      TEXT NOT NULL REFERENCES bots(id),
    model       TEXT NOT NULL,
    text_sha256 TEXT COLLATE "C" NOT NULL,
    vector      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, bot_id, model, text_sha256)
);
