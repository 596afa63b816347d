-- Up Migration
CREATE TABLE gadgets (gadget_id text PRIMARY KEY);

-- Down Migration
DROP TABLE gadgets;
