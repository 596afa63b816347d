-- Up Migration

-- Finance may close the open business day before its cut-off (a manual day-end, 日终), e.g.
-- to settle at once. A closed day takes no more captures, refunds or voids: they belong to
-- the next open day. Closures are never undone.
CREATE TABLE business_day_closures (
  business_date date PRIMARY KEY,
  closed_by text NOT NULL CHECK (closed_by <> ''),
  request_id text,
  closed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION business_day_closures_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a closed business day stays closed' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER business_day_closures_append_only BEFORE UPDATE OR DELETE ON business_day_closures
  FOR EACH ROW EXECUTE FUNCTION business_day_closures_refuse_change();
CREATE TRIGGER business_day_closures_no_truncate BEFORE TRUNCATE ON business_day_closures
  FOR EACH STATEMENT EXECUTE FUNCTION business_day_closures_refuse_change();

-- The business day a money movement made now belongs to: the day by the clock (after the
-- cut-off, the next one), moved past every day finance has closed early. It takes the
-- business-day lock shared, so a closure (which takes it exclusively) waits for every
-- movement already dated and every later movement sees the closure: the cut is exact.
CREATE FUNCTION open_business_date(by_clock date) RETURNS date LANGUAGE plpgsql AS $$
DECLARE
  day date := by_clock;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext('puhui:business_day'));
  WHILE EXISTS (SELECT 1 FROM business_day_closures WHERE business_date = day) LOOP
    day := day + 1;
  END LOOP;
  RETURN day;
END;
$$;

-- Down Migration
DROP FUNCTION open_business_date;
DROP TABLE business_day_closures;
DROP FUNCTION business_day_closures_refuse_change;
