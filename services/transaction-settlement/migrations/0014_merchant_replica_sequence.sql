-- Up Migration

-- The merchants replica keeps the per-merchant sequence of the last event it applied, so that
-- an older event (redelivered, or overtaken) never overwrites a newer one (libs/events'
-- merchantReplicaConsumer). Rows from before start at 0: the next event applies.
ALTER TABLE merchants ADD COLUMN last_sequence bigint NOT NULL DEFAULT 0 CHECK (last_sequence >= 0);

-- Down Migration
ALTER TABLE merchants DROP COLUMN last_sequence;
