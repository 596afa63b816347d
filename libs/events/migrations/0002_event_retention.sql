-- Up Migration

-- Published outbox rows and inbox rows are kept for a retention period and then deleted in
-- batches (libs/events retention.ts); these indexes find the old ones without a full scan.
CREATE INDEX outbox_events_published ON outbox_events (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX inbox_events_processed_at ON inbox_events (processed_at);

-- Down Migration
DROP INDEX inbox_events_processed_at;
DROP INDEX outbox_events_published;
