-- Up Migration

-- Union budgets that rules draw subsidies from. Only their definitions live here; balances
-- are kept in transaction-settlement's ledger.
CREATE TABLE budgets (
  budget_id text PRIMARY KEY CHECK (budget_id ~ '^bud_[0-9a-z]{25}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  union_id text NOT NULL CHECK (length(union_id) BETWEEN 1 AND 100),
  currency text NOT NULL CHECK (currency = 'CNY'),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A rule and where it stands. `draft` is the next version's full rule (discountRuleSchema)
-- while it is being edited; `published_version` points at the live row in rule_versions.
-- A never-published rule keeps its draft when retired, as the record of what it was.
CREATE TABLE rules (
  rule_id text PRIMARY KEY CHECK (rule_id ~ '^rul_[0-9a-z]{25}$'),
  status text NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
  published_version integer CHECK (published_version >= 1),
  draft jsonb CHECK (draft IS NULL OR (draft ->> 'rule_id' = rule_id)),
  -- A publish waiting for its time; the background job publishes it when due.
  scheduled_publish_at timestamptz,
  scheduled_by text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  CHECK (status <> 'draft' OR (published_version IS NULL AND draft IS NOT NULL)),
  CHECK (status <> 'published' OR published_version IS NOT NULL),
  CHECK ((status = 'retired') = (retired_at IS NOT NULL)),
  CHECK (status <> 'retired' OR scheduled_publish_at IS NULL),
  CHECK (scheduled_publish_at IS NULL OR (draft IS NOT NULL AND scheduled_by IS NOT NULL)),
  CHECK (draft IS NULL OR (draft ->> 'version')::integer = coalesce(published_version, 0) + 1)
);
CREATE INDEX rules_status ON rules (status, rule_id);
CREATE INDEX rules_scheduled ON rules (scheduled_publish_at) WHERE scheduled_publish_at IS NOT NULL;

-- Every published version of every rule, exactly as it went live. Never changed.
CREATE TABLE rule_versions (
  rule_id text NOT NULL REFERENCES rules (rule_id),
  version integer NOT NULL CHECK (version >= 1),
  rule jsonb NOT NULL,
  ruleset_version bigint NOT NULL,
  published_by text NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, version),
  CHECK (rule ->> 'rule_id' = rule_id AND (rule ->> 'version')::integer = version)
);

-- The ruleset version: one row, bumped (and so row-locked) by every publish and retire, so
-- versions commit in the order they were given and Redis's copy only ever moves forward.
CREATE TABLE ruleset_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  ruleset_version bigint NOT NULL CHECK (ruleset_version >= 0)
);
INSERT INTO ruleset_head (ruleset_version) VALUES (0);

-- What each ruleset version changed.
CREATE TABLE rulesets (
  ruleset_version bigint PRIMARY KEY CHECK (ruleset_version >= 1),
  rule_id text NOT NULL REFERENCES rules (rule_id),
  rule_version integer NOT NULL,
  change text NOT NULL CHECK (change IN ('published', 'retired')),
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);

-- History does not change: published versions and the ruleset log refuse updates and deletes.
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER rule_versions_immutable BEFORE UPDATE OR DELETE ON rule_versions
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER rule_versions_no_truncate BEFORE TRUNCATE ON rule_versions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER rulesets_immutable BEFORE UPDATE OR DELETE ON rulesets
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER rulesets_no_truncate BEFORE TRUNCATE ON rulesets
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Merchants as announced on puhui.merchants.v1: enough to check the merchant ids rules name.
-- `last_sequence` (per merchant, from the event) keeps an older event from undoing a newer one.
CREATE TABLE merchants (
  merchant_id text PRIMARY KEY,
  display_name text NOT NULL,
  category text NOT NULL,
  status text NOT NULL,
  last_sequence bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Who changed what, when: rules, cards and budgets, before and after as the API showed them.
CREATE TABLE audit_events (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id text,
  card_token text,
  budget_id text,
  import_id text,
  action text NOT NULL,
  actor text NOT NULL,
  request_id text,
  before jsonb,
  after jsonb,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(rule_id, card_token, budget_id, import_id) >= 1)
);
CREATE INDEX audit_events_rule ON audit_events (rule_id, audit_id) WHERE rule_id IS NOT NULL;
CREATE INDEX audit_events_card ON audit_events (card_token, audit_id) WHERE card_token IS NOT NULL;
CREATE INDEX audit_events_budget ON audit_events (budget_id, audit_id) WHERE budget_id IS NOT NULL;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Down Migration
DROP TABLE audit_events;
DROP TABLE merchants;
DROP TABLE rulesets;
DROP TABLE ruleset_head;
DROP TABLE rule_versions;
DROP TABLE rules;
DROP TABLE budgets;
DROP FUNCTION refuse_history_change;
