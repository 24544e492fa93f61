-- The inbox and the outbox without lists of three or more values in their CHECK
-- constraints and partial-index conditions. SQLite evaluates such a list through a
-- temporary b-tree it opens and closes on every run of the statement: each outbox status
-- change opened five of them, and they were most of the writer's time under webhook load
-- (perf on `cargo bench -p loa-e2e --bench webhooks`). Checks now compare one value after
-- another; open outbox rows are those neither sent nor dead. And claims get indexes of
-- their own.
--
-- The tables are rebuilt as SQLite's ALTER TABLE documentation describes (the migration
-- runner turns foreign keys off around migrations and checks them before each commit).

CREATE TABLE inbox_events_rebuilt (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id          TEXT NOT NULL,
    channel_id         TEXT NOT NULL,
    channel_message_id TEXT NOT NULL,
    channel_user_id    TEXT NOT NULL,
    payload_json       TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status = 'pending' OR status = 'processing' OR status = 'done'
                              OR status = 'failed'),
    attempts           INTEGER NOT NULL DEFAULT 0,
    available_at_ms    INTEGER NOT NULL,
    lease_until_ms     INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    received_at_ms     INTEGER NOT NULL,
    UNIQUE (channel_id, channel_message_id)
);
INSERT INTO inbox_events_rebuilt SELECT
    id, tenant_id, channel_id, channel_message_id, channel_user_id, payload_json, status,
    attempts, available_at_ms, lease_until_ms, last_error, received_at_ms
FROM inbox_events;
-- Ids are never reused: the rebuilt table goes on from the old one's last id.
DELETE FROM sqlite_sequence WHERE name = 'inbox_events_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'inbox_events_rebuilt', seq FROM sqlite_sequence WHERE name = 'inbox_events';
DROP TABLE inbox_events;
ALTER TABLE inbox_events_rebuilt RENAME TO inbox_events;
CREATE INDEX inbox_open ON inbox_events (id) WHERE status IN ('pending', 'processing');
CREATE INDEX inbox_open_per_user ON inbox_events (channel_id, channel_user_id, id)
    WHERE status IN ('pending', 'processing');
-- What a claim takes: events waiting for a worker, and leases that ran out. Apart from
-- the events in flight, which sat at the head of inbox_open and which every claim walked
-- past.
CREATE INDEX inbox_ready ON inbox_events (id) WHERE status = 'pending';
CREATE INDEX inbox_leases ON inbox_events (lease_until_ms, id) WHERE status = 'processing';

CREATE TABLE outbox_rebuilt (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id          TEXT NOT NULL,
    channel_id         TEXT NOT NULL,
    conversation_id    TEXT NOT NULL,
    message_id         INTEGER NOT NULL REFERENCES messages(id),
    idempotency_key    TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status = 'pending' OR status = 'sending' OR status = 'sent'
                              OR status = 'failed' OR status = 'dead'),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    lease_until_ms     INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL,
    attempt_base       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_rebuilt SELECT
    id, tenant_id, channel_id, conversation_id, message_id, idempotency_key, status,
    attempts, next_attempt_at_ms, lease_until_ms, last_error, created_at_ms, updated_at_ms,
    attempt_base
FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'outbox_rebuilt', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
-- Open: not finished yet, in flight included (one row per conversation is sent at a time).
CREATE INDEX outbox_open ON outbox (id) WHERE status NOT IN ('sent', 'dead');
CREATE INDEX outbox_open_per_conversation ON outbox (conversation_id, id)
    WHERE status NOT IN ('sent', 'dead');
-- What a claim takes: rows ready to send, and leases that ran out. Apart from the rows in
-- flight, which sat at the head of outbox_open and which every claim walked past.
CREATE INDEX outbox_ready ON outbox (id) WHERE status IN ('pending', 'failed');
CREATE INDEX outbox_leases ON outbox (lease_until_ms, id) WHERE status = 'sending';
-- A tenant's deliveries newest first, optionally of one status (the dead-letter list).
CREATE INDEX outbox_by_tenant ON outbox (tenant_id, status, id);
