-- Up Migration

-- Issue 14: schedules, caps and the per-card day/month usage are evaluated at the time the
-- service records the capture, not at the POS's occurred_at (a back-dated capture claimed a
-- monthly subsidy again for every month it was dated in). A refund or void reverses usage in
-- the periods the capture added it to: usage_at. Checkouts captured before this migration
-- added their usage at occurred_at, so NULL here means occurred_at (no table rewrite).
ALTER TABLE checkouts ADD COLUMN usage_at timestamptz;

-- Down Migration
ALTER TABLE checkouts DROP COLUMN usage_at;
