-- Up Migration

-- Daily settlement (DESIGN §6): one batch per merchant per business day. Every capture and
-- refund is assigned to exactly one batch, once; re-running a day finds nothing left to assign.
CREATE TABLE settlement_runs (
  run_id text PRIMARY KEY CHECK (run_id ~ '^srun_[0-9a-z]{25}$'),
  business_date date NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
  started_by text NOT NULL,
  batches_created integer NOT NULL CHECK (batches_created >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settlement_batches (
  batch_id text PRIMARY KEY CHECK (batch_id ~ '^stl_[0-9a-z]{25}$'),
  merchant_id text NOT NULL REFERENCES merchants (merchant_id),
  business_date date NOT NULL,
  run_id text NOT NULL REFERENCES settlement_runs (run_id),
  status text NOT NULL CHECK (status IN ('unpaid', 'paid', 'nothing_owed')),
  capture_count integer NOT NULL DEFAULT 0 CHECK (capture_count >= 0),
  refund_count integer NOT NULL DEFAULT 0 CHECK (refund_count >= 0),
  void_count integer NOT NULL DEFAULT 0 CHECK (void_count >= 0),
  gross_minor bigint NOT NULL DEFAULT 0,
  merchant_funded_minor bigint NOT NULL DEFAULT 0,
  union_funded_minor bigint NOT NULL DEFAULT 0,
  net_minor bigint NOT NULL DEFAULT 0,
  refunds_minor bigint NOT NULL DEFAULT 0,
  refund_member_minor bigint NOT NULL DEFAULT 0,
  union_reversed_minor bigint NOT NULL DEFAULT 0,
  merchant_reversed_minor bigint NOT NULL DEFAULT 0,
  -- What the union owes the merchant for the day: subsidies granted minus subsidies reversed.
  subsidy_owed_minor bigint NOT NULL DEFAULT 0,
  bank_reference text,
  paid_at timestamptz,
  paid_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (merchant_id, business_date),
  CHECK (subsidy_owed_minor = union_funded_minor - union_reversed_minor),
  CHECK ((status = 'paid') = (paid_at IS NOT NULL AND bank_reference IS NOT NULL))
);
CREATE INDEX settlement_batches_date ON settlement_batches (business_date, batch_id);

ALTER TABLE checkouts ADD FOREIGN KEY (settlement_batch_id) REFERENCES settlement_batches (batch_id);
ALTER TABLE refunds ADD FOREIGN KEY (settlement_batch_id) REFERENCES settlement_batches (batch_id);
CREATE INDEX checkouts_unsettled ON checkouts (business_date) WHERE settlement_batch_id IS NULL;
CREATE INDEX refunds_unsettled ON refunds (business_date) WHERE settlement_batch_id IS NULL;
CREATE INDEX checkouts_batch ON checkouts (settlement_batch_id);
CREATE INDEX refunds_batch ON refunds (settlement_batch_id);

-- An item joins one batch, once: the assignment can be made but never moved or undone.
CREATE FUNCTION settlement_assignment_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.settlement_batch_id IS NOT NULL AND NEW.settlement_batch_id IS DISTINCT FROM OLD.settlement_batch_id THEN
    RAISE EXCEPTION 'a settled item stays in its batch' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER checkouts_assignment_final BEFORE UPDATE OF settlement_batch_id ON checkouts
  FOR EACH ROW EXECUTE FUNCTION settlement_assignment_is_final();
CREATE TRIGGER refunds_assignment_final BEFORE UPDATE OF settlement_batch_id ON refunds
  FOR EACH ROW EXECUTE FUNCTION settlement_assignment_is_final();

-- Down Migration
DROP TRIGGER refunds_assignment_final ON refunds;
DROP TRIGGER checkouts_assignment_final ON checkouts;
DROP FUNCTION settlement_assignment_is_final;
ALTER TABLE refunds DROP CONSTRAINT refunds_settlement_batch_id_fkey;
ALTER TABLE checkouts DROP CONSTRAINT checkouts_settlement_batch_id_fkey;
DROP TABLE settlement_batches, settlement_runs;
