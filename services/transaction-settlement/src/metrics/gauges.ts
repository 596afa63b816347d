/**
 * Settlement's business gauges (issue 20; the names are fixed by decision 0024's table): budgets,
 * the open business day, reconciliation exceptions, and held and payable subsidy. Each family computes at
 * scrape time from one cached reading (readings.ts); labels are bounded: budget ids (dozens,
 * BUDGETS_REPORTED_MAX at most), `funded_by` (2 values), exception categories (4 values).
 */
import { COLLECT_MAX_AGE_MS_DEFAULT, Gauge, cachedReading } from '@puhui/metrics';
import type { Registry } from '@puhui/metrics';
import type { Logger } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import { businessDate, parseCutoff } from '../domain/business-day';
import { readBudgets, readBusinessDay, readReconciliation, readSubsidy } from './readings';
import type { BudgetReading, BusinessDayReading, SubsidyReading } from './readings';

export interface SettlementGaugeDependencies {
  pool: Pool;
  logger: Logger;
  /** METRICS_COLLECT_MAX_AGE_MS: how long a reading is shown before a scrape reads again (5 s). */
  config: { BUSINESS_DAY_CUTOFF: string; METRICS_COLLECT_MAX_AGE_MS?: number };
}

/** A cached reading under `collector`'s name; its failures logged, counted, the last value kept. */
type Reader = <T>(collector: string, read: () => Promise<T>) => () => Promise<T | undefined>;

function readerFor(registry: Registry, logger: Logger, maxAgeMs: number): Reader {
  return (collector, read) =>
    cachedReading({
      registry,
      collector,
      read: () =>
        read().catch((error: unknown) => {
          logger.warn(
            { collector, error: (error as Error).message },
            'metrics reading failed; last values kept',
          );
          throw error;
        }),
      maxAgeMs,
    });
}

function budgetGauges(registry: Registry, reading: () => Promise<BudgetReading[] | undefined>): void {
  const family = (name: string, help: string, value: (budget: BudgetReading) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['budget'],
      registers: [registry],
      async collect() {
        const budgets = await reading();
        if (budgets === undefined) return;
        this.reset();
        for (const budget of budgets) this.set({ budget: budget.budget_id }, value(budget));
      },
    });
  family(
    'puhui_budget_remaining_fen',
    'What is left to grant in the union budget (its ledger balance), fen.',
    (budget) => budget.remaining_minor,
  );
  family(
    'puhui_budget_limit_fen',
    'Every top-up paid into the union budget, fen.',
    (budget) => budget.funded_minor,
  );
  family(
    'puhui_budget_granted_fen',
    'Subsidy granted from the union budget, net of refunds and cancellations, fen.',
    (budget) => budget.granted_minor,
  );
}

function businessDayGauges(registry: Registry, reading: () => Promise<BusinessDayReading | undefined>): void {
  const single = (name: string, help: string, value: (day: BusinessDayReading) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const day = await reading();
        if (day !== undefined) this.set(value(day));
      },
    });
  single(
    'puhui_business_day_captures',
    'Captures of the open business day, voided ones left out.',
    (day) => day.captures,
  );
  single(
    'puhui_business_day_gross_fen',
    'Gross of the open business day’s captures (voided left out), fen.',
    (day) => day.gross_minor,
  );
  new Gauge({
    name: 'puhui_business_day_discount_fen',
    help: 'Discount given on the open business day’s captures (voided left out), by who funds it, fen.',
    labelNames: ['funded_by'],
    registers: [registry],
    async collect() {
      const day = await reading();
      if (day === undefined) return;
      this.set({ funded_by: 'union' }, day.union_funded_minor);
      this.set({ funded_by: 'merchant' }, day.merchant_funded_minor);
    },
  });
}

function reconciliationGauges(
  registry: Registry,
  reading: () => Promise<Awaited<ReturnType<typeof readReconciliation>> | undefined>,
): void {
  new Gauge({
    name: 'puhui_reconciliation_exceptions_unresolved',
    help: 'Reconciliation exceptions finance has not resolved yet, over every run, by category.',
    labelNames: ['category'],
    registers: [registry],
    async collect() {
      const reconciliation = await reading();
      if (reconciliation === undefined) return;
      for (const [category, count] of Object.entries(reconciliation.unresolved))
        this.set({ category }, count);
    },
  });
  new Gauge({
    name: 'puhui_reconciliation_exception_oldest_unresolved_age_seconds',
    help: 'Seconds since the oldest unresolved exception was found (its run was reconciled); 0 when none.',
    registers: [registry],
    async collect() {
      const reconciliation = await reading();
      if (reconciliation === undefined) return;
      const at = reconciliation.oldest_unresolved_at;
      // Aged at the scrape, not at the (up to 5 s old) reading.
      this.set(at === null ? 0 : Math.max(0, (Date.now() - at.getTime()) / 1000));
    },
  });
}

function subsidyGauges(registry: Registry, reading: () => Promise<SubsidyReading | undefined>): void {
  const single = (name: string, help: string, value: (subsidy: SubsidyReading) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const subsidy = await reading();
        if (subsidy !== undefined) this.set(value(subsidy));
      },
    });
  single(
    'puhui_subsidy_held_fen',
    'Union subsidy granted and held until the acquirer confirms the sales (every merchant’s held account), fen.',
    (subsidy) => subsidy.held_minor,
  );
  single(
    'puhui_subsidy_payable_fen',
    'Union subsidy confirmed (or released) and not yet paid to the merchants (every merchant’s payable account), fen.',
    (subsidy) => subsidy.payable_minor,
  );
}

/** Registers settlement's business gauges on the process's registry. */
export function settlementGauges(
  registry: Registry,
  { pool, logger, config }: SettlementGaugeDependencies,
): void {
  const reader = readerFor(registry, logger, config.METRICS_COLLECT_MAX_AGE_MS ?? COLLECT_MAX_AGE_MS_DEFAULT);
  const cutoffMinutes = parseCutoff(config.BUSINESS_DAY_CUTOFF);
  budgetGauges(
    registry,
    reader('budgets', () => readBudgets(pool)),
  );
  businessDayGauges(
    registry,
    reader('business_day', () => readBusinessDay(pool, businessDate(new Date(), cutoffMinutes))),
  );
  reconciliationGauges(
    registry,
    reader('reconciliation', () => readReconciliation(pool)),
  );
  subsidyGauges(
    registry,
    reader('subsidy', () => readSubsidy(pool)),
  );
}
