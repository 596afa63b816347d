-- Up Migration

-- Admins find cards (issue 17: `GET /v1/cards`) by member id (with the last 4), by union or by
-- tier, page by page in card_token order: each filter's index carries the order.
CREATE INDEX cards_member ON cards (member_id, card_token);
CREATE INDEX cards_union_token ON cards (union_id, card_token);
CREATE INDEX cards_tier_token ON cards (tier, card_token);
DROP INDEX cards_union;

-- Down Migration

CREATE INDEX cards_union ON cards (union_id);
DROP INDEX cards_tier_token;
DROP INDEX cards_union_token;
DROP INDEX cards_member;
