-- Installed plugins, per-tenant plugin settings and the plugin key-value store.

CREATE TABLE installed_plugins (
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    sha256          TEXT NOT NULL,
    installed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE tenant_plugins (
    tenant_id       TEXT NOT NULL,
    plugin          TEXT NOT NULL,
    pinned_version  TEXT,
    enabled         INTEGER NOT NULL DEFAULT 0,
    config_json     TEXT NOT NULL DEFAULT '{}',
    http_grants     TEXT NOT NULL DEFAULT '[]',
    breaker_json    TEXT,
    updated_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, plugin)
);

CREATE TABLE plugin_kv (
    tenant_id TEXT NOT NULL,
    plugin    TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (tenant_id, plugin, key)
) WITHOUT ROWID;
