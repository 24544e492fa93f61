-- Dead letters an admin can retry, and the tenant-wide delivery list.
--
-- attempt_base: attempts already spent when the row's current retry budget began (0, or
-- the attempts at an admin's retry of a dead letter). The dispatcher backs off and gives
-- up on attempts - attempt_base, so a retried dead letter gets a fresh budget while the
-- delivery log keeps numbering its attempts on. (The outbox's row-level security policy
-- of 0005 covers the new column.)
ALTER TABLE outbox ADD COLUMN attempt_base BIGINT NOT NULL DEFAULT 0;

-- A tenant's deliveries newest first, optionally of one status (the dead-letter list).
CREATE INDEX outbox_by_tenant ON outbox (tenant_id, status, id);
