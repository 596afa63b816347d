/** What a business day looks like to finance and merchants: open, or closed early or by the clock. */
import { cutoffInstant } from '../domain/business-day';
import type { BusinessDayClosure, DayTotals } from '../domain/business-day';

type DayFacts = Parameters<typeof businessDayView>[0];

export function businessDayView(day: {
  business_date: string;
  cutoff_minutes: number;
  /** The day open after this one's answer. */
  open_business_date: string;
  /** Undefined while the day is open; null for a day the clock closed at its cut-off. */
  closure?: Pick<BusinessDayClosure, 'closed_at' | 'closed_by'> | null;
}) {
  const closesAt = cutoffInstant(day.business_date, day.cutoff_minutes);
  const closed = day.closure !== undefined;
  return {
    object: 'business_day' as const,
    business_date: day.business_date,
    status: closed ? ('closed' as const) : ('open' as const),
    closes_at: closesAt,
    // A day closed by the clock has no closure row: it closed at its cut-off.
    closed_at: closed ? (day.closure?.closed_at ?? closesAt) : null,
    closed_by: closed ? (day.closure?.closed_by ?? 'clock') : null,
    open_business_date: day.open_business_date,
  };
}

/**
 * Where a day stands, furthest first: `reconciled` (paid, and a reconciliation of its settlement
 * date with no open exception), `paid` (a settlement run, no batch left unpaid or held), `settled`
 * (a run, batches unpaid or held), `closed` (no run yet), `open`.
 */
function dayProgress(open: boolean, totals: DayTotals) {
  if (open) return 'open' as const;
  if (totals.settlement_runs === 0) return 'closed' as const;
  const owing = totals.batches.some(
    (batch) => (batch.status === 'unpaid' || batch.status === 'held') && batch.count > 0,
  );
  if (owing) return 'settled' as const;
  const { runs, exceptions_open } = totals.reconciliations;
  return runs > 0 && exceptions_open === 0 ? ('reconciled' as const) : ('paid' as const);
}

export function businessDaySummaryView(day: DayFacts, totals: DayTotals) {
  const batchesOf = (status: DayTotals['batches'][number]['status']) => {
    const found = totals.batches.find((batch) => batch.status === status);
    return { count: found?.count ?? 0, net_minor: found?.net_minor ?? 0 };
  };
  const { captures, refunds } = totals;
  return {
    ...businessDayView(day),
    object: 'business_day_summary' as const,
    status: dayProgress(day.closure === undefined, totals),
    currency: 'CNY' as const,
    captures,
    voids: totals.voids,
    refunds,
    // What the cards moved to merchants, and what the union owes them in subsidies, after refunds.
    net_minor: captures.net_minor - refunds.member_refund_minor,
    subsidy_owed_minor: captures.union_funded_minor - refunds.union_reversed_minor,
    settlement_runs: totals.settlement_runs,
    batches: {
      unpaid: batchesOf('unpaid'),
      held: batchesOf('held'),
      paid: batchesOf('paid'),
      nothing_owed: batchesOf('nothing_owed'),
    },
    reconciliations: totals.reconciliations,
  };
}
