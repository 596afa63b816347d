-- Up Migration

-- Reconciliation of the acquirer's daily statement against the ledger (DESIGN §6). A run is
-- written whole, in the transaction that read the file: a statement with a bad line leaves no
-- run behind, and a run, once there, never changes. Its items are immutable too, except that
-- finance may resolve an exception once; every resolution is also in the append-only audit.
CREATE TABLE reconciliation_runs (
  run_id text PRIMARY KEY CHECK (run_id ~ '^rec_[0-9a-z]{25}$'),
  -- SHA-256 of the uploaded bytes: the same file uploaded again finds this run.
  file_sha256 text NOT NULL UNIQUE CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
  file_bytes bigint NOT NULL CHECK (file_bytes > 0),
  settlement_date date NOT NULL,
  line_count integer NOT NULL CHECK (line_count > 0),
  time_tolerance_ms integer NOT NULL CHECK (time_tolerance_ms >= 0),
  -- Runs are only ever stored complete; the column is there for the API and for later states.
  status text NOT NULL CHECK (status = 'completed'),
  created_by text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconciliation_runs_date ON reconciliation_runs (settlement_date, run_id);

-- One row per statement line and one per ledger item no line accounts for. Line columns are
-- the statement's (amount: + sale, − refund); ledger columns are a snapshot of the capture
-- (net) or refund (member part, negative) the line was paired with, as it stood at the run.
CREATE TABLE reconciliation_items (
  item_id bigint GENERATED ALWAYS AS IDENTITY,
  run_id text NOT NULL REFERENCES reconciliation_runs (run_id),
  category text NOT NULL CHECK (
    category IN ('matched', 'amount_mismatch', 'missing_in_ledger', 'missing_in_statement', 'duplicate_line')
  ),
  matched_by text CHECK (matched_by IN ('reference', 'card_amount_time')),
  line_number integer CHECK (line_number >= 2),
  line_merchant_id text,
  line_card_last4 text CHECK (line_card_last4 ~ '^[0-9]{4}$'),
  line_transaction_time timestamptz,
  line_amount_minor bigint CHECK (line_amount_minor <> 0 AND abs(line_amount_minor) <= 1000000000000),
  line_reference text,
  line_auth_code text,
  duplicate_of_line integer,
  ledger_kind text CHECK (ledger_kind IN ('capture', 'refund')),
  -- The checkout id of a capture, the refund id of a refund.
  ledger_id text CHECK (ledger_id ~ '^(chk|ref)_[0-9a-z]{25}$'),
  ledger_checkout_id text,
  ledger_merchant_id text,
  ledger_card_last4 text,
  ledger_reference text,
  ledger_amount_minor bigint CHECK (ledger_amount_minor <> 0 AND abs(ledger_amount_minor) <= 1000000000000),
  ledger_occurred_at timestamptz,
  resolved_at timestamptz,
  resolved_by text,
  resolution_note text CHECK (length(resolution_note) BETWEEN 1 AND 1000),
  PRIMARY KEY (run_id, item_id),
  -- A statement line is classified once, and a ledger item is accounted for at most once.
  UNIQUE (run_id, line_number),
  UNIQUE (run_id, ledger_id),
  -- A side is there whole or not at all.
  CHECK (num_nulls(line_number, line_merchant_id, line_card_last4, line_transaction_time, line_amount_minor,
                   line_reference, line_auth_code) IN (0, 7)),
  CHECK (num_nulls(ledger_kind, ledger_id, ledger_checkout_id, ledger_merchant_id, ledger_card_last4,
                   ledger_reference, ledger_amount_minor, ledger_occurred_at) IN (0, 8)),
  CHECK ((ledger_kind = 'capture') = (ledger_id = ledger_checkout_id)),
  -- Which sides each category has.
  CHECK ((line_number IS NULL) = (category = 'missing_in_statement')),
  CHECK ((ledger_id IS NOT NULL) = (category IN ('matched', 'amount_mismatch', 'missing_in_statement'))),
  CHECK ((matched_by IS NOT NULL) = (category IN ('matched', 'amount_mismatch'))),
  CHECK (category <> 'amount_mismatch' OR (matched_by = 'reference' AND line_amount_minor <> ledger_amount_minor)),
  CHECK (category <> 'matched' OR line_amount_minor = ledger_amount_minor),
  CHECK (category <> 'matched' OR matched_by = 'reference' OR
         (line_merchant_id = ledger_merchant_id AND line_card_last4 = ledger_card_last4)),
  CHECK ((duplicate_of_line IS NOT NULL) = (category = 'duplicate_line')),
  CHECK (duplicate_of_line < line_number),
  -- Resolved whole, and only an exception: a matched item has nothing to resolve.
  CHECK (num_nulls(resolved_at, resolved_by, resolution_note) IN (0, 3)),
  CHECK (category <> 'matched' OR resolved_at IS NULL)
);
CREATE INDEX reconciliation_items_category ON reconciliation_items (run_id, category, item_id);
-- Resolved items are few (people resolve them one by one): counting them stays cheap.
CREATE INDEX reconciliation_items_resolved ON reconciliation_items (run_id) WHERE resolved_at IS NOT NULL;

-- Items never change, but for being resolved once.
CREATE FUNCTION reconciliation_items_resolve_once() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unchanged reconciliation_items;
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'reconciliation items are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.resolved_at IS NOT NULL THEN
    RAISE EXCEPTION 'a reconciliation item is resolved once' USING ERRCODE = 'insufficient_privilege';
  END IF;
  unchanged := NEW;
  unchanged.resolved_at := NULL;
  unchanged.resolved_by := NULL;
  unchanged.resolution_note := NULL;
  IF unchanged IS DISTINCT FROM OLD THEN
    RAISE EXCEPTION 'only the resolution of a reconciliation item may be set' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER reconciliation_items_resolve_once BEFORE UPDATE OR DELETE ON reconciliation_items
  FOR EACH ROW EXECUTE FUNCTION reconciliation_items_resolve_once();

-- Counts and totals per category, computed once from the items when the run is written.
CREATE TABLE reconciliation_totals (
  run_id text NOT NULL REFERENCES reconciliation_runs (run_id),
  category text NOT NULL CHECK (
    category IN ('matched', 'amount_mismatch', 'missing_in_ledger', 'missing_in_statement', 'duplicate_line')
  ),
  item_count integer NOT NULL CHECK (item_count >= 0),
  line_amount_minor bigint NOT NULL,
  ledger_amount_minor bigint NOT NULL,
  PRIMARY KEY (run_id, category),
  CHECK (item_count > 0 OR (line_amount_minor = 0 AND ledger_amount_minor = 0)),
  CHECK (category <> 'matched' OR line_amount_minor = ledger_amount_minor)
);

-- Who reconciled which file and who resolved what, with their note. Append-only.
CREATE TABLE reconciliation_audit (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL REFERENCES reconciliation_runs (run_id),
  item_id bigint,
  action text NOT NULL CHECK (action IN ('statement_reconciled', 'item_resolved')),
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  note text CHECK (length(note) BETWEEN 1 AND 1000),
  request_id text,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (run_id, item_id) REFERENCES reconciliation_items (run_id, item_id),
  CHECK ((action = 'item_resolved') = (item_id IS NOT NULL AND note IS NOT NULL))
);
-- The database's own guard against resolving an item twice, whatever the code does.
CREATE UNIQUE INDEX reconciliation_audit_resolved_once ON reconciliation_audit (item_id)
  WHERE action = 'item_resolved';
CREATE INDEX reconciliation_audit_run ON reconciliation_audit (run_id, audit_id);

-- Runs, their totals and the audit are append-only.
CREATE FUNCTION reconciliation_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER reconciliation_runs_append_only BEFORE UPDATE OR DELETE ON reconciliation_runs
  FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER reconciliation_totals_append_only BEFORE UPDATE OR DELETE ON reconciliation_totals
  FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER reconciliation_audit_append_only BEFORE UPDATE OR DELETE ON reconciliation_audit
  FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER reconciliation_audit_no_truncate BEFORE TRUNCATE ON reconciliation_audit
  FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER reconciliation_items_no_truncate BEFORE TRUNCATE ON reconciliation_items
  FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_refuse_change();

-- A run reads the refunds of one business day; without this it would scan them all.
CREATE INDEX refunds_business_date ON refunds (business_date);

-- Down Migration
DROP INDEX refunds_business_date;
DROP TABLE reconciliation_audit, reconciliation_totals, reconciliation_items, reconciliation_runs;
DROP FUNCTION reconciliation_items_resolve_once, reconciliation_refuse_change;
