-- Up Migration
CREATE TABLE holds (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount_minor bigint NOT NULL);
