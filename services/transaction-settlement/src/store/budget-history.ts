/**
 * A union budget's movements by Asia/Shanghai day (issue 17: the budgets page's burn-down):
 * top-ups in, subsidies granted out, subsidies coming back (refunds, cancellations), and the
 * balance at each day's end, from the budget account's transfers (both indexes on the account).
 */
import type { Queryable } from '@puhui/postgres';
import type { BudgetDay } from '../domain/budget-history';

/** The one kind that funds a budget; every other credit is a subsidy coming back. */
const TOP_UP = "'budget_top_up'";

export async function budgetDays(
  client: Queryable,
  accountCode: string,
  period: { from: string; to: string },
): Promise<{ days: BudgetDay[]; moved_since_from_minor: number }> {
  const { rows } = await client.query<{ days: BudgetDay[] | null; moved_since_from_minor: number }>({
    name: 'settlement-budget-days',
    text: `WITH movements AS (
         SELECT (recorded_at AT TIME ZONE 'Asia/Shanghai')::date AS day, kind,
                CASE WHEN credit_account = $1 THEN amount_minor ELSE -amount_minor END AS signed_minor
         FROM ledger_transfers
         WHERE (credit_account = $1 OR debit_account = $1)
           AND recorded_at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Shanghai')
       SELECT (SELECT json_agg(d ORDER BY d.date) FROM (
                 SELECT to_char(day, 'YYYY-MM-DD') AS date,
                        coalesce(sum(signed_minor) FILTER (WHERE kind = ${TOP_UP}), 0)::float8 AS topped_up_minor,
                        coalesce(-sum(signed_minor) FILTER (WHERE signed_minor < 0), 0)::float8 AS granted_minor,
                        coalesce(sum(signed_minor) FILTER (WHERE signed_minor > 0 AND kind <> ${TOP_UP}), 0)::float8
                          AS returned_minor
                 FROM movements WHERE day <= $3::date GROUP BY day) d) AS days,
              coalesce((SELECT sum(signed_minor) FROM movements), 0)::float8 AS moved_since_from_minor`,
    values: [accountCode, period.from, period.to],
  });
  const row = rows[0] as { days: BudgetDay[] | null; moved_since_from_minor: number };
  return { days: row.days ?? [], moved_since_from_minor: row.moved_since_from_minor };
}
