-- Up Migration

-- Replicas fed by events (DESIGN §2): checkouts keep working while merchant-onboarding or
-- discount-rules is down.
CREATE TABLE merchants (
  merchant_id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
  category text NOT NULL,
  display_name text NOT NULL,
  legal_name text NOT NULL,
  settlement_account jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE merchant_api_keys (
  key_hash text PRIMARY KEY CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  key_id text NOT NULL UNIQUE,
  merchant_id text NOT NULL REFERENCES merchants (merchant_id),
  prefix text NOT NULL,
  -- NULL while the key works without an end; set by a revocation (maybe in the future).
  works_until timestamptz
);

CREATE TABLE budgets (
  budget_id text PRIMARY KEY,
  name text NOT NULL,
  union_id text NOT NULL,
  account_code text NOT NULL UNIQUE REFERENCES ledger_accounts (account_code),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE checkouts (
  checkout_id text PRIMARY KEY CHECK (checkout_id ~ '^chk_[0-9a-z]{25}$'),
  merchant_id text NOT NULL REFERENCES merchants (merchant_id),
  card_token text NOT NULL CHECK (card_token ~ '^ctok_[A-Za-z0-9_-]{32}$'),
  card_last4 text NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
  currency text NOT NULL CHECK (currency = 'CNY'),
  reference text NOT NULL,
  status text NOT NULL CHECK (status IN ('captured', 'partially_refunded', 'refunded', 'voided')),
  gross_minor bigint NOT NULL CHECK (gross_minor > 0 AND gross_minor <= 1000000000000),
  discount_minor bigint NOT NULL CHECK (discount_minor >= 0),
  merchant_funded_minor bigint NOT NULL CHECK (merchant_funded_minor >= 0),
  union_funded_minor bigint NOT NULL CHECK (union_funded_minor >= 0),
  net_minor bigint NOT NULL CHECK (net_minor >= 0),
  refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  budget_exhausted boolean NOT NULL,
  no_discount_reason text,
  ruleset_version integer NOT NULL,
  lines jsonb NOT NULL,
  grants jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  business_date date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  voided_at timestamptz,
  settlement_batch_id text,
  CHECK (discount_minor = merchant_funded_minor + union_funded_minor),
  CHECK (net_minor = gross_minor - discount_minor),
  CHECK (refunded_minor <= gross_minor),
  UNIQUE (merchant_id, reference)
);
CREATE INDEX checkouts_merchant ON checkouts (merchant_id, checkout_id);
CREATE INDEX checkouts_business_date ON checkouts (business_date, merchant_id);

CREATE TABLE refunds (
  refund_id text PRIMARY KEY CHECK (refund_id ~ '^ref_[0-9a-z]{25}$'),
  checkout_id text NOT NULL REFERENCES checkouts (checkout_id),
  merchant_id text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  discount_reversed_minor bigint NOT NULL CHECK (discount_reversed_minor >= 0),
  union_reversed_minor bigint NOT NULL CHECK (union_reversed_minor >= 0),
  merchant_reversed_minor bigint NOT NULL CHECK (merchant_reversed_minor >= 0),
  member_refund_minor bigint NOT NULL CHECK (member_refund_minor >= 0),
  reversals jsonb NOT NULL,
  reason text,
  business_date date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  settlement_batch_id text,
  CHECK (discount_reversed_minor = union_reversed_minor + merchant_reversed_minor),
  CHECK (member_refund_minor = amount_minor - discount_reversed_minor)
);
CREATE INDEX refunds_checkout ON refunds (checkout_id);

-- Discount a card got from a rule in a period (captured minus refunded), for per-card
-- day and month caps. Rows are locked in key order by every capture and refund.
CREATE TABLE card_rule_usage (
  card_token text NOT NULL,
  rule_id text NOT NULL,
  period text NOT NULL CHECK (period ~ '^(day:\d{4}-\d{2}-\d{2}|month:\d{4}-\d{2})$'),
  discount_minor bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
  PRIMARY KEY (card_token, rule_id, period)
);

-- Idempotency (DESIGN §5): the key, a keyed hash of the request and the response, written in
-- the same transaction as the effect, so a retry returns the same answer.
CREATE TABLE idempotency_keys (
  -- Whose key it is: a merchant id, or `operator:<subject>` for finance and admin calls.
  scope text NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  -- json, not jsonb: a replay must be byte-for-byte the first response (jsonb reorders keys).
  response_body json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, idempotency_key)
);

-- The programme's own accounts (see src/domain/ledger.ts).
INSERT INTO ledger_accounts (account_code, name, currency, normal_side) VALUES
  ('acquirer:clearing', 'Card payments due from the acquirer', 'CNY', 'debit'),
  ('bank:union_funds', 'Union funds paid into budgets', 'CNY', 'debit'),
  ('memo:merchant_funded_discounts', 'Discounts funded by merchants (memo)', 'CNY', 'credit');

-- Down Migration
DELETE FROM ledger_accounts WHERE account_code IN ('acquirer:clearing', 'bank:union_funds', 'memo:merchant_funded_discounts');
DROP TABLE idempotency_keys, card_rule_usage, refunds, checkouts, budgets, merchant_api_keys, merchants;
