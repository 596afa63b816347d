-- Up Migration

-- The assignment guard (0003) as a trigger with a WHEN condition: the same rule, checked by
-- the executor without calling PL/pgSQL for the first assignment of each item, which is every
-- row a settlement run updates (a million captures, a million calls saved).
DROP TRIGGER checkouts_assignment_final ON checkouts;
DROP TRIGGER refunds_assignment_final ON refunds;
CREATE TRIGGER checkouts_assignment_final BEFORE UPDATE OF settlement_batch_id ON checkouts
  FOR EACH ROW
  WHEN (OLD.settlement_batch_id IS NOT NULL AND NEW.settlement_batch_id IS DISTINCT FROM OLD.settlement_batch_id)
  EXECUTE FUNCTION settlement_assignment_is_final();
CREATE TRIGGER refunds_assignment_final BEFORE UPDATE OF settlement_batch_id ON refunds
  FOR EACH ROW
  WHEN (OLD.settlement_batch_id IS NOT NULL AND NEW.settlement_batch_id IS DISTINCT FROM OLD.settlement_batch_id)
  EXECUTE FUNCTION settlement_assignment_is_final();

-- Down Migration
DROP TRIGGER checkouts_assignment_final ON checkouts;
DROP TRIGGER refunds_assignment_final ON refunds;
CREATE TRIGGER checkouts_assignment_final BEFORE UPDATE OF settlement_batch_id ON checkouts
  FOR EACH ROW EXECUTE FUNCTION settlement_assignment_is_final();
CREATE TRIGGER refunds_assignment_final BEFORE UPDATE OF settlement_batch_id ON refunds
  FOR EACH ROW EXECUTE FUNCTION settlement_assignment_is_final();
