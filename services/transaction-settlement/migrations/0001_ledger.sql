-- Up Migration

-- The double-entry ledger (DESIGN §5). Every transfer moves a positive amount from one
-- account to another, so every posting balances. Balances are kept on the account by a
-- trigger in the same statement as the transfer, and limits (a budget never below zero) are
-- CHECK constraints: the database refuses an overdraft whatever the code does.
CREATE TABLE ledger_accounts (
  account_code text PRIMARY KEY CHECK (account_code ~ '^[a-z_]+(:[A-Za-z0-9_]+)*$'),
  name text NOT NULL,
  currency text NOT NULL CHECK (currency = 'CNY'),
  normal_side text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  debits_minor bigint NOT NULL DEFAULT 0 CHECK (debits_minor >= 0),
  credits_minor bigint NOT NULL DEFAULT 0 CHECK (credits_minor >= 0),
  -- The least the balance on the normal side may be (e.g. 0 for a budget); NULL: no limit.
  normal_balance_min_minor bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (
    normal_balance_min_minor IS NULL
    OR (CASE normal_side WHEN 'debit' THEN debits_minor - credits_minor ELSE credits_minor - debits_minor END)
       >= normal_balance_min_minor
  )
);

CREATE TABLE ledger_transfers (
  transfer_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  debit_account text NOT NULL REFERENCES ledger_accounts (account_code),
  credit_account text NOT NULL REFERENCES ledger_accounts (account_code),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 1000000000000),
  currency text NOT NULL CHECK (currency = 'CNY'),
  kind text NOT NULL,
  checkout_id text,
  refund_id text,
  top_up_id text,
  -- A correction or refund references what it reverses; the original is never touched.
  reverses_transfer_id bigint REFERENCES ledger_transfers (transfer_id),
  -- When it happened (the merchant's occurred_at) and when we recorded it.
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, transfer_id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, transfer_id);
CREATE INDEX ledger_transfers_checkout ON ledger_transfers (checkout_id) WHERE checkout_id IS NOT NULL;

CREATE FUNCTION ledger_apply_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT currency FROM ledger_accounts WHERE account_code = NEW.debit_account) <> NEW.currency
     OR (SELECT currency FROM ledger_accounts WHERE account_code = NEW.credit_account) <> NEW.currency THEN
    RAISE EXCEPTION 'transfer currency differs from its accounts' USING ERRCODE = 'check_violation';
  END IF;
  UPDATE ledger_accounts SET debits_minor = debits_minor + NEW.amount_minor WHERE account_code = NEW.debit_account;
  UPDATE ledger_accounts SET credits_minor = credits_minor + NEW.amount_minor WHERE account_code = NEW.credit_account;
  RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_transfers_apply AFTER INSERT ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_apply_transfer();

-- Append-only: transfers are never updated or deleted.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_transfers is append-only: post a reversing transfer instead'
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Totals may only change through transfers (the trigger above), never by hand.
CREATE FUNCTION ledger_guard_account_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.debits_minor <> 0 OR NEW.credits_minor <> 0 THEN
      RAISE EXCEPTION 'a new account starts at zero' USING ERRCODE = 'check_violation';
    END IF;
  ELSIF pg_trigger_depth() < 2 AND (NEW.debits_minor <> OLD.debits_minor OR NEW.credits_minor <> OLD.credits_minor) THEN
    RAISE EXCEPTION 'account totals change only through transfers' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_accounts_guard BEFORE INSERT OR UPDATE ON ledger_accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_guard_account_totals();

-- Down Migration
DROP TABLE ledger_transfers;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_apply_transfer, ledger_refuse_change, ledger_guard_account_totals;
