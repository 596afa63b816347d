-- Up Migration

-- Issue 16: when a change of the settlement account was last approved on the live merchant
-- (null while it is the account approved with the application). Every merchant snapshot
-- carries it, so settlement keeps a newly changed account out of payment files for a
-- cooling-off period.
ALTER TABLE merchants ADD COLUMN settlement_account_changed_at timestamptz;

-- Down Migration
ALTER TABLE merchants DROP COLUMN settlement_account_changed_at;
