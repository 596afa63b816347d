-- Up Migration

-- A merchant from its first draft to termination. Application fields may be missing while
-- it is a draft (the API lists them as `requirements`); submitting needs all of them.
-- The legal representative's ID number is never stored whole: masked for display and a
-- keyed hash for matching. The settlement account number is sealed (AES-256-GCM).
CREATE TABLE merchants (
  merchant_id text PRIMARY KEY CHECK (merchant_id ~ '^mer_[0-9a-z]{25}$'),
  status text NOT NULL CHECK (status IN ('draft', 'submitted', 'in_review', 'rejected', 'active', 'suspended', 'terminated')),
  legal_name text NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 200),
  display_name text CHECK (length(display_name) BETWEEN 1 AND 100),
  credit_code text CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
  category text CHECK (category IN ('scenic_spot', 'supermarket', 'pharmacy', 'hospital', 'hotel', 'restaurant', 'retail', 'transport', 'leisure', 'other')),
  mcc text CHECK (mcc ~ '^[0-9]{4}$'),
  region_code text CHECK (region_code ~ '^[0-9]{6}$'),
  address text CHECK (length(address) BETWEEN 1 AND 300),
  contact jsonb,
  legal_representative jsonb CHECK (legal_representative IS NULL OR NOT legal_representative ? 'id_number'),
  settlement_account jsonb CHECK (settlement_account IS NULL OR NOT settlement_account ? 'account_number'),
  outlets jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(outlets) = 'array'),
  -- A change of settlement account or category on an active merchant, awaiting review.
  pending_change jsonb,
  status_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  decided_at timestamptz,
  decided_by text,
  -- An approved merchant has every application field.
  CHECK (status IN ('draft', 'rejected', 'terminated') OR (
    display_name IS NOT NULL AND credit_code IS NOT NULL AND category IS NOT NULL AND mcc IS NOT NULL
    AND region_code IS NOT NULL AND address IS NOT NULL AND contact IS NOT NULL
    AND legal_representative IS NOT NULL AND settlement_account IS NOT NULL AND jsonb_array_length(outlets) > 0)),
  CHECK (pending_change IS NULL OR status IN ('active', 'suspended'))
);

-- One live application per legal entity.
CREATE UNIQUE INDEX merchants_credit_code_live ON merchants (credit_code) WHERE status <> 'terminated';
CREATE INDEX merchants_status ON merchants (status, merchant_id);
CREATE INDEX merchants_category ON merchants (category, merchant_id);
CREATE INDEX merchants_region ON merchants (region_code, merchant_id);

CREATE TABLE merchant_api_keys (
  key_id text PRIMARY KEY CHECK (key_id ~ '^key_[0-9a-z]{25}$'),
  merchant_id text NOT NULL REFERENCES merchants (merchant_id),
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  -- When the key stops working: set at revocation (now) or rotation (now + overlap).
  expires_at timestamptz,
  revoked_at timestamptz,
  CHECK ((revoked_at IS NULL AND expires_at IS NULL) OR (revoked_at IS NOT NULL AND expires_at >= revoked_at))
);
CREATE INDEX merchant_api_keys_merchant ON merchant_api_keys (merchant_id, created_at);

-- Who changed what, when: before and after as the API showed them (masked).
CREATE TABLE audit_events (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant_id text NOT NULL,
  action text NOT NULL,
  actor text NOT NULL,
  request_id text,
  before jsonb,
  after jsonb,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_merchant ON audit_events (merchant_id, audit_id);

-- The audit trail is append-only: the database refuses to rewrite history.
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

-- Down Migration
DROP TABLE audit_events;
DROP FUNCTION refuse_audit_change;
DROP TABLE merchant_api_keys;
DROP TABLE merchants;
