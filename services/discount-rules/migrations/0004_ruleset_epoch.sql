-- Up Migration

-- Which database the ruleset versions count in. Versions start again at 1 in a new database
-- (a developer's reset, a test run) and go back in a restored one, while Redis keeps the sheets
-- it was given under `puhui:rate_sheet:v<n>:<card>` for a day: a sheet of another database's
-- version 8 would be served as this one's version 8, naming budgets and rules it never had.
-- discount-rules keeps this epoch in Redis too (`puhui:ruleset_epoch`) and drops every sheet when
-- the two differ (rate-sheet-cache.ts, syncRulesetVersion).
ALTER TABLE ruleset_head ADD COLUMN epoch uuid NOT NULL DEFAULT gen_random_uuid();

-- Down Migration
ALTER TABLE ruleset_head DROP COLUMN epoch;
