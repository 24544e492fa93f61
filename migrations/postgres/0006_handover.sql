-- Handover to people: who holds a conversation and since when, whether the waiting
-- customer was told staff are busy, and every change of hands with its actor and reason
-- (the history the console shows and metrics count).

ALTER TABLE conversations ADD COLUMN assigned_to TEXT;
ALTER TABLE conversations ADD COLUMN state_changed_at_ms BIGINT NOT NULL DEFAULT 0;
-- Set when the busy notice went out for the current wait; cleared on every move.
ALTER TABLE conversations ADD COLUMN busy_notified_at_ms BIGINT;
UPDATE conversations SET state_changed_at_ms = created_at_ms;

-- The timers scan only conversations people hold or wait for.
CREATE INDEX conversations_with_people ON conversations (state, state_changed_at_ms)
    WHERE state IN ('waiting', 'human');

CREATE TABLE handover_events (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    from_state      TEXT NOT NULL,
    to_state        TEXT NOT NULL,
    trigger         TEXT NOT NULL,
    -- `contact`, `bot`, `system`, `user:{id}` or `plugin:{name}`.
    actor           TEXT NOT NULL,
    reason          TEXT,
    at_ms           BIGINT NOT NULL,
    -- On a take: when the operator first replied (time to first reply).
    first_reply_ms  BIGINT
);
CREATE INDEX handover_events_by_conversation ON handover_events (conversation_id, id);
CREATE INDEX handover_events_by_tenant ON handover_events (tenant_id, at_ms);

-- The second wall between tenants (see 0005), for the new table.
ALTER TABLE handover_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON handover_events TO loa_tenant
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
