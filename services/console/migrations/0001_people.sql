-- Up Migration

-- People who sign in to the console. One account never holds admin and finance; merchant staff
-- hold that one role and their merchant's id. The password is an Argon2id PHC string; the TOTP
-- secret is sealed (AES-256-GCM, FIELD_ENCRYPTION_KEY); `totp_last_step` is the 30-second step of
-- the last code accepted, so that a code cannot be used twice.
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  username text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$'),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  roles text[] NOT NULL CHECK (
    cardinality(roles) BETWEEN 1 AND 3
    AND roles <@ ARRAY['admin', 'finance', 'auditor', 'merchant_staff']
    AND NOT (roles @> ARRAY['admin', 'finance'])
  ),
  merchant_id text,
  status text NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
  password_hash text CHECK (password_hash LIKE '$argon2id$%'),
  totp_secret_sealed text,
  totp_pending_secret_sealed text,
  totp_last_step bigint,
  locked_until timestamptz,
  disabled_reason text,
  disabled_at timestamptz,
  disabled_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (
    ('merchant_staff' = ANY (roles) AND cardinality(roles) = 1 AND merchant_id IS NOT NULL)
    OR (NOT 'merchant_staff' = ANY (roles) AND merchant_id IS NULL)
  ),
  CHECK (status = 'invited' OR password_hash IS NOT NULL)
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));

-- Failed sign-ins (a wrong password or TOTP code) of known accounts: five within 15 minutes lock it.
CREATE TABLE sign_in_failures (
  account_id uuid NOT NULL REFERENCES accounts (id),
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account_id, failed_at);

-- Sign-in attempts per client address and minute, for the per-IP rate limit.
CREATE TABLE sign_in_attempts (
  ip text NOT NULL,
  window_start timestamptz NOT NULL,
  attempts integer NOT NULL,
  PRIMARY KEY (ip, window_start)
);

-- Sessions: the cookie carries 32 random bytes, stored here only as their SHA-256. `id` is the
-- public id the person sees in their list of sessions. A session ends by sign-out, by sign-out
-- everywhere, when its account is disabled, or by time (idle since last_seen_at, or absolute).
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  account_id uuid NOT NULL REFERENCES accounts (id),
  stage text NOT NULL CHECK (stage IN ('totp_enrolment_required', 'totp_required', 'signed_in')),
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text,
  user_agent text,
  ip text
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE ended_at IS NULL;

-- Invitations: the token is shown once (to the admin who invited) and stored as its SHA-256.
CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz
);

-- The audit trail: every sign-in, failure, lockout, TOTP enrolment, invitation, role change,
-- disable and session end. Append-only.
CREATE TABLE audit_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  account_id uuid,
  ip text,
  request_id text,
  before jsonb,
  after jsonb,
  detail jsonb
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
