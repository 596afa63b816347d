-- Up Migration

-- Issue 14: a key has scopes (checkout: quote, capture, refund, void and reads; keys: key
-- management) and an end. Keys made before scopes existed could do everything and never
-- ended; they keep both until rotated or revoked.
ALTER TABLE merchant_api_keys
  ADD COLUMN scopes text[] NOT NULL DEFAULT '{checkout,keys}'
    CHECK (cardinality(scopes) BETWEEN 1 AND 2 AND scopes <@ '{checkout,keys}');
ALTER TABLE merchant_api_keys ALTER COLUMN scopes DROP DEFAULT;

-- expires_at now also holds a new key's end (default one year), so it may be set while the
-- key is not revoked; a revocation still ends the key no earlier than it happened.
ALTER TABLE merchant_api_keys DROP CONSTRAINT merchant_api_keys_check;
ALTER TABLE merchant_api_keys ADD CONSTRAINT merchant_api_keys_revocation_ends_key
  CHECK (revoked_at IS NULL OR (expires_at IS NOT NULL AND expires_at >= revoked_at));

-- Down Migration
ALTER TABLE merchant_api_keys DROP CONSTRAINT merchant_api_keys_revocation_ends_key;
UPDATE merchant_api_keys SET expires_at = NULL WHERE revoked_at IS NULL;
ALTER TABLE merchant_api_keys ADD CONSTRAINT merchant_api_keys_check
  CHECK ((revoked_at IS NULL AND expires_at IS NULL) OR (revoked_at IS NOT NULL AND expires_at >= revoked_at));
ALTER TABLE merchant_api_keys DROP COLUMN scopes;
