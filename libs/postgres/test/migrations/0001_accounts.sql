-- Up Migration
CREATE TABLE accounts (code text PRIMARY KEY, balance_minor bigint NOT NULL CHECK (balance_minor >= 0));

-- Down Migration
DROP TABLE accounts;
