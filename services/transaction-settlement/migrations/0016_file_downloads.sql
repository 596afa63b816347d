-- Up Migration

-- Every download of a settlement file (issue 15, decision 0017): the union bank's payment file
-- (account numbers unsealed) and a merchant's statement (every sale, with card last 4 and line
-- descriptions). Who, when, which batch of which day, under which request, and how many rows
-- the file held. settlement_payment_file_exports stays what dual control reads (who may not
-- approve the payout); this is the audit trail of what left the service. Append-only.
CREATE TABLE settlement_file_downloads (
  download_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file text NOT NULL CHECK (file IN ('payment_file', 'merchant_statement')),
  batch_id text NOT NULL REFERENCES settlement_batches (batch_id),
  merchant_id text NOT NULL,
  business_date date NOT NULL,
  -- actorOf the caller: operator:<token subject>, or merchant:<merchant id>/<key id>.
  downloaded_by text NOT NULL CHECK (length(downloaded_by) BETWEEN 1 AND 200),
  request_id text CHECK (length(request_id) BETWEEN 1 AND 200),
  -- Data rows in the file, its header line not counted.
  row_count integer NOT NULL CHECK (row_count >= 0),
  downloaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlement_file_downloads_batch ON settlement_file_downloads (batch_id, download_id);
CREATE INDEX settlement_file_downloads_time ON settlement_file_downloads (downloaded_at);
CREATE TRIGGER settlement_file_downloads_append_only BEFORE UPDATE OR DELETE
  ON settlement_file_downloads FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_change();
CREATE TRIGGER settlement_file_downloads_no_truncate BEFORE TRUNCATE
  ON settlement_file_downloads FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_refuse_change();

-- Down Migration
DROP TABLE settlement_file_downloads;
