-- What a claim takes gets indexes of its own: events and replies ready for work, and leases
-- that ran out. Both used to come from inbox_open and outbox_open, whose heads are the rows
-- in flight (one per turn or send under way), and every claim walked past them.
CREATE INDEX inbox_ready ON inbox_events (id) WHERE status = 'pending';
CREATE INDEX inbox_leases ON inbox_events (lease_until_ms, id) WHERE status = 'processing';
CREATE INDEX outbox_ready ON outbox (id) WHERE status IN ('pending', 'failed');
CREATE INDEX outbox_leases ON outbox (lease_until_ms, id) WHERE status = 'sending';

-- Open outbox rows are those neither sent nor dead, as in the SQLite schema (the claims of
-- both stores share the SQL that tests it).
DROP INDEX outbox_open;
DROP INDEX outbox_open_per_conversation;
CREATE INDEX outbox_open ON outbox (id) WHERE status NOT IN ('sent', 'dead');
CREATE INDEX outbox_open_per_conversation ON outbox (conversation_id, id)
    WHERE status NOT IN ('sent', 'dead');
