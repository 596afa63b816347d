-- Up Migration

-- Issue 14: the union pays a subsidy only for sales the acquirer confirmed (DESIGN §6). A
-- capture's union part is credited to `merchant:<id>:subsidy_held`; it becomes payable
-- (held → subsidy_payable) when reconciliation matches the capture, or when finance resolves
-- the capture's exception by releasing it; a cancellation sends it back to its budgets.
--
-- Where a checkout's union part sits. It only ever leaves `held`, once. Checkouts captured
-- before this migration posted their union part straight to subsidy_payable, so they read
-- `payable` (the constant default fills them without a table rewrite); new rows default to
-- `held`, so that nothing is payable unless something decided it.
ALTER TABLE checkouts
  ADD COLUMN subsidy_state text NOT NULL DEFAULT 'payable'
    CHECK (subsidy_state IN ('held', 'payable', 'cancelled'));
ALTER TABLE checkouts ALTER COLUMN subsidy_state SET DEFAULT 'held';
-- What a statement can confirm: the held subsidies of a day, few beside its captures (one in ten
-- in the benchmark) and fewer once reconciled, so a run finds them without reading the day.
CREATE INDEX checkouts_subsidy_held ON checkouts (business_date)
  WHERE subsidy_state = 'held' AND union_funded_minor > 0;

CREATE FUNCTION checkouts_subsidy_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a held subsidy is decided once: held to payable or cancelled, never back'
    USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER checkouts_subsidy_decided_once BEFORE UPDATE OF subsidy_state ON checkouts
  FOR EACH ROW
  WHEN (OLD.subsidy_state IS DISTINCT FROM NEW.subsidy_state AND OLD.subsidy_state <> 'held')
  EXECUTE FUNCTION checkouts_subsidy_decided_once();

-- Every decision, once per sale (the primary key refuses a second), with what it moved and the
-- reconciliation item behind it: the matched line, or the exception finance resolved.
CREATE TABLE subsidy_decisions (
  checkout_id text PRIMARY KEY REFERENCES checkouts (checkout_id),
  merchant_id text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('confirmed', 'released', 'cancelled')),
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  run_id text NOT NULL,
  item_id bigint NOT NULL,
  decided_by text NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (run_id, item_id) REFERENCES reconciliation_items (run_id, item_id)
);
CREATE INDEX subsidy_decisions_run ON subsidy_decisions (run_id, item_id);
CREATE TRIGGER subsidy_decisions_append_only BEFORE UPDATE OR DELETE ON subsidy_decisions
  FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER subsidy_decisions_no_truncate BEFORE TRUNCATE ON subsidy_decisions
  FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_refuse_change();

-- A statement's confirmations are posted as one transfer per merchant naming the run, not one
-- per sale: the balance trigger updates the account rows once per transfer, and a hundred
-- thousand updates of the same few rows in one transaction took over three minutes (each walks
-- the row's chain of versions, none of which can be pruned before the commit). The sales and
-- their amounts are in subsidy_decisions. A resolution's transfer names its checkout as well.
ALTER TABLE ledger_transfers ADD COLUMN reconciliation_run_id text REFERENCES reconciliation_runs (run_id);

-- The held account of every merchant known so far (new merchants get it with their others).
INSERT INTO ledger_accounts (account_code, name, currency, normal_side)
SELECT 'merchant:' || merchant_id || ':subsidy_held', 'Union subsidy held for ' || merchant_id || ' until the acquirer confirms',
       'CNY', 'credit'
FROM merchants
ON CONFLICT (account_code) DO NOTHING;

-- A batch's subsidy, split by where it stands now (the batch's items, each by its checkout's
-- subsidy_state; a refund counts negative, as in subsidy_owed_minor). Held and cancelled move
-- when a subsidy is decided; paid when a payout is posted. Payable and the status follow.
-- Batches settled before this migration hold only `payable` checkouts, and a paid one was
-- paid its whole subsidy_owed_minor.
ALTER TABLE settlement_batches
  ADD COLUMN subsidy_held_minor bigint NOT NULL DEFAULT 0,
  ADD COLUMN subsidy_cancelled_minor bigint NOT NULL DEFAULT 0,
  ADD COLUMN subsidy_paid_minor bigint NOT NULL DEFAULT 0 CHECK (subsidy_paid_minor >= 0);
UPDATE settlement_batches SET subsidy_paid_minor = subsidy_owed_minor WHERE status = 'paid';

