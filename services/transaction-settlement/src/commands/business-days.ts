/**
 * The business day (DESIGN §6): by the clock it closes at the cut-off (23:00 Asia/Shanghai);
 * finance may close the open day earlier (a manual day-end) to settle it at once. Captures,
 * refunds and voids after a closure belong to the next open day.
 */
import { Conflict } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { addDays, businessDate } from '../domain/business-day';
import {
  dayTotals,
  findClosure,
  insertClosure,
  lockBusinessDays,
  openBusinessDate,
} from '../store/business-days';
import { businessDaySummaryView, businessDayView } from '../views/business-day';
import type { SettlementContext } from './context';

type DayContext = Pick<SettlementContext, 'pool' | 'businessDayCutoffMinutes'>;

/** The business day a movement made now, in this transaction, belongs to. */
export function currentBusinessDate(
  context: Pick<SettlementContext, 'businessDayCutoffMinutes'>,
  client: Pick<PoolClient, 'query'> | Pool,
  now = new Date(),
): Promise<string> {
  return openBusinessDate(client, businessDate(now, context.businessDayCutoffMinutes));
}

/** The latest closed business day: the day before the open one. */
export async function lastClosedBusinessDate(context: DayContext, now = new Date()): Promise<string> {
  return addDays(await currentBusinessDate(context, context.pool, now), -1);
}

/** The business day open now. */
export async function openBusinessDay(context: DayContext) {
  const date = await currentBusinessDate(context, context.pool);
  return businessDayView({
    business_date: date,
    cutoff_minutes: context.businessDayCutoffMinutes,
    open_business_date: date,
  });
}

function refuseDayNotOpen(date: string, open: string): void {
  if (date > open) {
    throw new Conflict('business_day_not_open', `Business day ${date} has not opened yet.`, {
      business_date: date,
      open_business_date: open,
    });
  }
}

/** A day as finance follows it: where it stands (open … reconciled) and what moved in it. */
export async function businessDaySummary(context: DayContext, date: string) {
  const open = await currentBusinessDate(context, context.pool);
  refuseDayNotOpen(date, open);
  const [closure, totals] = await Promise.all([
    date === open ? undefined : findClosure(context.pool, date),
    dayTotals(context.pool, date),
  ]);
  return businessDaySummaryView(
    {
      business_date: date,
      cutoff_minutes: context.businessDayCutoffMinutes,
      open_business_date: open,
      ...(date === open ? {} : { closure: closure ?? null }),
    },
    totals,
  );
}

/**
 * Closes the open business day now. Closing a day that is already closed answers with that
 * closure (a retry is harmless); a day not open yet cannot be closed.
 */
export async function closeBusinessDay(
  context: DayContext,
  date: string,
  actor: string,
  requestId: string | null,
) {
  return withTransaction(context.pool, async (client) => {
    await lockBusinessDays(client);
    const open = await currentBusinessDate(context, client);
    refuseDayNotOpen(date, open);
    const closure =
      date === open
        ? await insertClosure(client, { business_date: date, closed_by: actor, request_id: requestId })
        : await findClosure(client, date);
    return {
      created: date === open,
      view: businessDayView({
        business_date: date,
        cutoff_minutes: context.businessDayCutoffMinutes,
        open_business_date: date === open ? addDays(open, 1) : open,
        closure: closure ?? null,
      }),
    };
  });
}
