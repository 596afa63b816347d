-- Up Migration

-- Events waiting to be published (transactional outbox, DESIGN §3). A row is written in
-- the same transaction as the state change it announces; the relay publishes it and sets
-- published_at. `position` gives the publication order.
CREATE TABLE outbox_events (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  topic text NOT NULL CHECK (topic <> ''),
  message_key text NOT NULL CHECK (message_key <> ''),
  event_type text NOT NULL CHECK (event_type ~ '^puhui\.[a-z_.]+\.v[0-9]+$'),
  subject text NOT NULL CHECK (subject <> ''),
  sequence bigint NOT NULL CHECK (sequence > 0),
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  UNIQUE (topic, subject, sequence)
);

CREATE INDEX outbox_events_unpublished ON outbox_events (position) WHERE published_at IS NULL;

-- The last sequence number given to each aggregate. Taking the next one locks the row,
-- so two transactions announcing the same aggregate commit, and publish, in order.
CREATE TABLE outbox_sequences (
  topic text NOT NULL,
  subject text NOT NULL,
  last_sequence bigint NOT NULL CHECK (last_sequence > 0),
  PRIMARY KEY (topic, subject)
);

-- Events a consumer group has applied, written in the same transaction as the effect:
-- a redelivered event finds its row and is skipped.
CREATE TABLE inbox_events (
  consumer_group text NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  topic text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, event_id)
);

-- Down Migration
DROP TABLE inbox_events;
DROP TABLE outbox_sequences;
DROP TABLE outbox_events;
