-- Up Migration

-- Finance looks a sale up by the merchant's own reference without knowing the merchant
-- (issue 18: `GET /v1/checkouts?reference=`); UNIQUE (merchant_id, reference) serves the
-- merchant's own lookups, this one the operators'.
CREATE INDEX checkouts_reference ON checkouts (reference);

-- Down Migration

DROP INDEX checkouts_reference;
