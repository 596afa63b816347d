-- Up Migration

-- Dual control (maker–checker, issue 16): an action that moves or redirects money is first
-- recorded here as a pending request by one person (the maker); a second person (the checker)
-- approves it, and the action runs in the same transaction that records the decision, or
-- rejects it. A decided request is never decided again (the trigger below).
CREATE TABLE approval_requests (
  id uuid PRIMARY KEY,
  -- The order requests are listed in (ids are random).
  sequence bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]{0,63}$'),
  target_type text NOT NULL CHECK (length(target_type) BETWEEN 1 AND 64),
  target_id text NOT NULL CHECK (length(target_id) BETWEEN 1 AND 255),
  summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 500),
  -- What the action needs to run; never shown (before/after are the masked views of the change).
  payload jsonb NOT NULL,
  before jsonb,
  after jsonb,
  required_role text NOT NULL,
  -- Token subjects (console account ids), not actor strings: the checker rules compare them.
  requested_by text NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
  decided_by text,
  decided_at timestamptz,
  reason text CHECK (length(reason) <= 500),
  outcome jsonb,
  CHECK ((status = 'pending') = (decided_at IS NULL)),
  CHECK (status IN ('pending', 'cancelled') OR decided_by IS NOT NULL),
  -- The database's own guard of the rule the code checks first: nobody decides their own request.
  CHECK (decided_by IS NULL OR decided_by <> requested_by OR status = 'cancelled')
);

CREATE INDEX approval_requests_status_sequence ON approval_requests (status, sequence);
CREATE INDEX approval_requests_target ON approval_requests (target_type, target_id, sequence);

-- A decision is final: only a pending request changes, and what was asked never changes.
CREATE FUNCTION approval_requests_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' THEN
    RAISE EXCEPTION 'approval request % was % already', OLD.id, OLD.status USING ERRCODE = 'check_violation';
  END IF;
  IF (NEW.action, NEW.target_type, NEW.target_id, NEW.payload, NEW.required_role, NEW.requested_by, NEW.requested_at)
     IS DISTINCT FROM
     (OLD.action, OLD.target_type, OLD.target_id, OLD.payload, OLD.required_role, OLD.requested_by, OLD.requested_at) THEN
    RAISE EXCEPTION 'approval request % cannot change what was asked', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER approval_requests_decided_once BEFORE UPDATE ON approval_requests
  FOR EACH ROW EXECUTE FUNCTION approval_requests_decided_once();

CREATE FUNCTION approval_requests_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'approval requests are kept' USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER approval_requests_kept BEFORE DELETE ON approval_requests
  FOR EACH ROW EXECUTE FUNCTION approval_requests_kept();

-- Down Migration
DROP TABLE approval_requests;
DROP FUNCTION approval_requests_decided_once();
DROP FUNCTION approval_requests_kept();
