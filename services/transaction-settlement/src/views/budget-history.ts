/**
 * A budget's days for the burn-down chart: every day of the period (quiet ones as zeros) with
 * the balance at its end, and when the budget runs out at the rate of the period's last 7 days.
 */
import { addDays } from '../domain/business-day';
import type { BudgetDay } from '../domain/budget-history';

/** The burn rate is the last week's net grants: long enough to smooth a weekend, short enough to follow a campaign. */
export const BURN_RATE_DAYS = 7;

/**
 * For a budget spent already: the day that ended with nothing left after the last day that
 * ended with something; null when it had nothing all along.
 */
function ranOutOn(
  openingMinor: number,
  days: readonly { date: string; balance_minor: number }[],
): string | null {
  let emptiedOn: string | null = null;
  let held = openingMinor > 0;
  for (const day of days) {
    if (day.balance_minor > 0) {
      held = true;
      emptiedOn = null;
    } else if (held && emptiedOn === null) emptiedOn = day.date;
  }
  return emptiedOn;
}

export function budgetHistoryView(
  budget: { budget_id: string; name: string },
  period: { from: string; to: string },
  balances: { now_minor: number; moved_since_from_minor: number },
  movements: readonly BudgetDay[],
) {
  const byDate = new Map(movements.map((day) => [day.date, day]));
  const opening = balances.now_minor - balances.moved_since_from_minor;
  const days = [];
  let balance = opening;
  for (let date = period.from; date <= period.to; date = addDays(date, 1)) {
    const moved = byDate.get(date) ?? { date, topped_up_minor: 0, granted_minor: 0, returned_minor: 0 };
    balance += moved.topped_up_minor - moved.granted_minor + moved.returned_minor;
    days.push({ ...moved, balance_minor: balance });
  }
  const recent = days.slice(-BURN_RATE_DAYS);
  const netBurn = recent.reduce((sum, day) => sum + day.granted_minor - day.returned_minor, 0);
  const perDay = recent.length === 0 ? 0 : netBurn / recent.length;
  // Days of grants the balance at the period's end still covers, at that rate; none when nothing burns.
  const runsOutOn = perDay > 0 && balance > 0 ? addDays(period.to, Math.ceil(balance / perDay)) : null;
  return {
    object: 'budget_history' as const,
    budget_id: budget.budget_id,
    name: budget.name,
    currency: 'CNY' as const,
    from: period.from,
    to: period.to,
    opening_balance_minor: opening,
    closing_balance_minor: balance,
    days,
    burn_rate_minor_per_day: Math.round(perDay),
    runs_out_on: balance <= 0 ? ranOutOn(opening, days) : runsOutOn,
  };
}
