-- Up Migration

-- A card's savings over a period (issue 18: `GET /v1/cards/{token}/savings`): its checkouts by
-- business date. checkouts_card_subsidised (0011) covers union-funded ones only.
CREATE INDEX checkouts_card ON checkouts (card_token, business_date);

-- Down Migration

DROP INDEX checkouts_card;
