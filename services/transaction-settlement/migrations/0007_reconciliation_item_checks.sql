-- Up Migration

-- The items' two pattern CHECKs (0004), without the regular-expression engine: the same rules
-- (four ASCII digits; chk_ or ref_ and 25 of [0-9a-z]) written with length and translate. A
-- run writes an item per statement line, and on a million lines the two regexes cost about
-- 3.5 s of the items' INSERT (docs/performance.md).
ALTER TABLE reconciliation_items
  DROP CONSTRAINT reconciliation_items_line_card_last4_check,
  DROP CONSTRAINT reconciliation_items_ledger_id_check,
  ADD CONSTRAINT reconciliation_items_line_card_last4_check
    CHECK (length(line_card_last4) = 4 AND translate(line_card_last4, '0123456789', '') = ''),
  ADD CONSTRAINT reconciliation_items_ledger_id_check
    CHECK (length(ledger_id) = 29 AND left(ledger_id, 4) IN ('chk_', 'ref_')
           AND translate(substr(ledger_id, 5), '0123456789abcdefghijklmnopqrstuvwxyz', '') = '');

-- Down Migration
ALTER TABLE reconciliation_items
  DROP CONSTRAINT reconciliation_items_line_card_last4_check,
  DROP CONSTRAINT reconciliation_items_ledger_id_check,
  ADD CONSTRAINT reconciliation_items_line_card_last4_check CHECK (line_card_last4 ~ '^[0-9]{4}$'),
  ADD CONSTRAINT reconciliation_items_ledger_id_check CHECK (ledger_id ~ '^(chk|ref)_[0-9a-z]{25}$');
