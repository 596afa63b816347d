-- Up Migration

-- Member cards. The card number (PAN) is never stored: only its keyed token (HMAC-SHA256
-- with CARD_TOKEN_KEY, libs/cards) and its last 4 digits (DESIGN §8).
CREATE TABLE cards (
  card_token text PRIMARY KEY CHECK (card_token ~ '^ctok_[A-Za-z0-9_-]{32}$'),
  card_last4 text NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
  member_id text NOT NULL CHECK (length(member_id) BETWEEN 1 AND 100),
  union_id text NOT NULL CHECK (length(union_id) BETWEEN 1 AND 100),
  tier text NOT NULL CHECK (tier IN ('standard', 'model_worker', 'hardship')),
  status text NOT NULL CHECK (status IN ('active', 'frozen', 'cancelled')),
  -- Bumped by every change: a rate sheet computed from an older revision is not kept in Redis.
  revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
  -- The import that registered the card, if it came in bulk.
  import_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cards_union ON cards (union_id);

-- A cancelled card stays cancelled: the database refuses to bring it back.
CREATE FUNCTION refuse_card_uncancel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'cancelled' AND NEW.status <> 'cancelled' THEN
    RAISE EXCEPTION 'card % is cancelled for good', OLD.card_token USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER cards_cancelled_is_final BEFORE UPDATE ON cards
  FOR EACH ROW EXECUTE FUNCTION refuse_card_uncancel();

-- Rate sheets in Redis that a card change must drop. Written in the same transaction as the
-- change and deleted once the key is gone, so a crash or a Redis outage between the commit
-- and the DEL is healed by the background sync instead of leaving a stale sheet for a day.
CREATE TABLE card_sheet_invalidations (
  card_token text PRIMARY KEY,
  requested_at timestamptz NOT NULL DEFAULT now()
);

-- Bulk imports of cards from CSV and how far each got; updated after every batch.
CREATE TABLE card_imports (
  import_id text PRIMARY KEY CHECK (import_id ~ '^imp_[0-9a-z]{25}$'),
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  rows_total bigint NOT NULL DEFAULT 0,
  inserted bigint NOT NULL DEFAULT 0 CHECK (inserted >= 0),
  unchanged bigint NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
  rejected bigint NOT NULL DEFAULT 0 CHECK (rejected >= 0),
  -- The first rejected rows ({line, field, reason}); never a field's value.
  errors jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
  failure_reason text,
  started_by text NOT NULL,
  request_id text,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CHECK (rows_total = inserted + unchanged + rejected),
  CHECK ((status = 'running') = (finished_at IS NULL))
);

-- Down Migration
DROP TABLE card_imports;
DROP TABLE card_sheet_invalidations;
DROP TABLE cards;
DROP FUNCTION refuse_card_uncancel;
