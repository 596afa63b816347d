/** What a reconciliation run and its items look like to finance (DESIGN §6, §11). */
import { RECONCILIATION_CATEGORIES } from '../domain/reconciliation';
import type { ReconciliationCategory, ReconciliationItem, ReconciliationRun } from '../domain/reconciliation';

interface CategoryView {
  count: number;
  statement_amount_minor: number;
  ledger_amount_minor: number;
}

export function reconciliationView(run: ReconciliationRun) {
  const categories = Object.fromEntries(
    RECONCILIATION_CATEGORIES.map((category) => {
      const total = run.totals.find((candidate) => candidate.category === category);
      return [
        category,
        {
          count: total?.item_count ?? 0,
          statement_amount_minor: total?.line_amount_minor ?? 0,
          ledger_amount_minor: total?.ledger_amount_minor ?? 0,
        },
      ];
    }),
  ) as Record<ReconciliationCategory, CategoryView>;
  const exceptions = run.totals
    .filter((total) => total.category !== 'matched')
    .reduce((sum, total) => sum + total.item_count, 0);
  return {
    id: run.run_id,
    object: 'reconciliation' as const,
    status: run.status,
    settlement_date: run.settlement_date,
    file_sha256: run.file_sha256,
    file_bytes: run.file_bytes,
    line_count: run.line_count,
    time_tolerance_ms: run.time_tolerance_ms,
    currency: 'CNY' as const,
    categories,
    exceptions_open: exceptions - run.resolved_count,
    created_by: run.created_by,
    created_at: run.created_at,
  };
}

export function reconciliationItemView(item: ReconciliationItem) {
  return {
    id: item.item_id,
    object: 'reconciliation_item' as const,
    reconciliation_id: item.run_id,
    category: item.category,
    matched_by: item.matched_by,
    statement_line: item.line,
    duplicate_of_line: item.duplicate_of_line,
    ledger_item:
      item.ledger === null
        ? null
        : {
            kind: item.ledger.kind,
            id: item.ledger.ledger_id,
            checkout_id: item.ledger.checkout_id,
            merchant_id: item.ledger.merchant_id,
            card_last4: item.ledger.card_last4,
            reference: item.ledger.reference,
            amount_minor: item.ledger.amount_minor,
            occurred_at: item.ledger.occurred_at,
          },
    // What the statement says minus what the ledger says, when both sides are there.
    difference_minor:
      item.line === null || item.ledger === null ? null : item.line.amount_minor - item.ledger.amount_minor,
    resolution: item.resolution,
  };
}
