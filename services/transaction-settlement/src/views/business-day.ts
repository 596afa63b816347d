/** What a business day looks like to finance and merchants: open, or closed early or by the clock. */
import { cutoffInstant } from '../domain/business-day';
import type { BusinessDayClosure } from '../domain/business-day';

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
