-- Every index entry that depends on a row's status moves when the status changes, and each
-- move is a page written to the WAL. Under load the queues' tables were most of SQLite's
-- writes (a webhook, a turn and a send change an inbox row and an outbox row five times),
-- so these go:
--
-- inbox_open and outbox_open only counted the open rows (the queue depths): the ready and
-- lease indexes count them as well.
DROP INDEX inbox_open;
DROP INDEX outbox_open;
-- outbox_by_tenant had the status in its key, so every send moved its entry twice. A
-- tenant's deliveries newest first need only (tenant_id, id), which never changes; the
-- dead-letter list, the one status filter that must stay fast however many rows were sent,
-- has an index of its own, written once per dead letter.
DROP INDEX outbox_by_tenant;
CREATE INDEX outbox_by_tenant ON outbox (tenant_id, id);
CREATE INDEX outbox_dead ON outbox (tenant_id, id) WHERE status = 'dead';
