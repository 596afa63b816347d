-- Up Migration

-- Resolving a reconciliation exception by correcting the ledger (issue 18, DESIGN §6: "an
-- adjustment or write-off is a transfer to a named account"): the difference between the
-- acquirer's statement and the ledger moves between acquirer:clearing and
--   suspense:reconciliation           an adjustment: held there until finance explains it;
--   expense:reconciliation_write_offs a write-off within RECONCILIATION_WRITE_OFF_LIMIT_MINOR.
-- Both are asked by one finance person and posted when a second approves (dual control); the
-- resolution's audit row names the correction, its signed amount (statement − ledger) and both.
INSERT INTO ledger_accounts (account_code, name, currency, normal_side) VALUES
  ('suspense:reconciliation', 'Reconciliation differences under investigation', 'CNY', 'debit'),
  ('expense:reconciliation_write_offs', 'Reconciliation differences written off', 'CNY', 'debit');

ALTER TABLE reconciliation_audit
  ADD COLUMN correction text CHECK (correction IN ('adjustment', 'write_off')),
  ADD COLUMN correction_minor bigint CHECK (correction_minor <> 0),
  ADD COLUMN approved_by text CHECK (length(approved_by) BETWEEN 1 AND 200),
  ADD CONSTRAINT reconciliation_audit_correction_whole
    CHECK (num_nulls(correction, correction_minor, approved_by) IN (0, 3)
           AND (correction IS NULL OR action = 'item_resolved'));

-- Down Migration

ALTER TABLE reconciliation_audit
  DROP CONSTRAINT reconciliation_audit_correction_whole,
  DROP COLUMN correction, DROP COLUMN correction_minor, DROP COLUMN approved_by;
DELETE FROM ledger_accounts WHERE account_code IN ('suspense:reconciliation', 'expense:reconciliation_write_offs');
