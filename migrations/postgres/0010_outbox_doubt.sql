-- When the first send of a reply whose outcome is not known began: a send that ended
-- `in-doubt` (no answer to a request that may have reached the provider). The next claim
-- hands it to the dispatcher, which asks the channel (`check-sent`) before sending again.
-- NULL when every send so far ended with an answer.
ALTER TABLE outbox ADD COLUMN doubt_since_ms BIGINT;
