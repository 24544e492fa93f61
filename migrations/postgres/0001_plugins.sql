-- Installed plugins, per-tenant plugin settings and the plugin key-value store.

CREATE TABLE installed_plugins (
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    sha256          TEXT NOT NULL,
    installed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

-- Configuration an admin writes: JSONB, so it can be read with SQL.
CREATE TABLE tenant_plugins (
    tenant_id      TEXT NOT NULL,
    plugin         TEXT NOT NULL,
    pinned_version TEXT,
    enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    config         JSONB NOT NULL DEFAULT '{}',
    http_grants    JSONB NOT NULL DEFAULT '[]',
    breaker        JSONB,
    updated_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, plugin)
);

-- COLLATE "C": keys list in byte order whatever the database's locale.
CREATE TABLE plugin_kv (
    tenant_id TEXT NOT NULL,
    plugin    TEXT NOT NULL,
    key       TEXT COLLATE "C" NOT NULL,
    value     BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, plugin, key)
);
