/** What a settlement batch and a settlement run look like to finance and to the batch's merchant. */
import type { SettlementBatch } from '../domain/settlement';

export function settlementBatchView(batch: SettlementBatch) {
  const { batch_id: id, ...rest } = batch;
  return { id, object: 'settlement_batch' as const, currency: 'CNY' as const, ...rest };
}

export function settlementRunView<Run extends { batches: SettlementBatch[] }>(run: Run) {
  return { ...run, batches: run.batches.map(settlementBatchView) };
}
