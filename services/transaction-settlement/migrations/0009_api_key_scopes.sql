-- Up Migration

-- Issue 14: the replica keeps each key's scopes (from merchant.api_key.created); settlement
-- serves only `checkout` keys. Keys announced before scopes existed could do everything.
ALTER TABLE merchant_api_keys
  ADD COLUMN scopes text[] NOT NULL DEFAULT '{checkout,keys}'
    CHECK (cardinality(scopes) BETWEEN 1 AND 2 AND scopes <@ '{checkout,keys}');

-- Down Migration
ALTER TABLE merchant_api_keys DROP COLUMN scopes;
