-- Row-level security: the second wall between tenants. The first is in the queries (every
-- tenant-scoped statement says `WHERE tenant_id = ...`); this one holds even when a query
-- forgets to.
--
-- How it works. Work done for one tenant (the admin API's reads and writes) runs in a
-- transaction that starts with
--     SET LOCAL ROLE loa_tenant;                        -- set_config('role', ..., true)
--     SELECT set_config('app.tenant_id', 'may', true);  -- SET LOCAL app.tenant_id
-- and the policies below let the role `loa_tenant` see and write only the rows whose
-- tenant_id is app.tenant_id. Both settings end with the transaction, so a pooled
-- connection never carries one tenant's scope into the next caller's statements.
--
-- Why "SET LOCAL ROLE per transaction" rather than "log in as a role without BYPASSRLS":
-- row-level security never applies to superusers, to roles with BYPASSRLS, or to a
-- table's owner, and loa's login role owns the tables (it runs the migrations). Many
-- deployments, and the tests, log in as a superuser. Switching to `loa_tenant`, which is
-- none of those, makes the policies apply whatever role loa logs in as. Work that is no
-- tenant's (the inbox and outbox workers across all tenants, finding a channel or bot by
-- its public id for a webhook, logins, migrations) stays on the login role and is
-- unaffected.
--
-- What a DBA must do when loa's login role may not create roles (no CREATEROLE): once per
-- cluster, before this migration runs,
--     CREATE ROLE loa_tenant NOLOGIN NOBYPASSRLS;
--     GRANT loa_tenant TO <loa's login role>;
-- The migration then finds the role and the membership and only grants table privileges
-- in loa's schema, which the tables' owner may always do. The role is cluster-wide and
-- shared by every loa schema and database on the cluster; the policies are per table.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'loa_tenant') THEN
        BEGIN
            CREATE ROLE loa_tenant NOLOGIN NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- Another loa (another schema, another database of the cluster) created it
            -- at the same moment: roles are cluster-wide.
            NULL;
        END;
    END IF;
    -- Superusers count as members of every role and need no grant.
    IF NOT pg_has_role(current_user, 'loa_tenant', 'MEMBER') THEN
        BEGIN
            GRANT loa_tenant TO CURRENT_USER;
        EXCEPTION WHEN unique_violation THEN
            NULL; -- granted concurrently
        END;
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA %I TO loa_tenant', current_schema());
    EXECUTE format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO loa_tenant',
        current_schema());
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO loa_tenant', current_schema());
    -- Tables later migrations create get the same privileges (they must still add their
    -- own policy; a test checks that every table with a tenant_id has one).
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I
             GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO loa_tenant',
        current_schema());
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE ON SEQUENCES TO loa_tenant',
        current_schema());
END
$$;

-- Every table with a tenant_id column: a row is the tenant's own, for reading (USING) and
-- for writing (WITH CHECK). current_setting(..., true) is NULL when unset, so a
-- transaction that never named a tenant sees nothing.
DO $$
DECLARE
    tenant_table TEXT;
BEGIN
    FOR tenant_table IN
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id'
          AND t.table_type = 'BASE TABLE'
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tenant_table);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO loa_tenant
                 USING (tenant_id = current_setting(''app.tenant_id'', true))
                 WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))',
            tenant_table);
    END LOOP;
END
$$;

-- The tenant itself.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO loa_tenant
    USING (id = current_setting('app.tenant_id', true))
    WITH CHECK (id = current_setting('app.tenant_id', true));

-- Delivery attempts belong to the tenant of their outbox row (itself under its policy).
ALTER TABLE delivery_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON delivery_log TO loa_tenant
    USING (EXISTS (SELECT 1 FROM outbox o WHERE o.id = delivery_log.outbox_id))
    WITH CHECK (EXISTS (SELECT 1 FROM outbox o WHERE o.id = delivery_log.outbox_id));

-- A user belongs to no tenant, but a tenant may read its own members (users are created
-- and changed by the login role: sign-up, password changes).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_of_tenant ON users FOR SELECT TO loa_tenant
    USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id));

-- Refresh sessions are a person's, never a tenant's: enabled with no policy for
-- loa_tenant, so a tenant transaction sees none of them.
ALTER TABLE refresh_sessions ENABLE ROW LEVEL SECURITY;
