-- Up Migration

-- Idempotency (DESIGN §5, §10): the key, a keyed hash of the request and the response, written
-- in the same transaction as the effect, so that a retry returns the same answer.
-- IF NOT EXISTS: transaction-settlement created this very table in its own 0002_checkouts.sql
-- before the table moved here; its rows stay where they are.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  -- Whose key it is: a merchant id, or `operator:<subject>` for finance and admin calls.
  scope text NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  -- json, not jsonb: a replay must be byte-for-byte the first response (jsonb reorders keys).
  response_body json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, idempotency_key)
);

-- Down Migration
DROP TABLE idempotency_keys;
