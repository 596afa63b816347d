-- Up Migration

-- Dual control of payouts (issue 16): mark_paid records an approval request (libs/dual-control's
-- approval_requests, applied after these migrations, so no foreign key) and the payout posts
-- when a second finance person approves, who is neither its requester nor anyone who exported
-- the batch's payment file.

-- Everyone who downloaded the batch's payment file (account numbers unsealed for the bank), when.
CREATE TABLE settlement_payment_file_exports (
  export_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id text NOT NULL REFERENCES settlement_batches (batch_id),
  -- The exporter's token subject (console account id), as approval requests name people.
  exported_by text NOT NULL,
  exported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlement_payment_file_exports_batch ON settlement_payment_file_exports (batch_id, export_id);
CREATE TRIGGER settlement_payment_file_exports_append_only BEFORE UPDATE OR DELETE
  ON settlement_payment_file_exports FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();

ALTER TABLE settlement_batches
  -- The latest export, shown with the batch.
  ADD COLUMN exported_by text,
  ADD COLUMN exported_at timestamptz,
  -- The payment waiting for a second person: one at a time.
  ADD COLUMN payment_approval_request_id uuid;

-- Who asked for a payout and who approved it.
ALTER TABLE settlement_payouts
  ADD COLUMN approval_request_id uuid,
  ADD COLUMN approved_by text,
  ADD CONSTRAINT settlement_payouts_second_person CHECK (approved_by IS NULL OR approved_by <> paid_by);

-- When the merchant's settlement account last changed (merchant snapshots' settlement_account_changed_at):
-- the payment file refuses a merchant whose account changed within the cooling-off period.
ALTER TABLE merchants ADD COLUMN settlement_account_changed_at timestamptz;

-- Down Migration
ALTER TABLE merchants DROP COLUMN settlement_account_changed_at;
ALTER TABLE settlement_payouts DROP CONSTRAINT settlement_payouts_second_person,
  DROP COLUMN approved_by, DROP COLUMN approval_request_id;
ALTER TABLE settlement_batches DROP COLUMN payment_approval_request_id, DROP COLUMN exported_at,
  DROP COLUMN exported_by;
DROP TABLE settlement_payment_file_exports;
