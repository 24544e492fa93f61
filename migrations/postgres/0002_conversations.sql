-- Tenants, bots, channels, FAQ, contacts, conversations, messages, turn decisions,
-- and the durable pipeline: inbox, outbox, delivery log.
--
-- JSON an admin writes (settings, channel kind and secrets, FAQ entries) is JSONB. JSON that
-- carries text from customers, channels, plugins or the LLM (message content, decisions,
-- delivery results, inbox payloads) is TEXT: JSONB refuses the escaped NUL character
-- (\u0000), and one odd message must not stall a conversation.

CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE bots (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    name          TEXT NOT NULL,
    settings      JSONB NOT NULL,
    widget_secret TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX bots_by_tenant ON bots (tenant_id);

CREATE TABLE channels (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    bot_id        TEXT NOT NULL REFERENCES bots(id),
    kind          JSONB NOT NULL,
    secrets       JSONB NOT NULL DEFAULT '{}',
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX channels_by_tenant ON channels (tenant_id);

CREATE TABLE faq_entries (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    bot_id    TEXT NOT NULL REFERENCES bots(id),
    id        TEXT NOT NULL,
    position  INTEGER NOT NULL,
    entry     JSONB NOT NULL,
    PRIMARY KEY (tenant_id, bot_id, id)
);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    channel_id      TEXT NOT NULL REFERENCES channels(id),
    channel_user_id TEXT NOT NULL,
    display_name    TEXT,
    created_at_ms   BIGINT NOT NULL,
    UNIQUE (channel_id, channel_user_id)
);
CREATE INDEX contacts_by_tenant ON contacts (tenant_id);

CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    bot_id             TEXT NOT NULL REFERENCES bots(id),
    channel_id         TEXT NOT NULL REFERENCES channels(id),
    contact_id         TEXT NOT NULL REFERENCES contacts(id),
    state              TEXT NOT NULL CHECK (state IN ('bot', 'waiting', 'human', 'closed')),
    language           TEXT NOT NULL,
    consecutive_misses BIGINT NOT NULL DEFAULT 0,
    last_activity_ms   BIGINT NOT NULL,
    created_at_ms      BIGINT NOT NULL
);
-- At most one open conversation per contact.
CREATE UNIQUE INDEX conversations_open_per_contact ON conversations (contact_id)
    WHERE state <> 'closed';
CREATE INDEX conversations_by_tenant ON conversations (tenant_id, last_activity_ms);

CREATE TABLE messages (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    conversation_id    TEXT NOT NULL REFERENCES conversations(id),
    channel_id         TEXT NOT NULL,
    direction          TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    sender_json        TEXT NOT NULL,
    content_json       TEXT NOT NULL,
    channel_message_id TEXT,
    created_at_ms      BIGINT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
-- A customer's message is stored once, however often the channel or a worker repeats it.
CREATE UNIQUE INDEX messages_inbound_once ON messages (channel_id, channel_message_id)
    WHERE direction = 'inbound';

CREATE TABLE turn_decisions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    turn_key        TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    decision_json   TEXT,
    created_at_ms   BIGINT NOT NULL
);
CREATE INDEX turn_decisions_by_conversation ON turn_decisions (conversation_id, created_at_ms);

CREATE TABLE inbox_events (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    channel_id         TEXT NOT NULL,
    channel_message_id TEXT NOT NULL,
    channel_user_id    TEXT NOT NULL,
    payload_json       TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'processing', 'done', 'failed')),
    attempts           BIGINT NOT NULL DEFAULT 0,
    available_at_ms    BIGINT NOT NULL,
    lease_until_ms     BIGINT NOT NULL DEFAULT 0,
    last_error         TEXT,
    received_at_ms     BIGINT NOT NULL,
    UNIQUE (channel_id, channel_message_id)
);
CREATE INDEX inbox_open ON inbox_events (id) WHERE status IN ('pending', 'processing');
CREATE INDEX inbox_open_per_user ON inbox_events (channel_id, channel_user_id, id)
    WHERE status IN ('pending', 'processing');

CREATE TABLE outbox (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    channel_id         TEXT NOT NULL,
    conversation_id    TEXT NOT NULL,
    message_id         BIGINT NOT NULL REFERENCES messages(id),
    idempotency_key    TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    lease_until_ms     BIGINT NOT NULL DEFAULT 0,
    last_error         TEXT,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL
);
CREATE INDEX outbox_open ON outbox (id) WHERE status IN ('pending', 'sending', 'failed');
CREATE INDEX outbox_open_per_conversation ON outbox (conversation_id, id)
    WHERE status IN ('pending', 'sending', 'failed');

CREATE TABLE delivery_log (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id         BIGINT NOT NULL REFERENCES outbox(id),
    attempt           BIGINT NOT NULL,
    result_json       TEXT NOT NULL,
    provider_response TEXT,
    elapsed_ms        BIGINT NOT NULL,
    at_ms             BIGINT NOT NULL
);
CREATE INDEX delivery_log_by_outbox ON delivery_log (outbox_id, id);
