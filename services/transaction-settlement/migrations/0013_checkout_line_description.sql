-- Up Migration

-- Issue 13: a checkout line's `description` is kept (it was parsed and dropped), in the line
-- objects of `checkouts.lines`, and shown on the checkout and the merchant's statement. The
-- request refuses more than LINE_DESCRIPTION_LENGTH_MAX (200) characters and unsafe text; the
-- table holds the bound too, so that no other writer stores a line a statement cell cannot hold.
-- Checkouts stored before this migration have no descriptions, which the check accepts.
ALTER TABLE checkouts ADD CONSTRAINT checkouts_line_description_length
  CHECK (NOT jsonb_path_exists(lines, '$[*].description ? (@.type() == "string" && @ like_regex "^.{201}" flag "s")'));
