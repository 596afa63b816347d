-- Up Migration

-- Issue 14: a capture counts the card's union-funded captures of the last hour (velocity limit).
CREATE INDEX checkouts_card_subsidised ON checkouts (card_token, created_at) WHERE union_funded_minor > 0;

-- Down Migration
DROP INDEX checkouts_card_subsidised;
