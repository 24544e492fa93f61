-- People and their access: users, tenant memberships with a role, refresh-token
-- sessions, API keys, and the append-only audit log.
--
-- No secret is stored: passwords are argon2id hashes, refresh tokens and API keys SHA-256
-- hashes of their random part.

-- email: stored lower-case by the store, so UNIQUE is case-insensitive.
CREATE TABLE users (
    id                     TEXT PRIMARY KEY,
    email                  TEXT NOT NULL UNIQUE,
    display_name           TEXT NOT NULL,
    password_hash          TEXT NOT NULL DEFAULT '',
    password_changed_at_ms BIGINT NOT NULL,
    disabled               BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms          BIGINT NOT NULL
);

CREATE TABLE memberships (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE refresh_sessions (
    id            TEXT PRIMARY KEY,
    family_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    rotated_at_ms BIGINT,
    revoked_at_ms BIGINT
);
CREATE INDEX refresh_sessions_by_family ON refresh_sessions (family_id);
CREATE INDEX refresh_sessions_by_user ON refresh_sessions (user_id);

-- scopes: JSONB like other JSON an admin writes (a list of scope names).
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,
    scopes          JSONB NOT NULL DEFAULT '[]',
    created_by      TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    last_used_at_ms BIGINT,
    revoked_at_ms   BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at_ms);

-- tenant_id is NULL for events of no tenant (a failed login of an unknown email), and has
-- no foreign key: appending a line must never fail because of what it names.
-- detail_json is TEXT, not JSONB: it may quote what a stranger typed (the email of a
-- failed login), and JSONB refuses the escaped NUL character.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   TEXT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    ip          TEXT,
    detail_json TEXT NOT NULL DEFAULT '{}',
    at_ms       BIGINT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);

-- Append-only, for every role, the table's owner included: UPDATE, DELETE and TRUNCATE
-- raise. (Dropping the table is still possible for its owner: that is a schema change,
-- not an edit of the log.)
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- The admin API pages a tenant's conversations newest first by (created_at_ms, id), ids
-- compared byte-wise (COLLATE "C") as on SQLite, whatever the database's locale.
CREATE INDEX conversations_by_tenant_created
    ON conversations (tenant_id, created_at_ms, id COLLATE "C");
