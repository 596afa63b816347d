-- Up Migration

-- Issue 15 (decision 0016): a personal settlement account's holder is a person's name, so it is
-- stored like the number: `account_name` masked (maskPersonName), `account_name_sealed` sealed for
-- the merchant (v2, AAD = merchant id), `account_name_hash` keyed (to tell a changed holder whose
-- masked form is the same). SQL has no key: the rows stored with a plaintext holder are converted
-- by the boot step (commands/personal-data-sealing.ts), which also announces each live merchant
-- again so that settlement's replica stops holding the plaintext; this guard is NOT VALID until
-- then, and the boot step validates it once no such row is left. A holder erased by the retention
-- job (decision 0017: masked, `erased_at`, no sealed value) passes it. A corporate account's
-- holder is the merchant's public legal name: not concerned.
ALTER TABLE merchants ADD CONSTRAINT merchants_personal_account_holder_sealed CHECK (
  coalesce(settlement_account ->> 'account_type', '') <> 'personal'
  OR settlement_account ?| ARRAY['account_name_sealed', 'erased_at']
) NOT VALID;
-- A pending change's account is checked too: NULL (no pending account) passes.
ALTER TABLE merchants ADD CONSTRAINT merchants_pending_personal_account_holder_sealed CHECK (
  coalesce(pending_change -> 'settlement_account' ->> 'account_type', '') <> 'personal'
  OR pending_change -> 'settlement_account' ?| ARRAY['account_name_sealed', 'erased_at']
) NOT VALID;

-- The snapshots still in the outbox (merchant.approved / merchant.updated, `data.merchant`)
-- carried a personal holder in plaintext: masked there as libs/security's maskPersonName does
-- (0004's rule, change both or neither). An unpublished one is published masked; the boot step's
-- announcement that follows it carries the sealed holder settlement prints.
CREATE FUNCTION pg_temp.mask_holder_name(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN name IS NULL THEN NULL
    WHEN char_length(btrim(name)) <= 1 THEN '*'
    WHEN char_length(btrim(name)) >= 4 THEN left(btrim(name), 2) || repeat('*', char_length(btrim(name)) - 2)
    ELSE left(btrim(name), 1) || repeat('*', char_length(btrim(name)) - 1)
  END
$$;

DO $$
BEGIN
  IF to_regclass('outbox_events') IS NOT NULL THEN
    UPDATE outbox_events
    SET envelope = jsonb_set(envelope, '{data,merchant,settlement_account,account_name}',
      to_jsonb(pg_temp.mask_holder_name(envelope #>> '{data,merchant,settlement_account,account_name}')))
    WHERE envelope #>> '{data,merchant,settlement_account,account_type}' = 'personal'
      AND NOT (envelope #> '{data,merchant,settlement_account}') ? 'account_name_sealed'
      AND envelope #>> '{data,merchant,settlement_account,account_name}' !~ '\*';
  END IF;
END
$$;

-- Down Migration
-- The masking cannot be undone; only the guards go.
ALTER TABLE merchants DROP CONSTRAINT merchants_pending_personal_account_holder_sealed;
ALTER TABLE merchants DROP CONSTRAINT merchants_personal_account_holder_sealed;
