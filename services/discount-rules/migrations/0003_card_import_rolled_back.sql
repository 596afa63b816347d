-- Up Migration

-- A card import registers its file whole or not at all (decision 0022). A failed import's
-- transaction was rolled back, so nothing it read is registered: its `inserted` is 0 while its
-- rows, unchanged and rejected counts still tell what was in the file. The counts add up for
-- every import that did not fail.
ALTER TABLE card_imports DROP CONSTRAINT card_imports_check;
ALTER TABLE card_imports ADD CONSTRAINT card_imports_counts_add_up
  CHECK (status = 'failed' OR rows_total = inserted + unchanged + rejected);
ALTER TABLE card_imports ADD CONSTRAINT card_imports_failed_registered_nothing
  CHECK (status <> 'failed' OR inserted = 0) NOT VALID;

-- Down Migration
ALTER TABLE card_imports DROP CONSTRAINT card_imports_failed_registered_nothing;
ALTER TABLE card_imports DROP CONSTRAINT card_imports_counts_add_up;
UPDATE card_imports SET inserted = rows_total - unchanged - rejected WHERE status = 'failed';
ALTER TABLE card_imports ADD CONSTRAINT card_imports_check
  CHECK (rows_total = inserted + unchanged + rejected);