CREATE TABLE settlement_payouts (
  payout_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id text NOT NULL REFERENCES settlement_batches (batch_id),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  bank_reference text NOT NULL,
  paid_by text NOT NULL,
  paid_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlement_payouts_batch ON settlement_payouts (batch_id, payout_id);
INSERT INTO settlement_payouts (batch_id, amount_minor, bank_reference, paid_by, paid_at)
SELECT batch_id, subsidy_owed_minor, bank_reference, coalesce(paid_by, 'unknown'), paid_at
FROM settlement_batches WHERE status = 'paid' ORDER BY paid_at, batch_id;
CREATE TRIGGER settlement_payouts_append_only BEFORE UPDATE OR DELETE ON settlement_payouts
  FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER settlement_payouts_no_truncate BEFORE TRUNCATE ON settlement_payouts
  FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_refuse_change();

-- Status follows the amounts, so no code path can leave it stale: `unpaid` while confirmed
-- subsidy waits to be paid; `held` while nothing can be paid yet but subsidy is held; then
-- `paid` or `nothing_owed`. Dropping the old column drops its CHECKs; the payment one returns
-- in terms of payouts (bank_reference and paid_at are the latest payout's).
ALTER TABLE settlement_batches DROP COLUMN status;
ALTER TABLE settlement_batches
  ADD COLUMN subsidy_payable_minor bigint
    GENERATED ALWAYS AS (subsidy_owed_minor - subsidy_held_minor - subsidy_cancelled_minor) STORED,
  ADD COLUMN status text GENERATED ALWAYS AS (
    CASE
      WHEN subsidy_owed_minor - subsidy_held_minor - subsidy_cancelled_minor - subsidy_paid_minor > 0 THEN 'unpaid'
      WHEN subsidy_held_minor > 0 THEN 'held'
      WHEN subsidy_paid_minor > 0 THEN 'paid'
      ELSE 'nothing_owed'
    END) STORED,
  ADD CONSTRAINT settlement_batches_paid_has_reference
    CHECK ((subsidy_paid_minor > 0) = (paid_at IS NOT NULL AND bank_reference IS NOT NULL));

-- A resolution that decided a capture's held subsidy says so on its audit row: which checkout,
-- released or cancelled, and how much moved. Once per checkout, whatever the code does.
ALTER TABLE reconciliation_audit
  ADD COLUMN checkout_id text,
  ADD COLUMN subsidy_decision text CHECK (subsidy_decision IN ('released', 'cancelled')),
  ADD COLUMN subsidy_minor bigint CHECK (subsidy_minor >= 0),
  ADD CONSTRAINT reconciliation_audit_subsidy_whole
    CHECK (num_nulls(checkout_id, subsidy_decision, subsidy_minor) IN (0, 3)
           AND (subsidy_decision IS NULL OR action = 'item_resolved'));
CREATE UNIQUE INDEX reconciliation_audit_subsidy_once ON reconciliation_audit (checkout_id)
  WHERE subsidy_decision IS NOT NULL;

-- A batch lists the exception that holds each of its captures' subsidy: exceptions are few.
CREATE INDEX reconciliation_items_capture_exceptions ON reconciliation_items (ledger_id)
  WHERE ledger_kind = 'capture' AND category IN ('amount_mismatch', 'missing_in_statement');

-- Down Migration
ALTER TABLE ledger_transfers DROP COLUMN reconciliation_run_id;
DROP TABLE subsidy_decisions;
DROP INDEX reconciliation_items_capture_exceptions;
DROP INDEX reconciliation_audit_subsidy_once;
ALTER TABLE reconciliation_audit
  DROP CONSTRAINT reconciliation_audit_subsidy_whole,
  DROP COLUMN subsidy_minor, DROP COLUMN subsidy_decision, DROP COLUMN checkout_id;
ALTER TABLE settlement_batches DROP CONSTRAINT settlement_batches_paid_has_reference;
ALTER TABLE settlement_batches DROP COLUMN status, DROP COLUMN subsidy_payable_minor;
ALTER TABLE settlement_batches
  ADD COLUMN status text NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'paid', 'nothing_owed'));
UPDATE settlement_batches SET status = CASE
  WHEN subsidy_paid_minor > 0 THEN 'paid' WHEN subsidy_owed_minor > 0 THEN 'unpaid' ELSE 'nothing_owed' END;
ALTER TABLE settlement_batches ALTER COLUMN status DROP DEFAULT;
DROP TABLE settlement_payouts;
ALTER TABLE settlement_batches
  DROP COLUMN subsidy_paid_minor, DROP COLUMN subsidy_cancelled_minor, DROP COLUMN subsidy_held_minor;
DROP INDEX checkouts_subsidy_held;
DROP TRIGGER checkouts_subsidy_decided_once ON checkouts;
DROP FUNCTION checkouts_subsidy_decided_once;
ALTER TABLE checkouts DROP COLUMN subsidy_state;
