-- Up Migration

-- Why a checkout got no discount is one of the engine's reasons (libs/discount
-- NoDiscountReason), as the API documents it; nothing else may be stored.
ALTER TABLE checkouts ADD CONSTRAINT checkouts_no_discount_reason_known
  CHECK (no_discount_reason IS NULL OR no_discount_reason IN ('card_frozen', 'card_cancelled'));

-- Down Migration
ALTER TABLE checkouts DROP CONSTRAINT checkouts_no_discount_reason_known;
