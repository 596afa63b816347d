-- Up Migration

-- Issue 15 (PIPL, decision 0016): the contact's name, mobile and e-mail and the legal
-- representative's name are stored sealed for their merchant (AES-256-GCM, AAD = merchant id)
-- beside their masked forms, the mobile with a keyed hash to find it again; settlement account
-- numbers are sealed in format v2 (bound to the merchant). SQL has no key, so the rows stored in
-- plaintext (and v1 seals) are converted by the service's boot step (commands/personal-data-sealing.ts),
-- under an advisory lock, before it answers; these guards are NOT VALID until then: every write
-- from now on must pass them, and the boot step validates them once no old row is left.
-- The guards refuse plaintext; they do not require the sealed values, which the retention job
-- (decision 0017) may erase from a terminated merchant while keeping its masked forms and hashes.
ALTER TABLE merchants ADD CONSTRAINT merchants_contact_sealed CHECK (
  NOT coalesce(contact ?| ARRAY['name', 'mobile', 'email'], false)
) NOT VALID;
ALTER TABLE merchants ADD CONSTRAINT merchants_legal_representative_sealed CHECK (
  NOT coalesce(legal_representative ? 'name', false)
) NOT VALID;
ALTER TABLE merchants ADD CONSTRAINT merchants_pending_legal_representative_sealed CHECK (
  NOT coalesce(pending_change -> 'legal_representative' ? 'name', false)
) NOT VALID;
ALTER TABLE merchants ADD CONSTRAINT merchants_settlement_account_sealed_v2 CHECK (
  coalesce(settlement_account ->> 'account_number_sealed', 'v2.') LIKE 'v2.%'
  AND coalesce(pending_change -> 'settlement_account' ->> 'account_number_sealed', 'v2.') LIKE 'v2.%'
) NOT VALID;

-- What was already shown is masked where it was kept: the audit trail (before/after as the API
-- showed them), the approval requests' before/after and the events still in the outbox. The rules
-- are libs/security's maskPersonName and maskEmail and libs/kyc's maskMobile: change both or neither.
CREATE FUNCTION pg_temp.mask_person_name(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN name IS NULL THEN NULL
    WHEN char_length(btrim(name)) <= 1 THEN '*'
    WHEN char_length(btrim(name)) >= 4 THEN left(btrim(name), 2) || repeat('*', char_length(btrim(name)) - 2)
    ELSE left(btrim(name), 1) || repeat('*', char_length(btrim(name)) - 1)
  END
$$;

CREATE FUNCTION pg_temp.mask_mobile(mobile text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN mobile IS NULL THEN NULL
    WHEN mobile ~ '^1[3-9][0-9]{9}$' THEN left(mobile, 3) || '****' || right(mobile, 4)
    WHEN mobile ~ '^1[3-9][0-9]\*{4}[0-9]{4}$' THEN mobile
    ELSE repeat('*', 11)
  END
$$;

CREATE FUNCTION pg_temp.mask_email(email text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN email IS NULL THEN NULL
    WHEN btrim(email) ~ '^.+@[^@]+$'
      THEN left(btrim(email), 1) || '***@' || substring(btrim(email) FROM '@([^@]+)$')
    ELSE '***'
  END
$$;

-- Walks any JSON and masks the personal fields of each `contact`, `legal_representative`,
-- `notify` and personal `settlement_account` it finds, at any depth; not the holder's name in a
-- replica snapshot (it carries the sealed number), which settlement prints on the payment file.
CREATE FUNCTION pg_temp.mask_personal(value jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  result jsonb := '{}';
  field text;
  inner_value jsonb;
BEGIN
  IF jsonb_typeof(value) = 'array' THEN
    SELECT coalesce(jsonb_agg(pg_temp.mask_personal(element) ORDER BY position), '[]') INTO result
    FROM jsonb_array_elements(value) WITH ORDINALITY AS elements (element, position);
    RETURN result;
  ELSIF jsonb_typeof(value) IS DISTINCT FROM 'object' THEN
    RETURN value;
  END IF;
  FOR field, inner_value IN SELECT key, entry FROM jsonb_each(value) AS entries (key, entry) LOOP
    IF field = 'contact' AND jsonb_typeof(inner_value) = 'object'
       AND inner_value ?| ARRAY['name', 'mobile', 'email'] THEN
      inner_value := jsonb_build_object(
        'name_masked', pg_temp.mask_person_name(inner_value ->> 'name'),
        'mobile_masked', pg_temp.mask_mobile(inner_value ->> 'mobile'),
        'email_masked', pg_temp.mask_email(inner_value ->> 'email'));
    ELSIF field IN ('legal_representative', 'notify') AND jsonb_typeof(inner_value) = 'object'
       AND inner_value ? 'name' THEN
      inner_value := (inner_value - 'name')
        || jsonb_build_object('name_masked', pg_temp.mask_person_name(inner_value ->> 'name'));
    ELSIF field = 'settlement_account' AND jsonb_typeof(inner_value) = 'object'
       AND inner_value ->> 'account_type' = 'personal' AND inner_value ? 'account_name'
       AND NOT inner_value ? 'account_number_sealed' AND inner_value ->> 'account_name' !~ '\*' THEN
      inner_value := jsonb_set(inner_value, '{account_name}',
        to_jsonb(pg_temp.mask_person_name(inner_value ->> 'account_name')));
    ELSE
      inner_value := pg_temp.mask_personal(inner_value);
    END IF;
    result := result || jsonb_build_object(field, inner_value);
  END LOOP;
  RETURN result;
END
$$;

-- The audit trail is append-only (0001's guard): lifted for this one statement, restored after it.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events
SET before = pg_temp.mask_personal(before), after = pg_temp.mask_personal(after)
WHERE pg_temp.mask_personal(before) IS DISTINCT FROM before
   OR pg_temp.mask_personal(after) IS DISTINCT FROM after;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

-- The approval requests (libs/dual-control) and the outbox (libs/events) exist here once their
-- own migrations ran: on a database that has them already. A decided request is frozen by its
-- guard, lifted the same way; what was asked (action, payload…) is not touched.
DO $$
BEGIN
  IF to_regclass('approval_requests') IS NOT NULL THEN
    ALTER TABLE approval_requests DISABLE TRIGGER approval_requests_decided_once;
    UPDATE approval_requests
    SET before = pg_temp.mask_personal(before), after = pg_temp.mask_personal(after)
    WHERE pg_temp.mask_personal(before) IS DISTINCT FROM before
       OR pg_temp.mask_personal(after) IS DISTINCT FROM after;
    ALTER TABLE approval_requests ENABLE TRIGGER approval_requests_decided_once;
  END IF;
  IF to_regclass('outbox_events') IS NOT NULL THEN
    UPDATE outbox_events SET envelope = pg_temp.mask_personal(envelope)
    WHERE pg_temp.mask_personal(envelope) IS DISTINCT FROM envelope;
  END IF;
END
$$;

-- Down Migration
-- The masking and sealing cannot be undone (the plaintext is gone from these rows); only the
-- guards go.
ALTER TABLE merchants DROP CONSTRAINT merchants_settlement_account_sealed_v2;
ALTER TABLE merchants DROP CONSTRAINT merchants_pending_legal_representative_sealed;
ALTER TABLE merchants DROP CONSTRAINT merchants_legal_representative_sealed;
ALTER TABLE merchants DROP CONSTRAINT merchants_contact_sealed;
