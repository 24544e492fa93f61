-- Operator presence in the console: each operator's last heartbeat per tenant, online or
-- away. Stored (not kept in one process's memory) so every instance behind a load
-- balancer shows the same operators.

CREATE TABLE operator_presence (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    status        TEXT NOT NULL CHECK (status IN ('online', 'away')),
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- The second wall between tenants (see 0005), for the new table.
ALTER TABLE operator_presence ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON operator_presence TO loa_tenant
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
