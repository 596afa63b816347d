/**
 * What settlement's business gauges read from its own tables: one statement each, in a
 * read-only transaction with its own short statement timeout, so that a slow scrape can never
 * hold a connection for the pool's 30 s. The gauges cache each reading (gauges.ts), so a storm
 * of scrapes is one statement per reading and per cache period.
 */
import { withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { RECONCILIATION_CATEGORIES } from '../domain/reconciliation';
import type { ReconciliationCategory } from '../domain/reconciliation';

/**
 * A reading's upper bound, inside the 15 s scrape timeout of infra/prometheus: a reading that
 * takes longer fails (counted, last value kept) rather than hold a pooled connection for the
 * pool's 30 s. The slowest reading is the open day's (readBusinessDay): 1,000,000 captures of
 * one day took 0.7-1.4 s here at load 21-30; 2 s left it failing at load 30 (2.4 s).
 */
export const READING_STATEMENT_TIMEOUT_MS = 5000;

/** Budgets reported, in budget id order: a union defines dozens; beyond this the rest is not shown. */
export const BUDGETS_REPORTED_MAX = 500;

/** How far past the clock's business day an early closure can have moved the open one. */
const CLOSED_DAYS_AHEAD_MAX = 366;

/** Read-only, bounded by READING_STATEMENT_TIMEOUT_MS, never retried (the next scrape is the retry). */
function readOnce<T>(pool: Pool, read: (client: PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, read, {
    beginWith: `SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${READING_STATEMENT_TIMEOUT_MS}`,
    attemptsMax: 1,
  });
}

export interface BudgetReading {
  budget_id: string;
  /** The budget account's balance: what is left to grant. */
  remaining_minor: number;
  /** Every top-up posted to it (union funds → the budget). */
  funded_minor: number;
  /** Granted, net of refunds and cancelled subsidies: funded − remaining. */
  granted_minor: number;
}

/**
 * Each budget's balance and what was paid into it. Union funds are debited by top-ups only (a
 * payout credits them), so the top-ups are the union funds account's debit entries, read
 * through the transfers' debit index: few (each needs a second admin), whatever the captures.
 * 500 budgets with 5,000 top-ups: 20-31 ms here.
 */
export async function readBudgets(pool: Pool): Promise<BudgetReading[]> {
  const { rows } = await readOnce(pool, (client) =>
    client.query<{ budget_id: string; remaining_minor: string; funded_minor: string }>(
      `SELECT b.budget_id, (a.credits_minor - a.debits_minor)::text AS remaining_minor,
              coalesce(t.funded_minor, 0)::text AS funded_minor
         FROM budgets b
         JOIN ledger_accounts a ON a.account_code = b.account_code
         LEFT JOIN (SELECT credit_account, sum(amount_minor) AS funded_minor FROM ledger_transfers
                     WHERE debit_account = 'bank:union_funds' AND kind = 'budget_top_up'
                     GROUP BY credit_account) t ON t.credit_account = b.account_code
        ORDER BY b.budget_id
        LIMIT ${BUDGETS_REPORTED_MAX}`,
    ),
  );
  return rows.map((row) => {
    const remaining = Number(row.remaining_minor);
    const funded = Number(row.funded_minor);
    return {
      budget_id: row.budget_id,
      remaining_minor: remaining,
      funded_minor: funded,
      granted_minor: funded - remaining,
    };
  });
}

export interface BusinessDayReading {
  business_date: string;
  /** Captures of the day not voided, as the day's settlement batches will count them. */
  captures: number;
  gross_minor: number;
  union_funded_minor: number;
  merchant_funded_minor: number;
}

/**
 * The open business day's captures and their sums, as its settlement batches will total them
 * (voided sales left out; refunds are not subtracted, batches count them apart). The open day
 * is the clock's day moved past the days finance closed early, found without the business-day
 * lock: a scrape must never make a day-end (and the captures queued behind it) wait.
 *
 * The one reading that grows with the traffic: it reads every capture of the day, 100,000 in
 * 86-111 ms here, 1,000,000 in 0.7-1.4 s (a parallel heap scan, load 21-30). An index on
 * checkouts (business_date) INCLUDE (status, gross_minor, union_funded_minor,
 * merchant_funded_minor) made the million 0.34-0.49 s (index-only, after a vacuum); not added.
 */
export async function readBusinessDay(pool: Pool, byClock: string): Promise<BusinessDayReading> {
  const { rows } = await readOnce(pool, (client) =>
    client.query<Record<keyof BusinessDayReading, string>>(
      `WITH day AS (
         SELECT min(candidate)::date AS business_date
           FROM generate_series($1::date, $1::date + ${CLOSED_DAYS_AHEAD_MAX}, interval '1 day') AS candidate
          WHERE NOT EXISTS (SELECT 1 FROM business_day_closures c WHERE c.business_date = candidate::date))
       SELECT to_char(day.business_date, 'YYYY-MM-DD') AS business_date,
              count(c.checkout_id) FILTER (WHERE c.status <> 'voided')::text AS captures,
              coalesce(sum(c.gross_minor) FILTER (WHERE c.status <> 'voided'), 0)::text AS gross_minor,
              coalesce(sum(c.union_funded_minor) FILTER (WHERE c.status <> 'voided'), 0)::text AS union_funded_minor,
              coalesce(sum(c.merchant_funded_minor) FILTER (WHERE c.status <> 'voided'), 0)::text AS merchant_funded_minor
         FROM day LEFT JOIN checkouts c ON c.business_date = day.business_date
        GROUP BY day.business_date`,
      [byClock],
    ),
  );
  const row = rows[0] as Record<keyof BusinessDayReading, string>;
  return {
    business_date: row.business_date,
    captures: Number(row.captures),
    gross_minor: Number(row.gross_minor),
    union_funded_minor: Number(row.union_funded_minor),
    merchant_funded_minor: Number(row.merchant_funded_minor),
  };
}

export type ExceptionCategory = Exclude<ReconciliationCategory, 'matched'>;
export const EXCEPTION_CATEGORIES = RECONCILIATION_CATEGORIES.filter(
  (category): category is ExceptionCategory => category !== 'matched',
);

export interface ReconciliationReading {
  unresolved: Record<ExceptionCategory, number>;
  /** When the oldest run that still has an unresolved exception was reconciled; null: none. */
  oldest_unresolved_at: Date | null;
}

/**
 * Unresolved exceptions per category, as each run's `exceptions_open` counts them: the run's
 * totals (a few rows per run) minus its resolved items, read through the partial index on
 * resolved items (people resolve them one by one: few). A run's million items are not read:
 * 365 runs took 6-16 ms here.
 */
export async function readReconciliation(pool: Pool): Promise<ReconciliationReading> {
  const { rows } = await readOnce(pool, (client) =>
    client.query<{ category: ExceptionCategory; unresolved: string; oldest_unresolved_at: Date | null }>(
      `WITH resolved AS (
         SELECT run_id, category, count(*) AS items FROM reconciliation_items
          WHERE resolved_at IS NOT NULL GROUP BY run_id, category),
       open AS (
         SELECT t.run_id, t.category, t.item_count - coalesce(r.items, 0) AS unresolved
           FROM reconciliation_totals t LEFT JOIN resolved r USING (run_id, category)
          WHERE t.category <> 'matched')
       SELECT open.category, sum(open.unresolved)::text AS unresolved,
              min(runs.created_at) FILTER (WHERE open.unresolved > 0) AS oldest_unresolved_at
         FROM open JOIN reconciliation_runs runs USING (run_id)
        GROUP BY open.category`,
    ),
  );
  const unresolved = Object.fromEntries(EXCEPTION_CATEGORIES.map((category) => [category, 0])) as Record<
    ExceptionCategory,
    number
  >;
  let oldest: Date | null = null;
  for (const row of rows) {
    unresolved[row.category] = Number(row.unresolved);
    const at = row.oldest_unresolved_at;
    if (at !== null && (oldest === null || at < oldest)) oldest = at;
  }
  return { unresolved, oldest_unresolved_at: oldest };
}

export interface SubsidyReading {
  /** Granted and waiting for the acquirer to confirm the sales (DESIGN §6). */
  held_minor: number;
  /** Confirmed (or released by finance) and not paid to the merchants yet. */
  payable_minor: number;
}

/**
 * Where the union's granted subsidy stands: the balances of every merchant's held and payable
 * accounts, the numbers GET /v1/ledger/accounts/{code} shows for each. Every account row is
 * read (the codes' pattern uses no index): 100,000 merchants, 400,500 accounts, took 88-166 ms
 * here at load 21-30 for the held sum alone; the payable sum rides on the same scan.
 */
export async function readSubsidy(pool: Pool): Promise<SubsidyReading> {
  const { rows } = await readOnce(pool, (client) =>
    client.query<Record<keyof SubsidyReading, string>>(
      `SELECT coalesce(sum(credits_minor - debits_minor) FILTER (WHERE account_code LIKE '%:subsidy_held'), 0)::text
                AS held_minor,
              coalesce(sum(credits_minor - debits_minor) FILTER (WHERE account_code LIKE '%:subsidy_payable'), 0)::text
                AS payable_minor
         FROM ledger_accounts WHERE account_code LIKE 'merchant:%'`,
    ),
  );
  const row = rows[0] as Record<keyof SubsidyReading, string>;
  return { held_minor: Number(row.held_minor), payable_minor: Number(row.payable_minor) };
}
